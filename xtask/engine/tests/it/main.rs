//! The engine's integration tests, one binary: deployments, reviews and destroys against the local
//! emulator (asserted through the AWS APIs), and the stack states the emulator cannot produce
//! against a mocked CloudFormation.

mod deploy;
mod destroy;
mod recovery;
mod support;
