//! `cargo xtask drill failover --region R [--method health-check|app-flag] [--report FILE]
//! [--dry-run]`: takes R out of the shared name, watches Route53 fail over, restores (also on an
//! error or Ctrl-C) and watches R come back; prints the report as Markdown and writes it as JSON.
//! Exit 0: passed (or a dry run); 1: refused, failed or an error.

use crate::options::AwsArgs;
use anyhow::{Context, Result, bail};
use engine::drill::inject::Method;
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
    /// How: invert its Route53 health check, or set its drill flag so its /health answers 503.
    #[arg(long, value_enum, default_value = "health-check")]
    pub method: Method,
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
            let options = DrillOptions {
                region: self.region.clone(),
                method: self.method,
                dry_run: self.dry_run,
                timeout: Duration::from_secs(self.timeout_seconds),
                poll: Duration::from_secs(if session.aws.is_emulated() { 1 } else { 10 }),
            };
            let report = failover(&session, &options, ctrl_c()).await?;
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
