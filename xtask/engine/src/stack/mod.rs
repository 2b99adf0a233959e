//! One stack through a change set: what to deploy ([`StackTarget`]), the stack's state
//! ([`state`]), the change set from creation to review ([`change_set`]), and its execution
//! ([`execute`]). Every stack state CloudFormation can report is handled, and nothing is left
//! behind: every change set is recorded with the run's [`Guard`](crate::guard::Guard) before it
//! is created.

pub mod change_set;
pub mod execute;
pub mod state;

pub use change_set::{Planned, discard, keep, plan};
pub use execute::execute;
pub use state::{EMULATOR_PATIENCE, PATIENCE, StackState, state, status};

use crate::review::Params;
use anyhow::{Context, Result};
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::TemplateStage;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// What to deploy as one stack.
#[derive(Debug, Clone)]
pub struct StackTarget {
    /// Stack name.
    pub name: String,
    /// Region.
    pub region: String,
    /// The template body as synthesized.
    pub body: String,
    /// When set, CloudFormation reads the template here (bodies over 51,200 bytes).
    pub template_url: Option<String>,
    /// Parameter values.
    pub parameters: Params,
    /// Everything else the change set carries.
    pub settings: ChangeSetSettings,
}

/// Change set options besides the template and its parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSetSettings {
    /// CloudFormation service role (`RoleARN`): CloudFormation acts with it instead of the
    /// caller's session, which may expire before a long operation (a replica addition) ends.
    pub role_arn: Option<String>,
    /// Stack tags (`Tags`, at most 50), propagated by CloudFormation to the resources.
    pub tags: Vec<(String, String)>,
    /// SNS topics of the stack's region that receive its events (`NotificationARNs`, at most 5).
    pub notification_arns: Vec<String>,
    /// Alarms that roll the operation back (`RollbackConfiguration`).
    pub rollback: Option<RollbackTriggers>,
    /// Import resources that already exist under their template names instead of failing to
    /// create them (`ImportExistingResources`).
    pub import_existing: bool,
}

/// CloudFormation's rollback triggers for one operation: if any alarm goes to `ALARM` during the
/// operation or the monitoring time after it, the whole operation rolls back. API reference
/// `RollbackConfiguration`: at most 5 triggers, monitoring 0-180 minutes, and "if a specified
/// trigger is missing, the entire stack operation fails and is rolled back".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackTriggers {
    /// The alarms (each must exist when the operation starts).
    pub alarms: Vec<RollbackAlarm>,
    /// Minutes CloudFormation keeps watching after the resources are deployed.
    pub monitoring_minutes: u32,
}

/// One rollback trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackAlarm {
    /// The alarm's ARN.
    pub arn: String,
    /// A composite alarm rather than a metric alarm.
    pub composite: bool,
}

/// The most rollback triggers one operation takes (`RollbackTriggers` max 5, API reference).
pub const MAX_ROLLBACK_TRIGGERS: usize = 5;
/// The longest monitoring time CloudFormation accepts (`MonitoringTimeInMinutes` max 180).
pub const MAX_MONITORING_MINUTES: u32 = 180;

/// The deployed template (`None` when CloudFormation has none) and parameter values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Deployed {
    /// The template as deployed (`GetTemplate`, stage `Original`), JSON or YAML parsed.
    pub template: Option<Value>,
    /// Parameter values as deployed.
    pub parameters: Params,
}

/// The deployed template and parameter values of an existing stack.
pub async fn deployed(cfn: &Client, name: &str) -> Result<Deployed> {
    let template = cfn
        .get_template()
        .stack_name(name)
        .template_stage(TemplateStage::Original)
        .send()
        .await
        .with_context(|| format!("reading the deployed template of {name}"))?;
    let stacks =
        cfn.describe_stacks().stack_name(name).send().await.with_context(|| format!("describing stack {name}"))?;
    let parameters = stacks
        .stacks()
        .first()
        .map(|s| {
            s.parameters()
                .iter()
                .filter_map(|p| Some((p.parameter_key()?.to_owned(), p.parameter_value()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    Ok(Deployed { template: parse_template(template.template_body().unwrap_or_default()), parameters })
}

/// A template body as JSON or YAML.
pub fn parse_template(body: &str) -> Option<Value> {
    serde_json::from_str(body).ok().or_else(|| serde_yaml::from_str(body).ok())
}

/// The SHA-256 of a template's content, whatever its formatting: JSON (or YAML) parsed, object
/// keys sorted, rendered compactly. A change set carries it in its description, so what is
/// executed later can be checked against what was reviewed.
pub fn template_hash(body: &str) -> String {
    let text = parse_template(body).map(|value| stacks::cfn::template::canonical(value).to_string());
    let digest = Sha256::digest(text.as_deref().unwrap_or(body).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
