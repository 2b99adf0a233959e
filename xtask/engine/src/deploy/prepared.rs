//! `deploy --execute`: running exactly the change sets a `deploy --prepare` left for a second
//! person, in deployment order, through the same gate. A change set is refused when its template
//! is not the reviewed one: every change set the kit creates carries the SHA-256 of its template
//! in its description; that hash must match the template this checkout synthesizes for the stack
//! (the code being run is the code reviewed) and, on AWS, the change set's own template
//! (`GetTemplate` with `ChangeSetName`; the emulator returns the stack's template there instead,
//! so this check is AWS-only and said so). A change set that is no longer executable (the stack
//! changed since: `OBSOLETE`) is refused too.

use super::phase::{Reviewed, Run};
use super::{DeployReport, StackOutcome, StackReport};
use crate::approval::Approval;
use crate::plan::Plan;
use crate::review::{self, Params};
use crate::session::Session;
use crate::stack::change_set::{ChangeSet, DESCRIPTION_PREFIX, describe_changes};
use crate::stack::{self, ChangeSetSettings, Planned, StackTarget, template_hash};
use anyhow::{Context, Result, bail};
use aws_sdk_cloudformation::types::{ChangeSetStatus, ChangeSetType, ExecutionStatus, TemplateStage};
use std::time::Instant;

/// The region of a change set ARN (`arn:aws:cloudformation:<region>:<account>:changeSet/...`).
pub fn region_of(arn: &str) -> Result<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "cloudformation", region, _, rest] if !region.is_empty() && rest.starts_with("changeSet/") => {
            Ok((*region).to_owned())
        }
        _ => bail!("{arn:?} is not a change set ARN (arn:aws:cloudformation:<region>:<account>:changeSet/<name>/<id>)"),
    }
}

/// Checks and executes the prepared change sets `arns`, group by group in `plan` order.
pub async fn execute_prepared(
    session: &Session,
    plan: &Plan,
    approval: &Approval,
    arns: &[String],
) -> Result<DeployReport> {
    let mut run = Run::new(session, plan, approval);
    let mut entries = Vec::new();
    for arn in arns {
        let started = Instant::now();
        let region = region_of(arn)?;
        let checked = adopt(session, &region, arn).await;
        entries.push(Some(Entry { started, region, arn: arn.clone(), checked }));
    }
    let groups = std::iter::once(("foundation".to_owned(), &plan.foundation))
        .chain(plan.waves.iter().enumerate().map(|(i, w)| (format!("wave {}", i + 1), &w.stacks)))
        .chain(std::iter::once(("closing".to_owned(), &plan.closing)));
    for (label, members) in groups {
        let mut reviewed = Vec::new();
        for slot in entries.iter_mut() {
            let Some(entry) = slot.take_if(|e| members.contains(&e.stack())) else { continue };
            reviewed.push(match entry.checked {
                Ok(planned) => run.gate(planned, entry.started, &label).await?,
                Err((stack, reason)) => Reviewed::Done(StackReport {
                    stack,
                    region: entry.region,
                    phase: label.clone(),
                    outcome: StackOutcome::WouldBeRefused { reasons: vec![format!("{}: {reason}", entry.arn)] },
                    changes: 0,
                    dangerous: false,
                    elapsed: entry.started.elapsed(),
                }),
            });
        }
        run.execute_wave(&label, reviewed).await;
    }
    let leftovers: Vec<String> = entries.into_iter().flatten().map(|e| format!("{} ({})", e.arn, e.reason())).collect();
    if !leftovers.is_empty() {
        bail!("not executed, no stack of this plan: {}", leftovers.join("; "));
    }
    Ok(run.finish())
}

/// One prepared change set on its way through the run.
struct Entry {
    started: Instant,
    region: String,
    arn: String,
    checked: Result<Planned, (String, String)>,
}

impl Entry {
    fn stack(&self) -> String {
        match &self.checked {
            Ok(planned) => planned.target.name.clone(),
            Err((stack, _)) => stack.clone(),
        }
    }

    fn reason(&self) -> String {
        match &self.checked {
            Ok(planned) => format!("{} is not among the selected regions' stacks", planned.target.name),
            Err((_, reason)) => reason.clone(),
        }
    }
}

/// The prepared change set `arn` as a plan to gate, or `(stack, why it is refused)`.
async fn adopt(session: &Session, region: &str, arn: &str) -> Result<Planned, (String, String)> {
    let cfn = session.aws.cloudformation(region);
    let described = cfn
        .describe_change_set()
        .change_set_name(arn)
        .send()
        .await
        .map_err(|e| (String::new(), format!("{}", aws_sdk_cloudformation::error::DisplayErrorContext(e))))?;
    let stack_name = described.stack_name().unwrap_or_default().to_owned();
    let refuse = |why: String| (stack_name.clone(), why);
    if described.status() != Some(&ChangeSetStatus::CreateComplete)
        || described.execution_status() != Some(&ExecutionStatus::Available)
    {
        return Err(refuse(format!(
            "it is {} / {}, not executable (the stack changed since it was prepared?); prepare again",
            described.status().map(|s| s.as_str()).unwrap_or("?"),
            described.execution_status().map(|s| s.as_str()).unwrap_or("?")
        )));
    }
    let reviewed = described
        .description()
        .and_then(|d| d.strip_prefix(DESCRIPTION_PREFIX))
        .ok_or_else(|| {
            refuse("it was not prepared by `cargo xtask deploy --prepare` (no reviewed template hash)".into())
        })?
        .to_owned();
    let local = session.named(&stack_name).map_err(|e| refuse(format!("{e:#}")))?;
    let synthesized = template_hash(&local.body);
    if synthesized != reviewed {
        return Err(refuse(format!(
            "the template no longer matches the reviewed one: reviewed sha256 {reviewed}, this checkout \
             synthesizes {synthesized}; prepare again from this checkout"
        )));
    }
    if !session.aws.is_emulated() {
        let template = cfn
            .get_template()
            .stack_name(&stack_name)
            .change_set_name(arn)
            .template_stage(TemplateStage::Original)
            .send()
            .await
            .map_err(|e| {
                refuse(format!("reading its template: {}", aws_sdk_cloudformation::error::DisplayErrorContext(e)))
            })?;
        let held = template_hash(template.template_body().unwrap_or_default());
        if held != reviewed {
            return Err(refuse(format!("its template (sha256 {held}) is not the reviewed one ({reviewed})")));
        }
    }
    planned(session, &cfn, region, arn, &stack_name, local, &described).await.map_err(|e| refuse(format!("{e:#}")))
}

async fn planned(
    session: &Session,
    cfn: &aws_sdk_cloudformation::Client,
    region: &str,
    arn: &str,
    stack_name: &str,
    local: &stacks::Stack,
    described: &aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput,
) -> Result<Planned> {
    let parameters: Params = described
        .parameters()
        .iter()
        .filter_map(|p| Some((p.parameter_key()?.to_owned(), p.parameter_value()?.to_owned())))
        .collect();
    let state = stack::state(cfn, stack_name, region, session.patience()).await?;
    let kind = if state.needs_create() { ChangeSetType::Create } else { ChangeSetType::Update };
    let old = if state.needs_create() { stack::Deployed::default() } else { stack::deployed(cfn, stack_name).await? };
    let new: serde_json::Value = serde_json::from_str(&local.body).context("the synthesized template is not JSON")?;
    let changes = describe_changes(cfn, stack_name, arn).await?;
    let review =
        review::review(stack_name, region, Some(changes), old.template.as_ref(), &new, &old.parameters, &parameters);
    let target = StackTarget {
        name: stack_name.to_owned(),
        region: region.to_owned(),
        body: local.body.clone(),
        template_url: None,
        parameters,
        settings: ChangeSetSettings::default(),
    };
    let ticket = session.guard.adopt(region, stack_name, arn);
    Ok(Planned { target, change_set: Some(ChangeSet { arn: arn.to_owned(), ticket, owned: false }), kind, review })
}
