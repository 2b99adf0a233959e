//! `cargo xtask bench soak`: the exactly-once soak (`local::soak`, the same run as `cargo xtask
//! local soak`) at the benchmark's size: 100,000 events over every region of the deployed app,
//! the last region killed half-way; prints the audit, events/s and the CPU time of each process
//! (the emulator against the kit's own processes).
//!
//! It measures the kit's code optimized, as it runs on Lambda: run from a dev build (`cargo
//! xtask`), it builds the runtime and the functions with cargo's `soak` profile (release
//! optimizations without its whole-program link) and runs that build's `xtask bench soak` with
//! the same flags; `--dev` runs the dev build as it is. The dev build spends most of the kit's CPU
//! time in unoptimized SDK and serde code, and the soak's share of CPU left to the emulator is what
//! the benchmark is about.

use crate::local::{DeployedAppArgs, SoakArgs};
use anyhow::{Context, Result, bail};
use local::run::build;
use local::soak::{KillAt, report};
use std::path::PathBuf;

/// The cargo profile the benchmark's runtime and functions are built with (`Cargo.toml`).
const PROFILE: &str = "soak";

/// Flags of `cargo xtask bench soak`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchSoakArgs {
    /// Commands to send.
    #[arg(long, default_value_t = 100_000)]
    pub events: usize,
    /// Tasks they are spread over.
    #[arg(long, default_value_t = 2_000)]
    pub aggregates: usize,
    /// The region to kill half-way and when (default: the config's last region at 50%).
    #[arg(long, value_name = "REGION@PERCENT%", conflicts_with = "no_kill")]
    pub kill: Option<KillAt>,
    /// Kill no region.
    #[arg(long)]
    pub no_kill: bool,
    /// Share of the publishers' PutRecords entries failed on purpose (0 to 1).
    #[arg(long, default_value_t = 0.0)]
    pub publish_failure_rate: f64,
    /// Tasks driven at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// The app configuration deployed to the emulator (e.g. by `cargo xtask demo`).
    #[arg(long, default_value = "regions.toml")]
    pub config: PathBuf,
    /// Port of the local emulator.
    #[arg(long, default_value_t = crate::options::DEFAULT_LOCAL_PORT)]
    pub port: u16,
    /// Use the function binaries in DIR as they are instead of building them.
    #[arg(long, value_name = "DIR")]
    pub binaries: Option<PathBuf>,
    /// Run this build as it is (from `cargo xtask`: the dev profile, unoptimized) instead of
    /// the runtime and functions built with the `soak` profile.
    #[arg(long)]
    pub dev: bool,
}

/// Runs the benchmark and prints its report; an error when the soak did not pass.
pub fn run(args: &BenchSoakArgs) -> Result<()> {
    if cfg!(debug_assertions) && !args.dev {
        return run_optimized(args);
    }
    let kill = match (&args.kill, args.no_kill) {
        (_, true) => None,
        (Some(kill), false) => Some(kill.clone()),
        (None, false) => Some(last_region_at_half(&args.config)?),
    };
    let soak = SoakArgs {
        events: args.events,
        aggregates: args.aggregates,
        kill,
        publish_failure_rate: args.publish_failure_rate,
        lag: 100,
        concurrency: args.concurrency,
        pair_every: 25,
        hop_every: 4,
        quiet: 5,
        app: DeployedAppArgs { config: args.config.clone(), port: args.port, regions: Vec::new() },
        binaries: args.binaries.clone(),
    };
    let built = if cfg!(debug_assertions) { "the dev profile (unoptimized)" } else { "an optimized profile" };
    let functions =
        args.binaries.as_ref().map_or_else(|| "built for this machine".to_owned(), |d| d.display().to_string());
    println!("bench soak: runtime built with {built}; functions: {functions}");
    let result = crate::runtime()?.block_on(soak.soak())?;
    report::lines(&result).iter().for_each(|line| println!("{line}"));
    if !result.audit.passed() {
        bail!("the soak lost acknowledged events or saw order violations (see above)");
    }
    Ok(())
}

/// Builds the runtime and the functions with the [`PROFILE`] profile and runs that build's
/// `xtask bench soak` with this run's flags (and its functions, unless `--binaries` names others).
fn run_optimized(args: &BenchSoakArgs) -> Result<()> {
    let workspace = engine::emulator::workspace_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut crates = vec!["xtask"];
    crates.extend(build::function_crates());
    println!("bench soak: building the runtime and the functions optimized (`--dev` skips this)");
    let dir = build::build_crates(&cargo, &workspace, PROFILE, &crates)?;
    let mut command = std::process::Command::new(dir.join("xtask"));
    command.args(std::env::args_os().skip(1));
    if args.binaries.is_none() {
        command.arg("--binaries").arg(&dir);
    }
    let status = command.status().with_context(|| format!("running {}", dir.join("xtask").display()))?;
    if !status.success() {
        bail!("the optimized bench soak ({}) failed: {status}", dir.join("xtask").display());
    }
    Ok(())
}

/// `<last region of the config>@50%`.
fn last_region_at_half(config: &std::path::Path) -> Result<KillAt> {
    let text = std::fs::read_to_string(config)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}; pass --config FILE", config.display()))?;
    let config = stacks::AppConfig::from_toml(&config.display().to_string(), &text)?;
    let Some(region) = config.regions.last() else { bail!("{}: no [[region]]", "the config") };
    if config.regions.len() < 2 {
        bail!("the config has one region; a kill needs a survivor (pass --no-kill)");
    }
    Ok(KillAt { region: region.name.clone(), fraction: 0.5 })
}
