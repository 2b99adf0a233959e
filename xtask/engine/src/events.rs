//! Following a stack operation: prints each new stack event as it arrives and, at the end, names
//! every resource that failed with CloudFormation's reason. Following is not the operation: when
//! the kit cannot follow any more (throttled for too long, expired credentials, its own time
//! limit), the operation goes on in CloudFormation and the outcome says so, with how to follow it
//! again, instead of calling it failed.

use crate::aws::errors::{FailureKind, classify};
use crate::poll::Backoff;
use anyhow::Result;
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudformation::types::{ResourceStatus, StackEvent, StackStatus};
use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime};

/// The longest a stack operation is followed before the kit stops waiting (it keeps running).
const FOLLOW_TIMEOUT: Duration = Duration::from_secs(3 * 3600);
/// Throttled polls in a row after which the kit stops following.
const THROTTLED_LIMIT: u32 = 8;

/// A resource that failed during the operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Logical ID.
    pub logical_id: String,
    /// Resource type.
    pub resource_type: String,
    /// Status, e.g. `CREATE_FAILED`.
    pub status: String,
    /// CloudFormation's reason.
    pub reason: String,
}

/// Why the kit stopped following an operation that may still be running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// CloudFormation kept throttling the kit's reads.
    Throttled,
    /// The session's credentials expired.
    CredentialsExpired,
    /// The kit's own time limit passed.
    TimedOut,
    /// Another failure reading the stack: the message.
    ReadFailed(String),
}

impl StopReason {
    fn describe(&self) -> String {
        match self {
            StopReason::Throttled => "CloudFormation throttled the kit's reads".into(),
            StopReason::CredentialsExpired => "the session's credentials expired".into(),
            StopReason::TimedOut => format!("it ran longer than {} hours", FOLLOW_TIMEOUT.as_secs() / 3600),
            StopReason::ReadFailed(message) => format!("reading the stack failed ({message})"),
        }
    }
}

/// How following an operation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// The operation settled with this status.
    Settled(StackStatus),
    /// The stack no longer exists (a deletion finished).
    Gone,
    /// The kit stopped following; the operation goes on in CloudFormation.
    StoppedFollowing(StopReason),
}

/// What an operation's ending means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The stack is what was asked for.
    Succeeded,
    /// It failed and CloudFormation rolled it back (or could not).
    Failed,
    /// The stack was deleted.
    Deleted,
    /// Unknown: the operation goes on without the kit watching.
    StillRunning,
}

/// How a stack operation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The stack.
    pub stack: String,
    /// Its region.
    pub region: String,
    /// How following it ended.
    pub ending: Ending,
    /// Resources that failed, oldest first.
    pub failures: Vec<Failure>,
    /// Stack events seen.
    pub events: usize,
    /// Wall time.
    pub elapsed: Duration,
}

impl Outcome {
    /// What the ending means; every status a settled operation can end in is named.
    pub fn verdict(&self) -> Verdict {
        match &self.ending {
            Ending::Gone => Verdict::Deleted,
            Ending::StoppedFollowing(_) => Verdict::StillRunning,
            Ending::Settled(status) => match status {
                StackStatus::CreateComplete | StackStatus::UpdateComplete | StackStatus::ImportComplete => {
                    Verdict::Succeeded
                }
                StackStatus::DeleteComplete => Verdict::Deleted,
                StackStatus::RollbackComplete
                | StackStatus::RollbackFailed
                | StackStatus::UpdateRollbackComplete
                | StackStatus::UpdateRollbackFailed
                | StackStatus::CreateFailed
                | StackStatus::UpdateFailed
                | StackStatus::DeleteFailed
                | StackStatus::ImportRollbackComplete
                | StackStatus::ImportRollbackFailed
                | StackStatus::ReviewInProgress => Verdict::Failed,
                // In-progress statuses never settle an operation; a status newer than this code is
                // not what was asked for either.
                _ => Verdict::Failed,
            },
        }
    }

    /// One line on how it ended, and for an operation still running, how to follow it again.
    pub fn summary(&self) -> String {
        match &self.ending {
            Ending::Settled(status) => format!("{} ended {status}", self.stack),
            Ending::Gone => format!("{} was deleted", self.stack),
            Ending::StoppedFollowing(reason) => format!(
                "{} is still being changed by CloudFormation; the kit stopped following because {}. Follow it \
                 with `aws cloudformation describe-stack-events --stack-name {} --region {}` (or run the same \
                 command again: it waits for the stack to settle)",
                self.stack,
                reason.describe(),
                self.stack,
                self.region
            ),
        }
    }

    /// `logical id (type): status: reason` per failure, one per line.
    pub fn failure_report(&self) -> String {
        self.failures
            .iter()
            .map(|f| format!("  {} ({}): {}: {}", f.logical_id, f.resource_type, f.status, f.reason))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Prints the stack's events newer than `since` until the operation settles, the stack is gone,
/// or the kit cannot follow any more.
pub async fn follow(cfn: &Client, stack: &str, region: &str, since: SystemTime) -> Result<Outcome> {
    let started = Instant::now();
    let mut seen = HashSet::new();
    let mut failures = Vec::new();
    let mut waits = Backoff::FOLLOW.waits();
    let mut throttled = 0;
    let outcome = |ending, failures, seen: &HashSet<String>| Outcome {
        stack: stack.to_owned(),
        region: region.to_owned(),
        ending,
        failures,
        events: seen.len(),
        elapsed: started.elapsed(),
    };
    loop {
        let polled = poll(cfn, stack, since, &mut seen).await;
        let (fresh, current) = match polled {
            Ok(polled) => {
                throttled = 0;
                polled
            }
            Err(Stop::Throttled) if throttled < THROTTLED_LIMIT => {
                throttled += 1;
                Backoff::THROTTLED.waits().sleep().await;
                continue;
            }
            Err(Stop::Throttled) => {
                return Ok(outcome(Ending::StoppedFollowing(StopReason::Throttled), failures, &seen));
            }
            Err(Stop::Because(reason)) => return Ok(outcome(Ending::StoppedFollowing(reason), failures, &seen)),
        };
        for event in &fresh {
            print_event(stack, event);
            failures.extend(failure(stack, event));
        }
        match current {
            None => return Ok(outcome(Ending::Gone, failures, &seen)),
            Some(status) if !is_in_progress(&status) => return Ok(outcome(Ending::Settled(status), failures, &seen)),
            Some(_) if started.elapsed() > FOLLOW_TIMEOUT => {
                return Ok(outcome(Ending::StoppedFollowing(StopReason::TimedOut), failures, &seen));
            }
            Some(_) => waits.sleep().await,
        }
    }
}

/// Why one poll could not read the stack.
enum Stop {
    Throttled,
    Because(StopReason),
}

fn stop<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static, R: std::fmt::Debug>(
    error: SdkError<E, R>,
) -> Stop {
    match classify(&error) {
        FailureKind::Throttled => Stop::Throttled,
        FailureKind::CredentialsExpired => Stop::Because(StopReason::CredentialsExpired),
        FailureKind::AccessDenied | FailureKind::Unreachable | FailureKind::Other => Stop::Because(
            StopReason::ReadFailed(format!("{}", aws_sdk_cloudformation::error::DisplayErrorContext(&error))),
        ),
    }
}

/// New events (oldest first) and the stack's current status (`None`: gone).
async fn poll(
    cfn: &Client,
    stack: &str,
    since: SystemTime,
    seen: &mut HashSet<String>,
) -> Result<(Vec<StackEvent>, Option<StackStatus>), Stop> {
    let mut fresh = new_events(cfn, stack, since, seen).await?;
    fresh.reverse();
    let current = match cfn.describe_stacks().stack_name(stack).send().await {
        Ok(output) => output.stacks().first().and_then(|s| s.stack_status().cloned()),
        Err(error) if crate::aws::errors::is_not_found(&error) => None,
        Err(error) => return Err(stop(error)),
    };
    Ok((fresh, current))
}

fn is_in_progress(status: &StackStatus) -> bool {
    matches!(crate::stack::state::StackState::of(Some(status)), crate::stack::state::StackState::Busy(_))
}

fn failure(stack: &str, event: &StackEvent) -> Option<Failure> {
    let status = event.resource_status()?;
    let failed = matches!(
        status,
        ResourceStatus::CreateFailed
            | ResourceStatus::UpdateFailed
            | ResourceStatus::DeleteFailed
            | ResourceStatus::ImportFailed
            | ResourceStatus::RollbackFailed
            | ResourceStatus::UpdateRollbackFailed
            | ResourceStatus::ImportRollbackFailed
    );
    (failed && event.logical_resource_id() != Some(stack)).then(|| Failure {
        logical_id: event.logical_resource_id().unwrap_or_default().to_owned(),
        resource_type: event.resource_type().unwrap_or_default().to_owned(),
        status: status.as_str().to_owned(),
        reason: event.resource_status_reason().unwrap_or("no reason given").to_owned(),
    })
}

/// Events not seen before and not older than `since`, newest first (as CloudFormation lists them).
async fn new_events(
    cfn: &Client,
    stack: &str,
    since: SystemTime,
    seen: &mut HashSet<String>,
) -> Result<Vec<StackEvent>, Stop> {
    let since = aws_sdk_cloudformation::primitives::DateTime::from(since);
    let mut fresh = Vec::new();
    let mut token = None;
    'pages: loop {
        let page = match cfn.describe_stack_events().stack_name(stack).set_next_token(token).send().await {
            Ok(page) => page,
            // A deleted stack has no events to list.
            Err(error) if crate::aws::errors::is_not_found(&error) => break,
            Err(error) => return Err(stop(error)),
        };
        for event in page.stack_events() {
            let old = event.timestamp().is_some_and(|t| t.secs() < since.secs());
            if old || !seen.insert(event.event_id().unwrap_or_default().to_owned()) {
                break 'pages;
            }
            fresh.push(event.clone());
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    Ok(fresh)
}

fn print_event(stack: &str, event: &StackEvent) {
    let time = event.timestamp().map(|t| t.secs()).unwrap_or_default();
    let clock = format!("{:02}:{:02}:{:02}", (time / 3600) % 24, (time / 60) % 60, time % 60);
    let reason = event.resource_status_reason().map(|r| format!("  {r}")).unwrap_or_default();
    println!(
        "  {clock}  {stack}  {:<40} {:<36} {}{reason}",
        event.logical_resource_id().unwrap_or_default(),
        event.resource_type().unwrap_or_default(),
        event.resource_status().map(|s| s.as_str()).unwrap_or_default(),
    );
}
