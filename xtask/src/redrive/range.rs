//! Reading a failed batch's range back from its stream for `redrive` of SQS pointers, with the
//! local runtime's shard reader (`local::streams::ShardCursor`, the one reader of DynamoDB
//! Streams and Kinesis shards) and shaped by its `local::mapping::payload`, exactly as the
//! mapping delivered it. The range is whole only when its first and last sequence numbers are
//! both still in the shard.

use anyhow::{Context, Result};
use engine::redrive::pointer::{BoxFuture, Retained, StreamRange};
use engine::redrive::record::{BatchInfo, Source};
use local::clients::Clients;
use local::mapping::payload::{Delivery, Origin, delivery, event};
use local::streams::{ShardCursor, StartAt, Stream};
use std::cmp::Ordering;
use std::collections::BTreeSet;

/// Upper bound on reads of one shard.
const MAX_READS: usize = 10_000;

/// Streams read through `clients`.
#[derive(Debug, Clone)]
pub struct ShardRange {
    clients: Clients,
}

impl ShardRange {
    /// A reader with `clients` (the session's configuration).
    pub fn new(clients: Clients) -> ShardRange {
        ShardRange { clients }
    }
}

/// Orders two sequence numbers (decimal strings of any length).
fn compare(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// The aggregate (`Task#<id>`) of a record in its Lambda shape.
fn aggregate(record: &serde_json::Value, source: Source) -> Option<String> {
    let key = match source {
        Source::DynamoDb => &record["dynamodb"]["Keys"][contract::event_log::AGGREGATE_KEY]["S"],
        Source::Kinesis => &record["kinesis"]["partitionKey"],
    };
    key.as_str().map(str::to_owned)
}

impl StreamRange for ShardRange {
    fn read<'a>(&'a self, source: Source, batch: &'a BatchInfo) -> BoxFuture<'a, Result<Retained>> {
        Box::pin(async move {
            let stream = Stream::from_arn(&self.clients, &batch.stream_arn)
                .with_context(|| format!("{} is not a DynamoDB or Kinesis stream ARN", batch.stream_arn))?;
            let region = stream.region().to_owned();
            let origin = Origin { stream_arn: &batch.stream_arn, region: &region, shard_id: &batch.shard_id };
            let mut cursor = ShardCursor::new(stream, batch.shard_id.clone(), StartAt::TrimHorizon);
            let (start, end) = (&batch.start_sequence_number, &batch.end_sequence_number);
            let mut in_range: Vec<Delivery> = Vec::new();
            'reading: for _ in 0..MAX_READS {
                let page = match cursor.read(cursor.max_per_read()).await {
                    Ok(page) => page,
                    // The shard itself is gone (trimmed past its end, or deleted with its stream).
                    Err(error) if error.message.contains("ResourceNotFound") => break,
                    Err(error) => return Err(error).context("re-reading the batch's range"),
                };
                if page.is_empty() {
                    break;
                }
                for record in &page {
                    if compare(&record.sequence_number, end) == Ordering::Greater {
                        break 'reading;
                    }
                    if compare(&record.sequence_number, start) != Ordering::Less {
                        in_range.push(delivery(record, &origin));
                    }
                }
                if cursor.is_finished() {
                    break;
                }
            }
            let whole = in_range.first().is_some_and(|d| &d.sequence_number == start)
                && in_range.last().is_some_and(|d| &d.sequence_number == end);
            if whole {
                return Ok(Retained::Whole(event(&in_range)));
            }
            let aggregates: BTreeSet<String> = in_range.iter().filter_map(|d| aggregate(&d.record, source)).collect();
            Ok(Retained::Gone(aggregates))
        })
    }
}
