//! `cargo xtask diff`: the same change sets and review as `deploy`, never executed (every change
//! set and every empty review stack is deleted afterwards, also on Ctrl-C). Exit 0: no changes;
//! 2: changes; 3: dangerous changes (or changes CloudFormation would refuse); 1: a stack could not
//! be reviewed, or an error. The text, `--json` and `--markdown` are written in every case.

use crate::options::{AwsArgs, RegionArgs};
use anyhow::{Context, Result};
use engine::diff::{review_against, review_stacks};
use engine::interrupt::{ctrl_c, guarded};
use engine::review;
use engine::session::Session;
use std::path::PathBuf;
use std::time::Instant;

/// Flags of `cargo xtask diff`.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub selection: RegionArgs,
    /// Also write the reviews as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Also write the reviews as Markdown (for a pull request) here.
    #[arg(long)]
    pub markdown: Option<PathBuf>,
    /// Stacks reviewed at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Compare with the templates in this directory (an earlier `cargo xtask synth --out DIR`)
    /// instead of the deployed stacks: no AWS call at all, replacements and dangers predicted
    /// from the AWS resource schemas (e.g. in CI on a pull request, before any credentials).
    #[arg(long, value_name = "DIR")]
    pub against: Option<PathBuf>,
}

impl DiffArgs {
    /// Reviews every selected stack and returns the exit code.
    pub fn run(&self) -> Result<u8> {
        crate::runtime()?.block_on(self.diff())
    }

    async fn diff(&self) -> Result<u8> {
        let started = Instant::now();
        let reviews = match &self.against {
            Some(dir) => review_against(&self.aws.config, &self.selection.selection(), dir)?,
            None => {
                let loaded = Session::load(&self.aws.config, &self.aws.settings()).await?;
                let regions = engine::plan::select(&loaded.config, &self.selection.selection())?;
                loaded.notes.iter().for_each(|note| eprintln!("{note}"));
                let session = loaded.connect().await?;
                guarded(&session, async { review_stacks(&session, &regions, self.concurrency).await }, ctrl_c()).await?
            }
        };
        print!("{}", review::render::text(&reviews));
        if let Some(path) = &self.json {
            std::fs::write(path, serde_json::to_string_pretty(&reviews)?)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        if let Some(path) = &self.markdown {
            std::fs::write(path, review::render::markdown(&reviews))
                .with_context(|| format!("writing {}", path.display()))?;
        }
        let code = review::exit_code(&reviews);
        eprintln!("reviewed {} stacks in {:.1} s (exit {code})", reviews.len(), started.elapsed().as_secs_f64());
        Ok(u8::try_from(code).unwrap_or(1))
    }
}
