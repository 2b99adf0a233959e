//! The publisher's handler: classifies each stream record by the origin rule (this region's new
//! event, another region's event, this region's event overwritten), reports conflicts, keeps back
//! the events of aggregates held behind a poison event, publishes the rest in order, and answers
//! with the SequenceNumber of the earliest record not done so Lambda retries from there.

use crate::conflicts::{self, EventIdentity};
use crate::republish::{self, Republication};
use crate::sink::{ConflictSink, OutgoingRecord, RecordSink};
use crate::watermark;
use crate::waves::{WaveSettings, publish};
use aws_lambda_events::dynamodb::{Event as DynamoDbEvent, EventRecord};
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use domain::contract::origin::Selected;
use domain::holds::{Hold, HoldStore};
use domain::item::{AGGREGATE_KEY, AttributeMap, EVENT_ID, RECORDED_AT, SEQUENCE_KEY};
use domain::origin::format_recorded_at;
use domain::{DomainError, EventItem, Origin};
use rand::rngs::SmallRng;
use std::collections::{HashMap, HashSet};
use tokio::time::Instant;

/// The largest record Kinesis accepts (data + partition key).
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// The publisher and what it talks to.
#[derive(Debug, Clone)]
pub struct Publisher<K, C, H> {
    /// The Kinesis stream.
    pub sink: K,
    /// The conflicts queue.
    pub conflicts: C,
    /// The region's poison holds.
    pub holds: H,
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
    /// Local INSERTs not published because a MODIFY in the same batch overwrote them.
    pub superseded: u32,
    /// Local events that can never be published (malformed item, oversized envelope).
    pub unpublishable: u32,
    /// Events kept back behind a poison event of their aggregate (until its hold is released).
    pub held_back: u32,
    /// PutRecords calls.
    pub calls: u32,
    /// Entries that failed in a call and were retried.
    pub failed_entries: u32,
    /// Records left for Lambda to retry.
    pub left_for_retry: u32,
    /// The publisher watermark this batch allows: the latest `RecordedAt` stored with every
    /// earlier event of the batch done (`watermark::allowed`); written after the invocation.
    pub watermark: Option<String>,
}

/// Work found in a batch: records to publish (with their batch positions), conflict reports to
/// send, and positions that already failed.
#[derive(Default)]
struct Plan {
    outgoing: Vec<OutgoingRecord>,
    positions: Vec<usize>,
    /// `RecordedAt` of each outgoing record.
    recorded_at: Vec<String>,
    reports: Vec<(usize, String)>,
    failed: Vec<usize>,
}

/// What planning knows about the batch.
struct Batch<'a> {
    holds: HashMap<String, Hold>,
    overwritten: HashSet<EventIdentity<'a>>,
    /// Keys with an event that cannot go out now: their later events wait behind it.
    blocked: HashSet<&'a str>,
}

impl<K: RecordSink, C: ConflictSink, H: HoldStore> Publisher<K, C, H> {
    /// Handles one batch. Never fails as a whole: anything not done is reported as a batch item
    /// failure at the earliest such record.
    pub async fn handle(
        &self,
        event: &DynamoDbEvent,
        deadline: Instant,
        rng: &mut SmallRng,
    ) -> (DynamoDbEventResponse, Stats) {
        let mut stats = Stats::default();
        let mut plan = self.plan(&event.records, &mut stats).await;
        let report_until = deadline
            .checked_sub(self.settings.safety_margin)
            .filter(|until| *until > Instant::now())
            .map(|until| until.min(Instant::now() + self.settings.call_timeout));
        plan.failed.extend(conflicts::send(&self.conflicts, std::mem::take(&mut plan.reports), report_until).await);
        let report = publish(&self.sink, &plan.outgoing, &self.settings, deadline, rng).await;
        stats.calls = report.calls;
        stats.failed_entries = report.failed_entries;
        let mut failed = plan.failed;
        let mut stored_at = Vec::new();
        for ((position, stored), at) in plan.positions.iter().zip(&report.stored).zip(&plan.recorded_at) {
            if *stored {
                stats.published += 1;
                stored_at.push(at.as_str());
            } else {
                failed.push(*position);
            }
        }
        let failed_at = failed.iter().map(|&p| event.records[p].change.new_image.string(RECORDED_AT).unwrap_or(""));
        stats.watermark = watermark::allowed(stored_at, failed_at);
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
        let local: Vec<usize> = (0..records.len())
            .filter(|&i| conflicts::selected(&records[i], region) == Some(Selected::Publish))
            .collect();
        let holds = if local.is_empty() { Ok(HashMap::new()) } else { self.holds.load().await };
        let holds = match holds {
            Ok(holds) => holds,
            Err(error) => {
                // Without the holds no local event may go out: one could be held.
                tracing::error!(%error, "could not read the publisher's holds; will retry");
                plan.failed = local;
                return plan;
            }
        };
        let mut batch =
            Batch { holds, overwritten: conflicts::overwritten_in_batch(records, region), blocked: HashSet::new() };
        for (position, record) in records.iter().enumerate() {
            match conflicts::selected(record, region) {
                Some(Selected::Publish) => self.plan_insert(position, record, &mut batch, &mut plan, stats).await,
                Some(Selected::Overwritten) => match conflicts::report(record, region) {
                    Some(report) => {
                        stats.conflicts += 1;
                        plan.reports.push((position, report));
                    }
                    None => stats.skipped_other += 1,
                },
                None if record.event_name == "INSERT" => stats.skipped_foreign += 1,
                None => stats.skipped_other += 1,
            }
        }
        plan
    }

    /// Plans one local INSERT: skipped when overwritten in this batch, kept back when its
    /// aggregate is held, failed when it cannot be published (and its aggregate held from then
    /// on), queued for publishing otherwise.
    async fn plan_insert<'a>(
        &self,
        position: usize,
        record: &'a EventRecord,
        batch: &mut Batch<'a>,
        plan: &mut Plan,
        stats: &mut Stats,
    ) {
        let change = &record.change;
        let key = change.keys.string(AGGREGATE_KEY).unwrap_or_default();
        if batch.blocked.contains(key) {
            plan.failed.push(position);
            return;
        }
        if conflicts::inserted(record).is_some_and(|event| batch.overwritten.contains(&event)) {
            stats.superseded += 1;
            return;
        }
        let sequence: u64 = change.keys.number(SEQUENCE_KEY).and_then(|n| n.parse().ok()).unwrap_or_default();
        if batch.holds.get(key).is_some_and(|hold| sequence > hold.sequence) {
            match self.holds.keep_back(key).await {
                Ok(true) => {
                    stats.held_back += 1;
                    return;
                }
                // Released since the holds were read: publish as usual.
                Ok(false) => {}
                Err(error) => {
                    tracing::error!(%error, key, "could not keep an event back behind its hold; will retry");
                    batch.blocked.insert(key);
                    plan.failed.push(position);
                    return;
                }
            }
        }
        match self.envelope(record) {
            Ok(outgoing) => {
                plan.recorded_at.push(change.new_image.string(RECORDED_AT).unwrap_or_default().to_owned());
                plan.outgoing.push(outgoing);
                plan.positions.push(position);
            }
            Err(error) => {
                tracing::error!(%error, key, sequence_number = ?change.sequence_number, "unpublishable event: its aggregate is held until redrive releases it");
                stats.unpublishable += 1;
                batch.blocked.insert(key);
                plan.failed.push(position);
                let hold = Hold {
                    aggregate_key: key.to_owned(),
                    sequence,
                    event_id: change.new_image.string(EVENT_ID).unwrap_or_default().to_owned(),
                    stream_sequence_number: change.sequence_number.clone().unwrap_or_default(),
                    reason: error.to_string(),
                    held_at: format_recorded_at(time::OffsetDateTime::now_utc()),
                    kept_back: 0,
                };
                if let Err(error) = self.holds.hold(&hold).await {
                    tracing::error!(%error, key, "could not record the hold; the retry will");
                }
            }
        }
    }

    /// The Kinesis record of a local INSERT.
    fn envelope(&self, record: &EventRecord) -> Result<OutgoingRecord, DomainError> {
        envelope(&EventItem::from_stream_image(&record.change.new_image)?, &self.origin)
    }
}

/// The Kinesis record of `item`, published by `origin`'s publisher; an error when it can never
/// be published (a payload that is not JSON, an envelope over Kinesis' limit).
pub(crate) fn envelope(item: &EventItem, origin: &Origin) -> Result<OutgoingRecord, DomainError> {
    republish::record(item, &Republication { published_by: origin.region(), replay: false, consumers: &[] })
}
