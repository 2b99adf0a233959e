//! `cargo xtask bootstrap`: the assets-bucket stack of each selected region, idempotent (an
//! unchanged stack is a no-op), with the same options as every command that deploys.

use crate::options::{AwsArgs, DeployFlags, RegionArgs};
use anyhow::{Result, bail};
use engine::approval::Approval;
use engine::deploy::{deploy, print_summary};
use engine::interrupt::{ctrl_c, guarded};
use engine::plan::Plan;
use engine::session::Session;
use std::time::Instant;

/// Flags of `cargo xtask bootstrap`.
#[derive(Debug, clap::Args)]
pub struct BootstrapArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub selection: RegionArgs,
    #[command(flatten)]
    pub flags: DeployFlags,
}

impl BootstrapArgs {
    /// Deploys the bootstrap stacks.
    pub fn run(&self) -> Result<()> {
        crate::runtime()?.block_on(async {
            let started = Instant::now();
            let loaded = Session::load(&self.aws.config, &self.aws.settings()).await?;
            let plan =
                Plan::new(&loaded.config, &loaded.assembly, &self.selection.selection(), &self.flags.options(false))?
                    .bootstrap_only(&loaded.config);
            let session = loaded.connect().await?;
            let approval = Approval::new(plan.require_approval, plan.yes);
            let report = guarded(&session, deploy(&session, &plan, &[], &approval), ctrl_c()).await?;
            print_summary(&report, started.elapsed());
            if !report.unsuccessful().is_empty() {
                bail!("bootstrap failed");
            }
            Ok(())
        })
    }
}
