//! `cargo xtask destroy`: deletes a region's stack; the data stack (and the dns stack, whose
//! records then point nowhere) only with `--force-data` and its name typed back, because deleting it removes the global tables' management (the tables
//! and their replicas are retained, but nothing deploys them any more). Every check runs before
//! anything is deleted, so a refused destroy leaves every stack as it was.

use crate::options::AwsArgs;
use anyhow::{Result, bail};
use engine::approval::Prompt;
use engine::destroy::destroy;
use engine::plan::RegionSelection;
use engine::session::Session;
use stacks::StackPart;

/// Flags of `cargo xtask destroy`. The region may be one no longer in regions.toml.
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
    /// Also delete the data stack (home region only, after every other region is destroyed);
    /// asks for its name to be typed back.
    #[arg(long)]
    pub force_data: bool,
    /// The data stack's name, typed back (for runs without a terminal).
    #[arg(long)]
    pub confirm_data: Option<String>,
}

impl DestroyArgs {
    /// Deletes the stacks and follows their deletion.
    pub fn run(&self) -> Result<()> {
        crate::runtime()?.block_on(async {
            let loaded = Session::load(&self.aws.config, &self.aws.settings()).await?;
            if !loaded.config.region_names().any(|r| r == self.region) {
                // A region taken out of regions.toml (`region remove`) still has its stack by name.
                if !stacks::config::is_commercial_region(&self.region) || self.force_data {
                    let selection = RegionSelection { regions: vec![self.region.clone()], all: false };
                    engine::plan::select(&loaded.config, &selection)?;
                }
                println!("{} is not in regions.toml: its region stack is looked up by name", self.region);
            }
            let session = loaded.connect().await?;
            let region_stack = stacks::app::stack_name(&session.config, StackPart::Region, &self.region);
            if !self.yes && !confirm(&format!("Delete {region_stack} in {}? [y/N] ", self.region), "y")? {
                bail!("not confirmed; nothing deleted");
            }
            let typed_data_name = match (&self.confirm_data, self.force_data) {
                (_, false) => None,
                (Some(typed), true) => Some(typed.clone()),
                (None, true) => {
                    let data = session.stack(StackPart::Data, &session.config.home)?.name.clone();
                    Some(prompt(&format!("Type {data} to delete the data stack (tables are retained): "))?)
                }
            };
            destroy(&session, &self.region, typed_data_name.as_deref()).await
        })
    }
}

fn confirm(question: &str, yes: &str) -> Result<bool> {
    Ok(prompt(question)?.trim().eq_ignore_ascii_case(yes))
}

/// Asks at the terminal (the kit's one prompt); without one, says which flags answer instead.
fn prompt(question: &str) -> Result<String> {
    match engine::approval::Terminal.ask(question)? {
        Some(answer) => Ok(answer),
        None => bail!("no terminal to confirm on; pass --yes (and --confirm-data <stack> for the data stack)"),
    }
}
