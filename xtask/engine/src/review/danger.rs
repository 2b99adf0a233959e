//! Which changes are dangerous: replacement or removal of stateful resources, global table replica
//! removals (even when CloudFormation calls them an in-place `Modify`), a stream consumer that
//! starts over, weakened data protection ([`weakening`](super::weakening)), moved traffic
//! ([`traffic`](super::traffic)), IAM broadening; and updates CloudFormation refuses
//! ([`refusals`](super::refusals), more than one replica change per update), which no approval
//! executes.

use super::model::{Action, Danger, Replacement, ResourceChange};
use super::{iam, refusals, traffic, weakening};
use serde_json::Value;
use std::collections::BTreeSet;

/// Resource types that hold data (or, for KMS keys, the ability to read it): replacing or removing
/// one loses or strands that data.
///
/// Log groups are deliberately not here: they hold diagnostics with a bounded retention, the
/// kit's state lives in the event log, and renaming the app would otherwise flag every function's
/// log group. Route53 health checks and record sets hold no data; changing them moves traffic,
/// which [`traffic`](super::traffic) flags.
pub const STATEFUL_TYPES: &[&str] = &[
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable",
    "AWS::Kinesis::Stream",
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::Route53::HostedZone",
    "AWS::KMS::Key",
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster",
    "AWS::EFS::FileSystem",
    "AWS::Cognito::UserPool",
    "AWS::SecretsManager::Secret",
    "AWS::ECR::Repository",
    "AWS::OpenSearchService::Domain",
    "AWS::Backup::BackupVault",
];

/// Whether `resource_type` holds data.
pub fn is_stateful(resource_type: &str) -> bool {
    STATEFUL_TYPES.contains(&resource_type)
}

/// The dangers of one change; `old`/`new` are the resource's definitions (parameters substituted)
/// in the deployed and new templates, when known.
pub fn classify(change: &ResourceChange, old: Option<&Value>, new: Option<&Value>) -> Vec<Danger> {
    let mut dangers: Vec<Danger> =
        refusals::refusals(change, old, new).into_iter().map(|detail| Danger::Refused { detail }).collect();
    let refused_replacement = !dangers.is_empty() && change.replaces();
    let stateful = is_stateful(&change.resource_type);
    if stateful && change.action == Action::Modify && change.replaces() && !refused_replacement {
        let policy = new.or(old).and_then(|d| d.get("UpdateReplacePolicy"));
        dangers.push(Danger::StatefulReplacement {
            conditional: change.replacement == Some(Replacement::Conditional),
            retained: retains(policy),
        });
    }
    if stateful && change.action == Action::Remove {
        dangers.push(Danger::StatefulRemoval { retained: retains(old.and_then(|d| d.get("DeletionPolicy"))) });
    }
    if change.resource_type == "AWS::DynamoDB::GlobalTable" && change.action == Action::Modify {
        if let (Some(old), Some(new)) = (old, new) {
            dangers.extend(replica_dangers(old, new));
        }
    }
    if let Some(starting_position) = traffic::consumer_reset(change, new) {
        dangers.push(Danger::ConsumerReset {
            conditional: change.replacement == Some(Replacement::Conditional),
            starting_position,
        });
    }
    if let (Action::Modify, Some(old), Some(new)) = (change.action, old, new) {
        let weakened = weakening::weakened(&change.resource_type, old, new);
        dangers.extend(weakened.into_iter().map(|detail| Danger::ProtectionWeakened { detail }));
    }
    let moved = traffic::traffic(change, old, new);
    dangers.extend(moved.into_iter().map(|detail| Danger::TrafficChange { detail }));
    // A Modify without both definitions cannot be compared; treating the unknown side as empty
    // would report every grant as new.
    let comparable = match change.action {
        Action::Add => new.is_some(),
        Action::Remove => old.is_some(),
        _ => old.is_some() && new.is_some(),
    };
    if comparable && iam::is_iam_type(&change.resource_type) {
        let (old, new) = match change.action {
            Action::Add => (None, new),
            Action::Remove => (old, None),
            _ => (old, new),
        };
        dangers.extend(
            iam::broadening(&change.resource_type, old, new).into_iter().map(|detail| Danger::IamBroadening { detail }),
        );
    }
    dangers
}

/// `Retain` (or `RetainExceptOnCreate`, which retains on updates) keeps the resource.
fn retains(policy: Option<&Value>) -> bool {
    matches!(policy.and_then(Value::as_str), Some("Retain" | "RetainExceptOnCreate"))
}

/// The regions of a global table's `Replicas`.
pub fn replica_regions(definition: &Value) -> BTreeSet<String> {
    let replicas = definition.get("Properties").and_then(|p| p.get("Replicas")).and_then(Value::as_array);
    replicas
        .map(|items| {
            items
                .iter()
                .filter_map(|r| r.get("Region"))
                .map(|region| region.as_str().map_or_else(|| region.to_string(), str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn replica_dangers(old: &Value, new: &Value) -> Vec<Danger> {
    let (before, after) = (replica_regions(old), replica_regions(new));
    let removed: Vec<String> = before.difference(&after).cloned().collect();
    let added: Vec<String> = after.difference(&before).cloned().collect();
    let mut dangers = Vec::new();
    if !removed.is_empty() {
        dangers.push(Danger::ReplicaRemoval { regions: removed.clone() });
    }
    if added.len() + removed.len() > 1 {
        dangers.push(Danger::ReplicaBatch { added, removed });
    }
    dangers
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::model::Source;
    use serde_json::json;

    fn change(action: Action, resource_type: &str, replacement: Option<Replacement>) -> ResourceChange {
        ResourceChange {
            action,
            logical_id: "X".into(),
            resource_type: resource_type.into(),
            physical_id: None,
            replacement,
            scope: vec![],
            properties: vec![],
            source: Source::CloudFormation,
            dangers: vec![],
        }
    }

    fn global_table(regions: &[&str]) -> Value {
        let replicas: Vec<Value> =
            regions.iter().map(|r| json!({"Region": r, "DeletionProtectionEnabled": true})).collect();
        json!({"Type": "AWS::DynamoDB::GlobalTable", "Properties": {"TableName": "orders-events", "Replicas": replicas}, "DeletionPolicy": "Retain"})
    }

    #[test]
    fn replica_removal_is_dangerous_although_cloudformation_says_modify_without_replacement() {
        let modify = change(Action::Modify, "AWS::DynamoDB::GlobalTable", Some(Replacement::False));
        let old = global_table(&["us-east-1", "eu-west-1", "ap-southeast-2"]);
        let new = global_table(&["us-east-1", "ap-southeast-2"]);
        let dangers = classify(&modify, Some(&old), Some(&new));
        assert_eq!(dangers, [Danger::ReplicaRemoval { regions: vec!["eu-west-1".into()] }]);
        assert!(dangers[0].reason().contains("deletes that region's copy"));
    }

    #[test]
    fn two_replicas_added_in_one_update_are_flagged_as_a_failing_batch() {
        let modify = change(Action::Modify, "AWS::DynamoDB::GlobalTable", Some(Replacement::False));
        let old = global_table(&["us-east-1"]);
        let new = global_table(&["us-east-1", "eu-west-1", "ap-southeast-2"]);
        let dangers = classify(&modify, Some(&old), Some(&new));
        assert_eq!(
            dangers,
            [Danger::ReplicaBatch { added: vec!["ap-southeast-2".into(), "eu-west-1".into()], removed: vec![] }]
        );
        let one_more = global_table(&["us-east-1", "eu-west-1"]);
        assert!(classify(&modify, Some(&old), Some(&one_more)).is_empty(), "one replica per update is fine");
    }

    #[test]
    fn stateful_replacement_and_removal_are_dangerous_and_say_whether_retained() {
        let stream =
            json!({"Type": "AWS::Kinesis::Stream", "UpdateReplacePolicy": "Retain", "DeletionPolicy": "Retain"});
        let replaced = change(Action::Modify, "AWS::Kinesis::Stream", Some(Replacement::True));
        assert_eq!(
            classify(&replaced, Some(&stream), Some(&stream)),
            [Danger::StatefulReplacement { conditional: false, retained: true }]
        );
        let removed = change(Action::Remove, "AWS::SQS::Queue", None);
        let dangers = classify(&removed, Some(&json!({"Type": "AWS::SQS::Queue"})), None);
        assert_eq!(dangers, [Danger::StatefulRemoval { retained: false }]);
        let retained = classify(&removed, Some(&stream), None);
        assert!(retained[0].reason().contains("retained"));
    }

    #[test]
    fn retain_except_on_create_counts_as_retained_and_switching_to_it_is_not_a_danger() {
        let retained =
            json!({"Type": "AWS::Kinesis::Stream", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"});
        let except_on_create = json!({
            "Type": "AWS::Kinesis::Stream", "DeletionPolicy": "RetainExceptOnCreate", "UpdateReplacePolicy": "Retain"
        });
        let policy_change = change(Action::Modify, "AWS::Kinesis::Stream", Some(Replacement::False));
        assert!(classify(&policy_change, Some(&retained), Some(&except_on_create)).is_empty());
        let removed = change(Action::Remove, "AWS::Kinesis::Stream", None);
        assert_eq!(classify(&removed, Some(&except_on_create), None), [Danger::StatefulRemoval { retained: true }]);
        let replaced = change(Action::Modify, "AWS::Kinesis::Stream", Some(Replacement::True));
        assert_eq!(
            classify(&replaced, Some(&except_on_create), Some(&except_on_create)),
            [Danger::StatefulReplacement { conditional: false, retained: true }]
        );
    }

    #[test]
    fn routine_changes_and_stateless_replacements_are_not_dangerous() {
        let in_place = change(Action::Modify, "AWS::Kinesis::Stream", Some(Replacement::False));
        assert!(classify(&in_place, None, None).is_empty());
        let log_group = change(Action::Remove, "AWS::Logs::LogGroup", None);
        assert!(classify(&log_group, None, None).is_empty());
    }
}
