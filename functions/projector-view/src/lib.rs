//! The view projector function: Kinesis domain events → the Task read model in DynamoDB.

pub mod handler;
mod project;

pub use handler::{EventLog, Stats, ViewRepository, handle};
