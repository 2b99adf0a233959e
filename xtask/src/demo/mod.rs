//! `cargo xtask demo`: the whole kit on this machine, without an AWS account. Starts the local
//! emulator, synthesizes, deploys every region with the review printed (placeholder function
//! archives unless `--real-archives`: the emulator stores code and never runs it), runs the app
//! on the local runtime (the real function binaries built for this machine, each region's API on
//! loopback), sends a command to each region's API and follows its event through every store.

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
    /// Build and deploy the real Lambda archives (`cargo xtask package`: arm64 release builds
    /// with cargo-lambda); by default placeholder archives are deployed, since the emulator
    /// stores code and never runs it, and the runtime runs binaries built for this machine.
    #[arg(long)]
    pub real_archives: bool,
}

impl DemoArgs {
    /// Runs the demo.
    pub fn run(&self) -> Result<()> {
        let started = Instant::now();
        println!("== 1/6 local emulator");
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

        println!("\n== 2/6 synth ({} regions, home {})", plan.regions.len(), session.config.home);
        let written = write_assembly(&session.assembly, Path::new(DEMO_OUT), Format::Json)?;
        let bytes: usize = written.iter().sum();
        println!("{} templates, {bytes} bytes, in {DEMO_OUT}", session.assembly.stacks.len());

        println!("\n== 3/6 function archives");
        let artifacts = if self.real_archives {
            crate::package::artifacts_for_deploy(&session.config)?
        } else {
            println!(
                "emulator: deploying placeholder archives; moto stores code but never runs it, and the local \
                 runtime runs binaries built for this machine (--real-archives builds and deploys the Lambda zips)"
            );
            engine::artifacts::empty_archives(Path::new(".local/empty-archives"), "demo")?
        };

        println!("\n== 4/6 deploy --all (review printed, dangerous changes approved for the demo)");
        let deploy_started = Instant::now();
        let approval = Approval::new(plan.require_approval, plan.yes);
        let report = guarded(&session, deploy(&session, &plan, &artifacts, &approval), ctrl_c()).await?;
        print_summary(&report, deploy_started.elapsed());
        if let Some(failed) = report.unsuccessful().first() {
            bail!("{} did not deploy: {}", failed.stack, failed.outcome.label());
        }

        println!("\n== 5/6 local runtime");
        let options = crate::local::RuntimeOptions {
            config: self.config.clone(),
            port: self.port,
            regions: Vec::new(),
            api_port: 0,
            binaries: None,
        };
        let runtime_started = Instant::now();
        let (runtime, deployment) = crate::local::start_runtime(&options).await?;
        runtime.report(&deployment, &[]).iter().for_each(|line| println!("{line}"));
        println!("(built and started in {:.1} s)", runtime_started.elapsed().as_secs_f64());

        println!(
            "\n== 6/6 smoke test: a command to each region's API -> event log -> publisher -> Kinesis -> projectors"
        );
        let clients = local::clients::Clients::emulator(&engine::emulator::endpoint(self.port));
        let mut smokes = Vec::new();
        for region in &plan.regions {
            smokes.push(smoke::run(&runtime, &deployment, &clients, region).await);
        }
        runtime.shutdown().await;
        let smokes = smokes.into_iter().collect::<Result<Vec<_>>>()?;
        print_smoke(&smokes);
        println!(
            "\ndemo done in {:.1} s: {} stacks deployed to the emulator at {}; `cargo xtask local run` runs the app \
             again, `cargo xtask local down` stops the emulator",
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
    let regions = smokes.len();
    println!(
        "{:<15}  {:>6}  {:>9}  {:>8}  {:>5}  {:>5}  {:>8}  result",
        "region", "health", "published", "replicas", "views", "audit", "settled"
    );
    for s in smokes {
        let settled = s.settled_in.map_or("-".to_owned(), |d| format!("{:.1} s", d.as_secs_f64()));
        println!(
            "{:<15}  {:>6}  {:>9}  {:>8}  {:>5}  {:>5}  {:>8}  {}",
            s.region,
            if s.healthy { "200" } else { "not 200" },
            s.trace.published(1),
            format!("{}/{regions}", s.replicas()),
            format!("{}/{regions}", s.views()),
            s.audit_objects(),
            settled,
            if s.passed() { "ok: published once by its region, replicated and projected everywhere" } else { "FAILED" }
        );
    }
}
