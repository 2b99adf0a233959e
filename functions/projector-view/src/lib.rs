//! The view projector function: Kinesis domain events → the Task read model in DynamoDB.

pub mod handler;

pub use handler::{Stats, ViewRepository, handle};
