//! `cargo xtask bootstrap`: the assets-bucket stack of each selected region, idempotent (an
//! unchanged stack is a no-op).

use crate::options::{AwsArgs, RegionArgs};
use anyhow::{Result, bail};
use engine::approval::{Approval, RequireApproval};
use engine::session::Session;
use stacks::StackPart;

/// Flags of `cargo xtask bootstrap`.
#[derive(Debug, clap::Args)]
pub struct BootstrapArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub selection: RegionArgs,
    /// Approve changes that need approval.
    #[arg(long)]
    pub yes: bool,
}

impl BootstrapArgs {
    /// Deploys the bootstrap stacks.
    pub fn run(&self) -> Result<()> {
        crate::runtime()?.block_on(async {
            let session = Session::open(&self.aws.config, &self.aws.settings(), &self.selection.selection()).await?;
            let stacks: Vec<_> =
                session.regions.iter().map(|r| session.stack(StackPart::Bootstrap, r)).collect::<Result<_>>()?;
            let approval = Approval::new(RequireApproval::Dangerous, self.yes);
            let reports = engine::deploy::phase(&session, &stacks, &[], &approval, 8).await?;
            for report in &reports {
                println!("{}  {}  {}", report.stack, report.region, report.result);
            }
            if reports.iter().any(engine::deploy::StackReport::failed) {
                bail!("bootstrap failed");
            }
            Ok(())
        })
    }
}
