//! What a stack's CloudFormation status means for the next step, for every status the API
//! documents (`StackStatus` in the CloudFormation API reference; AWS-FACTS 5.3): create, update,
//! wait, recover a failed creation, or stop with the command that unblocks it.

use crate::poll::Backoff;
use anyhow::{Context, Result, bail};
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::StackStatus;
use std::time::{Duration, Instant};

/// How long another operation on a stack may take to finish before the kit stops waiting.
pub const PATIENCE: Duration = Duration::from_secs(3600);
/// The same against an emulator, which never finishes or rolls back an operation that failed.
pub const EMULATOR_PATIENCE: Duration = Duration::from_secs(20);

/// A stack's state, as far as deploying it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StackState {
    /// No such stack: create it.
    Absent,
    /// `REVIEW_IN_PROGRESS`: only an unexecuted `CREATE` change set made it; create it again.
    InReview,
    /// Stable and usable: update it.
    Deployed(StackStatus),
    /// `ROLLBACK_COMPLETE` or `ROLLBACK_FAILED`: its creation failed and CloudFormation allows only
    /// deleting it.
    FailedCreation(StackStatus),
    /// `UPDATE_ROLLBACK_FAILED`: the rollback of an update failed; continue it first.
    UpdateRollbackFailed,
    /// `DELETE_FAILED`: a deletion failed; delete it again, retaining what blocked it.
    DeleteFailed,
    /// An operation is running (`*_IN_PROGRESS` other than `REVIEW_IN_PROGRESS`).
    Busy(StackStatus),
    /// A status this kit does not know (newer than its SDK).
    Unrecognized(String),
}

impl StackState {
    /// The state a status (or its absence) means.
    pub fn of(status: Option<&StackStatus>) -> StackState {
        let Some(status) = status else { return StackState::Absent };
        match status {
            StackStatus::ReviewInProgress => StackState::InReview,
            StackStatus::CreateComplete
            | StackStatus::UpdateComplete
            | StackStatus::UpdateRollbackComplete
            | StackStatus::ImportComplete
            | StackStatus::ImportRollbackComplete
            // A failed create or update without rollback (`DisableRollback`) leaves a stack that
            // can be updated again.
            | StackStatus::CreateFailed
            | StackStatus::UpdateFailed
            | StackStatus::ImportRollbackFailed => StackState::Deployed(status.clone()),
            StackStatus::RollbackComplete | StackStatus::RollbackFailed => StackState::FailedCreation(status.clone()),
            StackStatus::UpdateRollbackFailed => StackState::UpdateRollbackFailed,
            StackStatus::DeleteFailed => StackState::DeleteFailed,
            StackStatus::CreateInProgress
            | StackStatus::DeleteInProgress
            | StackStatus::ImportInProgress
            | StackStatus::ImportRollbackInProgress
            | StackStatus::RollbackInProgress
            | StackStatus::UpdateCompleteCleanupInProgress
            | StackStatus::UpdateInProgress
            | StackStatus::UpdateRollbackCompleteCleanupInProgress
            | StackStatus::UpdateRollbackInProgress => StackState::Busy(status.clone()),
            // Deleted stacks are not returned by name; a status the SDK knows but this match does
            // not is a status newer than this code.
            StackStatus::DeleteComplete => StackState::Absent,
            other => StackState::Unrecognized(other.as_str().to_owned()),
        }
    }

    /// Whether a `CREATE` change set (rather than `UPDATE`) is the way forward.
    pub fn needs_create(&self) -> bool {
        matches!(self, StackState::Absent | StackState::InReview | StackState::FailedCreation(_))
    }

    /// Why nothing can be deployed to the stack now, with the command that unblocks it.
    pub fn blocker(&self, stack: &str, region: &str) -> Option<String> {
        match self {
            StackState::UpdateRollbackFailed => Some(format!(
                "stack {stack} is UPDATE_ROLLBACK_FAILED: fix what blocked the rollback, then run \
                 `aws cloudformation continue-update-rollback --stack-name {stack} --region {region}` (add \
                 --resources-to-skip for resources that cannot roll back) and deploy again"
            )),
            StackState::DeleteFailed => Some(format!(
                "stack {stack} is DELETE_FAILED: look at its events (`aws cloudformation describe-stack-events \
                 --stack-name {stack} --region {region}`), then delete it keeping what blocked the deletion \
                 (`aws cloudformation delete-stack --stack-name {stack} --region {region} --retain-resources ...`) \
                 before deploying"
            )),
            StackState::Unrecognized(status) => Some(format!(
                "stack {stack} in {region} is {status}, a status this kit does not know; look at it with \
                 `aws cloudformation describe-stacks --stack-name {stack} --region {region}`"
            )),
            StackState::Absent
            | StackState::InReview
            | StackState::Deployed(_)
            | StackState::FailedCreation(_)
            | StackState::Busy(_) => None,
        }
    }
}

/// The stack's status, or `None` when it does not exist.
pub async fn status(cfn: &Client, name: &str) -> Result<Option<StackStatus>> {
    match cfn.describe_stacks().stack_name(name).send().await {
        Ok(output) => Ok(output.stacks().first().and_then(|s| s.stack_status().cloned())),
        Err(error) if crate::aws::errors::is_not_found(&error) => Ok(None),
        Err(error) => Err(error).with_context(|| format!("describing stack {name}")),
    }
}

/// The stack's state, waiting up to `patience` while another operation runs on it.
pub async fn state(cfn: &Client, name: &str, region: &str, patience: Duration) -> Result<StackState> {
    let started = Instant::now();
    let mut waits = Backoff::BUSY_STACK.waits();
    loop {
        let state = StackState::of(status(cfn, name).await?.as_ref());
        let StackState::Busy(status) = &state else { return Ok(state) };
        if started.elapsed() > patience {
            bail!(
                "stack {name} in {region} stayed {status} for {patience:?}; deploy again when it settles (an \
                 emulator leaves a failed operation in progress for good: delete the stack or restart the emulator)"
            );
        }
        eprintln!("  {name}: {status}, waiting for it to finish");
        waits.sleep().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_status_has_a_meaning() {
        use StackStatus as S;
        let cases = [
            (S::CreateComplete, "deployed"),
            (S::UpdateComplete, "deployed"),
            (S::UpdateRollbackComplete, "deployed"),
            (S::ImportComplete, "deployed"),
            (S::ImportRollbackComplete, "deployed"),
            (S::CreateFailed, "deployed"),
            (S::UpdateFailed, "deployed"),
            (S::ImportRollbackFailed, "deployed"),
            (S::RollbackComplete, "failed creation"),
            (S::RollbackFailed, "failed creation"),
            (S::UpdateRollbackFailed, "blocked"),
            (S::DeleteFailed, "blocked"),
            (S::ReviewInProgress, "create"),
            (S::DeleteComplete, "create"),
            (S::CreateInProgress, "busy"),
            (S::DeleteInProgress, "busy"),
            (S::ImportInProgress, "busy"),
            (S::ImportRollbackInProgress, "busy"),
            (S::RollbackInProgress, "busy"),
            (S::UpdateCompleteCleanupInProgress, "busy"),
            (S::UpdateInProgress, "busy"),
            (S::UpdateRollbackCompleteCleanupInProgress, "busy"),
            (S::UpdateRollbackInProgress, "busy"),
        ];
        for (status, meaning) in cases {
            let state = StackState::of(Some(&status));
            let got = match &state {
                StackState::Deployed(_) => "deployed",
                StackState::FailedCreation(_) => "failed creation",
                StackState::UpdateRollbackFailed | StackState::DeleteFailed => "blocked",
                StackState::Absent | StackState::InReview => "create",
                StackState::Busy(_) => "busy",
                StackState::Unrecognized(_) => "unrecognized",
            };
            assert_eq!(got, meaning, "{status:?}");
        }
        assert_eq!(StackState::of(Some(&S::from("NEW_STATUS"))), StackState::Unrecognized("NEW_STATUS".into()));
    }

    #[test]
    fn every_hint_names_the_region() {
        for state in [StackState::UpdateRollbackFailed, StackState::DeleteFailed, StackState::Unrecognized("X".into())]
        {
            let hint = state.blocker("shop-region-eu-west-1", "eu-west-1").expect("blocked");
            let commands: Vec<&str> = hint.split('`').skip(1).step_by(2).collect();
            assert!(!commands.is_empty(), "{hint}");
            for command in commands {
                assert!(command.contains("--region eu-west-1"), "{command}");
            }
        }
    }
}
