//! Each danger the review must name, through the review engine (deployed template against new
//! template, as `diff` and `deploy` review them): consumer position resets, weakened data
//! protection, traffic moves wherever the records live, and updates CloudFormation refuses.

use super::model::{Danger, StackReview};
use super::{Params, review};
use crate::approval::{Approval, RequireApproval};
use serde_json::{Value, json};

fn template(resources: Value) -> Value {
    json!({ "Resources": resources })
}

fn reviewed(old: Value, new: Value) -> StackReview {
    review(
        "shop-dns-us-east-1",
        "us-east-1",
        None,
        Some(&template(old)),
        &template(new),
        &Params::new(),
        &Params::new(),
    )
}

/// The dangers of `id`'s change.
fn dangers(review: &StackReview, id: &str) -> Vec<Danger> {
    review.changes.iter().find(|c| c.logical_id == id).map(|c| c.dangers.clone()).unwrap_or_default()
}

fn details(review: &StackReview, id: &str) -> Vec<String> {
    dangers(review, id).iter().map(Danger::reason).collect()
}

fn stream(name: &str, extra: Value) -> Value {
    let mut properties = json!({"Name": name, "RetentionPeriodHours": 48, "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}});
    if let (Some(p), Some(e)) = (properties.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    json!({"Type": "AWS::Kinesis::Stream", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": properties})
}

fn mapping() -> Value {
    json!({"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
        "EventSourceArn": {"Fn::GetAtt": ["EventStream", "Arn"]}, "FunctionName": "shop-projector", "StartingPosition": "TRIM_HORIZON"}})
}

#[test]
fn a_replaced_stream_resets_its_consumers_position() {
    let old = json!({"EventStream": stream("shop-events", json!({})), "Projector": mapping()});
    let new = json!({"EventStream": stream("shop-events-v2", json!({})), "Projector": mapping()});
    let review = reviewed(old, new);
    let reset = dangers(&review, "Projector");
    assert_eq!(reset, [Danger::ConsumerReset { conditional: true, starting_position: "TRIM_HORIZON".into() }]);
    assert!(reset[0].reason().contains("replays everything the stream retains"), "{}", reset[0].reason());
    assert!(!review.is_refused(), "replacing a mapping is allowed, only dangerous");
}

#[test]
fn lowered_retention_and_removed_encryption_weaken_a_stream() {
    let old = json!({"EventStream": stream("shop-events", json!({}))});
    let mut weaker = stream("shop-events", json!({"RetentionPeriodHours": 24}));
    weaker["Properties"].as_object_mut().expect("properties").remove("StreamEncryption");
    let review = reviewed(old, json!({"EventStream": weaker}));
    let found = details(&review, "EventStream");
    assert!(found.iter().any(|d| d.contains("stream retention lowered from 48 to 24 hours")), "{found:?}");
    assert!(found.iter().any(|d| d.contains("stream encryption removed")), "{found:?}");
}

fn global_table(replicas: Value, policy: &str) -> Value {
    json!({"Type": "AWS::DynamoDB::GlobalTable", "DeletionPolicy": policy, "UpdateReplacePolicy": policy, "Properties": {
        "TableName": "shop-events", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
        "SSESpecification": {"SSEEnabled": true, "SSEType": "KMS"},
        "Replicas": replicas}})
}

fn replica(region: &str, pitr: bool, protection: bool) -> Value {
    json!({"Region": region, "DeletionProtectionEnabled": protection,
           "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": pitr}})
}

#[test]
fn pitr_deletion_protection_and_retaining_policies_turned_off_weaken_a_table() {
    let old = global_table(json!([replica("us-east-1", true, true), replica("eu-west-1", true, true)]), "Retain");
    let new = global_table(json!([replica("us-east-1", false, true), replica("eu-west-1", true, false)]), "Delete");
    let review = reviewed(json!({"EventLog": old}), json!({"EventLog": new}));
    let found = details(&review, "EventLog");
    for expected in [
        "point-in-time recovery turned off in us-east-1",
        "deletion protection turned off in eu-west-1",
        "DeletionPolicy Retain → Delete",
        "UpdateReplacePolicy Retain → Delete",
    ] {
        assert!(found.iter().any(|d| d.contains(expected)), "{expected}: {found:?}");
    }
    assert!(dangers(&review, "EventLog").iter().all(|d| matches!(d, Danger::ProtectionWeakened { .. })));
}

#[test]
fn a_relaxed_public_access_block_and_removed_bucket_encryption_weaken_a_bucket() {
    let bucket = |block: bool, encrypted: bool| {
        let mut properties = json!({"PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "BlockPublicPolicy": block,
            "IgnorePublicAcls": true, "RestrictPublicBuckets": true}});
        if encrypted {
            properties["BucketEncryption"] = json!({"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]});
        }
        json!({"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": properties})
    };
    let review = reviewed(json!({"Audit": bucket(true, true)}), json!({"Audit": bucket(false, false)}));
    let found = details(&review, "Audit");
    assert!(found.iter().any(|d| d.contains("public access block BlockPublicPolicy turned off")), "{found:?}");
    assert!(found.iter().any(|d| d.contains("bucket encryption removed")), "{found:?}");
}

fn record(region: &str, weight: Option<u32>) -> Value {
    let mut properties = json!({"HostedZoneId": "Z1", "Name": "api.shop.example.com", "Type": "CNAME", "TTL": "60",
        "SetIdentifier": region, "ResourceRecords": [format!("api.{region}.shop.example.com")], "HealthCheckId": {"Ref": "Check"}});
    match weight {
        Some(weight) => properties["Weight"] = json!(weight),
        None => properties["Region"] = json!(region),
    }
    json!({"Type": "AWS::Route53::RecordSet", "Properties": properties})
}

fn health_check(interval: u32) -> Value {
    json!({"Type": "AWS::Route53::HealthCheck", "Properties": {"HealthCheckConfig": {
        "Type": "HTTPS", "FullyQualifiedDomainName": "x.execute-api.eu-west-1.amazonaws.com", "ResourcePath": "/health",
        "RequestInterval": interval, "FailureThreshold": 3}}})
}

#[test]
fn a_removed_record_a_changed_routing_and_a_replaced_health_check_move_traffic_in_a_dns_stack() {
    let old =
        json!({"Check": health_check(30), "UsEast1": record("us-east-1", None), "EuWest1": record("eu-west-1", None)});
    let new = json!({"Check": health_check(10), "UsEast1": record("us-east-1", Some(100))});
    let review = reviewed(old, new);
    let removed = details(&review, "EuWest1");
    assert!(removed.iter().any(|d| d.contains("record api.shop.example.com CNAME (eu-west-1) removed")), "{removed:?}");
    let rerouted = details(&review, "UsEast1");
    assert!(rerouted.iter().any(|d| d.contains("re-routed: Region, Weight")), "{rerouted:?}");
    let check = details(&review, "Check");
    assert!(check.iter().any(|d| d.contains("health check replaced")), "RequestInterval is create-only: {check:?}");
}

#[test]
fn records_removed_from_a_record_set_group_a_replaced_custom_domain_and_a_repointed_mapping_move_traffic() {
    let group = |regions: &[&str]| {
        let sets: Vec<Value> = regions.iter().map(|r| record(r, None)["Properties"].clone()).collect();
        json!({"Type": "AWS::Route53::RecordSetGroup", "Properties": {"HostedZoneId": "Z1", "RecordSets": sets}})
    };
    let domain = |name: &str| json!({"Type": "AWS::ApiGatewayV2::DomainName", "Properties": {"DomainName": name}});
    let api_mapping = |api: &str| json!({"Type": "AWS::ApiGatewayV2::ApiMapping", "Properties": {"ApiId": api, "DomainName": "api.shop.example.com", "Stage": "$default"}});
    let old = json!({"Records": group(&["us-east-1", "eu-west-1"]), "Domain": domain("api.shop.example.com"), "Mapping": api_mapping("abc")});
    let new = json!({"Records": group(&["us-east-1"]), "Domain": domain("api2.shop.example.com"), "Mapping": api_mapping("def")});
    let review = reviewed(old, new);
    assert!(details(&review, "Records").iter().any(|d| d.contains("(eu-west-1) removed")), "{review:#?}");
    assert!(details(&review, "Domain").iter().any(|d| d.contains("AWS::ApiGatewayV2::DomainName replaced")));
    let mapping = details(&review, "Mapping");
    assert!(
        mapping.iter().any(|d| d.contains("AWS::ApiGatewayV2::ApiMapping re-pointed (ApiId change)")),
        "{:#?}",
        review.changes
    );
}

#[test]
fn replacing_a_custom_named_table_is_said_to_be_refused_not_replaced() {
    let table = |hash: &str| {
        json!({"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
        "Properties": {"TableName": "shop-idempotency", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": hash, "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": hash, "KeyType": "HASH"}]}})
    };
    let review = reviewed(json!({"Idempotency": table("Key")}), json!({"Idempotency": table("Id")}));
    let found = dangers(&review, "Idempotency");
    assert!(
        matches!(found.as_slice(), [Danger::Refused { detail }] if detail.contains("custom name \"shop-idempotency\"")),
        "{found:?}"
    );
    assert!(review.is_refused());
    let approval = Approval::new(RequireApproval::Never, true);
    assert!(!approval.approves(&review).expect("decided"), "no approval executes a refused update");
}

#[test]
fn two_index_changes_a_stream_change_on_several_replicas_and_two_replicas_at_once_are_refused() {
    let with_indexes = |names: &[&str], view: &str, regions: &[&str]| {
        let replicas: Vec<Value> = regions.iter().map(|r| replica(r, true, true)).collect();
        let mut table = global_table(json!(replicas), "Retain");
        let indexes: Vec<Value> = names
            .iter()
            .map(|n| json!({"IndexName": n, "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}))
            .collect();
        table["Properties"]["GlobalSecondaryIndexes"] = json!(indexes);
        table["Properties"]["StreamSpecification"] = json!({"StreamViewType": view});
        table
    };
    let old = with_indexes(&["ByOrigin"], "NEW_AND_OLD_IMAGES", &["us-east-1", "eu-west-1"]);
    let new =
        with_indexes(&["ByTime", "ByType"], "NEW_IMAGE", &["us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1"]);
    let review = reviewed(json!({"EventLog": old}), json!({"EventLog": new}));
    let refused = review.refusals();
    assert!(
        refused
            .iter()
            .any(|r| r.contains("3 global secondary index changes in one update (-ByOrigin, +ByTime, +ByType)")),
        "{refused:?}"
    );
    assert!(
        refused.iter().any(|r| r.contains("stream specification changes on a global table with 2 replicas")),
        "{refused:?}"
    );
    assert!(refused.iter().any(|r| r.contains("2 replica changes in one update")), "{refused:?}");
    let one =
        with_indexes(&["ByOrigin", "ByTime"], "NEW_AND_OLD_IMAGES", &["us-east-1", "eu-west-1", "ap-southeast-2"]);
    let old = with_indexes(&["ByOrigin"], "NEW_AND_OLD_IMAGES", &["us-east-1", "eu-west-1"]);
    assert!(
        !reviewed(json!({"EventLog": old}), json!({"EventLog": one})).is_refused(),
        "one index and one replica are fine"
    );
}
