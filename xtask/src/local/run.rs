//! `cargo xtask local run [--regions R,...] [--kill R@T[..T2]] [--for DURATION]`: the app deployed to
//! the emulator, run on this machine by the local runtime (`local::run`): builds the function
//! binaries for this machine, reads the deployment back, prints what is emulated and what is
//! real and each region's API URL, and runs until Ctrl-C or `--for`. A killed region's unpublished
//! events are taken over by the first region still up after `--takeover-after`.

use crate::options::DEFAULT_LOCAL_PORT;
use anyhow::{Context, Result, bail};
use engine::aws::AwsSettings;
use engine::session::Session;
use local::clients::Clients;
use local::mapping::MappingSettings;
use local::replication::ReplicationSettings;
use local::run::{Deployment, Kill, RunSettings, Runtime, build, discover, parse_duration};
use local::takeover::TakeoverSettings;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where each function environment's output goes.
const LOG_DIR: &str = ".local/logs";

/// Which deployed app to run and where: flags of `cargo xtask local run` and `local soak`.
#[derive(Debug, Clone, clap::Args)]
pub struct DeployedAppArgs {
    /// The app configuration deployed to the emulator (e.g. by `cargo xtask demo`).
    #[arg(long, default_value = "regions.toml")]
    pub config: PathBuf,
    /// Port of the local emulator.
    #[arg(long, default_value_t = DEFAULT_LOCAL_PORT)]
    pub port: u16,
    /// Regions to run (comma-separated; default: every region of the config).
    #[arg(long, value_delimiter = ',')]
    pub regions: Vec<String>,
}

impl DeployedAppArgs {
    /// The runtime's options for this app, its first API on `api_port` (0: free ports), the
    /// function binaries in `binaries` or built when `None`.
    pub fn runtime_options(&self, api_port: u16, binaries: Option<PathBuf>) -> RuntimeOptions {
        RuntimeOptions {
            config: self.config.clone(),
            port: self.port,
            regions: self.regions.clone(),
            api_port,
            binaries,
        }
    }
}

/// Flags of `cargo xtask local run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub app: DeployedAppArgs,
    /// Take a region down at a time after the start: its functions, API and replication stop
    /// (`eu-west-1@30s`; repeat for several); `eu-west-1@30s..90s` brings it back at 90 s.
    #[arg(long = "kill", value_name = "REGION@TIME[..RETURN]")]
    pub kills: Vec<Kill>,
    /// Stop after this long (`90s`, `5m`) instead of waiting for Ctrl-C.
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
    pub run_for: Option<Duration>,
    /// The first region's API port, the others the next ones (default: free ports).
    #[arg(long, default_value_t = 0)]
    pub api_port: u16,
    /// Time between a region's loss and the takeover of its unpublished events by the first
    /// region still up (`3s`, `1m`).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "3s")]
    pub takeover_after: Duration,
    /// Do not take a lost region's events over.
    #[arg(long)]
    pub no_takeover: bool,
    /// Use the function binaries in DIR as they are instead of building them.
    #[arg(long, value_name = "DIR")]
    pub binaries: Option<PathBuf>,
}

/// What the runtime needs besides the app: where the emulator is and what to run.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// The app configuration file.
    pub config: PathBuf,
    /// The emulator's port.
    pub port: u16,
    /// Regions to run (empty: all).
    pub regions: Vec<String>,
    /// The first API port (0: free ports).
    pub api_port: u16,
    /// Prebuilt binaries, or `None` to build them.
    pub binaries: Option<PathBuf>,
}

impl RunArgs {
    /// Runs the command.
    pub fn run(&self) -> Result<()> {
        let options = self.app.runtime_options(self.api_port, self.binaries.clone());
        crate::runtime()?.block_on(async {
            let (mut runtime, deployment) = start_runtime(&options).await?;
            for kill in &self.kills {
                runtime.schedule(kill)?;
            }
            let takeovers = runtime.takeovers();
            takeovers.configure(TakeoverSettings {
                enabled: !self.no_takeover,
                grace: self.takeover_after,
                ..TakeoverSettings::default()
            });
            let (sender, mut lines) = tokio::sync::mpsc::unbounded_channel();
            takeovers.print_to(sender);
            let start = tokio::time::Instant::now() - runtime.elapsed();
            tokio::spawn(async move {
                while let Some(line) = lines.recv().await {
                    println!("t={:.1}s: {line}", start.elapsed().as_secs_f64());
                }
            });
            runtime.report(&deployment, &self.kills).iter().for_each(|line| println!("{line}"));
            for kill in &self.kills {
                announce_kill(&runtime, kill);
            }
            match self.run_for {
                Some(limit) => {
                    println!("running for {limit:?} (Ctrl-C stops it sooner)");
                    tokio::select! {
                        () = tokio::time::sleep(limit) => {}
                        () = engine::interrupt::ctrl_c() => {}
                    }
                }
                None => {
                    println!("running until Ctrl-C");
                    engine::interrupt::ctrl_c().await;
                }
            }
            print_stats(&runtime);
            runtime.shutdown().await;
            Ok(())
        })
    }
}

/// Builds (unless given) the binaries, reads the deployment back and starts the runtime.
pub async fn start_runtime(options: &RuntimeOptions) -> Result<(Runtime, Deployment)> {
    let (clients, deployment, settings) = prepare_runtime(options).await?;
    let runtime = Runtime::start(&clients, &deployment, settings).await?;
    Ok((runtime, deployment))
}

/// What the runtime needs to start: clients for the emulator, the deployment read back, and its
/// settings (the binaries built unless given).
pub async fn prepare_runtime(options: &RuntimeOptions) -> Result<(Clients, Deployment, RunSettings)> {
    let port = options.port;
    if !engine::emulator::answers(port) {
        bail!("no emulator answers on 127.0.0.1:{port}; start it and deploy the app with `cargo xtask demo`");
    }
    let endpoint = engine::emulator::endpoint(port);
    let settings = AwsSettings { endpoint_url: Some(endpoint.clone()), ..AwsSettings::default() };
    // The config as deployed to the emulator (`[dns]` left out); no AWS call.
    let loaded = Session::load(&options.config, &settings).await?;
    let binaries = match &options.binaries {
        Some(dir) => dir.clone(),
        None => build_binaries()?,
    };
    let clients = Clients::emulator(&endpoint);
    let deployment = discover(&clients, &loaded.config, &options.regions).await?;
    let settings = RunSettings {
        endpoint,
        binaries,
        api_concurrency: 4,
        base_port: options.api_port,
        mapping: MappingSettings::default(),
        replication: ReplicationSettings::default(),
        log_dir: Some(PathBuf::from(LOG_DIR)),
    };
    Ok((clients, deployment, settings))
}

/// `cargo build` of the four function crates (dev profile), through `$CARGO`.
fn build_binaries() -> Result<PathBuf> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().context("the workspace root")?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    println!("building the functions for this machine: cargo build -p {}", build::function_crates().join(" -p "));
    Ok(build::build_functions(&cargo, workspace)?)
}

fn announce_kill(runtime: &Runtime, kill: &Kill) {
    let (outages, region) = (runtime.outages().clone(), kill.region.clone());
    let start = tokio::time::Instant::now() - runtime.elapsed();
    tokio::spawn(async move {
        outages.wait_down(&region).await;
        println!(
            "t={:.1}s: {region} is down: its API no longer answers, its functions, mappings and replication stopped",
            start.elapsed().as_secs_f64()
        );
        outages.wait_up(&region).await;
        println!(
            "t={:.1}s: {region} is back: its API answers, its mappings and replication resume where they stopped",
            start.elapsed().as_secs_f64()
        );
    });
}

fn print_stats(runtime: &Runtime) {
    println!("after {:.1} s:", runtime.elapsed().as_secs_f64());
    for region in runtime.regions() {
        for (handle, _) in &region.mappings {
            let stats = handle.stats();
            println!(
                "  {} {}: {} records read, {} delivered in {} invocations, {} function errors, {} sent on failure",
                region.region,
                handle.config().function_name,
                stats.read,
                stats.delivered,
                stats.invocations,
                stats.function_errors,
                stats.destination_sent
            );
        }
    }
    if let Some(replication) = runtime.replication() {
        let stats = replication.stats();
        println!(
            "  replication: {} local writes, {} applied elsewhere, {} conflicts, {} held during outages, {} failed tries \
             retried",
            stats.local_writes, stats.applied, stats.conflicts, stats.held_by_outage, stats.retried
        );
    }
}
