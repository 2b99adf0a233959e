//! Kinesis Data Streams: `ListShards` (paged by `NextToken`), `GetShardIterator` and
//! `GetRecords` (at most 10,000 records a call: Kinesis API reference, GetRecords).

use super::{ShardInfo, StartAt, StreamError, StreamRecord};
use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::primitives::DateTime;
use aws_sdk_kinesis::types::ShardIteratorType;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Most records one `GetRecords` returns.
pub(super) const MAX_RECORDS_PER_READ: i32 = 10_000;
/// Upper bound on `ListShards` pages.
const MAX_PAGES: usize = 1_000;

fn failed<E: std::error::Error>(operation: &'static str, arn: &str) -> impl FnOnce(E) -> StreamError {
    let stream = arn.to_owned();
    move |error| StreamError {
        operation,
        stream,
        message: aws_sdk_kinesis::error::DisplayErrorContext(&error).to_string(),
    }
}

pub(super) async fn shards(client: &Client, arn: &str, name: &str) -> Result<Vec<ShardInfo>, StreamError> {
    let mut shards = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        // ListShards takes either the stream name or a NextToken, never both.
        let request = match token.take() {
            Some(token) => client.list_shards().next_token(token),
            None => client.list_shards().stream_name(name),
        };
        let listed = request.send().await.map_err(failed("ListShards", arn))?;
        for shard in listed.shards.unwrap_or_default() {
            let parents = shard.parent_shard_id.into_iter().chain(shard.adjacent_parent_shard_id).collect();
            shards.push(ShardInfo { id: shard.shard_id, parents });
        }
        token = listed.next_token;
        if token.is_none() {
            break;
        }
    }
    Ok(shards)
}

pub(super) async fn iterator(
    client: &Client,
    arn: &str,
    name: &str,
    shard: &str,
    start: &StartAt,
) -> Result<Option<String>, StreamError> {
    let request = client.get_shard_iterator().stream_name(name).shard_id(shard);
    let request = match start {
        StartAt::TrimHorizon => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        StartAt::Latest => request.shard_iterator_type(ShardIteratorType::Latest),
        StartAt::AtTimestamp(at) => {
            request.shard_iterator_type(ShardIteratorType::AtTimestamp).timestamp(DateTime::from(*at))
        }
        StartAt::AfterSequence(sequence) => {
            request.shard_iterator_type(ShardIteratorType::AfterSequenceNumber).starting_sequence_number(sequence)
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
        .into_iter()
        .map(|record| {
            let arrival = record
                .approximate_arrival_timestamp
                .map_or(SystemTime::now(), |t| UNIX_EPOCH + Duration::from_secs_f64(t.as_secs_f64().max(0.0)));
            StreamRecord {
                sequence_number: record.sequence_number.clone(),
                arrival,
                body: super::RecordBody::Kinesis(Box::new(record)),
            }
        })
        .collect();
    Ok((records, page.next_shard_iterator))
}
