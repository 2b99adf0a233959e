//! `cargo xtask diff`: the same change sets and review as `deploy`, never executed (every change
//! set and every empty review stack is deleted afterwards). Exit 0: no changes; 2: changes;
//! 3: dangerous changes.

use crate::aws::AwsArgs;
use crate::deploy::session::{RegionSelection, Session};
use crate::deploy::stack::{self, StackState};
use crate::review::{self, Params, StackReview};
use anyhow::{Context, Result};
use futures::stream::{self, StreamExt};
use stacks::app::{FunctionKind, code_key_parameter};
use stacks::{Stack, StackPart};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Flags of `cargo xtask diff`.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub selection: RegionSelection,
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
            Some(dir) => review_against(&self.aws.config, &self.selection, dir)?,
            None => {
                let session = Session::open(&self.aws, &self.selection).await?;
                session.notes.iter().for_each(|note| eprintln!("{note}"));
                review_stacks(&session, self.concurrency).await?
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

/// Offline: every stack of the selected regions against `<dir>/<stack>.template.json`.
fn review_against(config_path: &Path, selection: &RegionSelection, dir: &Path) -> Result<Vec<StackReview>> {
    let config = crate::synth::load_config(config_path)?;
    let assembly = stacks::synthesize(&config).context("synthesizing the stacks")?;
    let regions = crate::deploy::session::select(&config, selection)?;
    let mut reviews = Vec::new();
    for stack in assembly.stacks.iter().filter(|s| regions.contains(&s.region)) {
        let path = dir.join(stack.template_file("json"));
        let old: Option<serde_json::Value> = match std::fs::read_to_string(&path) {
            Ok(text) => Some(serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?),
            Err(_) => None,
        };
        let new: serde_json::Value = serde_json::from_str(&stack.body)?;
        let params = Params::new();
        reviews.push(review::review(&stack.name, &stack.region, None, old.as_ref(), &new, &params, &params));
    }
    Ok(reviews)
}

/// Every stack of the selected regions in deployment order, reviewed concurrently.
pub async fn review_stacks(session: &Session, concurrency: usize) -> Result<Vec<StackReview>> {
    let mut targets: Vec<&Stack> = Vec::new();
    for part in [StackPart::Bootstrap, StackPart::Data, StackPart::Region] {
        for region in &session.regions {
            if part != StackPart::Data || *region == session.config.home {
                targets.push(session.stack(part, region)?);
            }
        }
    }
    // The dns stack, with [dns] and the home region targeted.
    let home = &session.config.home;
    let dns = stacks::app::stack_name(&session.config, StackPart::Dns, home);
    targets.extend(session.assembly.stack(&dns).filter(|_| session.regions.contains(home)));
    stream::iter(targets)
        .map(|stack| review_stack(session, stack))
        .buffered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// One stack's review through a change set that is then deleted. When the stack cannot take a
/// change set yet (its region has no replica, or its creation failed), the review is predicted
/// offline and says why.
async fn review_stack(session: &Session, stack: &Stack) -> Result<StackReview> {
    let cfn = session.aws.cloudformation(&stack.region);
    let state = stack::state(&cfn, &stack.name, session.patience()).await?;
    let code_keys = deployed_code_keys(&cfn, &stack.name).await?;
    let target = match session.target(stack, &code_keys).await {
        Ok(target) if !matches!(state, StackState::FailedCreation { .. }) => target,
        Ok(_) => return offline(stack, "the stack failed creation; deploy deletes and recreates it"),
        Err(error) => return offline(stack, &format!("{error:#}")),
    };
    let planned = stack::plan(&cfn, target, &state).await?;
    stack::discard(&cfn, &planned).await?;
    Ok(planned.review)
}

fn offline(stack: &Stack, why: &str) -> Result<StackReview> {
    let new: serde_json::Value = serde_json::from_str(&stack.body)?;
    let mut review = review::review(&stack.name, &stack.region, None, None, &new, &Params::new(), &Params::new());
    review.notes.push(format!("no change set: {why}"));
    Ok(review)
}

/// Code keys of the deployed stack, so a diff shows infrastructure changes rather than code
/// that is not packaged yet; keys of a new stack are marked unpackaged.
async fn deployed_code_keys(cfn: &aws_sdk_cloudformation::Client, name: &str) -> Result<Params> {
    let mut keys: Params = FunctionKind::ALL
        .iter()
        .map(|kind| (code_key_parameter(*kind), format!("functions/{}/unpackaged.zip", kind.crate_name())))
        .collect();
    if let Ok(output) = cfn.describe_stacks().stack_name(name).send().await {
        for parameter in output.stacks().first().map(|s| s.parameters()).unwrap_or_default() {
            if let (Some(key), Some(value)) = (parameter.parameter_key(), parameter.parameter_value())
                && keys.contains_key(key)
            {
                keys.insert(key.to_owned(), value.to_owned());
            }
        }
    }
    Ok(keys)
}
