//! `cargo xtask local soak --events N --aggregates A [--kill R@50%] [--publish-failure-rate P]
//! [--lag MS]`: the exactly-once soak (`local::soak`) on the app deployed to the emulator: drives
//! commands through every region's HTTP API, waits until the runtime is quiet, audits every
//! store and prints the report; exits non-zero when anything acknowledged is lost or out of
//! order. `cargo xtask bench soak` runs the same with the benchmark's defaults.

use super::run::{DeployedAppArgs, prepare_runtime};
use anyhow::{Result, bail};
use local::soak::driver::DriveSettings;
use local::soak::{KillAt, Soak, SoakSettings, report};
use std::path::PathBuf;
use std::time::Duration;

/// Flags of `cargo xtask local soak` (and `bench soak`).
#[derive(Debug, Clone, clap::Args)]
pub struct SoakArgs {
    /// Commands to send (each acknowledged command appends one event).
    #[arg(long, default_value_t = 5_000)]
    pub events: usize,
    /// Tasks the commands are spread over.
    #[arg(long, default_value_t = 250)]
    pub aggregates: usize,
    /// Take a region down once this share of the commands is acknowledged (`eu-west-1@50%`).
    #[arg(long, value_name = "REGION@PERCENT%")]
    pub kill: Option<KillAt>,
    /// Share of the publishers' PutRecords entries answered ProvisionedThroughputExceededException
    /// by a fault proxy in front of the emulator's Kinesis (0 to 1).
    #[arg(long, default_value_t = 0.0, value_parser = rate)]
    pub publish_failure_rate: f64,
    /// Replication lag between the regions' tables, in milliseconds.
    #[arg(long, default_value_t = 100)]
    pub lag: u64,
    /// Tasks driven at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Every n-th command of a task is a concurrent pair from two regions (0: none).
    #[arg(long, default_value_t = 25)]
    pub pair_every: usize,
    /// Every n-th command of a task goes to the next live region, the others to the task's
    /// current one (1: every command goes to the next region).
    #[arg(long, default_value_t = 4)]
    pub hop_every: usize,
    /// Quiet this long (nothing read, delivered or replicated, no record waiting in a mapping)
    /// before the audit, in seconds.
    #[arg(long, default_value_t = 5)]
    pub quiet: u64,
    #[command(flatten)]
    pub app: DeployedAppArgs,
    /// Use the function binaries in DIR as they are instead of building them.
    #[arg(long, value_name = "DIR")]
    pub binaries: Option<PathBuf>,
}

fn rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(format!("{text:?}: expected a share from 0 to 1, e.g. 0.05")),
    }
}

impl SoakArgs {
    /// The soak's settings from the flags.
    pub fn settings(&self) -> SoakSettings {
        let quiet = Duration::from_secs(self.quiet.max(1));
        SoakSettings {
            drive: DriveSettings {
                events: self.events,
                aggregates: self.aggregates,
                concurrency: self.concurrency,
                pair_every: self.pair_every,
                hop_every: self.hop_every,
                call_timeout: Duration::from_secs(10),
            },
            kill: self.kill.clone(),
            publish_failure_rate: self.publish_failure_rate,
            quiet,
            settle_limit: quiet + Duration::from_secs(300),
            progress_every: Some(Duration::from_secs(10)),
        }
    }

    /// Runs the soak and prints its report; an error when it did not pass.
    pub fn run(&self) -> Result<()> {
        let soak = crate::runtime()?.block_on(self.soak())?;
        report::lines(&soak).iter().for_each(|line| println!("{line}"));
        if !soak.audit.passed() {
            bail!(
                "the soak lost {} acknowledged events and saw {} order violations",
                soak.audit.lost.len(),
                soak.audit.order_violations.len()
            );
        }
        Ok(())
    }

    /// Starts the runtime on the deployed app and runs the soak.
    pub async fn soak(&self) -> Result<Soak> {
        if self.events == 0 || self.aggregates == 0 {
            bail!("--events and --aggregates must be at least 1");
        }
        let options = self.app.runtime_options(0, self.binaries.clone());
        let (clients, deployment, mut run) = prepare_runtime(&options).await?;
        (run.mapping, run.replication) = local::soak::polling(Duration::from_millis(self.lag));
        run.api_concurrency = self.concurrency.max(1);
        let settings = self.settings();
        println!(
            "soak: {} commands over {} tasks, {} at once, regions {}, replication lag {} ms{}{}",
            self.events,
            self.aggregates,
            self.concurrency,
            deployment.regions.iter().map(|r| r.region.as_str()).collect::<Vec<_>>().join(", "),
            self.lag,
            self.kill.as_ref().map_or(String::new(), |k| format!(", kill {} at {:.0}%", k.region, k.fraction * 100.0)),
            if self.publish_failure_rate > 0.0 {
                format!(", {:.1}% of PutRecords entries failed", self.publish_failure_rate * 100.0)
            } else {
                String::new()
            }
        );
        Ok(local::soak::run(&clients, &deployment, run, &settings).await?)
    }
}
