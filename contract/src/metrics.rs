//! The CloudWatch metrics the functions emit (Embedded Metric Format log lines, namespace = the
//! app name) that the region stack alarms on: namespace, dimension and names written once.

/// The one dimension of every metric: which function emitted it.
pub const FUNCTION_DIMENSION: &str = "Function";
/// [`FUNCTION_DIMENSION`] value of the publisher.
pub const PUBLISHER: &str = "publisher";
/// [`FUNCTION_DIMENSION`] value of the view projectors.
pub const VIEW_PROJECTOR: &str = "projector-view";
/// [`FUNCTION_DIMENSION`] value of the audit projectors.
pub const AUDIT_PROJECTOR: &str = "projector-audit";
/// Events the view projector found replaced by last-writer-wins (it rebuilt the view).
pub const VIEW_CONFLICTS_METRIC: &str = "ViewConflicts";
/// Events the publisher keeps back behind a poison event of their aggregate.
pub const HELD_BACK_METRIC: &str = "HeldBack";
