//! The names of the event stream's consumers, as a replay names the ones it is meant for
//! (`DomainEvent::consumers`): one per projector function.

/// The audit projector (`projector-audit`: one S3 object per event).
pub const AUDIT: &str = "audit";
/// The read-model projector (`projector-view`).
pub const VIEW: &str = "view";
/// Every consumer, in the order help text lists them.
pub const ALL: [&str; 2] = [AUDIT, VIEW];
