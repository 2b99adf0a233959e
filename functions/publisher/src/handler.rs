//! The publisher's handler: classifies each stream record (this region's new event, another
//! region's event, a conflict), reports conflicts, publishes in order, and answers with the
//! SequenceNumber of the earliest record not done so Lambda retries from there.

use crate::sink::{ConflictSink, OutgoingRecord, RecordSink};
use crate::waves::{WaveSettings, publish};
use aws_lambda_events::dynamodb::{Event as DynamoDbEvent, EventRecord};
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use domain::contract::origin::{Selected, StreamRecord, select};
use domain::item::{AGGREGATE_KEY, AttributeMap, ORIGIN_REGION};
use domain::{DomainError, DomainEventRef, EventItem, Origin};
use rand::rngs::SmallRng;
use std::collections::HashSet;
use tokio::time::Instant;

/// The largest record Kinesis accepts (data + partition key).
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// The publisher and what it talks to.
#[derive(Debug, Clone)]
pub struct Publisher<K, C> {
    /// The Kinesis stream.
    pub sink: K,
    /// The conflicts queue.
    pub conflicts: C,
    /// This region: only events that originated here are published.
    pub origin: Origin,
    /// Call limits and retry timing.
    pub settings: WaveSettings,
}

/// Counts of one invocation, logged and emitted as metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Events stored on the stream.
    pub published: u32,
    /// INSERTs of events from other regions (their publisher handles them).
    pub skipped_foreign: u32,
    /// Other records (MODIFY of another region's event, REMOVE, unchanged rewrites).
    pub skipped_other: u32,
    /// Overwritten local events reported to the conflicts queue.
    pub conflicts: u32,
    /// Local events that can never be published (malformed item, oversized envelope).
    pub unpublishable: u32,
    /// PutRecords calls.
    pub calls: u32,
    /// Entries that failed in a call and were retried.
    pub failed_entries: u32,
    /// Records left for Lambda to retry.
    pub left_for_retry: u32,
}

/// Work found in a batch: records to publish (with their batch positions) and positions that
/// already failed.
#[derive(Default)]
struct Plan {
    outgoing: Vec<OutgoingRecord>,
    positions: Vec<usize>,
    failed: Vec<usize>,
}

impl<K: RecordSink, C: ConflictSink> Publisher<K, C> {
    /// Handles one batch. Never fails as a whole: anything not done is reported as a batch item
    /// failure at the earliest such record.
    pub async fn handle(
        &self,
        event: &DynamoDbEvent,
        deadline: Instant,
        rng: &mut SmallRng,
    ) -> (DynamoDbEventResponse, Stats) {
        let mut stats = Stats::default();
        let plan = self.plan(&event.records, &mut stats).await;
        let report = publish(&self.sink, &plan.outgoing, &self.settings, deadline, rng).await;
        stats.calls = report.calls;
        stats.failed_entries = report.failed_entries;
        let mut failed = plan.failed;
        for (position, stored) in plan.positions.iter().zip(&report.stored) {
            if *stored {
                stats.published += 1;
            } else {
                failed.push(*position);
            }
        }
        stats.left_for_retry = u32::try_from(failed.len()).unwrap_or(u32::MAX);
        let mut response = DynamoDbEventResponse::default();
        if let Some(&earliest) = failed.iter().min() {
            // Lambda restarts from the lowest reported sequence number; one is enough. A record
            // without one yields "", which Lambda treats as a failure of the whole batch: safe.
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = Some(event.records[earliest].change.sequence_number.clone().unwrap_or_default());
            response.batch_item_failures.push(failure);
        }
        (response, stats)
    }

    async fn plan(&self, records: &[EventRecord], stats: &mut Stats) -> Plan {
        let region = self.origin.region();
        let mut plan = Plan::default();
        // Keys with an unpublishable event: their later events wait behind it.
        let mut blocked: HashSet<&str> = HashSet::new();
        for (position, record) in records.iter().enumerate() {
            let change = &record.change;
            let origins = StreamRecord {
                event_name: &record.event_name,
                new_origin: change.new_image.string(ORIGIN_REGION),
                old_origin: change.old_image.string(ORIGIN_REGION),
            };
            match select(origins, region) {
                Some(Selected::Publish) => {
                    let key = change.keys.string(AGGREGATE_KEY).unwrap_or_default();
                    if blocked.contains(key) {
                        plan.failed.push(position);
                        continue;
                    }
                    match self.envelope(record) {
                        Ok(outgoing) => {
                            plan.outgoing.push(outgoing);
                            plan.positions.push(position);
                        }
                        Err(error) => {
                            tracing::error!(%error, key, sequence_number = ?change.sequence_number, "unpublishable event; left for the dead-letter queue after retries");
                            stats.unpublishable += 1;
                            blocked.insert(key);
                            plan.failed.push(position);
                        }
                    }
                }
                None if record.event_name == "INSERT" => stats.skipped_foreign += 1,
                Some(Selected::Overwritten) => {
                    if let Some(report) = self.conflict(record) {
                        stats.conflicts += 1;
                        if let Err(error) = self.conflicts.report(report).await {
                            tracing::error!(%error, "could not send a conflict report; will retry");
                            plan.failed.push(position);
                        }
                    } else {
                        stats.skipped_other += 1;
                    }
                }
                None => stats.skipped_other += 1,
            }
        }
        plan
    }

    /// The Kinesis record of a local INSERT.
    fn envelope(&self, record: &EventRecord) -> Result<OutgoingRecord, DomainError> {
        let item = EventItem::from_stream_image(&record.change.new_image)?;
        let data = DomainEventRef::from_item(&item, self.origin.region(), false)?.to_json();
        let outgoing = OutgoingRecord { partition_key: item.aggregate_key, data };
        if outgoing.size() > MAX_RECORD_BYTES {
            return Err(DomainError::malformed(
                "event log item",
                format!("envelope is {} bytes; Kinesis takes at most {MAX_RECORD_BYTES}", outgoing.size()),
            ));
        }
        Ok(outgoing)
    }

    /// The conflict report of a MODIFY that overwrote this region's event, or `None` when the
    /// event itself did not change (same EventId: a rewrite, not a lost event).
    fn conflict(&self, record: &EventRecord) -> Option<String> {
        let change = &record.change;
        let old_id = change.old_image.string(domain::item::EVENT_ID);
        let new_id = change.new_image.string(domain::item::EVENT_ID);
        if old_id.is_some() && old_id == new_id {
            return None;
        }
        let key = change.keys.string(AGGREGATE_KEY).unwrap_or_default();
        let sequence = change.keys.number(domain::item::SEQUENCE_KEY).unwrap_or_default();
        tracing::error!(
            aggregate = key,
            sequence,
            overwritten_event = old_id,
            winning_event = new_id,
            winning_origin = change.new_image.string(ORIGIN_REGION),
            "conflict: another region's concurrent append overwrote an event of this region"
        );
        let report = serde_json::json!({
            "kind": "conflict",
            "detected_by": self.origin.region(),
            "aggregate_key": key,
            "sequence": sequence,
            "stream_sequence_number": change.sequence_number,
            "event_source_arn": record.event_source_arn,
            "old_image": change.old_image,
            "new_image": change.new_image,
        });
        Some(report.to_string())
    }
}
