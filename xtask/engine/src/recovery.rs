//! Recovering a stack whose creation failed (`ROLLBACK_COMPLETE`/`ROLLBACK_FAILED`), which
//! CloudFormation only lets the kit delete. Before deleting, it lists what the rollback kept
//! (`DELETE_SKIPPED` events: resources with a retaining `DeletionPolicy`), and finds those the
//! new template declares under the same name: recreating the stack would fail half-way on them
//! ("already exists"), so they are imported instead with `ImportExistingResources`.
//!
//! CloudFormation's rules for that import (User Guide, "Import AWS resources into a CloudFormation
//! stack automatically"; API reference `CreateChangeSet`): the resource has a static custom name
//! in the template, a `DeletionPolicy` of `Retain` or `RetainExceptOnCreate`, belongs to no other
//! stack, and its type supports import. A kept resource whose new definition does not retain it
//! cannot be imported: the kit stops before deleting anything and says so.

use crate::approval::Approval;
use crate::events::{self, Verdict};
use crate::stack::state::{StackState, state};
use anyhow::{Context, Result, bail};
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::ResourceStatus;
use serde_json::Value;
use std::time::{Duration, SystemTime};

/// A resource CloudFormation left in place when it rolled a creation back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptResource {
    /// Its logical ID in the failed stack.
    pub logical_id: String,
    /// Its type.
    pub resource_type: String,
    /// Its physical ID (the name, for named resources).
    pub physical_id: String,
}

/// What recovering a failed creation found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Everything the rollback kept.
    pub kept: Vec<KeptResource>,
    /// The kept resources the new template declares under the same name: the new stack imports
    /// them.
    pub import: Vec<KeptResource>,
}

/// Where the stack is and how to delete it.
#[derive(Debug, Clone, Copy)]
pub struct FailedStack<'a> {
    /// Stack name.
    pub name: &'a str,
    /// Region.
    pub region: &'a str,
    /// The service role deletions go through, if any.
    pub role_arn: Option<&'a str>,
}

/// When `stack` failed creation: lists what was kept, checks the new `template` can take it back,
/// deletes the stack (with approval), and returns what the new stack must import. `None` when
/// the stack did not fail creation.
pub async fn recover_failed_creation(
    cfn: &Client,
    stack: FailedStack<'_>,
    template: &Value,
    approval: &Approval,
    patience: Duration,
) -> Result<Option<Recovery>> {
    let (name, region) = (stack.name, stack.region);
    let StackState::FailedCreation(status) = state(cfn, name, region, patience).await? else { return Ok(None) };
    let kept = kept_resources(cfn, name).await?;
    println!("{name} in {region} is {status}: its creation failed and CloudFormation allows only deleting it.");
    for resource in &kept {
        println!(
            "  CloudFormation kept {} {} ({}): it still exists",
            resource.resource_type, resource.physical_id, resource.logical_id
        );
    }
    let (import, blocked) = importable(&kept, template);
    if !blocked.is_empty() {
        bail!(
            "{name} cannot be created again while {} still exist(s) under the names the template gives them, and \
             the template does not retain them (DeletionPolicy Retain or RetainExceptOnCreate), so they cannot be \
             imported; delete or rename them, then deploy again; nothing was deleted",
            blocked.iter().map(|r| format!("{} {}", r.resource_type, r.physical_id)).collect::<Vec<_>>().join(", ")
        );
    }
    let question = if import.is_empty() {
        format!("{name}: delete the failed stack and create it again?")
    } else {
        format!(
            "{name}: delete the failed stack and create it again, importing {} it kept?",
            import.iter().map(|r| r.physical_id.as_str()).collect::<Vec<_>>().join(", ")
        )
    };
    if !approval.approves_step(&question)? {
        bail!(
            "{name} is {status}; re-run with --yes to delete and recreate it, or delete it yourself \
             (`aws cloudformation delete-stack --stack-name {name} --region {region}`)"
        );
    }
    let since = SystemTime::now();
    cfn.delete_stack()
        .stack_name(name)
        .set_role_arn(stack.role_arn.map(str::to_owned))
        .send()
        .await
        .with_context(|| format!("deleting {name} in {region}"))?;
    let outcome = events::follow(cfn, name, region, since).await?;
    if outcome.verdict() != Verdict::Deleted {
        bail!("deleting {name}: {}\n{}", outcome.summary(), outcome.failure_report());
    }
    Ok(Some(Recovery { kept, import }))
}

/// Every `DELETE_SKIPPED` resource in the stack's events, once each.
pub async fn kept_resources(cfn: &Client, stack: &str) -> Result<Vec<KeptResource>> {
    let mut kept: Vec<KeptResource> = Vec::new();
    let mut token = None;
    loop {
        let page = cfn
            .describe_stack_events()
            .stack_name(stack)
            .set_next_token(token)
            .send()
            .await
            .with_context(|| format!("reading the events of {stack}"))?;
        for event in page.stack_events() {
            if event.resource_status() != Some(&ResourceStatus::DeleteSkipped) {
                continue;
            }
            let resource = KeptResource {
                logical_id: event.logical_resource_id().unwrap_or_default().to_owned(),
                resource_type: event.resource_type().unwrap_or_default().to_owned(),
                physical_id: event.physical_resource_id().unwrap_or_default().to_owned(),
            };
            if !resource.physical_id.is_empty() && !kept.contains(&resource) {
                kept.push(resource);
            }
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            kept.reverse(); // CloudFormation lists newest first.
            return Ok(kept);
        }
    }
}

/// Splits the kept resources the new template names the same way into those it can import (it
/// retains them) and those it cannot.
pub fn importable(kept: &[KeptResource], template: &Value) -> (Vec<KeptResource>, Vec<KeptResource>) {
    let mut import = Vec::new();
    let mut blocked = Vec::new();
    for resource in kept {
        let Some(definition) = template["Resources"].get(&resource.logical_id) else { continue };
        let same_type = definition["Type"].as_str() == Some(resource.resource_type.as_str());
        let named = definition["Properties"]
            .as_object()
            .is_some_and(|props| props.values().any(|v| v.as_str() == Some(resource.physical_id.as_str())));
        if !(same_type && named) {
            continue;
        }
        let retained = matches!(definition["DeletionPolicy"].as_str(), Some("Retain" | "RetainExceptOnCreate"));
        if retained { import.push(resource.clone()) } else { blocked.push(resource.clone()) }
    }
    (import, blocked)
}
