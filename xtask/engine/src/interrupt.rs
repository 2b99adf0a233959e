//! Running a command's work so that nothing is left behind: when the work fails, or an interrupt
//! (Ctrl-C) arrives first, every change set the run recorded with its guard and did not execute
//! or keep is deleted before the command exits, with the empty review stacks; operations already
//! executing go on in CloudFormation, and the message says which and how to follow them.

use crate::session::Session;
use anyhow::{Result, anyhow};
use std::future::Future;

/// Resolves on Ctrl-C (SIGINT); never, if the signal cannot be listened for.
pub async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Runs `work`; cleans up after it fails or `interrupt` resolves first (the work is then dropped
/// where it stands).
pub async fn guarded<T>(
    session: &Session,
    work: impl Future<Output = Result<T>>,
    interrupt: impl Future<Output = ()>,
) -> Result<T> {
    let result = tokio::select! {
        result = work => result,
        () = interrupt => Err(anyhow!("interrupted")),
    };
    let problems = session.guard.clean_up(&session.aws).await;
    let in_flight = session.guard.in_flight();
    let result = match result {
        Ok(value) if problems.is_empty() => return Ok(value),
        Ok(_) => Err(anyhow!("the run ended")),
        Err(error) => Err(error),
    };
    let mut message = String::new();
    if !in_flight.is_empty() {
        let running: Vec<String> = in_flight
            .iter()
            .map(|(region, stack)| {
                format!(
                    "{stack} ({region}): follow it with `aws cloudformation describe-stack-events --stack-name {stack} \
                     --region {region}`"
                )
            })
            .collect();
        message.push_str(&format!("\nstill running in CloudFormation:\n  {}", running.join("\n  ")));
    }
    if problems.is_empty() {
        message.push_str("\nevery change set this run created and did not execute was deleted");
    } else {
        message.push_str(&format!("\ncould not delete (delete them by hand):\n  {}", problems.join("\n  ")));
    }
    result.map_err(|error| anyhow!("{error:#}{message}"))
}
