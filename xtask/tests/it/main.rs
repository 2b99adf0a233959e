//! The CLI's integration tests, one binary: the real `cargo xtask` binary run as an operator runs
//! it.

mod credentials;
mod plan;
mod region;
