//! Reads what the emulator's streams hold and turns it into the events Lambda would deliver:
//! the DynamoDB stream of the event log (for the publisher) and a Kinesis stream (for the
//! projectors). The emulator runs no event source mappings, so the tests play that part.

use aws_sdk_dynamodbstreams::types::{AttributeValue, ShardIteratorType};
use aws_sdk_kinesis::types::ShardIteratorType as KinesisIteratorType;
use base64::Engine;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// Upper bound on GetRecords calls per shard, so a misbehaving emulator cannot hang a test.
const MAX_READS_PER_SHARD: usize = 200;

fn attribute_json(value: &AttributeValue) -> Value {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    match value {
        AttributeValue::S(s) => json!({"S": s}),
        AttributeValue::N(n) => json!({"N": n}),
        AttributeValue::Bool(b) => json!({"BOOL": b}),
        AttributeValue::Null(b) => json!({"NULL": b}),
        AttributeValue::B(b) => json!({"B": b64(b.as_ref())}),
        AttributeValue::Ss(v) => json!({"SS": v}),
        AttributeValue::Ns(v) => json!({"NS": v}),
        AttributeValue::Bs(v) => json!({"BS": v.iter().map(|b| b64(b.as_ref())).collect::<Vec<_>>()}),
        AttributeValue::M(m) => json!({"M": image_json(m)}),
        AttributeValue::L(l) => json!({"L": l.iter().map(attribute_json).collect::<Vec<_>>()}),
        _ => json!({"NULL": true}),
    }
}

fn image_json(image: &HashMap<String, AttributeValue>) -> Value {
    Value::Object(image.iter().map(|(k, v)| (k.clone(), attribute_json(v))).collect::<Map<_, _>>())
}

/// Every record of the table stream `stream_arn`, oldest first per shard, shaped like the
/// records of a Lambda DynamoDB event.
pub async fn dynamodb_stream_records(client: &aws_sdk_dynamodbstreams::Client, stream_arn: &str) -> Vec<Value> {
    let description = client
        .describe_stream()
        .stream_arn(stream_arn)
        .send()
        .await
        .expect("describing the table stream")
        .stream_description
        .expect("the stream has a description");
    let mut records = Vec::new();
    for shard in description.shards() {
        let mut iterator = client
            .get_shard_iterator()
            .stream_arn(stream_arn)
            .shard_id(shard.shard_id().unwrap_or_default())
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .expect("getting a shard iterator")
            .shard_iterator;
        for _ in 0..MAX_READS_PER_SHARD {
            let Some(current) = iterator.take() else { break };
            let page = client.get_records().shard_iterator(current).send().await.expect("reading the table stream");
            if page.records().is_empty() {
                break;
            }
            records.extend(page.records().iter().map(|r| lambda_record(r, stream_arn)));
            iterator = page.next_shard_iterator;
        }
    }
    records
}

fn lambda_record(record: &aws_sdk_dynamodbstreams::types::Record, arn: &str) -> Value {
    let change = record.dynamodb.as_ref().expect("a stream record has a change");
    let mut dynamodb = json!({
        "ApproximateCreationDateTime": change.approximate_creation_date_time.map_or(0.0, |t| t.as_secs_f64()),
        "Keys": change.keys.as_ref().map_or(json!({}), image_json),
        "SequenceNumber": change.sequence_number,
        "SizeBytes": change.size_bytes.unwrap_or(0),
        "StreamViewType": change.stream_view_type.as_ref().map(|v| v.as_str()),
    });
    if let Some(new) = &change.new_image {
        dynamodb["NewImage"] = image_json(new);
    }
    if let Some(old) = &change.old_image {
        dynamodb["OldImage"] = image_json(old);
    }
    json!({
        "eventID": record.event_id,
        "eventName": record.event_name.as_ref().map(|n| n.as_str()),
        "eventVersion": record.event_version,
        "eventSource": record.event_source,
        "awsRegion": record.aws_region,
        "dynamodb": dynamodb,
        "eventSourceARN": arn,
    })
}

/// One record read back from a Kinesis stream.
#[derive(Debug, Clone)]
pub struct StreamEntry {
    /// Partition key.
    pub partition_key: String,
    /// Sequence number.
    pub sequence_number: String,
    /// The data.
    pub data: Vec<u8>,
}

/// Every record of Kinesis stream `name`, oldest first per shard.
pub async fn kinesis_records(client: &aws_sdk_kinesis::Client, name: &str) -> Vec<StreamEntry> {
    let shards =
        client.list_shards().stream_name(name).send().await.expect("listing shards").shards.unwrap_or_default();
    let mut entries = Vec::new();
    for shard in shards {
        let mut iterator = client
            .get_shard_iterator()
            .stream_name(name)
            .shard_id(shard.shard_id)
            .shard_iterator_type(KinesisIteratorType::TrimHorizon)
            .send()
            .await
            .expect("getting a Kinesis shard iterator")
            .shard_iterator;
        for _ in 0..MAX_READS_PER_SHARD {
            let Some(current) = iterator.take() else { break };
            let page = client.get_records().shard_iterator(current).send().await.expect("reading the Kinesis stream");
            if page.records.is_empty() {
                break;
            }
            entries.extend(page.records.into_iter().map(|r| StreamEntry {
                partition_key: r.partition_key,
                sequence_number: r.sequence_number,
                data: r.data.into_inner(),
            }));
            iterator = page.next_shard_iterator;
        }
    }
    entries
}
