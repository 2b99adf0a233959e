//! Tests of the offline prediction on template snippets shaped like the kit's own.

use super::*;
use crate::review::model::Danger;
use serde_json::json;

fn stream(name: &str, mode: &str) -> Value {
    json!({
        "Type": "AWS::Kinesis::Stream",
        "Properties": {
            "Name": name,
            "RetentionPeriodHours": 24,
            "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"},
            "StreamModeDetails": {"StreamMode": mode}
        },
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain"
    })
}

fn template(resources: Value) -> Value {
    json!({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources})
}

fn no_params() -> Params {
    Params::new()
}

fn find<'a>(changes: &'a [ResourceChange], id: &str) -> &'a ResourceChange {
    changes.iter().find(|c| c.logical_id == id).unwrap_or_else(|| panic!("no change for {id}: {changes:#?}"))
}

#[test]
fn kinesis_stream_rename_is_predicted_as_replacement_and_is_dangerous() {
    let old = template(json!({"EventStream": stream("orders-events", "ON_DEMAND")}));
    let new = template(json!({"EventStream": stream("shop-events", "ON_DEMAND")}));
    let changes = predict(Some(&old), &new, &no_params(), &no_params());
    let change = find(&changes, "EventStream");
    assert_eq!(change.action, Action::Modify);
    assert_eq!(change.replacement, Some(Replacement::True));
    assert_eq!(change.properties.len(), 1);
    assert_eq!(change.properties[0].path, "Properties.Name");
    assert!(change.properties[0].create_only);
    assert_eq!(change.properties[0].after, Some(json!("shop-events")));
    assert_eq!(change.dangers, [Danger::StatefulReplacement { conditional: false, retained: true }]);
}

#[test]
fn stream_mode_change_is_an_in_place_modify_without_danger() {
    let old = template(json!({"EventStream": stream("orders-events", "PROVISIONED")}));
    let new = template(json!({"EventStream": stream("orders-events", "ON_DEMAND")}));
    let changes = predict(Some(&old), &new, &no_params(), &no_params());
    let change = find(&changes, "EventStream");
    assert_eq!(change.replacement, Some(Replacement::False));
    assert_eq!(change.scope, ["Properties"]);
    assert_eq!(change.properties[0].path, "Properties.StreamModeDetails.StreamMode");
    assert_eq!(change.properties[0].before, Some(json!("PROVISIONED")));
    assert!(!change.properties[0].create_only);
    assert!(change.dangers.is_empty());
}

fn subscription_template() -> Value {
    json!({
        "Parameters": {"EventLogStreamArn": {"Type": "String"}},
        "Resources": {
            "PublisherSubscription": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "EventSourceArn": {"Ref": "EventLogStreamArn"},
                    "FunctionName": {"Ref": "Publisher"},
                    "StartingPosition": "TRIM_HORIZON",
                    "BatchSize": 100
                }
            }
        }
    })
}

fn arn(label: &str) -> Params {
    let value = format!("arn:aws:dynamodb:us-east-1:123456789012:table/orders-events/stream/{label}");
    Params::from([("EventLogStreamArn".to_string(), value)])
}

#[test]
fn changed_stream_arn_parameter_replaces_the_event_source_mapping_which_resets_the_consumer() {
    let template = subscription_template();
    let changes = predict(Some(&template), &template, &arn("2025-01-01T00:00:00.000"), &arn("2025-06-01T00:00:00.000"));
    let change = find(&changes, "PublisherSubscription");
    assert_eq!(change.replacement, Some(Replacement::True));
    assert_eq!(change.properties[0].path, "Properties.EventSourceArn");
    assert!(change.properties[0].create_only);
    let reset = Danger::ConsumerReset { conditional: false, starting_position: "TRIM_HORIZON".into() };
    assert_eq!(change.dangers, [reset], "the new mapping replays the stream while the old one still runs");
}

#[test]
fn a_parameter_known_on_one_side_only_is_not_a_change() {
    let template = subscription_template();
    let changes = predict(Some(&template), &template, &no_params(), &arn("2025-06-01T00:00:00.000"));
    assert!(changes.is_empty(), "{changes:#?}");
}

#[test]
fn referrers_of_a_replaced_resource_are_modified_and_create_only_ones_conditionally_replaced() {
    let consumer = |stream_ref: Value| json!({"Type": "AWS::Lambda::EventSourceMapping", "Properties": {"EventSourceArn": stream_ref, "StartingPosition": "LATEST"}});
    let publisher = json!({"Type": "AWS::Lambda::Function", "Properties": {
        "Environment": {"Variables": {"EVENT_STREAM_NAME": {"Ref": "EventStream"}}}}});
    let resources = |name: &str| {
        json!({
            "EventStream": stream(name, "ON_DEMAND"),
            "Consumer": consumer(json!({"Fn::GetAtt": ["EventStream", "Arn"]})),
            "Publisher": publisher.clone()
        })
    };
    let changes = predict(Some(&template(resources("a"))), &template(resources("b")), &no_params(), &no_params());
    let consumer = find(&changes, "Consumer");
    assert_eq!(consumer.replacement, Some(Replacement::Conditional));
    assert_eq!(consumer.properties[0].cause.as_deref(), Some("EventStream is replaced"));
    let publisher = find(&changes, "Publisher");
    assert_eq!(publisher.replacement, Some(Replacement::False));
    assert_eq!(publisher.properties[0].path, "Properties.Environment");
}

#[test]
fn adds_removes_attributes_and_other_sections_are_reported() {
    let mut retained = stream("s", "ON_DEMAND");
    retained["DeletionPolicy"] = json!("Delete");
    let old = json!({"Resources": {"EventStream": stream("s", "ON_DEMAND"), "Old": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {"A": {"Value": "1"}}});
    let new = json!({"Resources": {"EventStream": retained, "New": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {"A": {"Value": "2"}, "B": {"Value": "3"}}});
    let templates = Templates::new(Some(&old), &new, &no_params(), &no_params());
    let changes = predict_from(&templates);
    let actions: Vec<(&str, Action)> = changes.iter().map(|c| (c.logical_id.as_str(), c.action)).collect();
    assert_eq!(actions, [("EventStream", Action::Modify), ("New", Action::Add), ("Old", Action::Remove)]);
    assert_eq!(changes[0].scope, ["DeletionPolicy"]);
    assert_eq!(changes[0].replacement, Some(Replacement::False));
    assert_eq!(templates.other_changes, ["Outputs.A: modified", "Outputs.B: added"]);
}

#[test]
fn identical_templates_predict_nothing_and_a_new_stack_adds_everything() {
    let current = template(json!({"EventStream": stream("s", "ON_DEMAND")}));
    assert!(predict(Some(&current), &current, &no_params(), &no_params()).is_empty());
    let created = predict(None, &current, &no_params(), &no_params());
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].action, Action::Add);
    assert_eq!(created[0].replacement, None);
}

#[test]
fn a_type_change_is_a_replacement_and_unknown_types_get_no_prediction() {
    let old = template(json!({"X": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "t"}},
        "C": {"Type": "Custom::Thing", "Properties": {"A": 1}}}));
    let new = template(json!({"X": {"Type": "AWS::DynamoDB::GlobalTable", "Properties": {"TableName": "t"}},
        "C": {"Type": "Custom::Thing", "Properties": {"A": 2}}}));
    let changes = predict(Some(&old), &new, &no_params(), &no_params());
    assert_eq!(find(&changes, "X").replacement, Some(Replacement::True));
    assert_eq!(find(&changes, "C").replacement, None);
}
