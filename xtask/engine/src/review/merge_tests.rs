//! Tests of merging a change set (real CloudFormation, or moto's actions-only one) with the
//! prediction.

use super::*;
use crate::review::model::Danger;
use serde_json::json;

fn stream_template(name: &str, mode: &str) -> Value {
    json!({"Resources": {"EventStream": {
        "Type": "AWS::Kinesis::Stream",
        "Properties": {"Name": name, "RetentionPeriodHours": 24, "StreamModeDetails": {"StreamMode": mode}},
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain"
    }}})
}

fn modify(id: &str, resource_type: &str) -> CfnChange {
    CfnChange {
        action: "Modify".into(),
        logical_id: id.into(),
        resource_type: resource_type.into(),
        ..CfnChange::default()
    }
}

fn run(cfn: Option<Vec<CfnChange>>, old: &Value, new: &Value) -> StackReview {
    review("orders-region-us-east-1", "us-east-1", cfn, Some(old), new, &Params::new(), &Params::new())
}

#[test]
fn an_actions_only_change_set_like_motos_is_completed_from_the_prediction() {
    let (old, new) = (stream_template("orders-events", "PROVISIONED"), stream_template("orders-events", "ON_DEMAND"));
    let review = run(Some(vec![modify("EventStream", "AWS::Kinesis::Stream")]), &old, &new);
    let change = &review.changes[0];
    assert_eq!(change.source, Source::Both);
    assert_eq!(change.replacement, Some(Replacement::False));
    assert_eq!(change.scope, ["Properties"]);
    assert_eq!(change.properties[0].path, "Properties.StreamModeDetails.StreamMode");
    assert_eq!(change.properties[0].after, Some(json!("ON_DEMAND")));
    assert!(review.notes.iter().any(|n| n.contains("reported only actions")), "{:?}", review.notes);
    assert!(!review.is_dangerous());
}

#[test]
fn cloudformations_replacement_and_details_win_over_the_prediction() {
    let (old, new) = (stream_template("orders-events", "PROVISIONED"), stream_template("orders-events", "ON_DEMAND"));
    let mut reported = modify("EventStream", "AWS::Kinesis::Stream");
    reported.physical_id = Some("orders-events".into());
    reported.replacement = Some("True".into());
    reported.scope = vec!["Properties".into()];
    reported.details = vec![CfnDetail {
        attribute: Some("Properties".into()),
        name: Some("StreamModeDetails".into()),
        requires_recreation: Some("Always".into()),
        before: Some(r#"{"StreamMode":"PROVISIONED"}"#.into()),
        after: Some(r#"{"StreamMode":"ON_DEMAND"}"#.into()),
        change_source: Some("DirectModification".into()),
        ..CfnDetail::default()
    }];
    let review = run(Some(vec![reported]), &old, &new);
    let change = &review.changes[0];
    assert_eq!(change.replacement, Some(Replacement::True));
    assert_eq!(change.physical_id.as_deref(), Some("orders-events"));
    assert_eq!(change.properties.len(), 1, "the predicted leaf is covered by the detail: {:#?}", change.properties);
    assert_eq!(change.properties[0].path, "Properties.StreamModeDetails");
    assert_eq!(change.properties[0].after, Some(json!({"StreamMode": "ON_DEMAND"})));
    assert!(change.properties[0].create_only);
    assert_eq!(change.properties[0].source, Source::Both);
    // The stream keeps its custom name, so CloudFormation would refuse the replacement.
    assert!(matches!(change.dangers.as_slice(), [Danger::Refused { detail }] if detail.contains("orders-events")));
    assert!(review.is_refused());
    assert!(review.notes.is_empty(), "{:?}", review.notes);
}

#[test]
fn a_detail_without_values_takes_the_predicted_leaves_under_it() {
    let (old, new) = (stream_template("a", "PROVISIONED"), stream_template("a", "ON_DEMAND"));
    let mut reported = modify("EventStream", "AWS::Kinesis::Stream");
    reported.replacement = Some("False".into());
    reported.details = vec![CfnDetail {
        attribute: Some("Properties".into()),
        name: Some("StreamModeDetails".into()),
        requires_recreation: Some("Never".into()),
        ..CfnDetail::default()
    }];
    let review = run(Some(vec![reported]), &old, &new);
    let property = &review.changes[0].properties[0];
    assert_eq!(property.path, "Properties.StreamModeDetails.StreamMode");
    assert_eq!(property.before, Some(json!("PROVISIONED")));
    assert_eq!(property.source, Source::Both);
}

fn data_template(regions: &[&str]) -> Value {
    let replicas: Vec<Value> =
        regions.iter().map(|r| json!({"Region": r, "DeletionProtectionEnabled": true})).collect();
    json!({"Resources": {"EventLog": {"Type": "AWS::DynamoDB::GlobalTable", "Properties": {
        "TableName": "orders-events", "Replicas": replicas,
        "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"}}, "DeletionPolicy": "Retain"}}})
}

#[test]
fn a_replica_removal_is_dangerous_although_cloudformation_says_modify_without_replacement() {
    let old = data_template(&["us-east-1", "eu-west-1", "ap-southeast-2"]);
    let new = data_template(&["us-east-1", "eu-west-1"]);
    let mut reported = modify("EventLog", "AWS::DynamoDB::GlobalTable");
    reported.replacement = Some("False".into());
    reported.scope = vec!["Properties".into()];
    let review = run(Some(vec![reported]), &old, &new);
    let change = &review.changes[0];
    assert_eq!(change.replacement, Some(Replacement::False));
    assert_eq!(change.dangers, [Danger::ReplicaRemoval { regions: vec!["ap-southeast-2".into()] }]);
    assert_eq!(change.properties[0].path, "Properties.Replicas[Region=ap-southeast-2]");
    assert_eq!(crate::review::exit_code(&[review]), 3);
}

#[test]
fn changes_only_one_side_sees_are_kept_and_marked() {
    let (old, new) = (stream_template("a", "PROVISIONED"), stream_template("a", "ON_DEMAND"));
    let dynamic = CfnChange {
        action: "Dynamic".into(),
        logical_id: "Nested".into(),
        resource_type: "AWS::CloudFormation::Stack".into(),
        ..CfnChange::default()
    };
    let review = run(Some(vec![dynamic]), &old, &new);
    let sources: Vec<(&str, Source)> = review.changes.iter().map(|c| (c.logical_id.as_str(), c.source)).collect();
    assert_eq!(sources, [("EventStream", Source::Predicted), ("Nested", Source::CloudFormation)]);
    assert!(review.notes.iter().any(|n| n.contains("not reported by the change set") && n.contains("EventStream")));
}

#[test]
fn offline_review_is_the_prediction_and_says_so() {
    let (old, new) = (stream_template("a", "PROVISIONED"), stream_template("b", "PROVISIONED"));
    let review = run(None, &old, &new);
    assert_eq!(review.changes[0].replacement, Some(Replacement::True));
    assert!(review.is_dangerous());
    assert!(review.notes[0].starts_with("offline"));
    let unchanged = run(None, &old, &old);
    assert!(unchanged.no_changes && !unchanged.has_changes());
}

#[test]
fn the_before_context_stands_in_for_a_missing_deployed_template() {
    let new = data_template(&["us-east-1"]);
    let mut reported = modify("EventLog", "AWS::DynamoDB::GlobalTable");
    reported.before_context = Some(
        json!({"Properties": {"TableName": "orders-events", "Replicas": [{"Region": "us-east-1"}, {"Region": "eu-west-1"}],
                               "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"}}})
        .to_string(),
    );
    let review =
        review("orders-data-us-east-1", "us-east-1", Some(vec![reported]), None, &new, &Params::new(), &Params::new());
    assert_eq!(review.changes[0].dangers, [Danger::ReplicaRemoval { regions: vec!["eu-west-1".into()] }]);
    assert!(review.notes.iter().any(|n| n.contains("deployed template was not available")));
}
