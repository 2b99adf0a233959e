//! Executing a reviewed change set and following the operation to its end.

use super::change_set::{Planned, delete_change_set, discard};
use crate::events::{self, Outcome};
use crate::guard::Guard;
use anyhow::{Context, Result, bail};
use aws_sdk_cloudformation::Client;
use std::time::SystemTime;

/// Executes a planned change set and follows the stack's events to the end (or until the kit
/// cannot follow any more: see [`events::Ending`]).
pub async fn execute(cfn: &Client, guard: &Guard, planned: &Planned, emulated: bool) -> Result<Outcome> {
    let Some(change_set) = &planned.change_set else {
        bail!("{} has no change set to execute", planned.target.name);
    };
    let (stack, region) = (&planned.target.name, &planned.target.region);
    let since = SystemTime::now();
    guard.executing(change_set.ticket);
    let sent = cfn.execute_change_set().stack_name(stack).change_set_name(&change_set.arn).send().await;
    if let Err(error) = sent {
        // Not executed: it must not be left behind.
        let cleaned = discard(cfn, guard, planned).await;
        guard.executed(change_set.ticket);
        cleaned?;
        return Err(error).with_context(|| format!("executing change set {} of {stack} in {region}", change_set.arn));
    }
    let outcome = events::follow(cfn, stack, region, since).await;
    guard.executed(change_set.ticket);
    if emulated {
        // AWS drops a stack's change sets once one executes; moto keeps the executed one listed.
        delete_change_set(cfn, stack, &change_set.arn).await?;
    }
    outcome
}
