//! `contract`: what the templates (`stacks`) and the functions (`domain` and the Lambdas) must
//! agree on, written once so that no name is spelled twice.
//!
//! - [`event_log`]: the event log's attribute names, its origin index and the shard of an
//!   aggregate in it;
//! - [`consumers`]: the names a replay targets consumers by;
//! - [`drill`]: the drill flag the api's `/health` reads;
//! - [`idempotency`]: the idempotency table's key names and the items the publisher keeps there;
//! - [`metrics`]: the metrics the functions emit and the region stack alarms on;
//! - [`env`]: each function's environment as a typed struct: the region stack renders it into
//!   the function's variables, the function reads it back with one call;
//! - [`origin`]: the publisher's origin rule, rendered as the event source mapping's filter
//!   patterns and as the check the handler makes again;
//! - [`read_model`]: the read-model tables' row per writing region.

pub mod consumers;
pub mod drill;
pub mod env;
pub mod event_log;
pub mod idempotency;
pub mod metrics;
pub mod origin;
pub mod read_model;
