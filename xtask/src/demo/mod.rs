//! `cargo xtask demo`: the whole kit on this machine, without an AWS account. Starts the local
//! emulator, synthesizes, deploys every region with the review printed, smoke-tests each region
//! through the AWS APIs with the publisher's real code, and prints a summary.

mod smoke;

use crate::options::DEFAULT_LOCAL_PORT;
use crate::synth::{Format, write_assembly};
use anyhow::{Result, bail};
use engine::approval::{Approval, RequireApproval};
use engine::aws::AwsSettings;
use engine::deploy::{deploy, print_summary};
use engine::interrupt::{ctrl_c, guarded};
use engine::plan::{DeployOptions, Plan, RegionSelection};
use engine::session::Session;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where the demo writes the templates it deploys (the emulator's variant of `cdk.out`).
const DEMO_OUT: &str = ".local/cdk.out";

/// Flags of `cargo xtask demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// The app configuration.
    #[arg(long, default_value = "regions.toml")]
    pub config: PathBuf,
    /// Port of the local emulator (started unless it already runs).
    #[arg(long, default_value_t = DEFAULT_LOCAL_PORT)]
    pub port: u16,
    /// Deploy empty archives instead of building the functions (the emulator never runs code);
    /// without it the demo packages the functions with cargo-lambda first.
    #[arg(long)]
    pub empty_archives: bool,
}

impl DemoArgs {
    /// Runs the demo.
    pub fn run(&self) -> Result<()> {
        let started = Instant::now();
        println!("== 1/5 local emulator");
        crate::local::up(self.port)?;
        crate::runtime()?.block_on(self.demo(started))
    }

    async fn demo(&self, started: Instant) -> Result<()> {
        let settings =
            AwsSettings { endpoint_url: Some(engine::emulator::endpoint(self.port)), ..AwsSettings::default() };
        let loaded = Session::load(&self.config, &settings).await?;
        let selection = RegionSelection { regions: Vec::new(), all: true };
        let options =
            DeployOptions { require_approval: RequireApproval::Dangerous, yes: true, ..DeployOptions::default() };
        let plan = Plan::new(&loaded.config, &loaded.assembly, &selection, &options)?;
        loaded.notes.iter().for_each(|note| println!("{note}"));
        let session = loaded.connect().await?;

        println!("\n== 2/5 synth ({} regions, home {})", plan.regions.len(), session.config.home);
        let written = write_assembly(&session.assembly, Path::new(DEMO_OUT), Format::Json)?;
        let bytes: usize = written.iter().sum();
        println!("{} templates, {bytes} bytes, in {DEMO_OUT}", session.assembly.stacks.len());

        println!("\n== 3/5 function zips");
        let artifacts = if self.empty_archives {
            println!("emulator: deploying empty archives (--empty-archives); moto stores code but never runs it");
            engine::artifacts::empty_archives(Path::new(".local/empty-archives"), "demo")?
        } else {
            crate::package::artifacts_for_deploy(&session.config)?
        };

        println!("\n== 4/5 deploy --all (review printed, dangerous changes approved for the demo)");
        let deploy_started = Instant::now();
        let approval = Approval::new(plan.require_approval, plan.yes);
        let report = guarded(&session, deploy(&session, &plan, &artifacts, &approval), ctrl_c()).await?;
        print_summary(&report, deploy_started.elapsed());
        if let Some(failed) = report.unsuccessful().first() {
            bail!("{} did not deploy: {}", failed.stack, failed.outcome.label());
        }

        println!("\n== 5/5 smoke test: commands -> event log -> publisher -> Kinesis, per region");
        let mut smokes = Vec::new();
        for (i, region) in plan.regions.iter().enumerate() {
            let other = &plan.regions[(i + 1) % plan.regions.len()];
            smokes.push(smoke::run(&session, region, other).await?);
        }
        print_smoke(&smokes);
        println!(
            "\ndemo done in {:.1} s: {} stacks deployed to the emulator at {}; stop it with `cargo xtask local down`",
            started.elapsed().as_secs_f64(),
            report.stacks.len(),
            engine::emulator::endpoint(self.port)
        );
        if smokes.iter().any(|s| !s.passed()) {
            bail!("the smoke test failed in at least one region (see the table)");
        }
        Ok(())
    }
}

fn print_smoke(smokes: &[smoke::RegionSmoke]) {
    println!(
        "{:<15}  {:>8}  {:>10}  {:>9}  {:>15}  {:>13}  {:>9}  result",
        "region", "appended", "replicated", "published", "skipped foreign", "kinesis calls", "on stream"
    );
    for s in smokes {
        println!(
            "{:<15}  {:>8}  {:>10}  {:>9}  {:>15}  {:>13}  {:>9}  {}",
            s.region,
            s.appended_local,
            s.appended_foreign,
            s.stats.published,
            s.stats.skipped_foreign,
            s.stats.calls,
            s.on_stream.len(),
            if s.passed() { "ok: local events once, in order; foreign ones left to their region" } else { "FAILED" }
        );
    }
}
