//! The one integration-test binary of `stacks`: snapshots, construct semantics, config errors
//! and properties of synthesis.

#![allow(clippy::unwrap_used)] // Tests fail loudly on a missing value, which is the point.

mod alerts;
mod config_errors;
mod constructs;
mod dns;
mod properties;
mod scanner;
mod snapshots;
mod support;
