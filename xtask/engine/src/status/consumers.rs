//! A region's stream consumers and queues, read from its region stack: each event source
//! mapping's function (its `IteratorAge`), the failed batches its on-failure destination keeps
//! (the region's failed-batches bucket), and every queue (the publisher's conflicts). The mappings come from the config's synthesized template, not the
//! deployed one, because the emulator's deployment leaves the publisher's mapping out.

use super::StatusOptions;
use crate::observe::{iterator_age_ms, queue_depth};
use crate::session::Session;
use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::Value;
use stacks::StackPart;
use std::collections::BTreeMap;

/// A stream consumer's lag.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsumerAge {
    /// The Lambda function's name.
    pub function: String,
    /// The largest `IteratorAge` over the window (milliseconds); `None`: no data.
    pub iterator_age_ms: Option<f64>,
}

/// What a queue is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum QueueRole {
    /// The on-failure destination of mappings: the failed-batches bucket, its records counted.
    OnFailure {
        /// The functions whose mappings keep their failed batches there, comma-separated.
        function: String,
    },
    /// Any other queue of the stack (the publisher's conflicts).
    Other,
}

impl QueueRole {
    /// What to do about messages in it.
    pub fn advice(&self) -> String {
        match self {
            QueueRole::OnFailure { function } => {
                format!("batches {function} could not process, kept whole; redrive them (`cargo xtask redrive`)")
            }
            QueueRole::Other => "read them and act on each (see README, Operations)".into(),
        }
    }
}

/// A queue's depth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueDepth {
    /// Its logical ID in the region stack.
    pub logical_id: String,
    /// Its URL (`s3://<bucket>/<prefix>` for the failed-batches bucket).
    pub url: String,
    /// What it is for.
    pub role: QueueRole,
    /// Visible plus in-flight messages (records, for the failed-batches bucket).
    pub depth: u64,
}

/// The consumers' ages and the queues' depths of `region`'s deployed region stack.
pub(super) async fn read(
    session: &Session,
    region: &str,
    options: &StatusOptions,
) -> Result<(Vec<ConsumerAge>, Vec<QueueDepth>)> {
    let assembly = stacks::synthesize(&session.config).context("synthesizing the stacks")?;
    let name = stacks::app::stack_name(&session.config, StackPart::Region, region);
    let stack = assembly.stack(&name).with_context(|| format!("no {name} was synthesized"))?;
    let template: Value = serde_json::from_str(&stack.body)?;
    let (functions, on_failure) = mappings(&template);
    let cloudwatch = session.aws.cloudwatch(region);
    let mut consumers = Vec::with_capacity(functions.len());
    for function in functions {
        let iterator_age_ms = iterator_age_ms(&cloudwatch, &function, options.window).await?;
        consumers.push(ConsumerAge { function, iterator_age_ms });
    }
    let physical = crate::dns::physical_ids(&session.aws.cloudformation(region), &name, region).await?;
    let sqs = session.aws.sqs(region);
    let mut queues = Vec::new();
    let resources = template["Resources"].as_object().into_iter().flatten();
    let s3 = session.aws.s3(region);
    for (logical, resource) in resources {
        let Some(physical) = physical.get(logical) else { continue };
        let role = match on_failure.get(logical) {
            Some(functions) => QueueRole::OnFailure { function: functions.join(", ") },
            None => QueueRole::Other,
        };
        let (url, depth) = match resource["Type"].as_str() {
            Some("AWS::SQS::Queue") => (physical.clone(), queue_depth(&sqs, physical).await?),
            Some("AWS::S3::Bucket") if on_failure.contains_key(logical) => {
                let records = crate::redrive::record::list(&s3, physical, crate::redrive::record::KEY_PREFIX).await?;
                (format!("s3://{physical}/{}", crate::redrive::record::KEY_PREFIX), records.len() as u64)
            }
            _ => continue,
        };
        queues.push(QueueDepth { logical_id: logical.clone(), url, role, depth });
    }
    Ok((consumers, queues))
}

/// The function names of the template's event source mappings, and their on-failure
/// destinations' logical IDs → the functions sending there.
fn mappings(template: &Value) -> (Vec<String>, BTreeMap<String, Vec<String>>) {
    let resources = &template["Resources"];
    let mut functions = Vec::new();
    let mut on_failure = BTreeMap::new();
    for (_, mapping) in resources.as_object().into_iter().flatten() {
        if mapping["Type"] != "AWS::Lambda::EventSourceMapping" {
            continue;
        }
        let properties = &mapping["Properties"];
        let function_id = properties["FunctionName"]["Ref"].as_str().unwrap_or_default();
        let Some(function) = resources[function_id]["Properties"]["FunctionName"].as_str() else { continue };
        if let Some(queue) = properties["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0].as_str() {
            on_failure.entry(queue.to_owned()).or_insert_with(Vec::new).push(function.to_owned());
        }
        if !functions.iter().any(|f| f == function) {
            functions.push(function.to_owned());
        }
    }
    (functions, on_failure)
}

#[cfg(test)]
mod tests {
    use super::mappings;

    #[test]
    fn every_mapping_of_the_example_region_stack_names_its_function_and_on_failure_bucket() {
        let text = include_str!("../../../../regions.toml");
        let config = stacks::AppConfig::from_toml("regions.toml", text).expect("valid");
        let assembly = stacks::synthesize(&config).expect("synthesizes");
        let stack = assembly.stack("orders-region-eu-west-1").expect("region stack");
        let template = serde_json::from_str(&stack.body).expect("JSON");
        let (functions, on_failure) = mappings(&template);
        assert_eq!(functions, ["orders-projector-audit", "orders-projector-task-view", "orders-publisher"]);
        assert_eq!(on_failure["FailedBatches"], functions, "every mapping keeps its failed batches in the bucket");
        assert_eq!(on_failure.len(), 1);
    }
}
