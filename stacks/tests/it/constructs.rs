//! The semantics the templates must carry, checked on the example and 12-region configs.

use crate::support::{EXAMPLE, TWELVE, assembly, config, json, resources_of};
use serde_json::Value;
use stacks::StackPart;
use stacks::config::COMMERCIAL_REGIONS;
use std::collections::BTreeSet;

/// Every string anywhere inside a JSON value.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

#[test]
fn each_region_publisher_filter_names_that_region_and_no_other() {
    for text in [EXAMPLE, TWELVE] {
        let assembly = assembly(text);
        for stack in assembly.stacks.iter().filter(|s| s.part == StackPart::Region) {
            let template = json(stack);
            let mapping = &template["Resources"]["PublisherSubscription"]["Properties"];
            let filters = mapping["FilterCriteria"]["Filters"].as_array().expect("publisher has filters");
            assert!(!filters.is_empty() && filters.len() <= 5);
            let mut named = BTreeSet::new();
            for filter in filters {
                let pattern = filter["Pattern"].as_str().expect("pattern is a JSON string");
                assert!(pattern.len() <= 4096);
                let parsed: Value = serde_json::from_str(pattern).expect("pattern parses");
                let mut values = Vec::new();
                strings(&parsed, &mut values);
                named.extend(values.into_iter().filter(|v| COMMERCIAL_REGIONS.contains(&v.as_str())));
            }
            assert_eq!(named, BTreeSet::from([stack.region.clone()]), "{}", stack.name);
        }
    }
}

#[test]
fn publisher_filter_passes_local_inserts_and_overwritten_local_events_only() {
    let assembly = assembly(EXAMPLE);
    let stack = assembly.stack("orders-region-eu-west-1").expect("stack exists");
    let template = json(stack);
    let filters = &template["Resources"]["PublisherSubscription"]["Properties"]["FilterCriteria"]["Filters"];
    let patterns: Vec<Value> = filters
        .as_array()
        .unwrap()
        .iter()
        .map(|f| serde_json::from_str(f["Pattern"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(
        patterns[0],
        serde_json::json!({"eventName": ["INSERT"], "dynamodb": {"NewImage": {"OriginRegion": {"S": ["eu-west-1"]}}}})
    );
    assert_eq!(
        patterns[1],
        serde_json::json!({"eventName": ["MODIFY"], "dynamodb": {"OldImage": {"OriginRegion": {"S": ["eu-west-1"]}}}})
    );
}

#[test]
fn global_tables_appear_only_in_the_home_data_stack_and_list_every_region() {
    for text in [EXAMPLE, TWELVE] {
        let config = config(text);
        let assembly = assembly(text);
        let regions: BTreeSet<&str> = config.region_names().collect();
        let mut tables = 0;
        for stack in &assembly.stacks {
            let template = json(stack);
            let global_tables = resources_of(&template, "AWS::DynamoDB::GlobalTable");
            if stack.part != StackPart::Data {
                assert!(global_tables.is_empty(), "{} declares a global table", stack.name);
                continue;
            }
            assert_eq!(stack.region, config.home);
            for (id, table) in global_tables {
                tables += 1;
                let replicas: BTreeSet<&str> =
                    table["Replicas"].as_array().unwrap().iter().map(|r| r["Region"].as_str().unwrap()).collect();
                assert_eq!(replicas, regions, "{id} replicas");
                assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
                for replica in table["Replicas"].as_array().unwrap() {
                    assert_eq!(replica["DeletionProtectionEnabled"], true);
                    assert_eq!(replica["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], true);
                }
                assert_eq!(template["Resources"][id]["DeletionPolicy"], "RetainExceptOnCreate");
                assert_eq!(template["Resources"][id]["UpdateReplacePolicy"], "Retain");
                assert_eq!(table["StreamSpecification"]["StreamViewType"], "NEW_AND_OLD_IMAGES", "{id}");
            }
        }
        let read_models =
            config.projections.iter().filter(|p| p.kind == stacks::config::ProjectionKind::ReadModel).count();
        assert_eq!(tables, 2 + read_models, "event log + idempotency + one per read model");
    }
}

#[test]
fn event_log_has_the_contract_keys_stream_and_origin_index() {
    let assembly = assembly(EXAMPLE);
    let template = json(assembly.stack("orders-data-us-east-1").unwrap());
    let log = &template["Resources"]["EventLog"]["Properties"];
    assert_eq!(log["TableName"], "orders-events");
    assert_eq!(
        log["KeySchema"],
        serde_json::json!([
            {"AttributeName": "AggregateTypeAndId", "KeyType": "HASH"},
            {"AttributeName": "AggregateIdSequence", "KeyType": "RANGE"}
        ])
    );
    assert_eq!(log["StreamSpecification"]["StreamViewType"], "NEW_AND_OLD_IMAGES");
    let index = &log["GlobalSecondaryIndexes"][0];
    assert_eq!(index["IndexName"], "ByOriginShard");
    assert_eq!(index["KeySchema"][0]["AttributeName"], "OriginShard");
    assert_eq!(index["KeySchema"][1]["AttributeName"], "RecordedAt");
}

#[test]
fn no_index_is_keyed_on_the_origin_region_alone() {
    // A key per region puts every write of a region on one index partition.
    for text in [EXAMPLE, TWELVE] {
        for stack in assembly(text).stacks.iter().filter(|s| s.part == StackPart::Data) {
            let template = json(stack);
            for (id, table) in resources_of(&template, "AWS::DynamoDB::GlobalTable") {
                for index in table["GlobalSecondaryIndexes"].as_array().into_iter().flatten() {
                    assert_ne!(index["KeySchema"][0]["AttributeName"], "OriginRegion", "{id}");
                }
            }
        }
    }
}

#[test]
fn the_upgrade_step_without_an_origin_index_drops_only_the_index() {
    let with = json(assembly(EXAMPLE).stack("orders-data-us-east-1").unwrap());
    let text = format!("{EXAMPLE}\n[event_log]\norigin_index = \"none\"\n");
    let config = config(&text);
    assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
    assert!(config.warnings[0].to_string().contains("event_log.origin_index"));
    let without = json(assembly(&text).stack("orders-data-us-east-1").unwrap());
    let mut expected = with.clone();
    let log = expected["Resources"]["EventLog"]["Properties"].as_object_mut().unwrap();
    log.remove("GlobalSecondaryIndexes");
    let attributes = log["AttributeDefinitions"].as_array_mut().unwrap();
    attributes.retain(|a| a["AttributeName"] != "OriginShard" && a["AttributeName"] != "RecordedAt");
    assert_eq!(without, expected);
}

#[test]
fn every_event_source_mapping_reports_batch_item_failures_and_keeps_failed_batches_in_the_region_bucket() {
    let config = config(TWELVE);
    for stack in &assembly(TWELVE).stacks {
        let template = json(stack);
        let buckets: BTreeSet<&str> =
            resources_of(&template, "AWS::S3::Bucket").into_iter().map(|(id, _)| id).collect();
        for (id, mapping) in resources_of(&template, "AWS::Lambda::EventSourceMapping") {
            assert_eq!(mapping["FunctionResponseTypes"], serde_json::json!(["ReportBatchItemFailures"]), "{id}");
            assert_eq!(mapping["BisectBatchOnFunctionError"], true, "{id}");
            assert_eq!(mapping["StartingPosition"], "TRIM_HORIZON", "{id}");
            let destination = &mapping["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"];
            assert_eq!(destination[0], "FailedBatches", "{id} on-failure is not the failed-batches bucket");
            assert!(buckets.contains("FailedBatches"), "{id}: no failed-batches bucket in {}", stack.name);
            let retries = mapping["MaximumRetryAttempts"].as_i64().unwrap();
            assert_eq!(retries, i64::from(config.stream.max_retries), "{id}");
            let age = mapping["MaximumRecordAgeInSeconds"].as_i64().unwrap();
            assert!((60..=86_400).contains(&age), "{id} record age must be bounded");
            let batch = mapping["BatchSize"].as_u64().unwrap();
            let window = mapping["MaximumBatchingWindowInSeconds"].as_u64().unwrap();
            assert!(batch <= 10 || window >= 1, "{id}: batch {batch} needs a window >= 1");
            let role = mapping_role(&template, mapping);
            let objects = serde_json::json!({"Fn::Sub": "${FailedBatches.Arn}/*"});
            assert!(role_allows(role, "s3:PutObject", &objects), "{id}: the role cannot write failure records");
            let bucket = serde_json::json!({"Fn::GetAtt": ["FailedBatches", "Arn"]});
            assert!(role_allows(role, "s3:ListBucket", &bucket), "{id}: the role cannot list the bucket");
        }
    }
}

/// The role of the function a mapping invokes.
fn mapping_role<'a>(template: &'a Value, mapping: &Value) -> &'a Value {
    let function = mapping["FunctionName"]["Ref"].as_str().expect("mappings name their function by Ref");
    let role = template["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0].as_str().unwrap();
    &template["Resources"][role]["Properties"]
}

/// Whether an Allow statement of the role's policies names `action` on exactly `resource`.
fn role_allows(role: &Value, action: &str, resource: &Value) -> bool {
    let policies = role["Policies"].as_array().into_iter().flatten();
    let statements = policies.flat_map(|p| p["PolicyDocument"]["Statement"].as_array().into_iter().flatten());
    statements.into_iter().any(|s| {
        s["Effect"] == "Allow"
            && s["Action"].as_array().unwrap().iter().any(|a| a == action)
            && s["Resource"].as_array().unwrap().iter().all(|r| r == resource)
    })
}

#[test]
fn failed_batches_bucket_expires_records_and_announces_each_on_the_alarm_topic() {
    for text in [TWELVE, include_str!("../fixtures/failover-chain.toml")] {
        for stack in assembly(text).stacks.iter().filter(|s| s.part == StackPart::Region) {
            let template = json(stack);
            let resource = &template["Resources"]["FailedBatches"];
            let bucket = &resource["Properties"];
            let name = bucket["BucketName"]["Fn::Sub"].as_str().unwrap();
            assert!(name.ends_with("-failures-${AWS::AccountId}-${AWS::Region}"), "{name}");
            let rules = bucket["LifecycleConfiguration"]["Rules"].as_array().unwrap();
            let days: Vec<u64> = rules.iter().filter_map(|r| r["ExpirationInDays"].as_u64()).collect();
            assert!(days.len() == 1 && (14..=30).contains(&days[0]), "{}: expiration {days:?}", stack.name);
            let topic = &template["Outputs"]["AlarmTopicArn"]["Value"];
            let notices = bucket["NotificationConfiguration"]["TopicConfigurations"].as_array().unwrap();
            assert!(
                notices.iter().any(|n| n["Event"] == "s3:ObjectCreated:*" && &n["Topic"] == topic),
                "{}",
                stack.name
            );
            let Some(topic_id) = topic["Ref"].as_str() else { continue };
            // The kit's own topic: its policy lets this bucket (and account) publish, it exists
            // before the bucket (S3 checks its destinations), and its key lets S3 use it.
            let policy_id = format!("{topic_id}Policy");
            assert_eq!(resource["DependsOn"], serde_json::json!([policy_id]), "{}", stack.name);
            let statements = template["Resources"][&policy_id]["Properties"]["PolicyDocument"]["Statement"].clone();
            let s3 = statements
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["Principal"]["Service"] == serde_json::json!(["s3.amazonaws.com"]))
                .unwrap_or_else(|| panic!("{}: S3 may not publish to the alarm topic", stack.name))
                .clone();
            assert_eq!(s3["Action"], serde_json::json!(["sns:Publish"]));
            let source = s3["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"].as_str().unwrap();
            assert_eq!(source, format!("arn:${{AWS::Partition}}:s3:::{name}"));
            assert_eq!(s3["Condition"]["StringEquals"]["aws:SourceAccount"]["Fn::Sub"], "${AWS::AccountId}");
            let key = &template["Resources"]["RegionKey"]["Properties"]["KeyPolicy"]["Statement"];
            assert!(
                key.as_array()
                    .unwrap()
                    .iter()
                    .any(|s| s["Principal"]["Service"] == serde_json::json!(["s3.amazonaws.com"])
                        && s["Action"] == serde_json::json!(["kms:Decrypt", "kms:GenerateDataKey*"])),
                "{}: S3 may not use the topic's key",
                stack.name
            );
        }
    }
}

#[test]
fn no_iam_statement_uses_a_wildcard_action_and_grants_name_their_actions() {
    for stack in &assembly(TWELVE).stacks {
        let template = json(stack);
        let mut documents = Vec::new();
        for (_, role) in resources_of(&template, "AWS::IAM::Role") {
            documents.push(&role["AssumeRolePolicyDocument"]);
            documents.extend(role["Policies"].as_array().into_iter().flatten().map(|p| &p["PolicyDocument"]));
        }
        documents
            .extend(resources_of(&template, "AWS::S3::BucketPolicy").into_iter().map(|(_, p)| &p["PolicyDocument"]));
        for statement in documents.iter().flat_map(|d| d["Statement"].as_array().unwrap()) {
            let actions: Vec<&str> =
                statement["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
            assert!(!actions.is_empty());
            assert!(!actions.contains(&"*"), "{}: {statement}", stack.name);
            if statement["Effect"] == "Allow" {
                assert!(actions.iter().all(|a| !a.contains('*') && a.contains(':')), "{}: {statement}", stack.name);
                if statement.get("Principal").is_none() {
                    let resources = statement["Resource"].as_array().unwrap();
                    assert!(!resources.is_empty() && resources.iter().all(|r| r != "*"), "{}: {statement}", stack.name);
                }
            }
        }
    }
}

#[test]
fn every_store_and_stream_is_encrypted_private_and_retained() {
    for stack in &assembly(TWELVE).stacks {
        let template = json(stack);
        for (id, bucket) in resources_of(&template, "AWS::S3::Bucket") {
            assert!(bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"].is_array(), "{id}");
            let block = &bucket["PublicAccessBlockConfiguration"];
            for key in ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"] {
                assert_eq!(block[key], true, "{id}.{key}");
            }
            let policies = resources_of(&template, "AWS::S3::BucketPolicy");
            let tls_only = policies.iter().any(|(_, p)| {
                p["Bucket"]["Ref"] == id
                    && p["PolicyDocument"]["Statement"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|s| s["Effect"] == "Deny" && s["Condition"]["Bool"]["aws:SecureTransport"] == "false")
            });
            assert!(tls_only, "{id} has no TLS-only policy");
        }
        for (id, queue) in resources_of(&template, "AWS::SQS::Queue") {
            assert_eq!(queue["SqsManagedSseEnabled"], true, "{id}");
        }
        for (id, stream) in resources_of(&template, "AWS::Kinesis::Stream") {
            assert_eq!(stream["StreamEncryption"]["EncryptionType"], "KMS", "{id}");
            assert_eq!(stream["StreamModeDetails"]["StreamMode"], "ON_DEMAND", "{id}");
        }
        for (id, table) in resources_of(&template, "AWS::DynamoDB::GlobalTable") {
            assert_eq!(table["SSESpecification"]["SSEEnabled"], true, "{id}");
        }
        // A failed first create deletes what it made (RetainExceptOnCreate), so a retry does not
        // meet a leftover named stream, table or bucket; once created, they outlive the stack.
        let stateful = [
            "AWS::S3::Bucket",
            "AWS::SQS::Queue",
            "AWS::Kinesis::Stream",
            "AWS::DynamoDB::GlobalTable",
            "AWS::KMS::Key",
        ];
        for (id, resource) in template["Resources"].as_object().unwrap() {
            if stateful.contains(&resource["Type"].as_str().unwrap()) {
                assert_eq!(resource["DeletionPolicy"], "RetainExceptOnCreate", "{}: {id}", stack.name);
                assert_eq!(resource["UpdateReplacePolicy"], "Retain", "{}: {id}", stack.name);
            }
        }
    }
}

#[test]
fn region_stack_takes_its_own_replica_stream_arn_as_a_parameter() {
    for stack in assembly(EXAMPLE).stacks.iter().filter(|s| s.part == StackPart::Region) {
        let template = json(stack);
        let parameter = &template["Parameters"]["EventLogStreamArn"];
        let pattern = parameter["AllowedPattern"].as_str().unwrap();
        assert!(pattern.contains(&format!(":dynamodb:{}:", stack.region)), "{pattern}");
        assert_eq!(
            template["Resources"]["PublisherSubscription"]["Properties"]["EventSourceArn"]["Ref"],
            "EventLogStreamArn"
        );
    }
}

#[test]
fn stacks_come_in_deployment_order_with_dependencies() {
    let assembly = assembly(EXAMPLE);
    let position = |name: &str| assembly.stacks.iter().position(|s| s.name == name).unwrap();
    for stack in &assembly.stacks {
        for dependency in &stack.dependencies {
            assert!(position(dependency) < position(&stack.name), "{} before {dependency}", stack.name);
        }
    }
    let region = assembly.stack("orders-region-eu-west-1").unwrap();
    assert_eq!(region.dependencies, ["orders-bootstrap-eu-west-1", "orders-data-us-east-1"]);
}
