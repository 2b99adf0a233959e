//! DynamoDB Streams: `DescribeStream` (paged by `ExclusiveStartShardId`), `GetShardIterator`
//! and `GetRecords` (at most 1,000 records a call: DynamoDB Streams API reference, GetRecords).

use super::{ShardInfo, StartAt, StreamError, StreamRecord};
use aws_sdk_dynamodbstreams::Client;
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Most records one `GetRecords` returns.
pub(super) const MAX_RECORDS_PER_READ: i32 = 1_000;
/// Upper bound on `DescribeStream` pages, so a misbehaving endpoint cannot loop forever.
const MAX_PAGES: usize = 1_000;

fn failed<E: std::error::Error>(operation: &'static str, arn: &str) -> impl FnOnce(E) -> StreamError {
    let stream = arn.to_owned();
    move |error| StreamError {
        operation,
        stream,
        message: aws_sdk_dynamodbstreams::error::DisplayErrorContext(&error).to_string(),
    }
}

pub(super) async fn shards(client: &Client, arn: &str) -> Result<Vec<ShardInfo>, StreamError> {
    let mut shards = Vec::new();
    let mut start: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let described = client
            .describe_stream()
            .stream_arn(arn)
            .set_exclusive_start_shard_id(start.take())
            .send()
            .await
            .map_err(failed("DescribeStream", arn))?;
        let Some(description) = described.stream_description else { break };
        for shard in description.shards.unwrap_or_default() {
            let Some(id) = shard.shard_id else { continue };
            shards.push(ShardInfo { id, parents: shard.parent_shard_id.into_iter().collect() });
        }
        start = description.last_evaluated_shard_id;
        if start.is_none() {
            break;
        }
    }
    Ok(shards)
}

pub(super) async fn iterator(
    client: &Client,
    arn: &str,
    shard: &str,
    start: &StartAt,
) -> Result<Option<String>, StreamError> {
    let request = client.get_shard_iterator().stream_arn(arn).shard_id(shard);
    let request = match start {
        // DynamoDB Streams has no AT_TIMESTAMP; Lambda rejects it for DynamoDB sources.
        StartAt::TrimHorizon | StartAt::AtTimestamp(_) => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        StartAt::Latest => request.shard_iterator_type(ShardIteratorType::Latest),
        StartAt::AfterSequence(sequence) => {
            request.shard_iterator_type(ShardIteratorType::AfterSequenceNumber).sequence_number(sequence)
        }
    };
    Ok(request.send().await.map_err(failed("GetShardIterator", arn))?.shard_iterator)
}

/// One page: the records and the next iterator (`None` once a closed shard is read to its end),
/// or `Err(None)` when the iterator expired.
pub(super) async fn read(
    client: &Client,
    arn: &str,
    iterator: &str,
    limit: i32,
) -> Result<(Vec<StreamRecord>, Option<String>), Option<StreamError>> {
    let page = client.get_records().shard_iterator(iterator).limit(limit.clamp(1, MAX_RECORDS_PER_READ)).send().await;
    let page = match page {
        Ok(page) => page,
        Err(error) if error.as_service_error().is_some_and(|e| e.is_expired_iterator_exception()) => return Err(None),
        Err(error) => return Err(Some(failed("GetRecords", arn)(error))),
    };
    let records = page
        .records
        .unwrap_or_default()
        .into_iter()
        .filter_map(|record| {
            let change = record.dynamodb.as_ref()?;
            let sequence_number = change.sequence_number.clone()?;
            let arrival = change
                .approximate_creation_date_time
                .map_or(SystemTime::now(), |t| UNIX_EPOCH + Duration::from_secs_f64(t.as_secs_f64().max(0.0)));
            Some(StreamRecord { sequence_number, arrival, body: super::RecordBody::DynamoDb(Box::new(record)) })
        })
        .collect();
    Ok((records, page.next_shard_iterator))
}
