//! A change set from creation to review: created under a name unique to this call (recorded with
//! the run's guard first), polled with backoff, described with property values, completed by the
//! offline prediction into a review; then kept, discarded, or handed to
//! [`execute`](super::execute). "No changes" is recognized however the endpoint says it.

use super::{Deployed, StackState, StackTarget, deployed, template_hash};
use crate::guard::{Guard, Ticket};
use crate::poll::Backoff;
use crate::review::{self, CfnChange, CfnDetail, StackReview};
use anyhow::{Context, Result, bail};
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{
    Capability, ChangeSetStatus, ChangeSetType, Parameter, RollbackConfiguration, RollbackTrigger, StackStatus, Tag,
};
use serde_json::Value;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a change set may take to compute.
const CHANGE_SET_TIMEOUT: Duration = Duration::from_secs(600);
/// The description every change set carries; the template hash follows it.
pub const DESCRIPTION_PREFIX: &str = "cargo xtask deploy; template sha256 ";

/// A change set created by this run and not executed, discarded or kept yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSet {
    /// Its ARN (or the name, where an endpoint returned no ARN).
    pub arn: String,
    /// Its record with the run's guard.
    pub ticket: Ticket,
    /// Created by this run; an adopted one (`deploy --execute`) is never deleted here.
    pub owned: bool,
}

/// A stack's change, reviewed and ready to execute, keep or discard.
#[derive(Debug)]
pub struct Planned {
    /// The target.
    pub target: StackTarget,
    /// The change set, if CloudFormation reported changes.
    pub change_set: Option<ChangeSet>,
    /// `CREATE` or `UPDATE`.
    pub kind: ChangeSetType,
    /// The review (CloudFormation's change set completed by the kit's prediction).
    pub review: StackReview,
}

/// Creates and describes a change set for `target` in a stack in `state` (a failed creation must
/// have been deleted first), and reviews it.
pub async fn plan(cfn: &Client, guard: &Guard, target: StackTarget, state: &StackState) -> Result<Planned> {
    let new_template: Value = serde_json::from_str(&target.body).context("the synthesized template is not JSON")?;
    let (kind, old) = if state.needs_create() {
        (ChangeSetType::Create, Deployed::default())
    } else {
        (ChangeSetType::Update, deployed(cfn, &target.name).await?)
    };
    let name = change_set_name();
    let ticket = guard.record(&target.region, &target.name, &name, kind == ChangeSetType::Create);
    let created = create(cfn, &target, &name, kind.clone()).await;
    let arn = match created {
        Ok(Some(arn)) => arn,
        Ok(None) => {
            guard.forget(ticket);
            return Ok(unchanged(target, kind, old, &new_template));
        }
        Err(error) => {
            // The request failed, so nothing was created; a CREATE may still have left its stack.
            discard_parts(cfn, guard, &target.name, &name, ticket, &kind).await?;
            return Err(error);
        }
    };
    guard.identify(ticket, &arn);
    let cfn_changes = match wait(cfn, &target.name, &arn).await? {
        Ready::NoChanges => None,
        Ready::Changes => Some(describe_changes(cfn, &target.name, &arn).await?),
        Ready::Failed(reason) => {
            discard_parts(cfn, guard, &target.name, &arn, ticket, &kind).await?;
            bail!("CloudFormation could not create a change set for {} in {}: {reason}", target.name, target.region);
        }
    };
    let identical = old.template.as_ref() == Some(&new_template) && old.parameters == target.parameters;
    let Some(cfn_changes) = cfn_changes.filter(|_| !identical) else {
        // Nothing to do; some endpoints (moto) create a change set even when nothing differs.
        discard_parts(cfn, guard, &target.name, &arn, ticket, &kind).await?;
        return Ok(unchanged(target, kind, old, &new_template));
    };
    let review = review::review(
        &target.name,
        &target.region,
        Some(cfn_changes),
        old.template.as_ref(),
        &new_template,
        &old.parameters,
        &target.parameters,
    );
    Ok(Planned { target, change_set: Some(ChangeSet { arn, ticket, owned: true }), kind, review })
}

/// A plan with nothing to execute.
fn unchanged(target: StackTarget, kind: ChangeSetType, old: Deployed, new_template: &Value) -> Planned {
    let mut review = review::review(
        &target.name,
        &target.region,
        Some(Vec::new()),
        old.template.as_ref(),
        new_template,
        &old.parameters,
        &target.parameters,
    );
    review.no_changes = true;
    review.changes.clear();
    review.other_changes.clear();
    Planned { target, change_set: None, kind, review }
}

/// Deletes a planned change set without executing it, and the empty stack a `CREATE` change set
/// made, so a review leaves nothing behind.
pub async fn discard(cfn: &Client, guard: &Guard, planned: &Planned) -> Result<()> {
    match &planned.change_set {
        Some(change_set) if !change_set.owned => {
            guard.forget(change_set.ticket);
            Ok(())
        }
        Some(change_set) => {
            discard_parts(cfn, guard, &planned.target.name, &change_set.arn, change_set.ticket, &planned.kind).await
        }
        None if planned.kind == ChangeSetType::Create => delete_review_stack(cfn, &planned.target.name).await,
        None => Ok(()),
    }
}

/// Leaves a planned change set in place on purpose (for someone else to execute).
pub fn keep(guard: &Guard, planned: &Planned) {
    if let Some(change_set) = &planned.change_set {
        guard.forget(change_set.ticket);
    }
}

async fn discard_parts(
    cfn: &Client,
    guard: &Guard,
    stack: &str,
    change_set: &str,
    ticket: Ticket,
    kind: &ChangeSetType,
) -> Result<()> {
    delete_change_set(cfn, stack, change_set).await?;
    if *kind == ChangeSetType::Create {
        delete_review_stack(cfn, stack).await?;
    }
    guard.forget(ticket);
    Ok(())
}

/// The `CreateChangeSet` request for `target`; `Ok(None)` when the endpoint refuses it because
/// nothing would change (moto does).
async fn create(cfn: &Client, target: &StackTarget, name: &str, kind: ChangeSetType) -> Result<Option<String>> {
    let parameters: Vec<Parameter> = target
        .parameters
        .iter()
        .map(|(key, value)| Parameter::builder().parameter_key(key).parameter_value(value).build())
        .collect();
    let settings = &target.settings;
    let tags: Vec<Tag> = settings.tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
    let rollback = settings.rollback.as_ref().map(|r| {
        let triggers = r.alarms.iter().map(|alarm| {
            let kind = if alarm.composite { "AWS::CloudWatch::CompositeAlarm" } else { "AWS::CloudWatch::Alarm" };
            RollbackTrigger::builder().arn(&alarm.arn).r#type(kind).build()
        });
        RollbackConfiguration::builder()
            .set_rollback_triggers(Some(triggers.collect()))
            .monitoring_time_in_minutes(i32::try_from(r.monitoring_minutes).unwrap_or(0))
            .build()
    });
    let mut request = cfn
        .create_change_set()
        .stack_name(&target.name)
        .change_set_name(name)
        .change_set_type(kind)
        .set_parameters(Some(parameters))
        .capabilities(Capability::CapabilityIam)
        .capabilities(Capability::CapabilityNamedIam)
        .description(format!("{DESCRIPTION_PREFIX}{}", template_hash(&target.body)))
        .set_role_arn(settings.role_arn.clone())
        .set_notification_arns((!settings.notification_arns.is_empty()).then(|| settings.notification_arns.clone()))
        .set_tags((!tags.is_empty()).then_some(tags))
        .set_rollback_configuration(rollback);
    if settings.import_existing {
        request = request.import_existing_resources(true);
    }
    request = match &target.template_url {
        Some(url) => request.template_url(url),
        None => request.template_body(&target.body),
    };
    match request.send().await {
        Ok(output) => Ok(Some(output.id().unwrap_or(name).to_owned())),
        Err(error) if error.as_service_error().and_then(|e| e.meta().message()).is_some_and(is_no_changes) => Ok(None),
        Err(error) => {
            Err(error).with_context(|| format!("creating a change set for {} in {}", target.name, target.region))
        }
    }
}

enum Ready {
    Changes,
    NoChanges,
    Failed(String),
}

async fn wait(cfn: &Client, stack: &str, arn: &str) -> Result<Ready> {
    let started = Instant::now();
    let mut waits = Backoff::CHANGE_SET.waits();
    loop {
        let output = cfn
            .describe_change_set()
            .stack_name(stack)
            .change_set_name(arn)
            .send()
            .await
            .with_context(|| format!("describing change set {arn} of {stack}"))?;
        let reason = output.status_reason().unwrap_or_default().to_owned();
        match output.status() {
            Some(ChangeSetStatus::CreateComplete) => return Ok(Ready::Changes),
            Some(ChangeSetStatus::Failed) if is_no_changes(&reason) => return Ok(Ready::NoChanges),
            Some(ChangeSetStatus::Failed) => return Ok(Ready::Failed(reason)),
            _ if started.elapsed() > CHANGE_SET_TIMEOUT => {
                return Ok(Ready::Failed(format!("still not ready after {CHANGE_SET_TIMEOUT:?}")));
            }
            _ => waits.sleep().await,
        }
    }
}

/// CloudFormation's ways of saying a change set has nothing to do.
pub fn is_no_changes(reason: &str) -> bool {
    reason.starts_with("The submitted information didn't contain changes")
        || reason.starts_with("No updates are to be performed")
}

/// Every resource change of a change set, with property values, across pages.
pub(crate) async fn describe_changes(cfn: &Client, stack: &str, arn: &str) -> Result<Vec<CfnChange>> {
    let mut changes = Vec::new();
    let mut token = None;
    loop {
        let output = cfn
            .describe_change_set()
            .stack_name(stack)
            .change_set_name(arn)
            .include_property_values(true)
            .set_next_token(token)
            .send()
            .await
            .with_context(|| format!("describing change set {arn} of {stack}"))?;
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

/// Deletes `stack` if it exists only as the shell of an unexecuted `CREATE` change set.
pub async fn delete_review_stack(cfn: &Client, stack: &str) -> Result<()> {
    if super::status(cfn, stack).await? == Some(StackStatus::ReviewInProgress) && !has_change_sets(cfn, stack).await? {
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

/// Deletes a change set (by ARN, or by name); one that does not exist (any more, or because its
/// creation request never arrived) is fine. It is looked up first: some endpoints (moto) fail
/// with a server error, which the SDK would retry, when asked to delete a name they never saw.
pub async fn delete_change_set(cfn: &Client, stack: &str, change_set: &str) -> Result<()> {
    let described = cfn.describe_change_set().stack_name(stack).change_set_name(change_set).send().await;
    match described {
        Err(error) if crate::aws::errors::is_not_found(&error) => return Ok(()),
        Err(error) => return Err(error).with_context(|| format!("looking up change set {change_set} of {stack}")),
        Ok(_) => {}
    }
    match cfn.delete_change_set().stack_name(stack).change_set_name(change_set).send().await {
        Ok(_) => Ok(()),
        Err(error) if crate::aws::errors::is_not_found(&error) => Ok(()),
        Err(error) => Err(error).with_context(|| format!("deleting change set {change_set} of {stack}")),
    }
}

/// A name unique per call: `kit-<unix milliseconds>-<process id>-<counter>`. Some endpoints
/// (moto) find a change set by name across every stack of a region, so two runs at once, or two
/// stacks planned in the same millisecond, must not share one; the guard also deletes by name a
/// change set whose creation answer never arrived.
fn change_set_name() -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default();
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("kit-{millis}-{}-{n}", std::process::id())
}
