//! Reviews without executing: the same change sets and review as a deployment, each deleted
//! afterwards together with any empty stack a review created, or an offline review against an
//! earlier synth output.

use crate::review::{self, Params, StackReview};
use crate::session::{RegionSelection, Session, load_config, select};
use crate::stack::{self, StackState};
use anyhow::{Context, Result};
use futures::stream::{self, StreamExt};
use stacks::app::{FunctionKind, code_key_parameter};
use stacks::{Stack, StackPart};
use std::path::Path;

/// Offline: every stack of the selected regions against `<dir>/<stack>.template.json`.
pub fn review_against(config_path: &Path, selection: &RegionSelection, dir: &Path) -> Result<Vec<StackReview>> {
    let config = load_config(config_path)?;
    let assembly = stacks::synthesize(&config).context("synthesizing the stacks")?;
    let regions = select(&config, selection)?;
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
