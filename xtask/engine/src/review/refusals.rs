//! Updates CloudFormation refuses, named as refusals rather than as what they would do, so no
//! approval executes a change set that fails (and rolls back) half-way:
//!
//! - replacing a resource that keeps its custom name: "CloudFormation cannot update a stack when a
//!   custom-named resource requires replacing" (User Guide, `Name type`; AWS-FACTS 1.2: "With an
//!   explicit `TableName` a replacement is impossible");
//! - more than one global secondary index created or deleted in one update ("You can only create
//!   or delete one global secondary index in a single stack operation", AWS-FACTS 1.2);
//! - a stream specification changed on a global table with several replicas ("You can only
//!   change the streams settings if your global table has only one replica", AWS-FACTS 1.2);
//! - more than one replica added or removed in one update (the `ReplicaBatch` danger).

use super::model::{Action, Replacement, ResourceChange};
use serde_json::Value;
use std::collections::BTreeMap;

/// The property holding a resource's custom name, per type.
const NAME_PROPERTIES: &[(&str, &str)] = &[
    ("AWS::DynamoDB::Table", "TableName"),
    ("AWS::DynamoDB::GlobalTable", "TableName"),
    ("AWS::Kinesis::Stream", "Name"),
    ("AWS::S3::Bucket", "BucketName"),
    ("AWS::SQS::Queue", "QueueName"),
    ("AWS::SNS::Topic", "TopicName"),
    ("AWS::Lambda::Function", "FunctionName"),
    ("AWS::IAM::Role", "RoleName"),
    ("AWS::IAM::ManagedPolicy", "ManagedPolicyName"),
    ("AWS::Logs::LogGroup", "LogGroupName"),
    ("AWS::CloudWatch::Alarm", "AlarmName"),
    ("AWS::CloudWatch::CompositeAlarm", "AlarmName"),
    ("AWS::ApiGatewayV2::DomainName", "DomainName"),
    ("AWS::KMS::Alias", "AliasName"),
    ("AWS::SSM::Parameter", "Name"),
    ("AWS::Events::Rule", "Name"),
    ("AWS::SecretsManager::Secret", "Name"),
    ("AWS::ECR::Repository", "RepositoryName"),
];

/// The custom-name property of `resource_type`, if it has one.
pub fn name_property(resource_type: &str) -> Option<&'static str> {
    NAME_PROPERTIES.iter().find(|(t, _)| *t == resource_type).map(|(_, p)| *p)
}

/// One line per rule `change` breaks; `old` and `new` are the definitions (parameters
/// substituted).
pub fn refusals(change: &ResourceChange, old: Option<&Value>, new: Option<&Value>) -> Vec<String> {
    let (Action::Modify, Some(old), Some(new)) = (change.action, old, new) else { return Vec::new() };
    let mut out = Vec::new();
    if let Some(name) = kept_custom_name(change, old, new) {
        let may = if change.replacement == Some(Replacement::Conditional) { "may need" } else { "needs" };
        out.push(format!(
            "it {may} replacing but keeps its custom name {name:?}; CloudFormation cannot replace a custom-named \
             resource. Change the name as well (a new resource, empty) or undo the change"
        ));
    }
    if matches!(change.resource_type.as_str(), "AWS::DynamoDB::Table" | "AWS::DynamoDB::GlobalTable") {
        let index_changes = index_changes(&old["Properties"], &new["Properties"]);
        if index_changes.len() > 1 {
            out.push(format!(
                "{} global secondary index changes in one update ({}); CloudFormation creates or deletes one per \
                 update: deploy them one at a time",
                index_changes.len(),
                index_changes.join(", ")
            ));
        }
    }
    if change.resource_type == "AWS::DynamoDB::GlobalTable" {
        let replicas = old["Properties"]["Replicas"].as_array().map_or(0, Vec::len);
        if replicas > 1 && old["Properties"]["StreamSpecification"] != new["Properties"]["StreamSpecification"] {
            out.push(format!(
                "the stream specification changes on a global table with {replicas} replicas; CloudFormation changes \
                 it only while there is one replica"
            ));
        }
    }
    out
}

/// The name kept when a custom-named resource is (or may be) replaced.
fn kept_custom_name(change: &ResourceChange, old: &Value, new: &Value) -> Option<String> {
    if !change.replaces() {
        return None;
    }
    let property = name_property(&change.resource_type)?;
    let name = old["Properties"][property].as_str()?;
    (new["Properties"][property].as_str() == Some(name)).then(|| name.to_owned())
}

/// `+Index`, `-Index`, `~Index` (key schema or projection changed: deleted and created again,
/// which counts twice) for a table's global secondary indexes.
fn index_changes(old: &Value, new: &Value) -> Vec<String> {
    let indexes = |v: &Value| -> BTreeMap<String, Value> {
        let list = v["GlobalSecondaryIndexes"].as_array().cloned().unwrap_or_default();
        list.into_iter().filter_map(|i| Some((i["IndexName"].as_str()?.to_owned(), i))).collect()
    };
    let (before, after) = (indexes(old), indexes(new));
    let mut out = Vec::new();
    for (name, index) in &before {
        match after.get(name) {
            None => out.push(format!("-{name}")),
            Some(now) if now["KeySchema"] != index["KeySchema"] || now["Projection"] != index["Projection"] => {
                out.push(format!("-{name}"));
                out.push(format!("+{name}"));
            }
            Some(_) => {}
        }
    }
    out.extend(after.keys().filter(|name| !before.contains_key(*name)).map(|name| format!("+{name}")));
    out
}
