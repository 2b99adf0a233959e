//! Redriving the pointers an SQS on-failure destination holds (older region stacks sent stream
//! mappings' failures to SQS queues). Lambda developer guide, "Retain discarded batch records for
//! a Kinesis Data Streams event source in Lambda"
//! (<https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html>) and
//! "Retain discarded records for a DynamoDB event source in Lambda"
//! (<https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html>): each message
//! is the same JSON document as an S3 failure record (`requestContext`, `responseContext`,
//! `version`, `timestamp`, `KinesisBatchInfo` or `DDBStreamBatchInfo` with `shardId`,
//! `startSequenceNumber`, `endSequenceNumber`, `approximateArrivalOfFirstRecord`,
//! `approximateArrivalOfLastRecord`, `batchSize`, `streamArn`), without the records: only S3
//! destinations get the invocation record as `payload` (AWS-FACTS 9.8). So the records are
//! re-read from the stream while it retains them (24 hours for DynamoDB Streams), delivered with
//! the event Lambda builds, and the message deleted only after the function took the whole batch.
//! A message that fails again is made visible again at once (it stays in its queue); a range the
//! stream no longer retains is reported with the `cargo xtask replay` command that re-sends the
//! events from the event log instead.

use super::delivery::{Delivered, Delivery};
use super::holds;
use super::rate::Limiter;
use super::record::{BatchInfo, FailureRecord, Source};
use super::{PublisherTargets, RateLimit};
use crate::aws::Aws;
use anyhow::{Context, Result};
pub use futures::future::BoxFuture;
use serde_json::Value;
use std::collections::{BTreeSet, HashSet};

/// Upper bound on `ReceiveMessage` calls in one run.
const MAX_RECEIVES: usize = 1_000;
/// How long a received message stays invisible while it is redriven.
const VISIBILITY_SECONDS: i32 = 300;

/// What the stream still has of a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Retained {
    /// Every record from the start to the end sequence number, as the mapping's event.
    Whole(Value),
    /// Part or all of the range is gone; the aggregates (`Task#<id>`) of what is still there.
    Gone(BTreeSet<String>),
}

/// Reads a batch's range back from its stream.
pub trait StreamRange: Sync {
    /// The records of `batch` (from a `source` stream), if the stream still has all of them.
    fn read<'a>(&'a self, source: Source, batch: &'a BatchInfo) -> BoxFuture<'a, Result<Retained>>;
}

/// A queue's redrive.
#[derive(Debug, Clone)]
pub struct QueuePlan {
    /// The region of the queue and of the streams.
    pub region: String,
    /// The queue.
    pub queue_url: String,
    /// List only.
    pub dry_run: bool,
    /// The write rate.
    pub limit: RateLimit,
    /// Where the publisher's holds are released.
    pub publisher: PublisherTargets,
}

/// A message left in the queue, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftMessage {
    /// The SQS message ID.
    pub message_id: String,
    /// Why it was not redriven.
    pub reason: String,
    /// The commands that re-send its events from the event log, when the stream lost them.
    pub replay: Vec<String>,
}

/// What a queue's redrive did.
#[derive(Debug, Clone, Default)]
pub struct QueueReport {
    /// The queue.
    pub queue_url: String,
    /// Message IDs redriven and deleted (or, in a dry run, that would be).
    pub redriven: Vec<String>,
    /// Messages left in the queue.
    pub left: Vec<LeftMessage>,
    /// What happened to the publisher's holds.
    pub holds: Vec<String>,
}

/// The `cargo xtask replay` commands for a range the stream lost: one per aggregate still known,
/// or one for every aggregate of the type since the batch's first record.
pub fn replay_commands(region: &str, batch: &BatchInfo, aggregates: &BTreeSet<String>) -> Vec<String> {
    let since = batch.approximate_arrival_of_first_record.as_deref().unwrap_or("<the batch's first arrival>");
    let base = |kind: &str| format!("cargo xtask replay --region {region} --aggregate-type {kind}");
    if aggregates.is_empty() {
        return vec![format!("{} --since {since}", base(<domain::Task as domain::Aggregate>::TYPE))];
    }
    aggregates
        .iter()
        .filter_map(|key| key.split_once('#'))
        .map(|(kind, id)| format!("{} --aggregate-id {id} --since {since}", base(kind)))
        .collect()
}

/// Redrives every pointer in `plan.queue_url`, telling `progress` about each.
pub async fn redrive_queue(
    aws: &Aws,
    plan: &QueuePlan,
    range: &impl StreamRange,
    delivery: &impl Delivery,
    progress: &mut impl FnMut(&str),
) -> Result<QueueReport> {
    let sqs = aws.sqs(&plan.region);
    let mut report = QueueReport { queue_url: plan.queue_url.clone(), ..QueueReport::default() };
    let mut limiter = Limiter::new(plan.limit);
    let mut seen = HashSet::new();
    for _ in 0..MAX_RECEIVES {
        let received = sqs
            .receive_message()
            .queue_url(&plan.queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(VISIBILITY_SECONDS)
            .send()
            .await
            .with_context(|| format!("receiving from {} (ReceiveMessage)", plan.queue_url))?;
        let (fresh, again): (Vec<_>, Vec<_>) =
            received.messages().iter().partition(|m| seen.insert(m.message_id().unwrap_or_default().to_owned()));
        // A message left earlier in this run came round again: it stays, visible for the next run.
        for message in again {
            visible_again(&sqs, &plan.queue_url, message.receipt_handle().unwrap_or_default()).await?;
        }
        if fresh.is_empty() {
            break;
        }
        for message in fresh {
            let id = message.message_id().unwrap_or_default().to_owned();
            let handle = message.receipt_handle().unwrap_or_default();
            let body = message.body().unwrap_or_default();
            match redrive_one(aws, plan, range, delivery, &mut limiter, &id, body).await {
                Ok(outcome) => {
                    if !plan.dry_run {
                        let deleted = sqs.delete_message().queue_url(&plan.queue_url).receipt_handle(handle).send();
                        deleted.await.with_context(|| format!("deleting the redriven message {id}"))?;
                    } else {
                        visible_again(&sqs, &plan.queue_url, handle).await?;
                    }
                    let verb = if plan.dry_run { "would redrive" } else { "redriven" };
                    progress(&format!("{verb} message {id}: {}", outcome.summary));
                    outcome.holds.iter().for_each(|line| progress(&format!("  {line}")));
                    report.holds.extend(outcome.holds);
                    report.redriven.push(id);
                }
                Err(left) => {
                    visible_again(&sqs, &plan.queue_url, handle).await?;
                    progress(&format!("left message {id}: {}", left.reason));
                    left.replay.iter().for_each(|command| progress(&format!("  instead: {command}")));
                    report.left.push(left);
                }
            }
        }
    }
    Ok(report)
}

/// Makes a message visible again now, so it stays in its queue for the next attempt.
async fn visible_again(sqs: &aws_sdk_sqs::Client, queue: &str, handle: &str) -> Result<()> {
    let request = sqs.change_message_visibility().queue_url(queue).receipt_handle(handle).visibility_timeout(0);
    request.send().await.with_context(|| format!("returning a message to {queue} (ChangeMessageVisibility)"))?;
    Ok(())
}

struct Outcome {
    summary: String,
    holds: Vec<String>,
}

async fn redrive_one(
    aws: &Aws,
    plan: &QueuePlan,
    range: &impl StreamRange,
    delivery: &impl Delivery,
    limiter: &mut Limiter,
    id: &str,
    body: &str,
) -> Result<Outcome, LeftMessage> {
    let left = |reason: String, replay: Vec<String>| LeftMessage { message_id: id.to_owned(), reason, replay };
    let mut failure = FailureRecord::parse(id, body.as_bytes()).map_err(|e| left(format!("{e:#}"), Vec::new()))?;
    let (source, batch) = failure.batch().map(|(s, b)| (s, b.clone())).ok_or_else(|| {
        left("the message names no DynamoDB or Kinesis batch (not a stream mapping's pointer)".into(), Vec::new())
    })?;
    let event = match range.read(source, &batch).await.map_err(|e| left(format!("{e:#}"), Vec::new()))? {
        Retained::Whole(event) => event,
        Retained::Gone(aggregates) => {
            let region = arn_region(&batch.stream_arn).unwrap_or(&plan.region).to_owned();
            let reason = format!(
                "{} from {} to {} is no longer retained by {}; re-send its events from the event log",
                batch.shard_id, batch.start_sequence_number, batch.end_sequence_number, batch.stream_arn
            );
            return Err(left(reason, replay_commands(&region, &batch, &aggregates)));
        }
    };
    let records = event["Records"].as_array().map_or(0, Vec::len);
    let function = failure.request_context.function_arn.clone();
    let summary = format!("{records} record(s) of {} re-read from the stream, to {function}", batch.shard_id);
    if plan.dry_run {
        return Ok(Outcome { summary, holds: Vec::new() });
    }
    limiter.acquire(records, event.to_string().len()).await;
    match delivery.deliver(&function, &event).await {
        Ok(Delivered::Done) => {}
        Ok(Delivered::Failed(why)) => return Err(left(why, Vec::new())),
        Err(error) => return Err(left(format!("{error:#}"), Vec::new())),
    }
    failure.payload = Some(event);
    let holds = match source {
        Source::DynamoDb => holds::release_published(aws, &plan.region, &plan.publisher, &failure).await,
        Source::Kinesis => Vec::new(),
    };
    Ok(Outcome { summary, holds })
}

/// The session's configuration for a stream reader built outside the engine: with the
/// emulator's dummy credentials when Kinesis is called on loopback, as every engine client is.
pub fn reader_config(aws: &Aws) -> aws_types::SdkConfig {
    let base = aws.sdk_config().clone();
    if !aws.is_loopback("Kinesis") {
        return base;
    }
    let credentials = aws_types::sdk_config::SharedCredentialsProvider::new(crate::aws::emulator_credentials());
    base.to_builder().credentials_provider(credentials).build()
}

/// The region of an ARN (`arn:<partition>:<service>:<region>:...`).
fn arn_region(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

/// The logical-ID suffix of the on-failure queues older region stacks gave each mapping.
pub const OLD_QUEUE_SUFFIX: &str = "DeadLetters";

/// The on-failure queues of the deployed region stack `stack`, if it is an older one that still
/// has them (`<Mapping>DeadLetters`, `AWS::SQS::Queue`, whose physical ID is the queue URL).
pub async fn discover_queues(aws: &Aws, region: &str, stack: &str) -> Result<Vec<String>> {
    let cloudformation = aws.cloudformation(region);
    let mut urls = Vec::new();
    let mut pages = cloudformation.list_stack_resources().stack_name(stack).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.with_context(|| format!("listing the resources of {stack} in {region}"))?;
        for resource in page.stack_resource_summaries() {
            let queue = resource.resource_type() == Some("AWS::SQS::Queue")
                && resource.logical_resource_id().is_some_and(|id| id.ends_with(OLD_QUEUE_SUFFIX));
            if queue {
                urls.extend(resource.physical_resource_id().map(str::to_owned));
            }
        }
    }
    Ok(urls)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(first: Option<&str>) -> BatchInfo {
        BatchInfo {
            shard_id: "shardId-1".into(),
            start_sequence_number: "100".into(),
            end_sequence_number: "200".into(),
            batch_size: 2,
            stream_arn: "arn:aws:kinesis:eu-west-1:123456789012:stream/app-events".into(),
            approximate_arrival_of_first_record: first.map(str::to_owned),
        }
    }

    #[test]
    fn a_lost_range_names_the_replay_command_per_known_aggregate_or_for_the_type() {
        let since = Some("2026-11-30T09:59:00Z");
        let known: BTreeSet<String> = ["Task#t1".to_owned(), "Task#t2".to_owned()].into();
        assert_eq!(
            replay_commands("eu-west-1", &batch(since), &known),
            [
                "cargo xtask replay --region eu-west-1 --aggregate-type Task --aggregate-id t1 --since 2026-11-30T09:59:00Z",
                "cargo xtask replay --region eu-west-1 --aggregate-type Task --aggregate-id t2 --since 2026-11-30T09:59:00Z",
            ]
        );
        assert_eq!(
            replay_commands("eu-west-1", &batch(since), &BTreeSet::new()),
            ["cargo xtask replay --region eu-west-1 --aggregate-type Task --since 2026-11-30T09:59:00Z"]
        );
        assert_eq!(arn_region(&batch(None).stream_arn), Some("eu-west-1"));
    }
}
