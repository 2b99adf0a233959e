//! `cargo xtask deploy`: the plan from the flags and the config (checked before any AWS call),
//! the function zips, then every stack through reviewed change sets in waves; or, with
//! `--prepare`, the reviewed change sets left for a second person, and with `--execute`, exactly
//! those run. Interrupted or failed, it deletes every change set it created and did not execute.

use crate::options::{AwsArgs, DeployFlags, RegionArgs};
use anyhow::{Context, Result, bail};
use engine::approval::Approval;
use engine::deploy::{DeployReport, StackOutcome, deploy, execute_prepared, print_summary};
use engine::interrupt::{ctrl_c, guarded};
use engine::plan::{Plan, RegionSelection};
use engine::session::Session;
use std::path::PathBuf;
use std::time::Instant;

/// Flags of `cargo xtask deploy`.
#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub selection: RegionArgs,
    #[command(flatten)]
    pub flags: DeployFlags,
    /// Create and review the change sets, then leave them for `deploy --execute` (prints their
    /// ARNs); nothing is executed.
    #[arg(long, conflicts_with = "execute")]
    pub prepare: bool,
    /// Execute exactly these prepared change sets (refusing any whose template is not the
    /// reviewed one), in deployment order.
    #[arg(long, value_name = "CHANGE_SET_ARN", num_args = 1..)]
    pub execute: Vec<String>,
    /// Write every deployed stack's outputs here as JSON (`{stack: {key: value}}`).
    #[arg(long, value_name = "FILE")]
    pub outputs_file: Option<PathBuf>,
}

impl DeployArgs {
    /// Runs the deployment on a fresh runtime.
    pub fn run(&self) -> Result<()> {
        crate::runtime()?.block_on(self.deploy())
    }

    async fn deploy(&self) -> Result<()> {
        let started = Instant::now();
        let loaded = Session::load(&self.aws.config, &self.aws.settings()).await?;
        let mut selection = self.selection.selection();
        if !self.execute.is_empty() && selection.regions.is_empty() {
            selection = RegionSelection { regions: Vec::new(), all: true };
        }
        let plan = Plan::new(&loaded.config, &loaded.assembly, &selection, &self.flags.options(self.prepare))?;
        loaded.notes.iter().for_each(|note| println!("{note}"));
        let artifacts =
            if self.execute.is_empty() { crate::package::artifacts_for_deploy(&loaded.config)? } else { Vec::new() };
        let session = loaded.connect().await?;
        let approval = Approval::new(plan.require_approval, plan.yes);
        let work = async {
            if self.execute.is_empty() {
                deploy(&session, &plan, &artifacts, &approval).await
            } else {
                execute_prepared(&session, &plan, &approval, &self.execute).await
            }
        };
        let report = guarded(&session, work, ctrl_c()).await?;
        print_summary(&report, started.elapsed());
        if self.prepare {
            print_prepared(&report);
        }
        if let Some(path) = &self.outputs_file {
            let names: Vec<String> = plan.stacks().cloned().collect();
            let (outputs, notes) = engine::outputs::collect(&session, &names).await?;
            notes.iter().for_each(|note| println!("{note}"));
            std::fs::write(path, serde_json::to_string_pretty(&outputs)? + "\n")
                .with_context(|| format!("writing {}", path.display()))?;
            println!("outputs of {} stacks written to {}", outputs.len(), path.display());
        }
        verdict(&report)
    }
}

/// The prepared change sets and the command that executes exactly them.
fn print_prepared(report: &DeployReport) {
    let arns: Vec<&str> = report
        .stacks
        .iter()
        .filter_map(|r| match &r.outcome {
            StackOutcome::Prepared { change_set } => Some(change_set.as_str()),
            _ => None,
        })
        .collect();
    if arns.is_empty() {
        println!("nothing to prepare: no stack has changes");
    } else {
        println!("\nprepared {} change set(s); after review, run exactly these with:", arns.len());
        println!("  cargo xtask deploy --execute {}", arns.join(" "));
    }
}

/// Fails the command when any stack is not as asked, naming them; an operation still running is
/// said as such, not as a failure.
fn verdict(report: &DeployReport) -> Result<()> {
    let unsuccessful = report.unsuccessful();
    if unsuccessful.is_empty() {
        return Ok(());
    }
    let running: Vec<&str> = unsuccessful
        .iter()
        .filter(|r| matches!(r.outcome, StackOutcome::StillRunning { .. }))
        .map(|r| r.stack.as_str())
        .collect();
    let names: Vec<String> = unsuccessful.iter().map(|r| format!("{} ({})", r.stack, r.outcome.label())).collect();
    if running.len() == unsuccessful.len() {
        bail!("{} still being changed by CloudFormation: follow them as shown above", running.join(", "));
    }
    bail!("{} stack(s) not deployed: {}", unsuccessful.len(), names.join(", "))
}
