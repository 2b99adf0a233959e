//! The CloudFormation engine under `cargo xtask`: AWS access that never sends credentials to a
//! loopback endpoint, stack states, change sets, stack events, parameters, what the local
//! emulator lacks, the review of every change, the approval gate, and deployments in phases.
//! The CLI is a thin layer over it, and other tools (status, drills, region changes) build on it.

pub mod approval;
pub mod artifacts;
pub mod aws;
pub mod deploy;
pub mod destroy;
pub mod diff;
pub mod emulation;
pub mod emulator;
pub mod events;
pub mod params;
pub mod review;
pub mod session;
pub mod stack;
#[cfg(feature = "testing")]
pub mod testing;
