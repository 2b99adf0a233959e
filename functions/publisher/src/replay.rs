//! Reads an event-log replica's stream the way Lambda's event source mapping delivers it: every
//! record, oldest first per shard, shaped as a DynamoDB event for [`crate::Publisher::handle`].
//! For where no mapping runs: the local emulator (the demo and the tests) and re-driving records
//! by shard and sequence number after a failure. [`kinesis_records`] reads back what was
//! published.

use aws_lambda_events::dynamodb::Event as DynamoDbEvent;
use aws_sdk_dynamodbstreams::Client;
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use domain::item::{AGGREGATE_KEY, AttributeMap};
use domain::stream_image::image_json;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Upper bound on GetRecords calls per shard, so a misbehaving endpoint cannot loop forever.
const MAX_READS_PER_SHARD: usize = 1_000;

/// Why a stream could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// A DynamoDB Streams or Kinesis call failed.
    #[error("{operation} on {stream} failed: {message}")]
    Call {
        /// The API operation.
        operation: &'static str,
        /// The stream's ARN or name.
        stream: String,
        /// What the service said.
        message: String,
    },
    /// The records do not form a Lambda DynamoDB event (an SDK or service bug).
    #[error("the stream records do not form a DynamoDB event: {0}")]
    Shape(#[from] serde_json::Error),
}

/// Every record of the table stream `stream_arn` as one DynamoDB event.
pub async fn table_stream_event(client: &Client, stream_arn: &str) -> Result<DynamoDbEvent, ReplayError> {
    let records = stream_records(client, stream_arn).await?;
    Ok(serde_json::from_value(json!({ "Records": records }))?)
}

/// Every record of the table stream `stream_arn`, oldest first per shard, each shaped like a
/// record of a Lambda DynamoDB event.
pub async fn stream_records(client: &Client, stream_arn: &str) -> Result<Vec<Value>, ReplayError> {
    let described =
        client.describe_stream().stream_arn(stream_arn).send().await.map_err(failed("DescribeStream", stream_arn))?;
    let shards = described.stream_description().map(|d| d.shards().to_vec()).unwrap_or_default();
    let mut records = Vec::new();
    for shard in shards {
        let iterator = client
            .get_shard_iterator()
            .stream_arn(stream_arn)
            .shard_id(shard.shard_id().unwrap_or_default())
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .map_err(failed("GetShardIterator", stream_arn))?;
        let mut next = iterator.shard_iterator;
        for _ in 0..MAX_READS_PER_SHARD {
            let Some(current) = next.take() else { break };
            let page =
                client.get_records().shard_iterator(current).send().await.map_err(failed("GetRecords", stream_arn))?;
            if page.records().is_empty() {
                break;
            }
            records.extend(page.records().iter().map(|r| lambda_record(r, stream_arn)));
            next = page.next_shard_iterator;
        }
    }
    Ok(records)
}

/// One record read back from a Kinesis stream.
#[derive(Debug, Clone)]
pub struct PublishedRecord {
    /// Partition key.
    pub partition_key: String,
    /// Sequence number.
    pub sequence_number: String,
    /// The data.
    pub data: Vec<u8>,
}

/// Every record of Kinesis stream `stream` (name), oldest first per shard.
pub async fn kinesis_records(
    client: &aws_sdk_kinesis::Client,
    stream: &str,
) -> Result<Vec<PublishedRecord>, ReplayError> {
    use aws_sdk_kinesis::types::ShardIteratorType;
    let listed = client.list_shards().stream_name(stream).send().await.map_err(failed("ListShards", stream))?;
    let mut records = Vec::new();
    for shard in listed.shards() {
        let iterator = client
            .get_shard_iterator()
            .stream_name(stream)
            .shard_id(shard.shard_id())
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .map_err(failed("GetShardIterator", stream))?;
        let mut next = iterator.shard_iterator;
        for _ in 0..MAX_READS_PER_SHARD {
            let Some(current) = next.take() else { break };
            let page =
                client.get_records().shard_iterator(current).send().await.map_err(failed("GetRecords", stream))?;
            if page.records.is_empty() {
                break;
            }
            records.extend(page.records.into_iter().map(|r| PublishedRecord {
                partition_key: r.partition_key,
                sequence_number: r.sequence_number,
                data: r.data.into_inner(),
            }));
            next = page.next_shard_iterator;
        }
    }
    Ok(records)
}

/// Turns an SDK error of `operation` into a [`ReplayError`] with the service's full message.
fn failed<E: std::error::Error>(operation: &'static str, stream: &str) -> impl FnOnce(E) -> ReplayError {
    let stream = stream.to_owned();
    move |error| ReplayError::Call {
        operation,
        stream,
        message: aws_sdk_dynamodbstreams::error::DisplayErrorContext(&error).to_string(),
    }
}

/// Keeps only the records of the aggregates whose ids are in `ids` (e.g. what one run wrote).
pub fn retain_aggregates(event: &mut DynamoDbEvent, ids: &BTreeSet<String>) {
    event.records.retain(|record| {
        let key = record.change.keys.string(AGGREGATE_KEY);
        key.and_then(|k| k.split_once('#')).is_some_and(|(_, id)| ids.contains(id))
    });
}

fn lambda_record(record: &Record, arn: &str) -> Value {
    let mut dynamodb = json!({});
    if let Some(change) = &record.dynamodb {
        dynamodb = json!({
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
