//! The engine's integration tests, one binary: deployments, reviews and destroys against the local
//! emulator (asserted through the AWS APIs), the stack states the emulator cannot produce against
//! a mocked CloudFormation, where credentials go, and region changes.

mod credentials;
mod deploy;
mod destroy;
mod diff;
mod dns;
mod drill;
mod emulator;
mod following;
mod guard;
mod mocked;
mod order;
mod prepare;
mod recovery;
mod redrive;
mod region;
mod replay;
mod status;
mod support;
mod takeover;
mod waves;
