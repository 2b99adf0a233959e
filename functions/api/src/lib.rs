//! The api function: API Gateway HTTP API (payload 2.0) → commands on the event log, reads of
//! the read model, and the deep `/health` the region's Route53 health check probes.

pub mod handler;
pub mod health;
pub mod request;

pub use handler::{Api, error_response};
pub use health::{Health, HealthReport};
