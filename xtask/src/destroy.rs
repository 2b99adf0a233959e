//! `cargo xtask destroy`: deletes a region's stack; the data stack only with `--force-data` and
//! its name typed back, because deleting it removes the global tables' management (the tables
//! and their replicas are retained, but nothing deploys them any more).

use crate::aws::AwsArgs;
use crate::deploy::events;
use crate::deploy::session::{RegionSelection, Session};
use crate::deploy::stack;
use anyhow::{Context, Result, bail};
use stacks::StackPart;
use std::io::{BufRead, IsTerminal, Write};
use std::time::SystemTime;

/// Flags of `cargo xtask destroy`.
#[derive(Debug, clap::Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// The region whose region stack is deleted.
    #[arg(long)]
    pub region: String,
    /// Skip the confirmation of the region stack's deletion.
    #[arg(long)]
    pub yes: bool,
    /// Also delete the data stack (home region only); asks for its name to be typed back.
    #[arg(long)]
    pub force_data: bool,
    /// The data stack's name, typed back (for runs without a terminal).
    #[arg(long)]
    pub confirm_data: Option<String>,
}

impl DestroyArgs {
    /// Deletes the stacks and follows their deletion.
    pub fn run(&self) -> Result<()> {
        crate::runtime()?.block_on(self.destroy())
    }

    async fn destroy(&self) -> Result<()> {
        let selection = RegionSelection { regions: vec![self.region.clone()], all: false };
        let session = Session::open(&self.aws, &selection).await?;
        let region_stack = session.stack(StackPart::Region, &self.region)?.name.clone();
        if !self.yes && !confirm(&format!("Delete {region_stack} in {}? [y/N] ", self.region), "y")? {
            bail!("not confirmed; nothing deleted");
        }
        delete(&session, &self.region, &region_stack).await?;
        if self.force_data {
            if self.region != session.config.home {
                bail!(
                    "the data stack lives in the home region {}; run destroy --region {} --force-data",
                    session.config.home,
                    session.config.home
                );
            }
            let data = session.stack(StackPart::Data, &self.region)?.name.clone();
            let typed = match &self.confirm_data {
                Some(typed) => typed.clone(),
                None => prompt(&format!("Type {data} to delete the data stack (tables are retained): "))?,
            };
            if typed.trim() != data {
                bail!("the typed name does not match {data}; the data stack is kept");
            }
            let cfn = session.aws.cloudformation(&self.region);
            cfn.update_termination_protection().stack_name(&data).enable_termination_protection(false).send().await?;
            delete(&session, &self.region, &data).await?;
        }
        Ok(())
    }
}

async fn delete(session: &Session, region: &str, name: &str) -> Result<()> {
    let cfn = session.aws.cloudformation(region);
    if stack::status(&cfn, name).await?.is_none() {
        println!("{name} does not exist in {region}; nothing to delete");
        return Ok(());
    }
    let since = SystemTime::now();
    cfn.delete_stack().stack_name(name).send().await.with_context(|| format!("deleting {name}"))?;
    let outcome = events::follow(&cfn, name, since).await?;
    match outcome.status.as_deref() {
        None | Some("DELETE_COMPLETE") => {
            println!("deleted {name} in {region} ({:.1} s)", outcome.elapsed.as_secs_f64());
            Ok(())
        }
        Some(status) => bail!("deleting {name} ended {status}:\n{}", outcome.failure_report()),
    }
}

fn confirm(question: &str, yes: &str) -> Result<bool> {
    Ok(prompt(question)?.trim().eq_ignore_ascii_case(yes))
}

fn prompt(question: &str) -> Result<String> {
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to confirm on; pass --yes (and --confirm-data <stack> for the data stack)");
    }
    print!("{question}");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer)
}
