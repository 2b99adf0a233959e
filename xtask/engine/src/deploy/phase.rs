//! One deployment run: reviewing a set of stacks (concurrently), gating each review, and
//! executing a wave `concurrency` at a time, stopping what has not started at the first failure.

use super::{DeployReport, PhaseTiming, StackOutcome, StackReport};
use crate::approval::Approval;
use crate::data_stack;
use crate::events::Verdict;
use crate::params;
use crate::plan::Plan;
use crate::recovery::{FailedStack, Recovery, recover_failed_creation};
use crate::review::{self, Params};
use crate::rollback;
use crate::session::{Purpose, Session};
use crate::stack::{self, ChangeSetSettings, Planned, StackState};
use anyhow::{Context, Result, bail};
use aws_sdk_cloudformation::types::ChangeSetType;
use futures::stream::{self, StreamExt};
use stacks::{Stack, StackPart};
use std::sync::Mutex;
use std::time::Instant;

/// A stack whose change set passed review and the gate.
#[derive(Debug)]
pub struct Approved {
    planned: Planned,
    started: Instant,
    phase: String,
    /// Lift the data stack's policy around this execution.
    lift_policy: bool,
}

impl Reviewed {
    /// The stack's name.
    pub fn stack(&self) -> &str {
        match self {
            Reviewed::Approved(ready) => &ready.planned.target.name,
            Reviewed::Done(report) => &report.stack,
        }
    }

    /// The phase or wave it belongs to.
    pub fn phase(&self) -> &str {
        match self {
            Reviewed::Approved(ready) => &ready.phase,
            Reviewed::Done(report) => &report.phase,
        }
    }
}

/// A reviewed stack: ready to execute, or already finished.
#[derive(Debug)]
pub enum Reviewed {
    /// Execute it.
    Approved(Box<Approved>),
    /// Nothing more to do.
    Done(StackReport),
}

/// The state of one deployment run.
pub struct Run<'a> {
    session: &'a Session,
    plan: &'a Plan,
    approval: &'a Approval,
    reports: Mutex<Vec<StackReport>>,
    phases: Vec<PhaseTiming>,
    notes: Mutex<Vec<String>>,
    /// The first stack that failed, once the run stops.
    stopped_by: Mutex<Option<String>>,
}

impl<'a> Run<'a> {
    /// A run of `plan`.
    pub fn new(session: &'a Session, plan: &'a Plan, approval: &'a Approval) -> Run<'a> {
        Run {
            session,
            plan,
            approval,
            reports: Mutex::default(),
            phases: Vec::new(),
            notes: Mutex::default(),
            stopped_by: Mutex::default(),
        }
    }

    /// The synthesized stacks called `names`.
    pub fn stacks(&self, names: &[String]) -> Result<Vec<&'a Stack>> {
        names.iter().map(|name| self.session.named(name)).collect()
    }

    /// Whether a failure stopped the run.
    pub fn stopped(&self) -> bool {
        lock(&self.stopped_by).is_some()
    }

    fn skip_reason(&self) -> Option<String> {
        lock(&self.stopped_by)
            .as_ref()
            .map(|failed| format!("{failed} did not deploy; --keep-going goes on after a failure"))
    }

    fn stop_after(&self, report: &StackReport) {
        if !report.outcome.is_success() && !self.plan.keep_going {
            lock(&self.stopped_by).get_or_insert_with(|| report.stack.clone());
        }
    }

    /// Reviews `stacks` (each with its phase or wave) concurrently, prints each review in order, and
    /// gates it.
    pub async fn review(&self, stacks: &[(&'a Stack, String)], code_keys: &Params) -> Result<Vec<Reviewed>> {
        if let Some(reason) = self.skip_reason() {
            let skip = |(stack, phase): &(&Stack, String)| {
                Reviewed::Done(report(stack, phase, skipped(&reason), 0, false, Instant::now()))
            };
            return Ok(stacks.iter().map(skip).collect());
        }
        let plans: Vec<(Instant, Result<Planned>)> = stream::iter(stacks.iter().map(|(stack, _)| *stack))
            .map(|stack| async move {
                let started = Instant::now();
                (started, prepare_target(self.session, self.plan, self.approval, stack, code_keys).await)
            })
            .buffered(self.plan.concurrency.max(1))
            .collect()
            .await;
        let mut reviewed = Vec::new();
        for ((stack, phase), (started, planned)) in stacks.iter().zip(plans) {
            let entry = match planned {
                Ok(planned) => self.gate(planned, started, phase).await?,
                Err(error) => {
                    let outcome = StackOutcome::Failed { reason: format!("{error:#}") };
                    Reviewed::Done(report(stack, phase, outcome, 0, false, started))
                }
            };
            reviewed.push(entry);
        }
        Ok(reviewed)
    }

    /// The closing stacks deferred because a configured region has no region stack yet (the dns
    /// stack takes every region's endpoints).
    pub async fn defer_without_every_region(&self, stacks: &[&'a Stack]) -> Result<Vec<Reviewed>> {
        if stacks.is_empty() || self.skip_reason().is_some() {
            return Ok(Vec::new());
        }
        let mut missing = Vec::new();
        for region in self.session.config.region_names() {
            let name = self.session.stack(StackPart::Region, region)?.name.clone();
            if stack::status(&self.session.aws.cloudformation(region), &name).await?.is_none() {
                missing.push(region.to_owned());
            }
        }
        if missing.is_empty() {
            return Ok(Vec::new());
        }
        let reason = format!(
            "it needs every region's endpoints and {} has no region stack yet; deploy it, then the home region again \
             (or use --all)",
            missing.join(", ")
        );
        let deferred = StackOutcome::Deferred { reason };
        Ok(stacks
            .iter()
            .map(|s| Reviewed::Done(report(s, "closing", deferred.clone(), 0, false, Instant::now())))
            .collect())
    }

    /// Prints the review and decides: execute, keep (prepare), or finish with a reason.
    pub(super) async fn gate(&self, planned: Planned, started: Instant, phase: &str) -> Result<Reviewed> {
        print!("{}", review::render::text(std::slice::from_ref(&planned.review)));
        let cfn = self.session.aws.cloudformation(&planned.target.region);
        let guard = &self.session.guard;
        let (changes, dangerous) = (planned.review.changes.len(), planned.review.is_dangerous());
        let finish = |planned: &Planned, outcome| {
            Reviewed::Done(StackReport {
                stack: planned.target.name.clone(),
                region: planned.target.region.clone(),
                phase: phase.to_owned(),
                outcome,
                changes,
                dangerous,
                elapsed: started.elapsed(),
            })
        };
        let Some(change_set) = &planned.change_set else {
            stack::discard(&cfn, guard, &planned).await?;
            return Ok(finish(&planned, StackOutcome::NoChanges));
        };
        let mut refusals = planned.review.refusals();
        let denied = self.policy_denials(&planned);
        let lift_policy = !denied.is_empty() && self.plan.override_stack_policy;
        if !denied.is_empty() && !self.plan.override_stack_policy {
            refusals.extend(denied.iter().map(|d| {
                format!(
                    "the stack policy of {} denies it: {d}; re-run with --override-stack-policy",
                    planned.target.name
                )
            }));
        }
        if !refusals.is_empty() {
            stack::discard(&cfn, guard, &planned).await?;
            return Ok(finish(&planned, StackOutcome::WouldBeRefused { reasons: refusals }));
        }
        if self.plan.prepare {
            stack::keep(guard, &planned);
            let change_set = change_set.arn.clone();
            return Ok(finish(&planned, StackOutcome::Prepared { change_set }));
        }
        let lifted = !lift_policy
            || self.approval.approves_step(&format!(
                "{}: lift its stack policy for this update ({})?",
                planned.target.name,
                denied.join("; ")
            ))?;
        if !lifted || !self.approval.approves(&planned.review)? {
            stack::discard(&cfn, guard, &planned).await?;
            return Ok(finish(&planned, StackOutcome::NeedsApproval));
        }
        Ok(Reviewed::Approved(Box::new(Approved { planned, started, phase: phase.to_owned(), lift_policy })))
    }

    /// What the data stack's policy would deny in this change (nothing for other stacks).
    fn policy_denials(&self, planned: &Planned) -> Vec<String> {
        if planned.kind != ChangeSetType::Update || !self.is_data_stack(&planned.target.name) {
            return Vec::new();
        }
        let template: serde_json::Value = serde_json::from_str(&planned.target.body).unwrap_or_default();
        data_stack::denied_changes(&planned.review, &data_stack::protected_tables(&template))
    }

    fn is_data_stack(&self, name: &str) -> bool {
        self.session.stack(StackPart::Data, &self.session.config.home).is_ok_and(|s| s.name == name)
    }

    /// Executes a wave's approved stacks, `concurrency` at a time; once the run stops, those not
    /// started are discarded and reported as skipped.
    pub async fn execute_wave(&mut self, label: &str, reviewed: Vec<Reviewed>) {
        let started = Instant::now();
        let count = reviewed.len();
        let mut approved = Vec::new();
        for entry in reviewed {
            match entry {
                Reviewed::Done(done) => {
                    self.stop_after(&done);
                    lock(&self.reports).push(done);
                }
                Reviewed::Approved(ready) => approved.push(*ready),
            }
        }
        let this = &*self;
        let executed: Vec<StackReport> = stream::iter(approved)
            .map(|ready| async move {
                let done = match this.skip_reason() {
                    Some(reason) => this.skip(ready, reason).await,
                    None => this.execute(ready).await,
                };
                this.stop_after(&done);
                done
            })
            .buffer_unordered(self.plan.concurrency.max(1))
            .collect()
            .await;
        lock(&self.reports).extend(executed);
        if count > 0 {
            self.phases.push(PhaseTiming { label: label.to_owned(), stacks: count, elapsed: started.elapsed() });
        }
    }

    async fn skip(&self, ready: Approved, reason: String) -> StackReport {
        let cfn = self.session.aws.cloudformation(&ready.planned.target.region);
        let outcome = match stack::discard(&cfn, &self.session.guard, &ready.planned).await {
            Ok(()) => skipped(&reason),
            Err(error) => {
                StackOutcome::Failed { reason: format!("{reason}; deleting its change set failed: {error:#}") }
            }
        };
        finished(&ready, outcome)
    }

    async fn execute(&self, ready: Approved) -> StackReport {
        let planned = &ready.planned;
        let cfn = self.session.aws.cloudformation(&planned.target.region);
        let policy = ready.lift_policy.then(|| {
            let template: serde_json::Value = serde_json::from_str(&planned.target.body).unwrap_or_default();
            data_stack::protecting_policy(&data_stack::protected_tables(&template))
        });
        if policy.is_some() {
            if let Err(error) =
                data_stack::set_policy(&cfn, &planned.target.name, &data_stack::allow_all_policy()).await
            {
                return finished(&ready, StackOutcome::Failed { reason: format!("{error:#}") });
            }
        }
        let outcome = stack::execute(&cfn, &self.session.guard, planned, self.session.aws.is_emulated()).await;
        let restored = match &policy {
            Some(policy) => data_stack::set_policy(&cfn, &planned.target.name, policy).await.err(),
            None => None,
        };
        let created = planned.kind == ChangeSetType::Create;
        let mut result = match outcome {
            Ok(outcome) => match outcome.verdict() {
                Verdict::Succeeded if created => StackOutcome::Created,
                Verdict::Succeeded => StackOutcome::Updated,
                Verdict::StillRunning => StackOutcome::StillRunning { hint: outcome.summary() },
                Verdict::Failed | Verdict::Deleted => {
                    StackOutcome::Failed { reason: format!("{}\n{}", outcome.summary(), outcome.failure_report()) }
                }
            },
            Err(error) => StackOutcome::Failed { reason: format!("{error:#}") },
        };
        if let Some(error) = restored {
            result = StackOutcome::Failed {
                reason: format!("{}; putting its stack policy back failed: {error:#}", result.label()),
            };
        }
        finished(&ready, result)
    }

    /// After the foundation: the data stack protected (termination protection, stack policy) and,
    /// against the emulator, its replicas created.
    pub async fn after_foundation(&self) -> Result<()> {
        if self.plan.prepare || !self.plan.regions.contains(&self.session.config.home) {
            return Ok(());
        }
        let data = self.session.stack(StackPart::Data, &self.session.config.home)?;
        let deployed = lock(&self.reports).iter().any(|r| r.stack == data.name && r.outcome.is_success());
        if !deployed {
            return Ok(());
        }
        let cfn = self.session.aws.cloudformation(&data.region);
        let emulated = self.session.aws.is_emulated();
        let template: serde_json::Value = serde_json::from_str(&data.body)?;
        let note = data_stack::protect_from_termination(&cfn, &data.name, emulated).await?;
        lock(&self.notes).extend(note);
        let tables = data_stack::protected_tables(&template);
        data_stack::set_policy(&cfn, &data.name, &data_stack::protecting_policy(&tables)).await?;
        if emulated {
            let notes = crate::emulation::create_missing_replicas(&self.session.aws, &template).await?;
            notes.iter().for_each(|note| println!("{note}"));
        }
        Ok(())
    }

    /// The report, in plan order.
    pub fn finish(self) -> DeployReport {
        let mut stacks = self.reports.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        let order: Vec<&String> = self.plan.stacks().collect();
        stacks.sort_by_key(|r| order.iter().position(|name| **name == r.stack).unwrap_or(usize::MAX));
        let notes = self.notes.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        DeployReport { stacks, phases: self.phases, notes }
    }
}

/// Everything before the change set: the stack's state (a failed creation recovered, a blocked
/// stack refused with its hint), the data stack checked for region stacks, the change set's
/// settings (role, tags, topics, rollback triggers, imports), the parameters; then the change set
/// itself, reviewed.
pub async fn prepare_target(
    session: &Session,
    plan: &Plan,
    approval: &Approval,
    stack: &Stack,
    code_keys: &Params,
) -> Result<Planned> {
    let cfn = session.aws.cloudformation(&stack.region);
    let template: serde_json::Value =
        serde_json::from_str(&stack.body).context("the synthesized template is not JSON")?;
    let mut state = stack::state(&cfn, &stack.name, &stack.region, session.patience()).await?;
    if let Some(blocker) = state.blocker(&stack.name, &stack.region) {
        bail!(blocker);
    }
    let mut settings = ChangeSetSettings {
        role_arn: plan.role_arn.clone(),
        tags: plan.tags.clone(),
        notification_arns: plan.notification_arns.get(&stack.region).cloned().unwrap_or_default(),
        ..ChangeSetSettings::default()
    };
    if let StackState::FailedCreation(_) = state {
        let failed = FailedStack { name: &stack.name, region: &stack.region, role_arn: plan.role_arn.as_deref() };
        let recovery = recover_failed_creation(&cfn, failed, &template, approval, session.patience()).await?;
        settings.import_existing = recovery.as_ref().is_some_and(|r: &Recovery| !r.import.is_empty());
        state = StackState::Absent;
    }
    if stack.part == StackPart::Region {
        let data = session.stack(StackPart::Data, &session.config.home)?;
        let data_template: serde_json::Value = serde_json::from_str(&data.body)?;
        let tables = table_names(&data_template);
        params::check_tables_exist(&session.aws, &stack.region, &tables, &session.config.home).await?;
        if matches!(state, StackState::Deployed(_)) {
            let (triggers, line) =
                rollback::triggers(&session.aws, &stack.region, &template, plan.monitoring_minutes).await?;
            println!("{line}");
            settings.rollback = triggers;
        }
    }
    let target = session.target(stack, code_keys, settings, Purpose::Deploy).await?;
    stack::plan(&cfn, &session.guard, target, &state).await
}

/// The literal `TableName`s of a data stack's tables.
fn table_names(template: &serde_json::Value) -> Vec<String> {
    let protected = data_stack::protected_tables(template);
    protected
        .iter()
        .filter_map(|id| template["Resources"][id]["Properties"]["TableName"].as_str().map(str::to_owned))
        .collect()
}

fn skipped(reason: &str) -> StackOutcome {
    StackOutcome::Skipped { reason: reason.to_owned() }
}

fn report(
    stack: &Stack,
    phase: &str,
    outcome: StackOutcome,
    changes: usize,
    dangerous: bool,
    started: Instant,
) -> StackReport {
    StackReport {
        stack: stack.name.clone(),
        region: stack.region.clone(),
        phase: phase.to_owned(),
        outcome,
        changes,
        dangerous,
        elapsed: started.elapsed(),
    }
}

fn finished(ready: &Approved, outcome: StackOutcome) -> StackReport {
    StackReport {
        stack: ready.planned.target.name.clone(),
        region: ready.planned.target.region.clone(),
        phase: ready.phase.clone(),
        outcome,
        changes: ready.planned.review.changes.len(),
        dangerous: ready.planned.review.is_dangerous(),
        elapsed: ready.started.elapsed(),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
