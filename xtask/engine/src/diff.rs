//! Reviews without executing: the same change sets and review as a deployment, each deleted
//! afterwards together with any empty stack a review created. A deployed stack is never shown as
//! new: when no change set can be created for it (a template upload denied, a replica not there
//! yet, `CreateChangeSet` refused), the review compares the deployed template (`GetTemplate`)
//! with the new one and says so; a stack that cannot be reviewed at all is named as such.

use crate::plan::{self, RegionSelection};
use crate::review::{self, Params, StackReview};
use crate::session::{Purpose, Session, load_config};
use crate::stack::{self, ChangeSetSettings, StackState, deployed};
use anyhow::{Context, Result, bail};
use futures::stream::{self, StreamExt};
use stacks::app::{FunctionKind, code_key_parameter};
use stacks::{Stack, StackPart};
use std::path::Path;

/// Every stack of `regions` in deployment order, reviewed concurrently. A stack that cannot be
/// reviewed is in the list with the reason ([`StackReview::unreviewable`]).
pub async fn review_stacks(session: &Session, regions: &[String], concurrency: usize) -> Result<Vec<StackReview>> {
    let mut targets: Vec<&Stack> = Vec::new();
    for part in [StackPart::Bootstrap, StackPart::Data, StackPart::Region] {
        for region in regions {
            if part != StackPart::Data || *region == session.config.home {
                targets.push(session.stack(part, region)?);
            }
        }
    }
    // The dns stack, with [dns] and the home region selected.
    let home = &session.config.home;
    let dns = stacks::app::stack_name(&session.config, StackPart::Dns, home);
    targets.extend(session.assembly.stack(&dns).filter(|_| regions.contains(home)));
    Ok(stream::iter(targets)
        .map(|stack| async move {
            review_stack(session, stack)
                .await
                .unwrap_or_else(|error| StackReview::unreviewable(&stack.name, &stack.region, format!("{error:#}")))
        })
        .buffered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await)
}

/// One stack's review through a change set that is then deleted; without one, against the
/// deployed template.
async fn review_stack(session: &Session, stack: &Stack) -> Result<StackReview> {
    let cfn = session.aws.cloudformation(&stack.region);
    let state = stack::state(&cfn, &stack.name, &stack.region, session.patience()).await?;
    if let StackState::FailedCreation(status) = &state {
        let kept = crate::recovery::kept_resources(&cfn, &stack.name).await.unwrap_or_default();
        let mut why = format!("the stack is {status} (its creation failed); deploy deletes and creates it again");
        if !kept.is_empty() {
            let names: Vec<String> = kept.iter().map(|k| format!("{} {}", k.resource_type, k.physical_id)).collect();
            why.push_str(&format!(", importing what CloudFormation kept: {}", names.join(", ")));
        }
        return new_stack(stack, &why);
    }
    let code_keys = deployed_code_keys(&cfn, &stack.name).await?;
    if let Some(blocker) = state.blocker(&stack.name, &stack.region) {
        return against_deployed(&cfn, stack, &code_keys, &blocker).await;
    }
    let target = match session.target(stack, &code_keys, ChangeSetSettings::default(), Purpose::Review).await {
        Ok(target) => target,
        Err(error) if state.needs_create() => return new_stack(stack, &format!("{error:#}")),
        Err(error) => return against_deployed(&cfn, stack, &code_keys, &format!("{error:#}")).await,
    };
    match stack::plan(&cfn, &session.guard, target, &state).await {
        Ok(planned) => {
            stack::discard(&cfn, &session.guard, &planned).await?;
            Ok(planned.review)
        }
        Err(error) if state.needs_create() => new_stack(stack, &format!("{error:#}")),
        Err(error) => against_deployed(&cfn, stack, &code_keys, &format!("{error:#}")).await,
    }
}

/// A stack that does not exist yet, predicted offline.
fn new_stack(stack: &Stack, why: &str) -> Result<StackReview> {
    let new: serde_json::Value = serde_json::from_str(&stack.body)?;
    let mut review = review::review(&stack.name, &stack.region, None, None, &new, &Params::new(), &Params::new());
    review.notes.push(format!("no change set: {why}"));
    Ok(review)
}

/// A deployed stack without a change set: the deployed template against the new one, the
/// deployed parameter values standing in for those that could not be resolved.
async fn against_deployed(
    cfn: &aws_sdk_cloudformation::Client,
    stack: &Stack,
    code_keys: &Params,
    why: &str,
) -> Result<StackReview> {
    let deployed = deployed(cfn, &stack.name)
        .await
        .with_context(|| format!("no change set could be created ({why}), and the deployed template"))?;
    let new: serde_json::Value = serde_json::from_str(&stack.body)?;
    let mut new_params = deployed.parameters.clone();
    for (key, value) in code_keys {
        if let Some(slot) = new_params.get_mut(key) {
            slot.clone_from(value);
        }
    }
    let mut review = review::review(
        &stack.name,
        &stack.region,
        None,
        deployed.template.as_ref(),
        &new,
        &deployed.parameters,
        &new_params,
    );
    review.notes.retain(|note| note != review::OFFLINE_NOTE);
    review.notes.push(format!(
        "no change set could be created ({why}); reviewed against the deployed template (GetTemplate) with the \
         deployed parameter values, replacements predicted from the AWS resource schemas"
    ));
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

/// Offline: every stack of the selected regions against `<dir>/<stack>.template.json`, an
/// earlier `cargo xtask synth --out DIR` of the same app. A directory that is missing,
/// unreadable, in YAML or of another app is an error, not a review of every stack as new.
pub fn review_against(config_path: &Path, selection: &RegionSelection, dir: &Path) -> Result<Vec<StackReview>> {
    let config = load_config(config_path)?;
    let assembly = stacks::synthesize(&config).context("synthesizing the stacks")?;
    let regions = plan::select(&config, selection)?;
    check_synth_output(dir, &config.app)?;
    let mut reviews = Vec::new();
    for stack in assembly.stacks.iter().filter(|s| regions.contains(&s.region)) {
        let path = dir.join(stack.template_file("json"));
        let old: Option<serde_json::Value> = match std::fs::read_to_string(&path) {
            Ok(text) => Some(serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => return Err(error).with_context(|| format!("reading {}", path.display())),
        };
        let new: serde_json::Value = serde_json::from_str(&stack.body)?;
        let params = Params::new();
        let mut review = review::review(&stack.name, &stack.region, None, old.as_ref(), &new, &params, &params);
        if old.is_none() {
            review.notes.push(format!("new stack: {} has no {}", dir.display(), stack.template_file("json")));
        }
        reviews.push(review);
    }
    Ok(reviews)
}

/// `dir` is a JSON synth output holding stacks of `app`.
fn check_synth_output(dir: &Path, app: &str) -> Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| {
        format!(
            "--against {}: cannot read the directory (run `cargo xtask synth --out DIR` on the base revision)",
            dir.display()
        )
    })?;
    let mut json = Vec::new();
    let mut yaml = 0;
    for entry in entries {
        let name =
            entry.with_context(|| format!("listing {}", dir.display()))?.file_name().to_string_lossy().into_owned();
        if let Some(stack) = name.strip_suffix(".template.json") {
            json.push(stack.to_owned());
        } else if name.ends_with(".template.yaml") {
            yaml += 1;
        }
    }
    if json.is_empty() && yaml > 0 {
        bail!(
            "--against {}: it holds YAML templates; the review reads JSON: synthesize the base with \
             `cargo xtask synth --format json --out DIR`",
            dir.display()
        );
    }
    if json.is_empty() {
        bail!(
            "--against {}: no templates there; run `cargo xtask synth --out DIR` on the base revision",
            dir.display()
        );
    }
    let prefix = format!("{app}-");
    if !json.iter().any(|stack| stack.starts_with(&prefix)) {
        json.sort();
        bail!(
            "--against {}: it holds stacks of another app ({}, ...), not of {app}; compare with a synth output of \
             this config",
            dir.display(),
            json[0]
        );
    }
    Ok(())
}
