//! `cargo xtask`: the operator CLI. This file only parses flags and dispatches; each subcommand
//! is a module with a `run` on its parsed flags.

mod bench;
mod emulator;
mod synth;
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
    /// Measure the kit's own speed.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Run every check CI runs: format, clippy, template lint, CDK manifest check, tests.
    Test(test::TestArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Synth(args) => args.run(),
        Command::Bench(command) => command.run(),
        Command::Test(args) => args.run(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
