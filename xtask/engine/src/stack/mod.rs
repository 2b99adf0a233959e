//! One stack through a change set: read its state, create the change set, poll it, describe it
//! into a review, then execute or discard it. Every stack state CloudFormation can report is
//! handled; nothing is left behind (no stray change set, no empty REVIEW_IN_PROGRESS stack).

use crate::events::{self, Outcome};
use crate::review::{self, CfnChange, CfnDetail, Params, StackReview};
use anyhow::{Context, Result, bail};
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{Capability, ChangeSetStatus, ChangeSetType, Parameter, StackStatus};
use serde_json::Value;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How often a change set or stack is polled: seconds, not the SDK waiter's 30 s.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// How long a change set may take to compute.
const CHANGE_SET_TIMEOUT: Duration = Duration::from_secs(600);
/// How long another operation on a stack may take to finish before the kit stops waiting.
pub const PATIENCE: Duration = Duration::from_secs(3600);
/// The same against an emulator, which never finishes or rolls back an operation that failed.
pub const EMULATOR_PATIENCE: Duration = Duration::from_secs(20);

/// What to deploy as one stack.
#[derive(Debug, Clone)]
pub struct StackTarget {
    /// Stack name.
    pub name: String,
    /// Region.
    pub region: String,
    /// The template body as synthesized.
    pub body: String,
    /// When set, CloudFormation reads the template here (bodies over 51,200 bytes).
    pub template_url: Option<String>,
    /// Parameter values.
    pub parameters: Params,
}

/// What the stack's current state means for the next change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StackState {
    /// No stack, or one only created by an unexecuted change set: create it.
    New {
        /// A `REVIEW_IN_PROGRESS` stack exists already.
        in_review: bool,
    },
    /// Deployed and stable: update it.
    Deployed {
        /// The status, e.g. `UPDATE_COMPLETE`.
        status: String,
    },
    /// A failed creation (`ROLLBACK_COMPLETE`/`ROLLBACK_FAILED`): only deleting it is possible.
    FailedCreation {
        /// The status.
        status: String,
    },
}

/// A change set ready to be reviewed and then executed or discarded.
#[derive(Debug)]
pub struct Planned {
    /// The target.
    pub target: StackTarget,
    /// The change set, if CloudFormation reported changes.
    pub change_set: Option<String>,
    /// `CREATE` or `UPDATE`.
    pub kind: ChangeSetType,
    /// The review (CloudFormation's change set completed by our prediction).
    pub review: StackReview,
}

/// Reads the stack's state, waiting up to `patience` while another operation runs on it.
pub async fn state(cfn: &Client, name: &str, patience: Duration) -> Result<StackState> {
    let started = Instant::now();
    loop {
        let Some(status) = status(cfn, name).await? else { return Ok(StackState::New { in_review: false }) };
        let text = status.as_str().to_owned();
        match status {
            StackStatus::ReviewInProgress => return Ok(StackState::New { in_review: true }),
            StackStatus::RollbackComplete | StackStatus::RollbackFailed => {
                return Ok(StackState::FailedCreation { status: text });
            }
            StackStatus::UpdateRollbackFailed => bail!(
                "stack {name} is UPDATE_ROLLBACK_FAILED: fix what blocked the rollback, then run \
                 `aws cloudformation continue-update-rollback --stack-name {name}` (with --resources-to-skip for \
                 resources that cannot roll back) and deploy again"
            ),
            StackStatus::DeleteFailed => bail!(
                "stack {name} is DELETE_FAILED: look at its events, then delete it with retained resources \
                 (`aws cloudformation delete-stack --stack-name {name} --retain-resources ...`) before deploying"
            ),
            _ if text.ends_with("_IN_PROGRESS") => {
                if started.elapsed() > patience {
                    bail!(
                        "stack {name} stayed {text} for {patience:?}; deploy again when it settles (an emulator \
                         leaves a failed operation in progress for good: delete the stack or restart the emulator)"
                    );
                }
                eprintln!("  {name}: {text}, waiting for it to finish");
                tokio::time::sleep(POLL_INTERVAL * 4).await;
            }
            _ => return Ok(StackState::Deployed { status: text }),
        }
    }
}

/// The stack's status, or `None` when it does not exist.
pub async fn status(cfn: &Client, name: &str) -> Result<Option<StackStatus>> {
    match cfn.describe_stacks().stack_name(name).send().await {
        Ok(output) => Ok(output.stacks().first().and_then(|s| s.stack_status().cloned())),
        Err(error) => {
            let message = error.as_service_error().and_then(|e| e.meta().message()).unwrap_or_default().to_owned();
            if message.contains("does not exist") {
                Ok(None)
            } else {
                Err(error).with_context(|| format!("describing stack {name}"))
            }
        }
    }
}

/// The deployed template and parameter values (for the property-level diff).
async fn deployed(cfn: &Client, name: &str) -> Result<(Option<Value>, Params)> {
    let template = cfn
        .get_template()
        .stack_name(name)
        .template_stage(aws_sdk_cloudformation::types::TemplateStage::Original)
        .send()
        .await
        .with_context(|| format!("reading the deployed template of {name}"))?;
    let body = template.template_body().unwrap_or_default();
    let value = serde_json::from_str(body).ok().or_else(|| serde_yaml::from_str(body).ok());
    let stacks = cfn.describe_stacks().stack_name(name).send().await?;
    let params = stacks
        .stacks()
        .first()
        .map(|s| {
            s.parameters()
                .iter()
                .filter_map(|p| Some((p.parameter_key()?.to_owned(), p.parameter_value()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    Ok((value, params))
}

/// Creates and describes a change set for `target` in a stack in `state`.
pub async fn plan(cfn: &Client, target: StackTarget, state: &StackState) -> Result<Planned> {
    let new_template: Value = serde_json::from_str(&target.body).context("the synthesized template is not JSON")?;
    let (kind, (old_template, old_params)) = match state {
        StackState::Deployed { .. } => (ChangeSetType::Update, deployed(cfn, &target.name).await?),
        StackState::New { .. } | StackState::FailedCreation { .. } => (ChangeSetType::Create, (None, Params::new())),
    };
    let created = create_change_set(cfn, &target, &change_set_name(), kind.clone()).await?;
    // From here on the change set is addressed by its ARN, which no other change set shares.
    let (name, result) = match created {
        Created::Yes(id) => {
            let result = wait_for_change_set(cfn, &target.name, &id).await?;
            (id, result)
        }
        Created::NoChanges => (String::new(), ChangeSetResult::NoChanges { created: false }),
    };
    let cfn_changes = match result {
        ChangeSetResult::NoChanges { created } => {
            if created {
                delete_change_set(cfn, &target.name, &name).await?;
            }
            None
        }
        ChangeSetResult::Ready => Some(describe_changes(cfn, &target.name, &name).await?),
        ChangeSetResult::Failed(reason) => {
            discard_change_set(cfn, &target.name, &name, &kind).await?;
            bail!("CloudFormation could not create a change set for {}: {reason}", target.name);
        }
    };
    let unchanged = old_template.as_ref() == Some(&new_template) && old_params == target.parameters;
    let change_set = if cfn_changes.is_some() && unchanged {
        // Some endpoints (moto) create a change set even when nothing differs; the templates
        // and parameters are identical, so there is nothing to execute.
        delete_change_set(cfn, &target.name, &name).await?;
        None
    } else {
        cfn_changes.as_ref().map(|_| name)
    };
    let mut review = review::review(
        &target.name,
        &target.region,
        Some(change_set.as_ref().and(cfn_changes).unwrap_or_default()),
        old_template.as_ref(),
        &new_template,
        &old_params,
        &target.parameters,
    );
    if change_set.is_none() {
        review.no_changes = true;
        review.changes.clear();
        review.other_changes.clear();
    }
    Ok(Planned { target, change_set, kind, review })
}

/// Whether `CreateChangeSet` made a change set.
enum Created {
    /// It did; its ARN.
    Yes(String),
    /// Some endpoints (moto) refuse the request outright when nothing would change.
    NoChanges,
}

async fn create_change_set(cfn: &Client, target: &StackTarget, name: &str, kind: ChangeSetType) -> Result<Created> {
    let parameters: Vec<Parameter> = target
        .parameters
        .iter()
        .map(|(key, value)| Parameter::builder().parameter_key(key).parameter_value(value).build())
        .collect();
    let mut request = cfn
        .create_change_set()
        .stack_name(&target.name)
        .change_set_name(name)
        .change_set_type(kind)
        .set_parameters(Some(parameters))
        .capabilities(Capability::CapabilityIam)
        .capabilities(Capability::CapabilityNamedIam)
        .description("cargo xtask deploy");
    request = match &target.template_url {
        Some(url) => request.template_url(url),
        None => request.template_body(&target.body),
    };
    match request.send().await {
        Ok(output) => Ok(Created::Yes(output.id().unwrap_or(name).to_owned())),
        Err(error) if error.as_service_error().and_then(|e| e.meta().message()).is_some_and(is_no_changes) => {
            Ok(Created::NoChanges)
        }
        Err(error) => {
            Err(error).with_context(|| format!("creating a change set for {} in {}", target.name, target.region))
        }
    }
}

enum ChangeSetResult {
    Ready,
    /// Nothing to do; `created` says whether a (failed) change set exists to clean up.
    NoChanges {
        created: bool,
    },
    Failed(String),
}

async fn wait_for_change_set(cfn: &Client, stack: &str, name: &str) -> Result<ChangeSetResult> {
    let started = Instant::now();
    loop {
        let output = cfn.describe_change_set().stack_name(stack).change_set_name(name).send().await?;
        let reason = output.status_reason().unwrap_or_default().to_owned();
        match output.status() {
            Some(ChangeSetStatus::CreateComplete) => return Ok(ChangeSetResult::Ready),
            Some(ChangeSetStatus::Failed) if is_no_changes(&reason) => {
                return Ok(ChangeSetResult::NoChanges { created: true });
            }
            Some(ChangeSetStatus::Failed) => return Ok(ChangeSetResult::Failed(reason)),
            _ if started.elapsed() > CHANGE_SET_TIMEOUT => {
                return Ok(ChangeSetResult::Failed(format!("still not ready after {CHANGE_SET_TIMEOUT:?}")));
            }
            _ => tokio::time::sleep(POLL_INTERVAL).await,
        }
    }
}

/// CloudFormation's ways of saying a change set has nothing to do.
pub fn is_no_changes(reason: &str) -> bool {
    reason.starts_with("The submitted information didn't contain changes")
        || reason.starts_with("No updates are to be performed")
}

/// Every resource change of a change set, with property values, across pages.
async fn describe_changes(cfn: &Client, stack: &str, name: &str) -> Result<Vec<CfnChange>> {
    let mut changes = Vec::new();
    let mut token = None;
    loop {
        let output = cfn
            .describe_change_set()
            .stack_name(stack)
            .change_set_name(name)
            .include_property_values(true)
            .set_next_token(token)
            .send()
            .await
            .with_context(|| format!("describing change set {name} of {stack}"))?;
        changes.extend(output.changes().iter().filter_map(|c| c.resource_change()).map(to_cfn_change));
        token = output.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(changes);
        }
    }
}

fn to_cfn_change(change: &aws_sdk_cloudformation::types::ResourceChange) -> CfnChange {
    let text = |s: Option<&str>| s.map(str::to_owned);
    CfnChange {
        action: change.action().map(|a| a.as_str().to_owned()).unwrap_or_default(),
        logical_id: change.logical_resource_id().unwrap_or_default().to_owned(),
        resource_type: change.resource_type().unwrap_or_default().to_owned(),
        physical_id: text(change.physical_resource_id()),
        replacement: change.replacement().map(|r| r.as_str().to_owned()),
        scope: change.scope().iter().map(|s| s.as_str().to_owned()).collect(),
        details: change
            .details()
            .iter()
            .map(|detail| {
                let target = detail.target();
                CfnDetail {
                    attribute: target.and_then(|t| t.attribute()).map(|a| a.as_str().to_owned()),
                    name: text(target.and_then(|t| t.name())),
                    path: text(target.and_then(|t| t.path())),
                    requires_recreation: target.and_then(|t| t.requires_recreation()).map(|r| r.as_str().to_owned()),
                    before: text(target.and_then(|t| t.before_value())),
                    after: text(target.and_then(|t| t.after_value())),
                    change_source: detail.change_source().map(|c| c.as_str().to_owned()),
                    causing_entity: text(detail.causing_entity()),
                }
            })
            .collect(),
        before_context: text(change.before_context()),
        after_context: text(change.after_context()),
    }
}

/// Executes a planned change set and follows the stack's events to the end.
pub async fn execute(cfn: &Client, planned: &Planned, emulated: bool) -> Result<Outcome> {
    let Some(change_set) = &planned.change_set else { return Ok(Outcome::unchanged()) };
    let since = SystemTime::now();
    cfn.execute_change_set()
        .stack_name(&planned.target.name)
        .change_set_name(change_set)
        .send()
        .await
        .with_context(|| format!("executing change set {change_set} of {}", planned.target.name))?;
    let outcome = events::follow(cfn, &planned.target.name, since).await?;
    if emulated {
        // AWS drops a stack's change sets once one executes; moto keeps the executed one listed.
        delete_change_set(cfn, &planned.target.name, change_set).await?;
    }
    Ok(outcome)
}

/// Deletes a planned change set without executing it, and the empty stack a `CREATE` change set
/// made, so a review leaves nothing behind.
pub async fn discard(cfn: &Client, planned: &Planned) -> Result<()> {
    match &planned.change_set {
        Some(name) => discard_change_set(cfn, &planned.target.name, name, &planned.kind).await,
        None if planned.kind == ChangeSetType::Create => delete_review_stack(cfn, &planned.target.name).await,
        None => Ok(()),
    }
}

async fn discard_change_set(cfn: &Client, stack: &str, name: &str, kind: &ChangeSetType) -> Result<()> {
    delete_change_set(cfn, stack, name).await?;
    if *kind == ChangeSetType::Create {
        delete_review_stack(cfn, stack).await?;
    }
    Ok(())
}

/// Deletes `stack` if it exists only as the shell of an unexecuted `CREATE` change set.
async fn delete_review_stack(cfn: &Client, stack: &str) -> Result<()> {
    if status(cfn, stack).await? == Some(StackStatus::ReviewInProgress) && !has_change_sets(cfn, stack).await? {
        cfn.delete_stack().stack_name(stack).send().await.with_context(|| format!("deleting empty {stack}"))?;
    }
    Ok(())
}

/// Whether `stack` has a change set, across pages. Some endpoints (moto) list every change set of
/// the region whatever stack is asked for, so only those naming `stack` count.
async fn has_change_sets(cfn: &Client, stack: &str) -> Result<bool> {
    let mut token = None;
    loop {
        let output = cfn
            .list_change_sets()
            .stack_name(stack)
            .set_next_token(token)
            .send()
            .await
            .with_context(|| format!("listing the change sets of {stack}"))?;
        if output.summaries().iter().any(|s| s.stack_name() == Some(stack)) {
            return Ok(true);
        }
        token = output.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(false);
        }
    }
}

/// Deletes a change set; one that is already gone is fine.
pub async fn delete_change_set(cfn: &Client, stack: &str, name: &str) -> Result<()> {
    match cfn.delete_change_set().stack_name(stack).change_set_name(name).send().await {
        Ok(_) => Ok(()),
        Err(error)
            if error
                .as_service_error()
                .and_then(|e| e.meta().code())
                .is_some_and(|c| c.contains("ChangeSetNotFound")) =>
        {
            Ok(())
        }
        Err(error) => Err(error).with_context(|| format!("deleting change set {name} of {stack}")),
    }
}

/// A name unique per call: `kit-<unix milliseconds>-<process id>-<counter>`. Some endpoints
/// (moto) find a change set by name across every stack of a region, so two runs at once, or
/// two stacks planned in the same millisecond, must not share one.
fn change_set_name() -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default();
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("kit-{millis}-{}-{n}", std::process::id())
}
