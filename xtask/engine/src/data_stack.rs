//! Protection of the home region's data stack, which manages every global table: termination
//! protection, and a stack policy that denies replacing or deleting a table in any update.
//!
//! Stack policies (User Guide, "Prevent updates to stack resources"): once set, every update
//! action is denied unless allowed, so the policy allows `Update:*` on everything and denies
//! `Update:Replace` and `Update:Delete` on each table (`LogicalResourceId/<id>`). A policy cannot
//! be overridden for one `ExecuteChangeSet` (API reference; AWS-FACTS 5.2), so
//! `--override-stack-policy` (with approval) sets an allow-all policy, executes, and puts the
//! protecting policy back whatever the outcome.

use crate::review::{Action, StackReview};
use anyhow::{Context, Result};
use aws_sdk_cloudformation::Client;
use serde_json::{Value, json};

/// The policy that allows every update (set only for an approved override).
pub fn allow_all_policy() -> String {
    json!({"Statement": [{"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}]}).to_string()
}

/// The logical IDs of the tables a template declares (global tables and plain tables).
pub fn protected_tables(template: &Value) -> Vec<String> {
    let resources = template["Resources"].as_object().into_iter().flatten();
    resources
        .filter(|(_, r)| matches!(r["Type"].as_str(), Some("AWS::DynamoDB::GlobalTable" | "AWS::DynamoDB::Table")))
        .map(|(id, _)| id.clone())
        .collect()
}

/// The protecting policy: updates allowed, except replacing or deleting any of `tables`.
pub fn protecting_policy(tables: &[String]) -> String {
    let resources: Vec<String> = tables.iter().map(|id| format!("LogicalResourceId/{id}")).collect();
    json!({"Statement": [
        {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": ["Update:Replace", "Update:Delete"], "Principal": "*", "Resource": resources},
    ]})
    .to_string()
}

/// The changes in `review` the protecting policy denies: a table replaced (or possibly replaced)
/// or removed. One line each.
pub fn denied_changes(review: &StackReview, tables: &[String]) -> Vec<String> {
    review
        .changes
        .iter()
        .filter(|c| tables.contains(&c.logical_id))
        .filter_map(|c| match c.action {
            Action::Remove => Some(format!("{} is removed", c.logical_id)),
            Action::Modify if c.replaces() => Some(format!("{} is replaced", c.logical_id)),
            Action::Add | Action::Modify | Action::Import | Action::Dynamic | Action::SyncWithActual => None,
        })
        .collect()
}

/// Sets the stack's policy.
pub async fn set_policy(cfn: &Client, stack: &str, policy: &str) -> Result<()> {
    cfn.set_stack_policy()
        .stack_name(stack)
        .stack_policy_body(policy)
        .send()
        .await
        .with_context(|| format!("setting the stack policy of {stack}"))?;
    Ok(())
}

/// Turns termination protection on (AWS only: the emulator does not implement it, and says so).
pub async fn protect_from_termination(cfn: &Client, stack: &str, emulated: bool) -> Result<Option<String>> {
    if emulated {
        return Ok(Some(format!(
            "emulator: moto does not implement termination protection; on AWS {stack} is protected"
        )));
    }
    cfn.update_termination_protection()
        .stack_name(stack)
        .enable_termination_protection(true)
        .send()
        .await
        .with_context(|| format!("enabling termination protection on {stack}"))?;
    Ok(None)
}
