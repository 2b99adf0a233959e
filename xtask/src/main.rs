//! `cargo xtask`: the operator CLI. This file only parses flags and dispatches; each subcommand
//! is a module with a `run` on its parsed flags.

mod bench;
mod bootstrap;
mod codegen;
mod demo;
mod deploy;
mod destroy;
mod diff;
mod drill;
mod local;
mod options;
mod package;
mod redrive;
mod region;
mod replay;
mod status;
mod synth;
mod takeover;
mod test;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Operate a multi-region active-active event-sourced API on AWS.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write the CloudFormation template of every stack of every region, plus a CDK manifest.
    Synth(synth::SynthArgs),
    /// Show what a deploy would change (change sets created, reviewed and deleted). Exit 0: no
    /// changes, 2: changes, 3: dangerous or refused changes, 1: a stack could not be reviewed.
    Diff(diff::DiffArgs),
    /// The whole kit locally, no AWS account: emulator, synth, deploy with review, the local runtime, smoke test.
    Demo(demo::DemoArgs),
    /// Deploy through reviewed change sets: bootstrap and data (home region), the region stacks in
    /// waves (the canary alone, then the others), the dns stack; or prepare / execute change sets.
    Deploy(deploy::DeployArgs),
    /// Deploy only the assets-bucket stacks.
    Bootstrap(bootstrap::BootstrapArgs),
    /// Delete a region's stack (and, with --force-data, the dns and data stacks).
    Destroy(destroy::DestroyArgs),
    /// Re-deliver the batches a region's stream mappings gave up on, from its failed-batches
    /// bucket, to their functions; each is deleted once its function took it whole.
    Redrive(redrive::RedriveArgs),
    /// Put events of a region's event log on its stream again with `replay: true`, for the named
    /// consumers (by aggregate, origin or time; rate-limited, resumable).
    Replay(replay::ReplayArgs),
    /// What is deployed in every region, how it differs from the current synth and how healthy it
    /// is. Exit 0: healthy, 2: degraded, 1: an error.
    Status(status::StatusArgs),
    /// Publish, from a surviving region, the events a lost region recorded but never published
    /// (from its publisher watermark less a margin; duplicates possible, loss not).
    Takeover(takeover::TakeoverArgs),
    /// Operational drills: `drill failover --region R` takes a region out of the shared name and
    /// puts it back.
    #[command(subcommand)]
    Drill(drill::DrillCommand),
    /// Add or remove regions: regions.toml edited in place, the ordered plan printed, and with
    /// --apply run through reviewed change sets (--resume continues a run that stopped).
    #[command(subcommand)]
    Region(region::RegionCommand),
    /// The local AWS emulator (moto) on 127.0.0.1, and the app run on it (`local run`).
    #[command(subcommand)]
    Local(local::LocalCommand),
    /// Build every function with cargo-lambda into content-hash-named bootstrap.zip files.
    Package(package::PackageArgs),
    /// Measure the kit's own speed.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Regenerate checked-in data files (the resource schemas' create-only properties).
    Codegen(codegen::CodegenArgs),
    /// Run every check CI runs: format, clippy, template lint, CDK manifest check, tests.
    Test(test::TestArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Synth(args) => args.run().map(|()| 0),
        Command::Diff(args) => args.run(),
        Command::Demo(args) => args.run().map(|()| 0),
        Command::Deploy(args) => args.run().map(|()| 0),
        Command::Bootstrap(args) => args.run().map(|()| 0),
        Command::Destroy(args) => args.run().map(|()| 0),
        Command::Redrive(args) => args.run().map(|()| 0),
        Command::Replay(args) => args.run().map(|()| 0),
        Command::Status(args) => args.run(),
        Command::Takeover(args) => args.run().map(|()| 0),
        Command::Drill(command) => command.run().map(|()| 0),
        Command::Region(command) => command.run().map(|()| 0),
        Command::Local(command) => command.run().map(|()| 0),
        Command::Package(args) => args.run().map(|()| 0),
        Command::Bench(command) => command.run().map(|()| 0),
        Command::Codegen(args) => args.run().map(|()| 0),
        Command::Test(args) => args.run().map(|()| 0),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// A Tokio runtime for the AWS-facing commands (one thread: the work is waiting on AWS).
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}
