//! Deployments: every stack through a reviewed change set. Order: the bootstrap stacks and the
//! home region's data stack, then the function zips, then the region stacks concurrently
//! (bounded). In each phase every change set is created and reviewed first, then the approval
//! gate runs, then approved change sets execute.

use crate::approval::Approval;
use crate::params::{self, Artifact};
use crate::review;
use crate::session::Session;
use crate::stack::{self, Planned, StackState};
use crate::{emulation, events};
use anyhow::{Context, Result, bail};
use futures::stream::{self, StreamExt};
use stacks::{Stack, StackPart};
use std::time::{Duration, Instant};

/// How one stack's deployment ended.
#[derive(Debug, Clone)]
pub struct StackReport {
    /// Stack name.
    pub stack: String,
    /// Region.
    pub region: String,
    /// `created`, `updated`, `no changes`, `refused` or `failed: ...`.
    pub result: String,
    /// Resource changes reviewed.
    pub changes: usize,
    /// Whether the review found dangerous changes.
    pub dangerous: bool,
    /// Time from plan to end.
    pub elapsed: Duration,
}

impl StackReport {
    /// Failed, or refused for lack of approval: either way the stack is not as asked.
    pub fn failed(&self) -> bool {
        self.result.starts_with("failed") || self.result.starts_with("refused")
    }
}

/// Deploys the session's regions: the bootstrap stacks and the home region's data stack (when
/// targeted) first, then the function zips, then the region stacks, `concurrency` at a time.
pub async fn deploy_regions(
    session: &Session,
    artifacts: &[Artifact],
    approval: &Approval,
    concurrency: usize,
) -> Result<Vec<StackReport>> {
    let regions = &session.regions;
    let mut foundation: Vec<&Stack> =
        regions.iter().map(|r| session.stack(StackPart::Bootstrap, r)).collect::<Result<_>>()?;
    let data = if regions.contains(&session.config.home) {
        Some(session.stack(StackPart::Data, &session.config.home)?)
    } else {
        None
    };
    foundation.extend(data);
    let mut reports = phase(session, &foundation, &[], approval, concurrency).await?;
    if reports.iter().any(StackReport::failed) {
        return Ok(reports);
    }
    if let Some(data) = data {
        protect_data_stack(session, data).await?;
        if session.aws.is_emulated() {
            let data_template: serde_json::Value = serde_json::from_str(&data.body)?;
            for note in emulation::create_missing_replicas(&session.aws, &data_template).await? {
                println!("{note}");
            }
        }
    }
    upload_everywhere(session, artifacts, concurrency).await?;
    let region_stacks: Vec<&Stack> =
        regions.iter().map(|r| session.stack(StackPart::Region, r)).collect::<Result<_>>()?;
    reports.extend(phase(session, &region_stacks, artifacts, approval, concurrency).await?);
    Ok(reports)
}

/// Uploads the function zips to every targeted region's assets bucket, regions in parallel.
async fn upload_everywhere(session: &Session, artifacts: &[Artifact], concurrency: usize) -> Result<()> {
    let uploads = stream::iter(&session.regions)
        .map(|region| async move {
            let bucket = session.assets_bucket(region);
            let uploaded = params::upload_artifacts(&session.aws, region, &bucket, artifacts).await?;
            println!(
                "{region}: {uploaded} of {} function zips uploaded (the rest were already there)",
                artifacts.len()
            );
            anyhow::Ok(())
        })
        .buffer_unordered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
    uploads.into_iter().collect()
}

/// Plans every stack (concurrently), prints the reviews, asks for approval, executes.
pub async fn phase(
    session: &Session,
    stacks: &[&Stack],
    artifacts: &[Artifact],
    approval: &Approval,
    concurrency: usize,
) -> Result<Vec<StackReport>> {
    for stack in stacks {
        let cfn = session.aws.cloudformation(&stack.region);
        recover_failed_creation(&cfn, &stack.name, approval, session.patience()).await?;
    }
    let code_keys = params::code_keys(artifacts);
    let code_keys = &code_keys;
    let plans: Vec<(Instant, Result<Planned>)> = stream::iter(stacks.iter().copied())
        .map(|stack| async move { (Instant::now(), plan_stack(session, stack, code_keys).await) })
        .buffered(concurrency.max(1))
        .collect()
        .await;
    let mut approved = Vec::new();
    let mut reports = Vec::new();
    for (stack, (started, plan)) in stacks.iter().zip(plans) {
        let planned = match plan {
            Ok(planned) => planned,
            Err(error) => {
                reports.push(report(stack, format!("failed: {error:#}"), 0, false, started));
                continue;
            }
        };
        print!("{}", review::render::text(std::slice::from_ref(&planned.review)));
        let changes = planned.review.changes.len();
        let dangerous = planned.review.is_dangerous();
        if planned.change_set.is_none() {
            stack::discard(&session.aws.cloudformation(&stack.region), &planned).await?;
            reports.push(report(stack, "no changes".into(), 0, false, started));
        } else if approval.approves(&planned.review)? {
            approved.push((planned, started));
        } else {
            stack::discard(&session.aws.cloudformation(&stack.region), &planned).await?;
            reports.push(report(
                stack,
                "refused: needs approval (--yes, or answer at a terminal)".into(),
                changes,
                dangerous,
                started,
            ));
        }
    }
    let executed: Vec<StackReport> = stream::iter(approved)
        .map(|(planned, started)| execute_stack(session, planned, started))
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    reports.extend(executed);
    Ok(reports)
}

async fn plan_stack(session: &Session, stack: &Stack, code_keys: &review::Params) -> Result<Planned> {
    let cfn = session.aws.cloudformation(&stack.region);
    let state = stack::state(&cfn, &stack.name, session.patience()).await?;
    let target = session.target(stack, code_keys).await?;
    stack::plan(&cfn, target, &state).await
}

async fn execute_stack(session: &Session, planned: Planned, started: Instant) -> StackReport {
    let cfn = session.aws.cloudformation(&planned.target.region);
    let changes = planned.review.changes.len();
    let dangerous = planned.review.is_dangerous();
    let created = planned.kind == aws_sdk_cloudformation::types::ChangeSetType::Create;
    let result = match stack::execute(&cfn, &planned, session.aws.is_emulated()).await {
        Ok(outcome) if outcome.succeeded() => if created { "created" } else { "updated" }.to_owned(),
        Ok(outcome) => format!(
            "failed: {} ended {}\n{}",
            planned.target.name,
            outcome.status.clone().unwrap_or_else(|| "without a status".into()),
            outcome.failure_report()
        ),
        Err(error) => format!("failed: {error:#}"),
    };
    StackReport {
        stack: planned.target.name,
        region: planned.target.region,
        result,
        changes,
        dangerous,
        elapsed: started.elapsed(),
    }
}

fn report(stack: &Stack, result: String, changes: usize, dangerous: bool, started: Instant) -> StackReport {
    StackReport {
        stack: stack.name.clone(),
        region: stack.region.clone(),
        result,
        changes,
        dangerous,
        elapsed: started.elapsed(),
    }
}

/// A stack whose creation failed can only be deleted: explain, and delete it with approval so
/// it can be created again.
pub async fn recover_failed_creation(
    cfn: &aws_sdk_cloudformation::Client,
    name: &str,
    approval: &Approval,
    patience: Duration,
) -> Result<()> {
    let StackState::FailedCreation { status } = stack::state(cfn, name, patience).await? else { return Ok(()) };
    println!(
        "{name} is {status}: its creation failed and CloudFormation allows only deleting it. \
         Deleting it (its retained resources stay) and creating it again."
    );
    if !approval.approves_deletion(name)? {
        bail!("{name} is {status}; re-run with --yes to delete and recreate it, or delete it yourself");
    }
    let since = std::time::SystemTime::now();
    cfn.delete_stack().stack_name(name).send().await.with_context(|| format!("deleting {name}"))?;
    let outcome = events::follow(cfn, name, since).await?;
    if outcome.status.as_deref().is_some_and(|s| s != "DELETE_COMPLETE") {
        bail!("deleting {name} ended {:?}:\n{}", outcome.status, outcome.failure_report());
    }
    Ok(())
}

/// Termination protection on the data stack: deleting it would orphan every region's events.
async fn protect_data_stack(session: &Session, data: &Stack) -> Result<()> {
    if session.aws.is_emulated() {
        println!("emulator: moto does not implement termination protection; on AWS {} is protected", data.name);
        return Ok(());
    }
    let cfn = session.aws.cloudformation(&data.region);
    cfn.update_termination_protection()
        .stack_name(&data.name)
        .enable_termination_protection(true)
        .send()
        .await
        .with_context(|| format!("enabling termination protection on {}", data.name))?;
    Ok(())
}

/// The closing table: one line per stack, failures with their reasons below.
pub fn print_summary(reports: &[StackReport], elapsed: Duration) {
    let width = reports.iter().map(|r| r.stack.len()).max().unwrap_or(5).max(5);
    println!("\n{:<width$}  {:<15}  {:>7}  {:>9}  {:>8}  result", "stack", "region", "changes", "dangerous", "seconds");
    for r in reports {
        let first_line = r.result.lines().next().unwrap_or_default();
        let danger = if r.dangerous { "yes" } else { "" };
        let seconds = r.elapsed.as_secs_f64();
        println!("{:<width$}  {:<15}  {:>7}  {danger:>9}  {seconds:>8.1}  {first_line}", r.stack, r.region, r.changes);
        for line in r.result.lines().skip(1) {
            println!("    {line}");
        }
    }
    println!("deployed in {:.1} s", elapsed.as_secs_f64());
}
