//! `cargo xtask deploy`: packages the functions, then deploys every selected stack through
//! reviewed change sets with the engine.

use crate::options::{AwsArgs, RegionArgs};
use anyhow::{Result, bail};
use engine::approval::{Approval, RequireApproval};
use engine::deploy::{StackReport, deploy_regions, print_summary};
use engine::session::Session;
use std::time::Instant;

/// Flags of `cargo xtask deploy`.
#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub selection: RegionArgs,
    /// Which changes need a yes before they run.
    #[arg(long, value_enum, default_value = "dangerous")]
    pub require_approval: RequireApproval,
    /// Approve every change that needs approval (for CI; without it and without a terminal, refuse).
    #[arg(long)]
    pub yes: bool,
    /// Region stacks deployed at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
}

impl DeployArgs {
    /// Runs the deployment on a fresh runtime.
    pub fn run(&self) -> Result<()> {
        crate::runtime()?.block_on(self.deploy())
    }

    async fn deploy(&self) -> Result<()> {
        let started = Instant::now();
        let session = Session::open(&self.aws.config, &self.aws.settings(), &self.selection.selection()).await?;
        session.notes.iter().for_each(|note| println!("{note}"));
        let artifacts = crate::package::artifacts_for_deploy(&session.config)?;
        let approval = Approval::new(self.require_approval, self.yes);
        let reports = deploy_regions(&session, &artifacts, &approval, self.concurrency).await?;
        print_summary(&reports, started.elapsed());
        let failed: Vec<&StackReport> = reports.iter().filter(|r| r.failed()).collect();
        if !failed.is_empty() {
            bail!(
                "{} stack(s) failed: {}",
                failed.len(),
                failed.iter().map(|r| r.stack.as_str()).collect::<Vec<_>>().join(", ")
            );
        }
        Ok(())
    }
}
