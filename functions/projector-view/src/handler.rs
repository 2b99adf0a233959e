//! The view projector: applies Task events to the read model exactly once. Per aggregate it
//! reads the stored view, applies the batch's events in sequence order (event n only on version
//! n-1; a duplicate is acknowledged; a gap stops the aggregate and fails the rest of its records
//! so they are retried), then writes once with a condition on the version it read.

use aws_lambda_events::kinesis::{KinesisEvent, KinesisEventRecord};
use aws_lambda_events::streams::KinesisEventResponse;
use domain::aggregate::{ApplyError, EventMeta};
use domain::{Aggregate, DomainError, DomainEvent, Folded, Task, TaskView, ViewStore};
use futures::StreamExt;
use std::collections::HashMap;
use std::future::Future;

/// Aggregates projected at once.
const CONCURRENT_AGGREGATES: usize = 8;

/// The read-model table, as far as the projector needs it.
pub trait ViewRepository: Send + Sync {
    /// The stored view of task `id` (consistent read).
    fn get(&self, id: &str) -> impl Future<Output = Result<Option<TaskView>, DomainError>> + Send;
    /// Writes `view` if the stored version is still `previous`; false if it moved.
    fn put_if_version(&self, view: &TaskView, previous: u64) -> impl Future<Output = Result<bool, DomainError>> + Send;
}

impl ViewRepository for ViewStore {
    async fn get(&self, id: &str) -> Result<Option<TaskView>, DomainError> {
        ViewStore::get(self, id, true).await
    }
    async fn put_if_version(&self, view: &TaskView, previous: u64) -> Result<bool, DomainError> {
        ViewStore::put_if_version(self, view, previous).await
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
    /// Events after a gap, failed for retry.
    pub gaps: u32,
    /// Poison records (not an event, unknown type, wrong schema), reported so the event source
    /// mapping's bounded retries end in its dead-letter queue.
    pub poison: u32,
    /// Records failed by a storage error or a concurrent writer.
    pub failed: u32,
}

impl Stats {
    fn add(&mut self, other: &Stats) {
        self.applied += other.applied;
        self.duplicates += other.duplicates;
        self.ignored += other.ignored;
        self.gaps += other.gaps;
        self.poison += other.poison;
        self.failed += other.failed;
    }
}

/// Projects a batch; records not applied or acknowledged are reported as batch item failures.
pub async fn handle<R: ViewRepository>(repository: &R, event: &KinesisEvent) -> (KinesisEventResponse, Stats) {
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
        .map(|(id, events)| async move { project_aggregate(repository, &id, events).await })
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

/// Applies one aggregate's events; returns its counts and the batch indices that failed.
async fn project_aggregate<R: ViewRepository>(
    repository: &R,
    id: &str,
    mut events: Vec<(usize, DomainEvent)>,
) -> (Stats, Vec<usize>) {
    let mut stats = Stats::default();
    let all: Vec<usize> = events.iter().map(|(i, _)| *i).collect();
    let stored = match repository.get(id).await {
        Ok(view) => view,
        Err(error) => {
            tracing::warn!(%error, aggregate = id, "reading the view failed; will retry");
            stats.failed = all.len() as u32;
            return (stats, all);
        }
    };
    let mut folded = stored.as_ref().map_or_else(Folded::<Task>::default, TaskView::to_folded);
    let previous = folded.version;
    // Redeliveries can arrive out of order; the stream order of one key is only a hint here.
    events.sort_by_key(|(_, event)| event.sequence);
    let (applied, mut failed) = apply_in_order(&mut folded, id, &events, &mut stats);
    if applied.is_empty() {
        return (stats, failed);
    }
    let view = TaskView::from_folded(id, &folded);
    let outcome = repository.put_if_version(&view, previous).await;
    if matches!(outcome, Ok(true)) {
        stats.applied = applied.len() as u32;
        return (stats, failed);
    }
    // Another invocation moved the view, or the write failed: retry these events; on the next
    // try they apply or are recognised as duplicates.
    let reason = outcome.err().map_or_else(|| "another invocation moved the view".to_owned(), |e| e.to_string());
    tracing::warn!(aggregate = id, previous, reason, "view write did not apply; will retry");
    stats.failed += applied.len() as u32;
    failed.extend(applied);
    (stats, failed)
}

/// Applies `events` (sorted by sequence) to `folded`; returns the batch indices applied and
/// those failed (a gap or poison event, and everything of this aggregate behind it).
fn apply_in_order(
    folded: &mut Folded<Task>,
    id: &str,
    events: &[(usize, DomainEvent)],
    stats: &mut Stats,
) -> (Vec<usize>, Vec<usize>) {
    let mut applied = Vec::new();
    let mut failed = Vec::new();
    for (index, event) in events {
        if !failed.is_empty() {
            // Behind a gap or a poison event nothing of this aggregate can apply yet.
            stats.gaps += 1;
            failed.push(*index);
            continue;
        }
        let meta = EventMeta { sequence: event.sequence, recorded_at: &event.recorded_at };
        match folded.apply_item(&event.event_type, event.version, event.payload.get(), meta) {
            Ok(true) => applied.push(*index),
            Ok(false) => stats.duplicates += 1,
            Err(ApplyError::Gap { have, got }) => {
                tracing::warn!(aggregate = id, have, got, "gap: event arrived before its predecessor; will retry");
                stats.gaps += 1;
                failed.push(*index);
            }
            Err(ApplyError::Malformed(error)) => {
                tracing::error!(%error, aggregate = id, sequence = event.sequence, "poison event");
                stats.poison += 1;
                failed.push(*index);
            }
        }
    }
    (applied, failed)
}
