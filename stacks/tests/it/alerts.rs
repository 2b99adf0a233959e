//! Alarms reach someone: every alarm notifies its region's topic, which is encrypted with a
//! rotating customer managed key that CloudWatch may use, and nothing else may.

use crate::support::{EXAMPLE, TWELVE, assembly, config, json, resources_of};
use serde_json::{Value, json};
use stacks::StackPart;

fn region_templates(text: &str) -> Vec<(String, Value)> {
    assembly(text).stacks.iter().filter(|s| s.part == StackPart::Region).map(|s| (s.region.clone(), json(s))).collect()
}

/// The statements of the region key's policy.
fn key_statements(template: &Value) -> Vec<Value> {
    template["Resources"]["RegionKey"]["Properties"]["KeyPolicy"]["Statement"].as_array().unwrap().clone()
}

fn actions(statement: &Value) -> Vec<&str> {
    statement["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect()
}

fn with_alerts(alerts: &str) -> String {
    EXAMPLE.replace("[functions]", &format!("[alerts]\n{alerts}\n\n[functions]"))
}

#[test]
fn every_alarm_notifies_the_regions_topic_on_alarm_and_on_ok() {
    for text in [EXAMPLE, TWELVE] {
        let app = config(text).app;
        for (region, template) in region_templates(text) {
            let alarms = resources_of(&template, "AWS::CloudWatch::Alarm");
            assert!(alarms.len() >= 3, "{region}: alarms exist");
            for (id, alarm) in alarms {
                assert_eq!(alarm["AlarmActions"], json!([{"Ref": "AlarmTopic"}]), "{region} {id}");
                assert_eq!(alarm["OKActions"], json!([{"Ref": "AlarmTopic"}]), "{region} {id}");
                // The topic policy lets alarms named `<app>-*` publish.
                assert!(alarm["AlarmName"].as_str().unwrap().starts_with(&format!("{app}-")), "{region} {id}");
            }
        }
    }
}

#[test]
fn the_topic_is_encrypted_with_a_rotating_key_and_only_alarms_and_the_failed_batches_bucket_publish() {
    for (region, template) in region_templates(EXAMPLE) {
        let topic = &template["Resources"]["AlarmTopic"]["Properties"];
        assert_eq!(topic["KmsMasterKeyId"], json!({"Fn::GetAtt": ["RegionKey", "Arn"]}), "{region}");
        assert_eq!(topic["TopicName"], "orders-alarms");
        let key = &template["Resources"]["RegionKey"];
        assert_eq!(key["Properties"]["EnableKeyRotation"], true);
        assert_eq!(key["DeletionPolicy"], "RetainExceptOnCreate");
        let statements = key_statements(&template);
        let cloudwatch: Vec<&Value> =
            statements.iter().filter(|s| s["Principal"]["Service"] == json!(["cloudwatch.amazonaws.com"])).collect();
        assert_eq!(cloudwatch.len(), 1, "{region}");
        assert_eq!(actions(cloudwatch[0]), ["kms:Decrypt", "kms:GenerateDataKey*"]);
        for statement in &statements {
            assert!(!actions(statement).iter().any(|a| *a == "*" || *a == "kms:*"), "{region}: {statement}");
        }
        let account = statements.iter().find(|s| s["Principal"]["AWS"].is_object()).expect("account statement");
        for using in ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom"] {
            assert!(!actions(account).contains(&using), "the account administers the key but does not use it");
        }
        assert!(actions(account).contains(&"kms:PutKeyPolicy"), "KMS refuses a policy that locks the account out");
        let policy = &template["Resources"]["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"];
        assert_eq!(policy.as_array().unwrap().len(), 2, "{region}: alarms and the failed-batches bucket");
        assert_eq!(policy[1]["Principal"]["Service"], json!(["s3.amazonaws.com"]));
        assert_eq!(policy[0]["Principal"]["Service"], json!(["cloudwatch.amazonaws.com"]));
        assert_eq!(policy[0]["Action"], json!(["sns:Publish"]));
        assert_eq!(
            policy[0]["Condition"]["StringEquals"]["aws:SourceAccount"],
            json!({"Fn::Sub": "${AWS::AccountId}"})
        );
        let source = policy[0]["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"].as_str().unwrap();
        assert!(source.ends_with(":alarm:orders-*"), "{source}");
    }
}

#[test]
fn every_log_group_is_encrypted_with_the_regions_key_which_logs_may_use_for_those_groups_only() {
    for (region, template) in region_templates(TWELVE) {
        let groups = resources_of(&template, "AWS::Logs::LogGroup");
        assert!(!groups.is_empty());
        for (id, group) in &groups {
            assert_eq!(group["KmsKeyId"], json!({"Fn::GetAtt": ["RegionKey", "Arn"]}), "{region} {id}");
        }
        let statements = key_statements(&template);
        let encrypt = statements
            .iter()
            .find(|s| s["Sid"] == "CloudWatchLogsEncryptsTheseLogGroups")
            .expect("a statement for CloudWatch Logs");
        assert_eq!(encrypt["Principal"]["Service"], json!([{"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}]));
        let arns = encrypt["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"].as_array().unwrap();
        assert_eq!(arns.len(), groups.len(), "{region}: one ARN per log group");
    }
}

#[test]
fn email_subscriptions_keep_their_logical_ids_when_another_address_goes() {
    let ids = |emails: &str| -> Vec<String> {
        let (_, template) = region_templates(&with_alerts(&format!("email = [{emails}]"))).remove(0);
        let subscriptions = resources_of(&template, "AWS::SNS::Subscription");
        for (_, subscription) in &subscriptions {
            assert_eq!(subscription["Protocol"], "email");
            assert_eq!(subscription["TopicArn"], json!({"Ref": "AlarmTopic"}));
        }
        subscriptions.into_iter().map(|(id, _)| id.to_owned()).collect()
    };
    let both = ids("\"ops@example.com\", \"oncall@example.com\"");
    let one = ids("\"oncall@example.com\"");
    assert_eq!(both.len(), 2);
    assert_eq!(one.len(), 1);
    assert!(both.contains(&one[0]), "{both:?} vs {one:?}");
}

#[test]
fn an_existing_topic_in_each_region_replaces_the_kits_topic() {
    let text = with_alerts("topic_arn = \"arn:aws:sns:{region}:123456789012:ops-alerts\"");
    for (region, template) in region_templates(&text) {
        assert!(resources_of(&template, "AWS::SNS::Topic").is_empty(), "{region}");
        let arn = format!("arn:aws:sns:{region}:123456789012:ops-alerts");
        for (id, alarm) in resources_of(&template, "AWS::CloudWatch::Alarm") {
            assert_eq!(alarm["AlarmActions"], json!([arn]), "{region} {id}");
            assert_eq!(alarm["OKActions"], json!([arn]), "{region} {id}");
        }
        let statements = key_statements(&template);
        assert!(statements.iter().all(|s| s["Principal"]["Service"] != json!(["cloudwatch.amazonaws.com"])));
    }
}
