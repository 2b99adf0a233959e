//! `cargo xtask drill failover --region R [--method health-check|app-flag] [--probe N]
//! [--report FILE] [--dry-run] [--local]`: takes R out of the shared name, watches Route53 fail
//! over, writes N probe commands through a surviving region, restores (also on an error or
//! Ctrl-C) and watches R come back; prints the report as Markdown and writes it as JSON. With
//! `--local` the drill runs the local runtime on the emulator ([`local`]) and observes each
//! region's real `/health`. Exit 0: passed (or a dry run); 1: refused, failed or an error.

pub mod local;

use crate::local::{RuntimeOptions, start_runtime};
use crate::options::AwsArgs;
use anyhow::{Context, Result, bail};
use engine::drill::checker::RegionApis;
use engine::drill::inject::Method;
use engine::drill::report::DrillReport;
use engine::drill::{DrillOptions, failover};
use engine::interrupt::ctrl_c;
use engine::session::Session;
use std::path::PathBuf;
use std::time::Duration;

/// `cargo xtask drill ...`.
#[derive(Debug, clap::Subcommand)]
pub enum DrillCommand {
    /// Take one region out of the shared name and put it back, proving failover both ways.
    Failover(FailoverArgs),
}

/// Flags of `cargo xtask drill failover`.
#[derive(Debug, clap::Args)]
pub struct FailoverArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// The region taken out.
    #[arg(long)]
    pub region: String,
    /// How: invert its Route53 health check, or set its drill flag so its /health answers 503
    /// (default: health-check; app-flag with --local).
    #[arg(long, value_enum)]
    pub method: Option<Method>,
    /// Write N commands through a surviving region while R is out (over HTTPS at its API's own
    /// endpoint; with --local, to the local runtime); each event must be published exactly once on
    /// that region's stream. On the emulator it needs --local.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub probe: Option<u32>,
    /// Also write the report as JSON here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Print the plan only; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Seconds Route53 may take to fail over, and again to come back.
    #[arg(long, default_value_t = 600)]
    pub timeout_seconds: u64,
}

impl DrillCommand {
    /// Runs the drill.
    pub fn run(&self) -> Result<()> {
        match self {
            DrillCommand::Failover(args) => args.run(),
        }
    }
}

impl FailoverArgs {
    fn run(&self) -> Result<()> {
        crate::runtime()?.block_on(async {
            let loaded = Session::load(&self.aws.config, &self.aws.settings()).await?;
            loaded.notes.iter().for_each(|note| eprintln!("{note}"));
            let session = loaded.connect().await?;
            let default_method = if self.aws.local { Method::AppFlag } else { Method::HealthCheck };
            let options = DrillOptions {
                region: self.region.clone(),
                method: self.method.unwrap_or(default_method),
                dry_run: self.dry_run,
                timeout: Duration::from_secs(self.timeout_seconds),
                poll: Duration::from_secs(if session.aws.is_emulated() { 1 } else { 10 }),
                probe: self.probe.map(|n| n as usize),
            };
            let report = if self.aws.local {
                self.on_runtime(&session, &options).await?
            } else {
                failover(&session, &options, None, ctrl_c()).await?
            };
            print!("{}", report.markdown());
            if let Some(path) = &self.report {
                std::fs::write(path, serde_json::to_string_pretty(&report)?)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            if !report.dry_run && !report.passed {
                bail!("the drill of {} failed: {}", self.region, report.failure.as_deref().unwrap_or("see the report"));
            }
            Ok(())
        })
    }
}

impl FailoverArgs {
    /// Starts the local runtime on the emulator, drills against it, and stops it.
    async fn on_runtime(&self, session: &Session, options: &DrillOptions) -> Result<DrillReport> {
        let runtime_options = RuntimeOptions {
            config: self.aws.config.clone(),
            port: self.aws.local_port,
            regions: Vec::new(),
            api_port: 0,
            binaries: None,
        };
        let (runtime, _) = start_runtime(&runtime_options).await?;
        let apis = match local::runtime_apis(runtime.urls()) {
            Ok(apis) => apis,
            Err(error) => {
                runtime.shutdown().await;
                return Err(error);
            }
        };
        eprintln!("the local runtime serves {}", runtime.urls().values().cloned().collect::<Vec<_>>().join(", "));
        let report = failover(session, options, Some(&apis as &dyn RegionApis), ctrl_c()).await;
        runtime.shutdown().await;
        report
    }
}
