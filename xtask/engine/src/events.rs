//! Follows a stack operation: prints each new stack event as it arrives and, at the end, names
//! every resource that failed with CloudFormation's reason.

use crate::stack::POLL_INTERVAL;
use anyhow::{Context, Result};
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::StackEvent;
use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime};

/// The longest a stack operation is followed before the kit stops waiting (it keeps running).
const FOLLOW_TIMEOUT: Duration = Duration::from_secs(3 * 3600);

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

/// How a stack operation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Final stack status (`None`: nothing was executed, or the stack is gone).
    pub status: Option<String>,
    /// Resources that failed, oldest first.
    pub failures: Vec<Failure>,
    /// Stack events seen.
    pub events: usize,
    /// Wall time.
    pub elapsed: Duration,
}

impl Outcome {
    /// Nothing was executed.
    pub fn unchanged() -> Self {
        Outcome { status: None, failures: Vec::new(), events: 0, elapsed: Duration::ZERO }
    }

    /// The operation ended in a state where the stack is what was asked for.
    pub fn succeeded(&self) -> bool {
        match &self.status {
            None => self.failures.is_empty(),
            Some(status) => status.ends_with("_COMPLETE") && !status.contains("ROLLBACK") && !status.contains("DELETE"),
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

/// Prints the stack's events newer than `since` until its status is final.
pub async fn follow(cfn: &Client, stack: &str, since: SystemTime) -> Result<Outcome> {
    let started = Instant::now();
    let mut seen = HashSet::new();
    let mut failures = Vec::new();
    loop {
        let mut fresh = new_events(cfn, stack, since, &mut seen).await?;
        fresh.reverse();
        for event in &fresh {
            print_event(stack, event);
            let status = event.resource_status().map(|s| s.as_str()).unwrap_or_default();
            let is_stack = event.logical_resource_id() == Some(stack);
            if status.ends_with("_FAILED") && !is_stack {
                failures.push(Failure {
                    logical_id: event.logical_resource_id().unwrap_or_default().to_owned(),
                    resource_type: event.resource_type().unwrap_or_default().to_owned(),
                    status: status.to_owned(),
                    reason: event.resource_status_reason().unwrap_or("no reason given").to_owned(),
                });
            }
        }
        let status = crate::stack::status(cfn, stack).await?.map(|s| s.as_str().to_owned());
        let settled = status.as_deref().is_none_or(|s| !s.ends_with("_IN_PROGRESS"));
        if settled || started.elapsed() > FOLLOW_TIMEOUT {
            return Ok(Outcome { status, failures, events: seen.len(), elapsed: started.elapsed() });
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Events not seen before and not older than `since`, newest first (as CloudFormation lists them).
async fn new_events(
    cfn: &Client,
    stack: &str,
    since: SystemTime,
    seen: &mut HashSet<String>,
) -> Result<Vec<StackEvent>> {
    let since = aws_sdk_cloudformation::primitives::DateTime::from(since);
    let mut fresh = Vec::new();
    let mut token = None;
    'pages: loop {
        let page = match cfn.describe_stack_events().stack_name(stack).set_next_token(token).send().await {
            Ok(page) => page,
            // A deleted stack has no events to list.
            Err(error) if format!("{error:?}").contains("does not exist") => break,
            Err(error) => return Err(error).with_context(|| format!("reading events of {stack}")),
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
