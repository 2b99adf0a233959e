//! SDK clients for the emulator (dummy credentials set on the config, never the environment's)
//! and resources shaped like the stacks' contract, each under a unique name so tests can share
//! one server in parallel.

use crate::emulator::endpoint;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType,
};
use contract::event_log::{AGGREGATE_KEY, BY_ORIGIN_INDEX, ORIGIN_SHARD, RECORDED_AT, SEQUENCE_KEY};
use contract::idempotency;
use contract::read_model::PROJECTED_BY;
use std::time::Duration;

/// The region tests run in unless they say otherwise.
pub const REGION: &str = "us-east-1";

/// `prefix-<random>`: a name no other test uses.
pub fn unique(prefix: &str) -> String {
    let id = uuid::Uuid::now_v7().simple().to_string();
    format!("{prefix}-{}", &id[id.len() - 12..])
}

/// SDK configuration for the emulator in `region`.
pub fn sdk_config(region: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint())
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new("test", "test", None, None, "kit-tests")))
        .http_client(domain::runtime::https_client())
        .build()
}

/// DynamoDB client.
pub fn dynamodb() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_config(REGION))
}

/// DynamoDB Streams client.
pub fn streams() -> aws_sdk_dynamodbstreams::Client {
    aws_sdk_dynamodbstreams::Client::new(&sdk_config(REGION))
}

/// Kinesis client.
pub fn kinesis() -> aws_sdk_kinesis::Client {
    aws_sdk_kinesis::Client::new(&sdk_config(REGION))
}

/// S3 client with path-style addressing (the emulator has no per-bucket host names).
pub fn s3() -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(&sdk_config(REGION)).force_path_style(true).build();
    aws_sdk_s3::Client::from_conf(config)
}

/// SQS client.
pub fn sqs() -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&sdk_config(REGION))
}

/// SSM client.
pub fn ssm() -> aws_sdk_ssm::Client {
    aws_sdk_ssm::Client::new(&sdk_config(REGION))
}

fn attribute(name: &str, kind: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(kind)
        .build()
        .expect("attribute definition has its required fields")
}

fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .expect("key schema element has its required fields")
}

/// The event log as the data stack defines it (keys, the origin index, NEW_AND_OLD_IMAGES
/// stream). Returns the table name and its stream ARN.
pub async fn create_event_log(client: &aws_sdk_dynamodb::Client) -> (String, String) {
    let name = unique("events");
    let index = GlobalSecondaryIndex::builder()
        .index_name(BY_ORIGIN_INDEX)
        .key_schema(key(ORIGIN_SHARD, KeyType::Hash))
        .key_schema(key(RECORDED_AT, KeyType::Range))
        .projection(Projection::builder().projection_type(ProjectionType::All).build())
        .build()
        .expect("index has its required fields");
    let output = client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(AGGREGATE_KEY, ScalarAttributeType::S))
        .attribute_definitions(attribute(SEQUENCE_KEY, ScalarAttributeType::N))
        .attribute_definitions(attribute(ORIGIN_SHARD, ScalarAttributeType::S))
        .attribute_definitions(attribute(RECORDED_AT, ScalarAttributeType::S))
        .key_schema(key(AGGREGATE_KEY, KeyType::Hash))
        .key_schema(key(SEQUENCE_KEY, KeyType::Range))
        .global_secondary_indexes(index)
        .stream_specification(new_and_old_images())
        .send()
        .await
        .expect("creating the event log table in the emulator");
    let arn =
        output.table_description().and_then(|t| t.latest_stream_arn()).expect("the event log has a stream").to_owned();
    (name, arn)
}

/// A table with the string hash key `hash` and, if given, the string range key `range`
/// (idempotency: `Key`; read model: `AggregateTypeAndId` and `ProjectedBy`).
pub async fn create_keyed_table(
    client: &aws_sdk_dynamodb::Client,
    prefix: &str,
    hash: &str,
    range: Option<&str>,
) -> String {
    let name = unique(prefix);
    let mut request = client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(hash, ScalarAttributeType::S))
        .key_schema(key(hash, KeyType::Hash));
    if let Some(range) = range {
        request = request
            .attribute_definitions(attribute(range, ScalarAttributeType::S))
            .key_schema(key(range, KeyType::Range));
    }
    request.send().await.expect("creating a table in the emulator");
    name
}

/// A stream with new and old images, as every table of the stacks has.
fn new_and_old_images() -> StreamSpecification {
    StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::NewAndOldImages)
        .build()
        .expect("stream specification has its required fields")
}

/// A table `name` with the single string hash key `hash` and a stream with new and old images
/// (as the event log has); its stream's ARN.
pub async fn create_streamed_table(client: &aws_sdk_dynamodb::Client, name: &str, hash: &str) -> String {
    let output = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(hash, ScalarAttributeType::S))
        .key_schema(key(hash, KeyType::Hash))
        .stream_specification(new_and_old_images())
        .send()
        .await
        .expect("creating a table with a stream in the emulator");
    output.table_description().and_then(|t| t.latest_stream_arn()).expect("the table has a stream").to_owned()
}

/// The idempotency table.
pub async fn create_idempotency_table(client: &aws_sdk_dynamodb::Client) -> String {
    create_keyed_table(client, "idempotency", idempotency::KEY, None).await
}

/// A read-model table: a row per task and writing region, as the data stack declares it.
pub async fn create_view_table(client: &aws_sdk_dynamodb::Client) -> String {
    create_keyed_table(client, "views", AGGREGATE_KEY, Some(PROJECTED_BY)).await
}

/// An on-demand Kinesis stream, waited for until ACTIVE (bounded). Returns its name.
pub async fn create_stream(client: &aws_sdk_kinesis::Client, shards: i32) -> String {
    let name = unique("stream");
    client
        .create_stream()
        .stream_name(&name)
        .shard_count(shards)
        .send()
        .await
        .expect("creating a Kinesis stream in the emulator");
    for _ in 0..100 {
        let status = client
            .describe_stream_summary()
            .stream_name(&name)
            .send()
            .await
            .expect("describing the stream")
            .stream_description_summary
            .map(|s| s.stream_status);
        if status == Some(aws_sdk_kinesis::types::StreamStatus::Active) {
            return name;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("stream {name} did not become ACTIVE");
}

/// A bucket.
pub async fn create_bucket(client: &aws_sdk_s3::Client) -> String {
    let name = unique("audit");
    client.create_bucket().bucket(&name).send().await.expect("creating a bucket in the emulator");
    name
}

/// A queue; returns its URL.
pub async fn create_queue(client: &aws_sdk_sqs::Client) -> String {
    client
        .create_queue()
        .queue_name(unique("conflicts"))
        .send()
        .await
        .expect("creating a queue in the emulator")
        .queue_url
        .expect("the queue has a URL")
}
