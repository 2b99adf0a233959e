//! Real-shaped Lambda events: DynamoDB stream records, Kinesis records and API Gateway v2 HTTP
//! requests, built from the JSON Lambda delivers (see `fixtures/*.json`, captured from the AWS
//! documentation) so the handlers are fed exactly what they get in production.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use aws_lambda_events::dynamodb::{Event as DynamoDbEvent, EventRecord as DynamoDbRecord};
use aws_lambda_events::kinesis::{KinesisEvent, KinesisEventRecord};
use base64::Engine;
use domain::EventItem;
use serde_json::{Value, json};

/// A DynamoDB stream event as the AWS documentation shows it (INSERT, MODIFY, REMOVE).
pub const DYNAMODB_STREAM_SAMPLE: &str = include_str!("../fixtures/dynamodb-stream-event.json");
/// A Kinesis event as the AWS documentation shows it.
pub const KINESIS_SAMPLE: &str = include_str!("../fixtures/kinesis-event.json");
/// An API Gateway HTTP API (payload 2.0) request as the AWS documentation shows it.
pub const API_GATEWAY_V2_SAMPLE: &str = include_str!("../fixtures/apigw-v2-request.json");

/// What changed in a stream record.
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    /// A new item.
    Insert(&'a EventItem),
    /// `old` overwritten by `new` (global-table last-writer-wins).
    Modify {
        /// The image before.
        old: &'a EventItem,
        /// The image after.
        new: &'a EventItem,
    },
    /// The item was deleted.
    Remove(&'a EventItem),
}

/// One DynamoDB stream record with stream sequence number `sequence_number`.
pub fn stream_record(change: Change<'_>, sequence_number: u64) -> Value {
    let (name, old, new) = match change {
        Change::Insert(new) => ("INSERT", None, Some(new)),
        Change::Modify { old, new } => ("MODIFY", Some(old), Some(new)),
        Change::Remove(old) => ("REMOVE", Some(old), None),
    };
    let item = new.or(old).expect("every change has an image");
    let image = |item: Option<&EventItem>| item.map(|i| json!(i.to_stream_image()));
    let mut dynamodb = json!({
        "ApproximateCreationDateTime": 1_767_322_245.0,
        "Keys": {
            "AggregateTypeAndId": {"S": item.aggregate_key},
            "AggregateIdSequence": {"N": item.sequence.to_string()},
        },
        "SequenceNumber": format!("{sequence_number:021}"),
        "SizeBytes": 412,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    });
    if let Some(new) = image(new) {
        dynamodb["NewImage"] = new;
    }
    if let Some(old) = image(old) {
        dynamodb["OldImage"] = old;
    }
    json!({
        "eventID": format!("{:032x}", sequence_number),
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": item.origin_region,
        "dynamodb": dynamodb,
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/orders-events/stream/2026-01-01T00:00:00.000",
    })
}

/// The event Lambda passes for `records`.
pub fn dynamodb_event(records: Vec<Value>) -> DynamoDbEvent {
    serde_json::from_value(json!({ "Records": records })).expect("a valid DynamoDB stream event")
}

/// One stream record, typed.
pub fn dynamodb_record(change: Change<'_>, sequence_number: u64) -> DynamoDbRecord {
    serde_json::from_value(stream_record(change, sequence_number)).expect("a valid stream record")
}

/// One Kinesis record carrying `data`, with partition key `key` and sequence number `sequence`.
pub fn kinesis_record(data: &[u8], key: &str, sequence: &str) -> Value {
    json!({
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": key,
            "sequenceNumber": sequence,
            "data": base64::engine::general_purpose::STANDARD.encode(data),
            "approximateArrivalTimestamp": 1_767_322_245.123,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": format!("shardId-000000000000:{sequence}"),
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/orders-projector",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/orders-events",
    })
}

/// The Kinesis event Lambda passes for `records`.
pub fn kinesis_event(records: Vec<Value>) -> KinesisEvent {
    serde_json::from_value(json!({ "Records": records })).expect("a valid Kinesis event")
}

/// Typed Kinesis record.
pub fn kinesis_event_record(data: &[u8], key: &str, sequence: &str) -> KinesisEventRecord {
    serde_json::from_value(kinesis_record(data, key, sequence)).expect("a valid Kinesis record")
}

/// An HTTP API request for `route_key` (`POST /tasks/{id}/commands`) on `path`, with an
/// optional JSON body and the `{id}` path parameter when the route has one.
pub fn http_request(route_key: &str, path: &str, body: Option<&str>) -> ApiGatewayV2httpRequest {
    let (method, _) = route_key.split_once(' ').expect("route key is `METHOD /path`");
    let mut request: Value = serde_json::from_str(API_GATEWAY_V2_SAMPLE).expect("sample parses");
    request["routeKey"] = json!(route_key);
    request["rawPath"] = json!(path);
    request["requestContext"]["routeKey"] = json!(route_key);
    request["requestContext"]["http"]["method"] = json!(method);
    request["requestContext"]["http"]["path"] = json!(path);
    request["body"] = body.map_or(Value::Null, |b| json!(b));
    request["isBase64Encoded"] = json!(false);
    request["pathParameters"] = if route_key.contains("{id}") {
        let id = path.split('/').nth(2).unwrap_or_default();
        json!({ "id": id })
    } else {
        Value::Null
    };
    serde_json::from_value(request).expect("a valid HTTP API request")
}

/// Event `sequence` of task `id` recorded in `origin`: `TaskCreated` first, then renames.
pub fn task_event(id: &str, sequence: u64, origin: &str) -> EventItem {
    let (event_type, payload) = if sequence == 1 {
        ("TaskCreated", format!(r#"{{"title":"task {id}"}}"#))
    } else {
        ("TaskRenamed", format!(r#"{{"title":"task {id} v{sequence}"}}"#))
    };
    EventItem {
        aggregate_key: format!("Task#{id}"),
        sequence,
        event_id: format!("{:08x}-0000-7000-8000-{:012x}", sequence, fnv(id)),
        event_type: event_type.to_owned(),
        event_version: 1,
        payload,
        origin_region: origin.to_owned(),
        recorded_at: "2026-01-02T03:04:05.678Z".to_owned(),
        command_id: format!("cmd-{id}-{sequence}"),
    }
}

/// A small stable hash, so fixture event ids differ per aggregate.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
        & 0xffff_ffff_ffff
}
