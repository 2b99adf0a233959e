//! `cargo xtask bootstrap`: the assets-bucket stack of each selected region, idempotent (an
//! unchanged stack is a no-op).

use crate::aws::AwsArgs;
use crate::deploy::approval::{Approval, RequireApproval};
use crate::deploy::session::{RegionSelection, Session};
use anyhow::{Result, bail};
use stacks::StackPart;

/// Flags of `cargo xtask bootstrap`.
#[derive(Debug, clap::Args)]
pub struct BootstrapArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub selection: RegionSelection,
    /// Approve changes that need approval.
    #[arg(long)]
    pub yes: bool,
}

impl BootstrapArgs {
    /// Deploys the bootstrap stacks.
    pub fn run(&self) -> Result<()> {
        crate::runtime()?.block_on(async {
            let session = Session::open(&self.aws, &self.selection).await?;
            let stacks: Vec<_> =
                session.regions.iter().map(|r| session.stack(StackPart::Bootstrap, r)).collect::<Result<_>>()?;
            let approval = Approval::new(RequireApproval::Dangerous, self.yes);
            let reports = crate::deploy::phase(&session, &stacks, &[], &approval, 8).await?;
            for report in &reports {
                println!("{}  {}  {}", report.stack, report.region, report.result);
            }
            if reports.iter().any(crate::deploy::StackReport::failed) {
                bail!("bootstrap failed");
            }
            Ok(())
        })
    }
}
