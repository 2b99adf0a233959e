//! The view projector: applies Task events to the read model exactly once. The batch is grouped
//! by aggregate and each aggregate is projected on its own ([`crate::project`]); records not
//! applied or acknowledged are reported as batch item failures, never the whole batch.

use crate::project::project_aggregate;
use aws_lambda_events::kinesis::{KinesisEvent, KinesisEventRecord};
use aws_lambda_events::streams::KinesisEventResponse;
use domain::contract::consumers::VIEW;
use domain::store::EventStore;
use domain::{Aggregate, DomainError, DomainEvent, EventItem, StoredView, Task, ViewStore};
use futures::StreamExt;
use std::collections::HashMap;
use std::future::Future;

/// Aggregates projected at once.
const CONCURRENT_AGGREGATES: usize = 8;

/// The read-model table, as far as the projector needs it.
pub trait ViewRepository: Send + Sync {
    /// This region's row of task `id` (consistent read).
    fn get(&self, id: &str) -> impl Future<Output = Result<Option<StoredView>, DomainError>> + Send;
    /// Writes `view` as this region's row if that is still at `previous`; false if it moved.
    fn put_if_version(
        &self,
        view: &StoredView,
        previous: u64,
    ) -> impl Future<Output = Result<bool, DomainError>> + Send;
}

impl ViewRepository for ViewStore {
    async fn get(&self, id: &str) -> Result<Option<StoredView>, DomainError> {
        ViewStore::own(self, id).await
    }
    async fn put_if_version(&self, view: &StoredView, previous: u64) -> Result<bool, DomainError> {
        ViewStore::put_if_version(self, view, previous).await
    }
}

/// This region's replica of the event log, read to fill gaps and to rebuild a view.
pub trait EventLog: Send + Sync {
    /// The events of `aggregate_key` with sequences `from..=to` (`None`: to the last), in
    /// sequence order, read consistently.
    fn events(
        &self,
        aggregate_key: &str,
        from: u64,
        to: Option<u64>,
    ) -> impl Future<Output = Result<Vec<EventItem>, DomainError>> + Send;
}

impl EventLog for EventStore {
    async fn events(&self, aggregate_key: &str, from: u64, to: Option<u64>) -> Result<Vec<EventItem>, DomainError> {
        self.load_range(aggregate_key, from, to).await
    }
}

/// Counts of one invocation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Events applied.
    pub applied: u32,
    /// Duplicates acknowledged.
    pub duplicates: u32,
    /// Events of other aggregate types (not this view's), acknowledged.
    pub ignored: u32,
    /// Missing events read from the event log to close a gap.
    pub filled: u32,
    /// Events held back by a gap the event log could not close yet, failed for retry.
    pub gaps: u32,
    /// Events with the sequence of the view's version but another EventId: last-writer-wins
    /// replaced an event, and the view was rebuilt from the settled log.
    pub conflicts: u32,
    /// Poison records (not an event, unknown type, wrong schema), reported so the event source
    /// mapping's bounded retries end in its dead-letter queue.
    pub poison: u32,
    /// Records failed by a storage error or a concurrent writer.
    pub failed: u32,
    /// Replays meant for other consumers, acknowledged untouched.
    pub not_for_view: u32,
}

impl Stats {
    fn add(&mut self, other: &Stats) {
        self.applied += other.applied;
        self.duplicates += other.duplicates;
        self.ignored += other.ignored;
        self.filled += other.filled;
        self.gaps += other.gaps;
        self.conflicts += other.conflicts;
        self.poison += other.poison;
        self.failed += other.failed;
        self.not_for_view += other.not_for_view;
    }
}

/// Projects a batch; records not applied or acknowledged are reported as batch item failures.
pub async fn handle<R: ViewRepository, L: EventLog>(
    repository: &R,
    log: &L,
    event: &KinesisEvent,
) -> (KinesisEventResponse, Stats) {
    let mut stats = Stats::default();
    let mut failed = Vec::new();
    let mut groups: Vec<(String, Vec<(usize, DomainEvent)>)> = Vec::new();
    let mut group_of: HashMap<String, usize> = HashMap::new();
    for (index, record) in event.records.iter().enumerate() {
        match parse(record) {
            Err(()) => {
                stats.poison += 1;
                failed.push(index);
            }
            Ok(event) if !event.is_for(VIEW) => stats.not_for_view += 1,
            Ok(event) if event.aggregate_type != Task::TYPE => stats.ignored += 1,
            Ok(event) => {
                let group = *group_of.entry(event.aggregate_id.clone()).or_insert_with(|| {
                    groups.push((event.aggregate_id.clone(), Vec::new()));
                    groups.len() - 1
                });
                groups[group].1.push((index, event));
            }
        }
    }
    let results: Vec<(Stats, Vec<usize>)> = futures::stream::iter(groups)
        .map(|(id, events)| async move { project_aggregate(repository, log, &id, events).await })
        .buffer_unordered(CONCURRENT_AGGREGATES)
        .collect()
        .await;
    for (group_stats, group_failed) in results {
        stats.add(&group_stats);
        failed.extend(group_failed);
    }
    failed.sort_unstable();
    let mut response = KinesisEventResponse::default();
    response.set_failures(failed.iter().map(|&i| event.records[i].kinesis.sequence_number.clone()));
    (response, stats)
}

fn parse(record: &KinesisEventRecord) -> Result<DomainEvent, ()> {
    DomainEvent::parse(&record.kinesis.data.0).map_err(|error| {
        tracing::error!(%error, sequence_number = record.kinesis.sequence_number, "poison record");
    })
}
