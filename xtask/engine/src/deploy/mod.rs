//! Deployments: a validated [`Plan`] carried out through reviewed change sets. The foundation
//! first (bootstrap stacks, the home region's data stack), then the function zips, then the
//! region stacks wave by wave (the canary alone, then the rest `concurrency` at a time), each
//! region stack's update guarded by its region's alarms. Every change set is reviewed and gated
//! before any of its wave executes; the first failure stops what has not started (`keep_going`
//! goes on), and every stack ends in the report with its [`StackOutcome`], skipped ones with why.

mod phase;
mod prepared;
mod summary;

pub use phase::{Reviewed, prepare_target};
pub use prepared::{execute_prepared, region_of};
pub use summary::print_summary;

use crate::approval::Approval;
use crate::params::{self, Artifact};
use crate::plan::{Plan, WaveKind};
use crate::session::Session;
use anyhow::Result;
use futures::stream::{self, StreamExt};
use std::time::Duration;

/// How one stack's deployment ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StackOutcome {
    /// Created.
    Created,
    /// Updated.
    Updated,
    /// Nothing to change.
    NoChanges,
    /// Not deployed yet, and rightly so: it needs stacks this run does not deploy (the dns stack
    /// takes every region's endpoints).
    Deferred {
        /// What it waits for and how to deploy it.
        reason: String,
    },
    /// Reviewed and left in place for `deploy --execute`.
    Prepared {
        /// The change set's ARN.
        change_set: String,
    },
    /// Its changes need approval and did not get it.
    NeedsApproval,
    /// Not executed because CloudFormation (or the stack's policy) would refuse it.
    WouldBeRefused {
        /// Why, one line each.
        reasons: Vec<String>,
    },
    /// It failed (before or during the operation).
    Failed {
        /// What happened, with CloudFormation's reasons.
        reason: String,
    },
    /// The operation goes on in CloudFormation; the kit stopped following it.
    StillRunning {
        /// Why, and how to follow it.
        hint: String,
    },
    /// Not attempted.
    Skipped {
        /// Why.
        reason: String,
    },
}

impl StackOutcome {
    /// The stack is as asked (or, prepared or deferred, ready to be).
    pub fn is_success(&self) -> bool {
        match self {
            StackOutcome::Created
            | StackOutcome::Updated
            | StackOutcome::NoChanges
            | StackOutcome::Deferred { .. }
            | StackOutcome::Prepared { .. } => true,
            StackOutcome::NeedsApproval
            | StackOutcome::WouldBeRefused { .. }
            | StackOutcome::Failed { .. }
            | StackOutcome::StillRunning { .. }
            | StackOutcome::Skipped { .. } => false,
        }
    }

    /// A short word for the summary table.
    pub fn label(&self) -> &'static str {
        match self {
            StackOutcome::Created => "created",
            StackOutcome::Updated => "updated",
            StackOutcome::NoChanges => "no changes",
            StackOutcome::Deferred { .. } => "deferred",
            StackOutcome::Prepared { .. } => "prepared",
            StackOutcome::NeedsApproval => "refused: needs approval (--yes, or answer at a terminal)",
            StackOutcome::WouldBeRefused { .. } => "refused: would fail",
            StackOutcome::Failed { .. } => "failed",
            StackOutcome::StillRunning { .. } => "still running in CloudFormation",
            StackOutcome::Skipped { .. } => "skipped",
        }
    }

    /// The detail lines under the label.
    pub fn detail(&self) -> Vec<String> {
        match self {
            StackOutcome::Prepared { change_set } => vec![change_set.clone()],
            StackOutcome::WouldBeRefused { reasons } => reasons.clone(),
            StackOutcome::Failed { reason } => reason.lines().map(str::to_owned).collect(),
            StackOutcome::StillRunning { hint } => vec![hint.clone()],
            StackOutcome::Skipped { reason } | StackOutcome::Deferred { reason } => vec![reason.clone()],
            StackOutcome::Created | StackOutcome::Updated | StackOutcome::NoChanges | StackOutcome::NeedsApproval => {
                Vec::new()
            }
        }
    }
}

/// How one stack's deployment ended, with its review's counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackReport {
    /// Stack name.
    pub stack: String,
    /// Region.
    pub region: String,
    /// The phase or wave it belonged to.
    pub phase: String,
    /// How it ended.
    pub outcome: StackOutcome,
    /// Resource changes reviewed.
    pub changes: usize,
    /// Whether the review found dangerous changes.
    pub dangerous: bool,
    /// Time from planning to the end.
    pub elapsed: Duration,
}

/// One phase or wave, timed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhaseTiming {
    /// `foundation`, `wave 1 (canary)`, `wave 2`, ...
    pub label: String,
    /// Its stacks.
    pub stacks: usize,
    /// Wall time of its execution.
    pub elapsed: Duration,
}

/// Everything a deployment did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeployReport {
    /// Every stack of the plan, in plan order.
    pub stacks: Vec<StackReport>,
    /// Phases and waves, in order.
    pub phases: Vec<PhaseTiming>,
    /// Notes for the operator (rollback triggers, emulation).
    pub notes: Vec<String>,
}

impl DeployReport {
    /// Stacks that are not as asked.
    pub fn unsuccessful(&self) -> Vec<&StackReport> {
        self.stacks.iter().filter(|r| !r.outcome.is_success()).collect()
    }
}

/// Carries out `plan`: foundation, zips, region waves. Errors are only those that stop the run
/// itself; a stack's failure is its report's outcome.
pub async fn deploy(
    session: &Session,
    plan: &Plan,
    artifacts: &[Artifact],
    approval: &Approval,
) -> Result<DeployReport> {
    let mut run = phase::Run::new(session, plan, approval);
    let foundation = labelled(run.stacks(&plan.foundation)?, "foundation");
    let reviewed = run.review(&foundation, &crate::review::Params::new()).await?;
    run.execute_wave("foundation", reviewed).await;
    run.after_foundation().await?;
    if !run.stopped() && !artifacts.is_empty() {
        upload_everywhere(session, plan, artifacts).await?;
    }
    let code_keys = params::code_keys(artifacts);
    // Every wave's change sets are created and reviewed at once, gated in wave order, executed
    // wave by wave: one approval session, and nothing of a later wave runs before the earlier one.
    let mut waves: Vec<(String, Vec<Reviewed>)> = Vec::new();
    let mut region_stacks = Vec::new();
    for (i, wave) in plan.waves.iter().enumerate() {
        let label = match wave.kind {
            WaveKind::Canary => format!("wave {} (canary)", i + 1),
            WaveKind::Rest => format!("wave {}", i + 1),
        };
        region_stacks.extend(labelled(run.stacks(&wave.stacks)?, &label));
        waves.push((label, Vec::new()));
    }
    for reviewed in run.review(&region_stacks, &code_keys).await? {
        if let Some(wave) = waves.iter_mut().find(|(label, _)| *label == reviewed.phase()) {
            wave.1.push(reviewed);
        }
    }
    for (label, reviewed) in waves {
        run.execute_wave(&label, reviewed).await;
    }
    let closing = run.stacks(&plan.closing)?;
    let mut reviewed = run.defer_without_every_region(&closing).await?;
    let ready: Vec<&stacks::Stack> =
        closing.into_iter().filter(|s| !reviewed.iter().any(|r| r.stack() == s.name)).collect();
    reviewed.extend(run.review(&labelled(ready, "closing"), &code_keys).await?);
    run.execute_wave("closing", reviewed).await;
    Ok(run.finish())
}

/// Each stack with the phase it belongs to.
fn labelled<'a>(stacks: Vec<&'a stacks::Stack>, phase: &str) -> Vec<(&'a stacks::Stack, String)> {
    stacks.into_iter().map(|stack| (stack, phase.to_owned())).collect()
}

/// Uploads the function zips to every selected region's assets bucket, regions in parallel.
async fn upload_everywhere(session: &Session, plan: &Plan, artifacts: &[Artifact]) -> Result<()> {
    let uploads = stream::iter(&plan.regions)
        .map(|region| async move {
            let bucket = session.assets_bucket(region);
            let uploaded = params::upload_artifacts(&session.aws.s3(region), &bucket, artifacts).await?;
            println!(
                "{region}: {uploaded} of {} function zips uploaded (the rest were already there)",
                artifacts.len()
            );
            anyhow::Ok(())
        })
        .buffer_unordered(plan.concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
    uploads.into_iter().collect()
}
