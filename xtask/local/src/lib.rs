//! The kit's local Lambda runtime: runs the real function binaries, built for this machine, as
//! separate processes that speak the Lambda Runtime API to a host on loopback, the way Lambda
//! runs a custom runtime (`provided.al2023`), with no Docker and no AWS account.
//!
//! - [`runtime_api`]: the Runtime API of one execution environment (hyper on 127.0.0.1).
//! - [`Host`]: functions by name, their environments (started on demand up to each function's
//!   concurrency, reused while warm, stopped on a crash or a timeout), and [`Host::invoke`].
//! - [`events`]: time-stamped hooks (process start, first `/next`, each invocation, log lines,
//!   exit) for benchmarks and reports.
//!
//! - [`mapping`]: event source mappings on DynamoDB Streams and Kinesis, emulated from their
//!   deployed or synthesized configuration, invoking functions through an [`mapping::Invoker`]
//!   (the host is one).
//! - [`replication`]: global-table replication between the regions' tables, through their
//!   streams, last writer wins, with a lag.
//! - [`gateway`]: each region's HTTP API on loopback (payload format 2.0 to the api function).
//! - [`run`]: the runtime that puts it together for a deployed app: `cargo xtask local run`.
//! - [`outage`]: regions taken down now or at a time, watched by every engine.
//! - [`soak`]: the exactly-once soak: commands through every region, a region killed part-way,
//!   publish failures injected, every store audited against what was acknowledged.
//! - [`streams`]: shard listing and reading shared by the engines; [`clients`]: SDK clients per
//!   region from one base configuration; [`writes`]: a region's API tells its replicas it wrote.
//!
//! Each environment gets its own Runtime API port and a clean process environment: Lambda's
//! defined variables, the function's own, and the emulator's endpoint with dummy credentials
//! ([`AwsAccess::emulator`]); nothing is inherited from the host.

mod attributes;
pub mod clients;
mod environment;
pub mod events;
pub mod gateway;
mod host;
pub mod mapping;
pub mod outage;
mod process;
pub mod replication;
pub mod run;
pub mod runtime_api;
pub mod soak;
mod spec;
pub mod streams;
pub mod takeover;
pub mod writes;

pub use environment::{ColdStart, InitFailure};
pub use host::{Host, HostError, HostSettings, Invocation, InvokeError, Timings, UnknownFunction};
pub use runtime_api::FunctionError;
pub use spec::{AwsAccess, DEFAULT_ACCOUNT, FunctionSpec};
