//! The audit projector function: Kinesis domain events → one S3 object per event.

pub mod handler;

pub use handler::{ObjectStore, S3Store, Stats, Written, handle, object_key};
