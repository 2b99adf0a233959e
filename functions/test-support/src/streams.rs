//! Reads what the emulator's streams hold and turns it into the events Lambda would deliver:
//! the DynamoDB stream of the event log (for the publisher) and a Kinesis stream (for the
//! projectors). The emulator runs no event source mappings, so the tests play that part.

use aws_sdk_kinesis::types::ShardIteratorType as KinesisIteratorType;
use serde_json::Value;

/// Upper bound on GetRecords calls per shard, so a misbehaving emulator cannot hang a test.
const MAX_READS_PER_SHARD: usize = 200;

/// Every record of the table stream `stream_arn`, oldest first per shard, shaped like the
/// records of a Lambda DynamoDB event (read the way the publisher's replay reads it).
pub async fn dynamodb_stream_records(client: &aws_sdk_dynamodbstreams::Client, stream_arn: &str) -> Vec<Value> {
    publisher::replay::stream_records(client, stream_arn).await.expect("reading the table stream")
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
