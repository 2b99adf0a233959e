//! The records Lambda delivers, shaped exactly as its stream events are (developer guide, "Using
//! AWS Lambda with Amazon DynamoDB" and "Using AWS Lambda with Amazon Kinesis", example events):
//!
//! - DynamoDB: `eventID`, `eventName`, `eventVersion`, `eventSource` `aws:dynamodb`,
//!   `awsRegion`, `eventSourceARN`, and `dynamodb` with `ApproximateCreationDateTime` (Unix
//!   seconds, which DynamoDB Streams rounds down to the second), `Keys`, `NewImage`/`OldImage`
//!   as the stream view carries them, `SequenceNumber`, `SizeBytes`, `StreamViewType`;
//! - Kinesis: `kinesis` with `kinesisSchemaVersion` `1.0`, `partitionKey`, `sequenceNumber`,
//!   base64 `data`, `approximateArrivalTimestamp` (Unix seconds with milliseconds), and
//!   `eventSource` `aws:kinesis`, `eventVersion` `1.0`, `eventID` `<shardId>:<sequenceNumber>`,
//!   `eventName` `aws:kinesis:record`, `awsRegion`, `eventSourceARN`.
//!
//! Functions read these with `aws_lambda_events` (`dynamodb::Event`, `kinesis::KinesisEvent`);
//! the tests check that every payload parses as those types.

use crate::attributes::image_json;
use crate::streams::{RecordBody, StreamRecord};
use base64::Engine;
use serde_json::{Map, Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

/// One record ready to deliver: its Lambda shape and what batching needs.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The record's sequence number (its `itemIdentifier` in a batch item failure).
    pub sequence_number: String,
    /// When the record reached the stream (its age counts from here).
    pub arrival: SystemTime,
    /// The record as Lambda puts it in `Records`.
    pub record: Value,
    /// The record's JSON size, toward the 6 MB invocation payload limit.
    pub size: usize,
}

/// Where records come from, for the fields every record repeats.
#[derive(Debug, Clone)]
pub struct Origin<'a> {
    /// The stream ARN (`eventSourceARN`).
    pub stream_arn: &'a str,
    /// The stream's region (`awsRegion`).
    pub region: &'a str,
    /// The shard (in a Kinesis `eventID`).
    pub shard_id: &'a str,
}

/// The Lambda record for `record`.
pub fn delivery(record: &StreamRecord, origin: &Origin<'_>) -> Delivery {
    let value = match &record.body {
        RecordBody::DynamoDb(change) => dynamodb_record(change, origin),
        RecordBody::Kinesis(data) => kinesis_record(data, origin),
    };
    let size = value.to_string().len();
    Delivery { sequence_number: record.sequence_number.clone(), arrival: record.arrival, record: value, size }
}

fn dynamodb_record(record: &aws_sdk_dynamodbstreams::types::Record, origin: &Origin<'_>) -> Value {
    let mut change = Map::new();
    if let Some(stream) = &record.dynamodb {
        if let Some(created) = stream.approximate_creation_date_time {
            change.insert("ApproximateCreationDateTime".into(), json!(created.secs()));
        }
        change.insert("Keys".into(), stream.keys.as_ref().map_or(json!({}), image_json));
        if let Some(new) = &stream.new_image {
            change.insert("NewImage".into(), image_json(new));
        }
        if let Some(old) = &stream.old_image {
            change.insert("OldImage".into(), image_json(old));
        }
        change.insert("SequenceNumber".into(), json!(stream.sequence_number));
        change.insert("SizeBytes".into(), json!(stream.size_bytes.unwrap_or(0)));
        if let Some(view) = &stream.stream_view_type {
            change.insert("StreamViewType".into(), json!(view.as_str()));
        }
    }
    json!({
        "eventID": record.event_id,
        "eventName": record.event_name.as_ref().map(|n| n.as_str()),
        "eventVersion": record.event_version.as_deref().unwrap_or("1.1"),
        "eventSource": record.event_source.as_deref().unwrap_or("aws:dynamodb"),
        "awsRegion": record.aws_region.as_deref().unwrap_or(origin.region),
        "dynamodb": Value::Object(change),
        "eventSourceARN": origin.stream_arn,
    })
}

fn kinesis_record(record: &aws_sdk_kinesis::types::Record, origin: &Origin<'_>) -> Value {
    let data = base64::engine::general_purpose::STANDARD.encode(record.data.as_ref());
    let arrival = record.approximate_arrival_timestamp.map_or(0.0, |t| (t.as_secs_f64() * 1000.0).floor() / 1000.0);
    json!({
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record.partition_key,
            "sequenceNumber": record.sequence_number,
            "data": data,
            "approximateArrivalTimestamp": arrival,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": format!("{}:{}", origin.shard_id, record.sequence_number),
        "eventName": "aws:kinesis:record",
        "awsRegion": origin.region,
        "eventSourceARN": origin.stream_arn,
    })
}

/// What filters match for `delivery`, and whether its data property is JSON (always, for
/// DynamoDB). A Kinesis record is matched as its `kinesis` fields with `data` decoded.
pub fn filter_document(delivery: &Delivery) -> (Value, bool) {
    let Some(kinesis) = delivery.record.get("kinesis") else { return (delivery.record.clone(), true) };
    let mut document = kinesis.clone();
    let decoded = kinesis["data"]
        .as_str()
        .and_then(|d| base64::engine::general_purpose::STANDARD.decode(d).ok())
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
    let data_is_json = decoded.is_some();
    match decoded {
        Some(data) => document["data"] = data,
        None => {
            if let Some(fields) = document.as_object_mut() {
                fields.remove("data");
            }
        }
    }
    (document, data_is_json)
}

/// The invocation payload: `{"Records": [...]}`.
pub fn event(batch: &[Delivery]) -> Value {
    json!({ "Records": batch.iter().map(|d| d.record.clone()).collect::<Vec<_>>() })
}

/// Seconds since the Unix epoch.
pub fn unix_seconds(at: SystemTime) -> f64 {
    at.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}
