//! Event source mapping emulation against moto's DynamoDB Streams and Kinesis, with fake
//! functions: batching, the batching window, filters, batch item failures, bisection, retries,
//! record age, the on-failure destinations, reshards and region outages.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::{FakeFunction, clients, create_table, eventually, item, keys_of, put, unique};
use local::mapping::{EventSourceMappings, MappingConfig, MappingSettings, StartingPosition};
use local::outage::Outages;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const REGION: &str = "us-east-1";
const WAIT: Duration = Duration::from_secs(20);

fn config(stream_arn: &str) -> MappingConfig {
    MappingConfig {
        uuid: uuid::Uuid::now_v7().to_string(),
        function_name: "consumer".into(),
        function_arn: format!("arn:aws:lambda:{REGION}:123456789012:function:consumer"),
        event_source_arn: stream_arn.into(),
        starting_position: StartingPosition::TrimHorizon,
        batch_size: 100,
        batching_window: Duration::ZERO,
        filters: Vec::new(),
        report_batch_item_failures: true,
        bisect_on_error: false,
        maximum_retry_attempts: None,
        maximum_record_age: None,
        on_failure: None,
        enabled: true,
    }
}

fn engine(function: &Arc<FakeFunction>, outages: &Outages) -> EventSourceMappings<FakeFunction> {
    EventSourceMappings::new(clients(), function.clone(), outages.clone(), MappingSettings::eager())
}

async fn table_with_items(count: u32) -> (String, String) {
    let clients = clients();
    let table = unique("esm");
    let stream = create_table(&clients, REGION, &table).await;
    for n in 1..=count {
        put(&clients, REGION, &table, item(&format!("k{n}"), n, &[("OriginRegion", REGION)])).await;
    }
    (table, stream)
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client) -> (String, String) {
    let url = test_support::aws::create_queue(sqs).await;
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    let arn = attributes.attributes.unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone();
    (url, arn)
}

async fn received(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<Value> {
    let messages = sqs.receive_message().queue_url(url).max_number_of_messages(10).send().await.unwrap();
    messages.messages.unwrap_or_default().iter().map(|m| serde_json::from_str(m.body().unwrap()).unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_hold_at_most_batch_size_records_in_lambdas_dynamodb_shape() {
    let (_, stream) = table_with_items(5).await;
    let function = Arc::new(FakeFunction::ok());
    let mut config = config(&stream);
    config.batch_size = 2;
    let handle = engine(&function, &Outages::new()).start(config).unwrap();
    eventually(WAIT, "5 records delivered", || async { handle.stats().delivered == 5 }).await;
    assert_eq!(function.batch_sizes(), [2, 2, 1]);
    let events = function.events();
    let keys: Vec<String> = events.iter().flat_map(keys_of).collect();
    assert_eq!(keys, ["k1", "k2", "k3", "k4", "k5"], "in stream order, each once");
    let typed: aws_lambda_events::dynamodb::Event = serde_json::from_value(events[0].clone()).unwrap();
    let first = &typed.records[0];
    assert_eq!(first.event_name, "INSERT");
    assert_eq!(first.event_source_arn.as_deref(), Some(stream.as_str()));
    assert_eq!(first.aws_region, REGION);
    assert_eq!(first.event_source.as_deref(), Some("aws:dynamodb"));
    assert!(first.event_version.is_some() && !first.event_id.is_empty());
    let raw = &events[0]["Records"][0]["dynamodb"];
    assert!(raw["ApproximateCreationDateTime"].is_number() && raw["SizeBytes"].as_i64().unwrap() > 0);
    assert_eq!(raw["StreamViewType"], "NEW_AND_OLD_IMAGES");
    assert_eq!(raw["NewImage"]["OriginRegion"], json!({"S": REGION}));
    assert!(raw.get("OldImage").is_none(), "an INSERT has no old image");
    let last = events[2]["Records"][0]["dynamodb"]["SequenceNumber"].as_str().unwrap();
    assert_eq!(handle.stats().checkpoints.values().next().map(String::as_str), Some(last));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_in_an_invocation_are_waiting_until_the_function_answers() {
    let (_, stream) = table_with_items(3).await;
    let function = Arc::new(FakeFunction::ok().answering_after(Duration::from_secs(2)));
    let handle = engine(&function, &Outages::new()).start(config(&stream)).unwrap();
    eventually(WAIT, "the batch invoked", || async { !function.events().is_empty() }).await;
    let during = handle.stats();
    assert_eq!((during.read, during.delivered, during.waiting()), (3, 0, 3), "read, not yet answered");
    eventually(WAIT, "3 records delivered", || async { handle.stats().delivered == 3 }).await;
    assert_eq!(handle.stats().waiting(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_batching_window_gathers_records_written_apart_into_one_invocation() {
    let clients = clients();
    let table = unique("esm");
    let stream = create_table(&clients, REGION, &table).await;
    let function = Arc::new(FakeFunction::ok());
    let mut config = config(&stream);
    config.batching_window = Duration::from_secs(2);
    let handle = engine(&function, &Outages::new()).start(config).unwrap();
    for n in 1..=3 {
        put(&clients, REGION, &table, item(&format!("k{n}"), n, &[])).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    eventually(WAIT, "3 records delivered", || async { handle.stats().delivered == 3 }).await;
    assert_eq!(function.batch_sizes(), [3], "one invocation once the window closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_no_filter_matches_are_dropped_and_checkpointed() {
    let clients = clients();
    let table = unique("esm");
    let stream = create_table(&clients, REGION, &table).await;
    put(&clients, REGION, &table, item("mine", 1, &[("OriginRegion", REGION)])).await;
    put(&clients, REGION, &table, item("theirs", 1, &[("OriginRegion", "eu-west-1")])).await;
    put(&clients, REGION, &table, item("mine", 2, &[("OriginRegion", REGION)])).await;
    put(&clients, REGION, &table, item("theirs", 2, &[("OriginRegion", "eu-west-1")])).await;
    let function = Arc::new(FakeFunction::ok());
    let mut config = config(&stream);
    config.filters = contract::origin::filter_patterns(REGION);
    let handle = engine(&function, &Outages::new()).start(config).unwrap();
    eventually(WAIT, "every record read", || async { handle.stats().read == 4 }).await;
    eventually(WAIT, "2 delivered", || async { handle.stats().delivered == 2 }).await;
    let keys: Vec<String> = function.events().iter().flat_map(keys_of).collect();
    assert_eq!(keys, ["mine", "mine"]);
    assert_eq!(handle.stats().filtered_out, 2);
    // The last record was filtered out, and is checkpointed all the same.
    let records = test_support::streams::dynamodb_stream_records(&clients.streams(REGION), &stream).await;
    let last = records.last().unwrap()["dynamodb"]["SequenceNumber"].as_str().unwrap().to_owned();
    eventually(WAIT, "checkpoint at the last record", || async {
        handle.stats().checkpoints.values().next() == Some(&last)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_item_failure_restarts_the_batch_at_the_lowest_failed_sequence_number() {
    let (_, stream) = table_with_items(5).await;
    // First call: report k4 and k3 as failed (k3 is the lower); then succeed.
    let function = Arc::new(FakeFunction::new(|event, call| {
        if call > 0 {
            return Ok(Value::Null);
        }
        let sequence = |i: usize| event["Records"][i]["dynamodb"]["SequenceNumber"].clone();
        Ok(json!({"batchItemFailures": [{"itemIdentifier": sequence(3)}, {"itemIdentifier": sequence(2)}]}))
    }));
    let handle = engine(&function, &Outages::new()).start(config(&stream)).unwrap();
    eventually(WAIT, "5 records done", || async { handle.stats().delivered == 5 }).await;
    let batches: Vec<Vec<String>> = function.events().iter().map(keys_of).collect();
    assert_eq!(batches, [vec!["k1", "k2", "k3", "k4", "k5"], vec!["k3", "k4", "k5"]]);
    let stats = handle.stats();
    assert_eq!((stats.partial_failures, stats.retries, stats.function_errors), (1, 1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_item_identifier_fails_the_whole_batch() {
    let (_, stream) = table_with_items(3).await;
    let function = Arc::new(FakeFunction::new(|_, call| {
        Ok(if call == 0 {
            json!({"batchItemFailures": [{"itemIdentifier": ""}]})
        } else {
            json!({"batchItemFailures": []})
        })
    }));
    let handle = engine(&function, &Outages::new()).start(config(&stream)).unwrap();
    eventually(WAIT, "3 records done", || async { handle.stats().delivered == 3 }).await;
    assert_eq!(function.batch_sizes(), [3, 3], "the whole batch again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bisection_isolates_a_bad_record_which_is_discarded_to_the_queue_after_its_retries() {
    let (_, stream) = table_with_items(5).await;
    let sqs = clients().sqs(REGION);
    let (url, arn) = queue_arn(&sqs).await;
    let function = Arc::new(FakeFunction::new(|event, _| {
        if keys_of(event).iter().any(|k| k == "k3") { Err("poison".into()) } else { Ok(Value::Null) }
    }));
    let mut config = config(&stream);
    config.bisect_on_error = true;
    config.maximum_retry_attempts = Some(1);
    config.on_failure = Some(arn);
    let function_arn = config.function_arn.clone();
    let handle = engine(&function, &Outages::new()).start(config).unwrap();
    eventually(WAIT, "k3 discarded, the rest delivered", || async {
        let stats = handle.stats();
        stats.discarded_retries == 1 && stats.delivered == 4
    })
    .await;
    let delivered: Vec<String> =
        function.events().iter().filter(|e| !keys_of(e).contains(&"k3".to_owned())).flat_map(keys_of).collect();
    assert_eq!(delivered, ["k1", "k2", "k4", "k5"], "every good record once, in order");
    // [k1..k5] -> [k1 k2] + [k3 k4 k5] -> [k3] + [k4 k5]; [k3] is tried twice (one retry).
    assert_eq!(function.batch_sizes(), [5, 2, 3, 1, 1, 2]);
    let stats = handle.stats();
    assert_eq!((stats.bisections, stats.retries, stats.delivered), (2, 1, 4));
    let messages = received(&sqs, &url).await;
    assert_eq!(messages.len(), 1);
    let record = &messages[0];
    let k3 = function.events()[3]["Records"][0]["dynamodb"]["SequenceNumber"].clone();
    assert_eq!(record["requestContext"]["condition"], "RetryAttemptsExhausted");
    assert_eq!(record["requestContext"]["functionArn"], function_arn);
    // k3 was in four invocations: the batch, the half it fell in, and itself twice.
    assert_eq!(record["requestContext"]["approximateInvokeCount"], 4);
    assert_eq!(
        record["responseContext"],
        json!({"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"})
    );
    assert_eq!(record["version"], "1.0");
    let info = &record["DDBStreamBatchInfo"];
    assert_eq!((info["startSequenceNumber"].clone(), info["endSequenceNumber"].clone()), (k3.clone(), k3));
    assert_eq!(info["batchSize"], 1);
    assert_eq!(info["streamArn"], stream);
    assert!(info["shardId"].as_str().unwrap().starts_with("shardId-"));
    assert!(record.get("payload").is_none(), "queues get the metadata only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_bisection_a_failing_batch_is_retried_maximum_retry_attempts_times_then_discarded() {
    let (_, stream) = table_with_items(3).await;
    let function = Arc::new(FakeFunction::new(|_, _| Err("always".into())));
    let mut config = config(&stream);
    config.maximum_retry_attempts = Some(2);
    let handle = engine(&function, &Outages::new()).start(config).unwrap();
    eventually(WAIT, "the batch discarded", || async { handle.stats().discarded_retries == 3 }).await;
    assert_eq!(function.batch_sizes(), [3, 3, 3], "the first try and two retries");
    assert_eq!(handle.stats().retries, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_older_than_the_maximum_record_age_are_discarded_as_record_age_exceeded() {
    let (_, stream) = table_with_items(2).await;
    let sqs = clients().sqs(REGION);
    let (url, arn) = queue_arn(&sqs).await;
    let function = Arc::new(FakeFunction::new(|_, _| Err("down".into())));
    let mut config = config(&stream);
    config.maximum_record_age = Some(Duration::from_secs(1));
    config.on_failure = Some(arn);
    let handle = engine(&function, &Outages::new()).start(config).unwrap();
    eventually(WAIT, "aged out", || async { handle.stats().discarded_age == 2 }).await;
    assert!(function.batch_sizes().len() >= 2, "retried (unbounded retries) until the records aged out");
    // Records age out oldest first, so the two may leave in one discard or two.
    let mut messages = Vec::new();
    for _ in 0..3 {
        messages.extend(received(&sqs, &url).await);
    }
    assert!(messages.iter().all(|m| m["requestContext"]["condition"] == "RecordAgeExceeded"));
    let discarded: i64 = messages.iter().map(|m| m["DDBStreamBatchInfo"]["batchSize"].as_i64().unwrap()).sum();
    assert_eq!(discarded, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_going_down_pauses_its_mappings_and_its_return_resumes_them_from_the_checkpoint() {
    let clients = clients();
    let table = unique("esm");
    let stream = create_table(&clients, REGION, &table).await;
    let function = Arc::new(FakeFunction::ok());
    let outages = Outages::new();
    let handle = engine(&function, &outages).start(config(&stream)).unwrap();
    put(&clients, REGION, &table, item("before", 1, &[])).await;
    eventually(WAIT, "delivered", || async { handle.stats().delivered == 1 }).await;
    outages.kill(REGION);
    put(&clients, REGION, &table, item("after", 1, &[])).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(handle.stats().delivered, 1, "nothing delivered while the region is down");
    outages.restore(REGION);
    eventually(WAIT, "delivered after the return", || async { handle.stats().delivered == 2 }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kinesis_records_arrive_in_lambdas_shape_and_s3_keeps_the_whole_discarded_invocation() {
    let clients = clients();
    let kinesis = clients.kinesis(REGION);
    let name = test_support::aws::create_stream(&kinesis, 1).await;
    let arn = format!("arn:aws:kinesis:{REGION}:123456789012:stream/{name}");
    for (key, body) in [
        ("a", json!({"order": {"type": "buy"}})),
        ("b", json!({"order": {"type": "sell"}})),
        ("c", json!({"order": {"type": "buy"}})),
    ] {
        let data = aws_sdk_kinesis::primitives::Blob::new(body.to_string());
        kinesis.put_record().stream_name(&name).partition_key(key).data(data).send().await.unwrap();
    }
    let s3 = clients.s3(REGION);
    let bucket = test_support::aws::create_bucket(&s3).await;
    let function = Arc::new(FakeFunction::new(|_, _| Err("rejected".into())));
    let mut config = config(&arn);
    config.filters = vec![json!({"data": {"order": {"type": ["buy"]}}}).to_string()];
    config.maximum_retry_attempts = Some(0);
    config.on_failure = Some(format!("arn:aws:s3:::{bucket}"));
    let uuid = config.uuid.clone();
    let handle = engine(&function, &Outages::new()).start(config).unwrap();
    eventually(WAIT, "discarded to S3", || async { handle.stats().destination_sent == 1 }).await;
    assert_eq!(handle.stats().filtered_out, 1, "the sell order");
    let event: aws_lambda_events::kinesis::KinesisEvent = serde_json::from_value(function.events()[0].clone()).unwrap();
    let record = &event.records[0];
    assert_eq!(record.kinesis.partition_key, "a");
    let shard = record.event_id.as_deref().unwrap().split_once(':').unwrap().0.to_owned();
    assert_eq!(record.event_id.clone().unwrap(), format!("{shard}:{}", record.kinesis.sequence_number));
    assert_eq!(
        (record.event_name.as_deref(), record.event_source.as_deref()),
        (Some("aws:kinesis:record"), Some("aws:kinesis"))
    );
    assert_eq!(record.kinesis.kinesis_schema_version.as_deref(), Some("1.0"));
    assert_eq!(serde_json::from_slice::<Value>(&record.kinesis.data.0).unwrap(), json!({"order": {"type": "buy"}}));
    assert!(function.events()[0]["Records"][0]["kinesis"]["approximateArrivalTimestamp"].as_f64().unwrap() > 1.0e9);
    let listed = s3.list_objects_v2().bucket(&bucket).send().await.unwrap();
    let key = listed.contents()[0].key().unwrap().to_owned();
    let prefix = format!("aws/lambda/{uuid}/{shard}/");
    assert!(key.starts_with(&prefix), "{key}");
    let rest: Vec<&str> = key[prefix.len()..].split('/').collect();
    assert_eq!(rest.len(), 4, "YYYY/MM/DD/<stamp>-<uuid>: {key}");
    assert!(rest[3].starts_with(&format!("{}-{}-{}T", rest[0], rest[1], rest[2])));
    let object = s3.get_object().bucket(&bucket).key(&key).send().await.unwrap();
    let body: Value = serde_json::from_slice(&object.body.collect().await.unwrap().into_bytes()).unwrap();
    assert_eq!(body["KinesisBatchInfo"]["batchSize"], 2);
    assert_eq!(body["KinesisBatchInfo"]["streamArn"], arn);
    assert_eq!(body["requestContext"]["condition"], "RetryAttemptsExhausted");
    assert_eq!(body["payload"], function.events()[0], "the whole invocation record");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lambda_api_and_the_template_give_the_same_configuration() {
    let clients = clients();
    let (_, stream) = table_with_items(0).await;
    let (_, queue) = queue_arn(&clients.sqs(REGION)).await;
    let lambda = clients.lambda(REGION);
    let function = unique("publisher");
    let role = create_role(&unique("publisher-role"));
    let empty_zip = aws_sdk_lambda::primitives::Blob::new(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec());
    lambda
        .create_function()
        .function_name(&function)
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .role(&role)
        .handler("bootstrap")
        .code(aws_sdk_lambda::types::FunctionCode::builder().zip_file(empty_zip).build())
        .send()
        .await
        .unwrap();
    let filters = contract::origin::filter_patterns(REGION);
    let template = json!({"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
        "FunctionName": {"Ref": "PublisherFunction"}, "EventSourceArn": {"Ref": "EventLogStreamArn"},
        "StartingPosition": "TRIM_HORIZON", "BatchSize": 100, "MaximumBatchingWindowInSeconds": 1,
        "BisectBatchOnFunctionError": true, "MaximumRetryAttempts": 5, "MaximumRecordAgeInSeconds": 3600,
        "ParallelizationFactor": 1, "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["PublisherSubscriptionDeadLetters", "Arn"]}}},
        "FilterCriteria": {"Filters": filters.iter().map(|p| json!({"Pattern": p})).collect::<Vec<_>>()},
        "Enabled": true}});
    let mut values = local::mapping::TemplateValues::default();
    values.parameters.insert("EventLogStreamArn".into(), stream.clone());
    values.physical_ids.insert("PublisherFunction".into(), function.clone());
    values.attributes.insert(("PublisherSubscriptionDeadLetters".into(), "Arn".into()), queue.clone());
    let created = lambda
        .create_event_source_mapping()
        .function_name(&function)
        .event_source_arn(&stream)
        .starting_position(aws_sdk_lambda::types::EventSourcePosition::TrimHorizon)
        .batch_size(100)
        .maximum_batching_window_in_seconds(1)
        .bisect_batch_on_function_error(true)
        .maximum_retry_attempts(5)
        .maximum_record_age_in_seconds(3600)
        .parallelization_factor(1)
        .function_response_types(aws_sdk_lambda::types::FunctionResponseType::ReportBatchItemFailures)
        .destination_config(
            aws_sdk_lambda::types::DestinationConfig::builder()
                .on_failure(aws_sdk_lambda::types::OnFailure::builder().destination(&queue).build())
                .build(),
        )
        .filter_criteria(
            aws_sdk_lambda::types::FilterCriteria::builder()
                .set_filters(Some(
                    filters.iter().map(|p| aws_sdk_lambda::types::Filter::builder().pattern(p).build()).collect(),
                ))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let uuid = created.uuid.unwrap();
    let listed = lambda.list_event_source_mappings().function_name(&function).send().await.unwrap();
    let from_api = MappingConfig::from_lambda(&listed.event_source_mappings()[0]).unwrap();
    let from_template =
        MappingConfig::from_template("PublisherSubscription", &template, uuid.clone(), &|v| values.resolve(v)).unwrap();
    assert_eq!(from_api, from_template);
    assert_eq!(from_api.uuid, uuid);
    assert_eq!(from_api.function_name, function);
    assert_eq!((from_api.batch_size, from_api.batching_window), (100, Duration::from_secs(1)));
    assert_eq!(
        (from_api.maximum_retry_attempts, from_api.maximum_record_age),
        (Some(5), Some(Duration::from_secs(3600)))
    );
    assert!(from_api.report_batch_item_failures && from_api.bisect_on_error);
    assert_eq!(from_api.on_failure.as_deref(), Some(queue.as_str()));
}

/// A role in the emulator's IAM (moto checks that a function's role exists), created with a
/// plain Query API request: the SDK's IAM client is not otherwise needed.
fn create_role(name: &str) -> String {
    use std::io::{Read, Write};
    let endpoint = test_support::endpoint().trim_start_matches("http://").to_owned();
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let encoded: String = policy
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    let body = format!("Action=CreateRole&Version=2010-05-08&RoleName={name}&AssumeRolePolicyDocument={encoded}");
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {endpoint}\r\nContent-Type: application/x-www-form-urlencoded\r\nAuthorization: AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut connection = std::net::TcpStream::connect(&endpoint).unwrap();
    connection.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    connection.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    format!("arn:aws:iam::123456789012:role/{name}")
}
