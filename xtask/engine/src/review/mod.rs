//! The change review of `diff` and `deploy`, as pure logic: what CloudFormation says a stack's
//! change set does ([`CfnChange`]), completed by an offline prediction from the deployed and new
//! templates and the AWS resource schemas ([`predict`]), classified for danger, and rendered for
//! terminals, pull requests and machines ([`render`]). No AWS calls and no I/O here.
//!
//! Code map: `model` (types), `schema` (create-only properties, generated data), `path`,
//! `resolve` (parameter substitution, references), `props` (property-level diff), `diff` (the
//! prediction), `danger` with `iam`, `weakening`, `traffic` and `refusals` (classification),
//! `merge` (change set + prediction), `render`.

mod danger;
mod diff;
mod iam;
mod merge;
pub mod model;
mod path;
mod props;
mod refusals;
pub mod render;
mod resolve;
mod schema;
mod traffic;
mod weakening;

pub use diff::predict;
pub use merge::{OFFLINE_NOTE, review};
pub use model::{Action, CfnChange, CfnDetail, Danger, Params, Replacement, ResourceChange, StackReview};

/// `diff`'s exit code: 1 when a stack could not be reviewed, 3 when any change is dangerous
/// (including changes CloudFormation would refuse), 2 when anything changes, else 0.
pub fn exit_code(reviews: &[StackReview]) -> i32 {
    if reviews.iter().any(|r| r.unreviewable.is_some()) {
        1
    } else if reviews.iter().any(StackReview::is_dangerous) {
        3
    } else if reviews.iter().any(StackReview::has_changes) {
        2
    } else {
        0
    }
}

#[cfg(test)]
mod danger_tests;
#[cfg(test)]
mod tests;
