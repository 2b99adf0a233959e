//! Reads what the emulator's streams hold and turns it into the events Lambda would deliver:
//! the DynamoDB stream of the event log (for the publisher) and a Kinesis stream (for the
//! projectors). The emulator runs no event source mappings, so the tests play that part.

use serde_json::Value;

/// Every record of the table stream `stream_arn`, oldest first per shard, shaped like the
/// records of a Lambda DynamoDB event (read the way the publisher's replay reads it).
pub async fn dynamodb_stream_records(client: &aws_sdk_dynamodbstreams::Client, stream_arn: &str) -> Vec<Value> {
    publisher::replay::stream_records(client, stream_arn).await.expect("reading the table stream")
}

pub use publisher::replay::PublishedRecord as StreamEntry;

/// Every record of Kinesis stream `name`, oldest first per shard.
pub async fn kinesis_records(client: &aws_sdk_kinesis::Client, name: &str) -> Vec<StreamEntry> {
    publisher::replay::kinesis_records(client, name).await.expect("reading the Kinesis stream")
}
