//! One aggregate's events of a batch onto its view. Reads the stored view, applies the events in
//! sequence order (event n only on version n-1), then writes once with a condition on the
//! version it read.
//!
//! - A duplicate (a sequence at or below the view's version, with the same EventId at the
//!   view's version) is acknowledged.
//! - A gap is normal across regions: a task created in one region and renamed in another has
//!   its events published on two regions' streams, so event n can arrive before n-1 reached the
//!   view. The missing events are read from this region's replica of the event log (a
//!   consistent Query; the event that arrived was appended here after them, so they are here
//!   unless replication is still applying them) and folded in. Only a gap the log cannot close
//!   yet fails the record, for a retry.
//! - The view's sequence with another EventId is a conflict, not a duplicate: last-writer-wins
//!   replaced one region's event with another's, and both were published. The view is rebuilt
//!   from the whole log, which holds the settled event, and the conflict is counted.
//! - The view is written at the head of this region's log: events the log holds beyond the batch
//!   are folded in too (one Query of the aggregate's partition). A view is a global-table item
//!   that projectors in several regions write (a task's events can come from any region), and
//!   concurrent writes settle by last writer wins ("How DynamoDB global tables work",
//!   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_HowItWorks.html):
//!   a region that wrote only up to its batch (event 16 of a concurrent pair, projected late)
//!   could replace another region's earlier write of version 18, and with no later event
//!   nothing would move the view on again.

use crate::handler::{EventLog, Stats, ViewRepository};
use domain::aggregate::{ApplyError, EventMeta};
use domain::item::aggregate_key;
use domain::{Aggregate, DomainEvent, EventItem, Folded, StoredView, Task, TaskView, fold};

/// The view being built and the EventId of its version.
struct State {
    folded: Folded<Task>,
    last_event_id: Option<String>,
}

impl State {
    fn apply(&mut self, parts: (&str, u32, &str), meta: EventMeta<'_>, event_id: &str) -> Result<bool, ApplyError> {
        let applied = self.folded.apply_item(parts.0, parts.1, parts.2, meta)?;
        if applied {
            self.last_event_id = Some(event_id.to_owned());
        }
        Ok(applied)
    }

    fn stored(&self, id: &str) -> StoredView {
        StoredView { view: TaskView::from_folded(id, &self.folded), last_event_id: self.last_event_id.clone() }
    }
}

/// How applying the batch's events ended.
enum Outcome {
    /// Batch indices applied, and those failed (a gap the log could not close, or poison, and
    /// everything of this aggregate behind it).
    Applied { applied: Vec<usize>, failed: Vec<usize> },
    /// An event has the view's sequence but another EventId.
    Conflict,
}

/// Projects one aggregate; returns its counts and the batch indices that failed.
pub(crate) async fn project_aggregate<R: ViewRepository, L: EventLog>(
    repository: &R,
    log: &L,
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
    let previous = stored.as_ref().map_or(0, |s| s.view.version);
    let mut state = match stored {
        Some(stored) => State { folded: stored.view.to_folded(), last_event_id: stored.last_event_id },
        None => State { folded: Folded::default(), last_event_id: None },
    };
    // Redeliveries can arrive out of order; the stream order of one key is only a hint here.
    events.sort_by_key(|(_, event)| event.sequence);
    let key = aggregate_key(Task::TYPE, id);
    match apply_in_order(&mut state, log, &key, &events, &mut stats).await {
        Outcome::Conflict => rebuild(repository, log, id, previous, &events).await,
        Outcome::Applied { applied, mut failed } => {
            if failed.is_empty() {
                catch_up(&mut state, log, &key, &mut stats).await;
            }
            if state.folded.version == previous {
                return (stats, failed);
            }
            match repository.put_if_version(&state.stored(id), previous).await {
                Ok(true) => stats.applied = applied.len() as u32,
                outcome => {
                    // Another invocation moved the view, or the write failed: retry these events;
                    // on the next try they apply or are recognised as duplicates.
                    let reason =
                        outcome.err().map_or_else(|| "another invocation moved the view".into(), |e| e.to_string());
                    tracing::warn!(aggregate = id, previous, reason, "view write did not apply; will retry");
                    stats.failed += applied.len() as u32;
                    failed.extend(applied);
                }
            }
            (stats, failed)
        }
    }
}

async fn apply_in_order<L: EventLog>(
    state: &mut State,
    log: &L,
    key: &str,
    events: &[(usize, DomainEvent)],
    stats: &mut Stats,
) -> Outcome {
    let (mut applied, mut failed) = (Vec::new(), Vec::new());
    for (index, event) in events {
        if !failed.is_empty() {
            // Behind a gap or a poison event nothing of this aggregate can apply yet.
            stats.gaps += 1;
            failed.push(*index);
            continue;
        }
        let version = state.folded.version;
        if event.sequence <= version {
            if event.sequence == version && state.last_event_id.as_ref().is_some_and(|id| *id != event.id) {
                tracing::warn!(aggregate = key, sequence = event.sequence, event = event.id, view_event = ?state.last_event_id, "conflict: another event holds this sequence; rebuilding the view from the log");
                return Outcome::Conflict;
            }
            stats.duplicates += 1;
            continue;
        }
        if event.sequence > version + 1 && !fill(state, log, key, event.sequence - 1, stats).await {
            stats.gaps += 1;
            failed.push(*index);
            continue;
        }
        let meta = EventMeta { sequence: event.sequence, recorded_at: &event.recorded_at };
        match state.apply((&event.event_type, event.version, event.payload.get()), meta, &event.id) {
            Ok(_) => applied.push(*index),
            Err(error) => {
                tracing::error!(%error, aggregate = key, sequence = event.sequence, "poison event");
                stats.poison += 1;
                failed.push(*index);
            }
        }
    }
    Outcome::Applied { applied, failed }
}

/// Folds the log's events after the view's version up to `up_to` into `state`; false when the
/// log does not have them all yet (replication in flight) or cannot be read.
async fn fill<L: EventLog>(state: &mut State, log: &L, key: &str, up_to: u64, stats: &mut Stats) -> bool {
    let from = state.folded.version + 1;
    let items = match log.events(key, from, Some(up_to)).await {
        Ok(items) => items,
        Err(error) => {
            tracing::warn!(%error, aggregate = key, "reading the event log to close a gap failed; will retry");
            return false;
        }
    };
    if items.len() as u64 != up_to - from + 1 {
        tracing::warn!(
            aggregate = key,
            have = from - 1,
            up_to,
            found = items.len(),
            "gap: the log does not have the missing events yet; will retry"
        );
        return false;
    }
    fold_in(state, &items, key, stats)
}

/// Applies the log's `items` in order after the view's version, up to the first that does not
/// follow on (a sequence still replicating) or cannot be applied; whether all were applied.
fn fold_in(state: &mut State, items: &[EventItem], key: &str, stats: &mut Stats) -> bool {
    for item in items {
        let meta = EventMeta { sequence: item.sequence, recorded_at: &item.recorded_at };
        let parts = (item.event_type.as_str(), item.event_version, item.payload.as_str());
        match state.apply(parts, meta, &item.event_id) {
            Ok(_) => stats.filled += 1,
            Err(ApplyError::Gap { .. }) => return false,
            Err(error) => {
                tracing::error!(%error, aggregate = key, sequence = item.sequence, "an event in the log cannot be applied");
                return false;
            }
        }
    }
    true
}

/// Folds in the events this region's log holds after the view's version, in sequence, up to the
/// first one missing (replication still applying it) or unreadable; a failed read leaves the view
/// where the batch put it.
async fn catch_up<L: EventLog>(state: &mut State, log: &L, key: &str, stats: &mut Stats) {
    let items = match log.events(key, state.folded.version + 1, None).await {
        Ok(items) => items,
        Err(error) => {
            tracing::warn!(%error, aggregate = key, "reading the event log past the batch failed; writing the batch's view");
            return;
        }
    };
    fold_in(state, &items, key, stats);
}

/// Replaces the view with a fold of the whole log. Records the rebuilt view covers are done;
/// any beyond what the log holds yet are failed for a retry.
async fn rebuild<R: ViewRepository, L: EventLog>(
    repository: &R,
    log: &L,
    id: &str,
    previous: u64,
    events: &[(usize, DomainEvent)],
) -> (Stats, Vec<usize>) {
    let mut stats = Stats::default();
    let all: Vec<usize> = events.iter().map(|(i, _)| *i).collect();
    let key = aggregate_key(Task::TYPE, id);
    let items: Vec<EventItem> = match log.events(&key, 1, None).await {
        Ok(items) => items,
        Err(error) => {
            tracing::warn!(%error, aggregate = id, "reading the event log to rebuild a view failed; will retry");
            stats.failed = all.len() as u32;
            return (stats, all);
        }
    };
    let folded = match fold::<Task>(&items) {
        // Never move a view back: a log behind it is still replicating.
        Ok(folded) if folded.version < previous => {
            tracing::warn!(aggregate = id, previous, log = folded.version, "the log is behind the view; will retry");
            stats.failed = all.len() as u32;
            return (stats, all);
        }
        Ok(folded) => folded,
        Err(error) => {
            tracing::warn!(%error, aggregate = id, "the log cannot be folded yet; will retry");
            stats.failed = all.len() as u32;
            return (stats, all);
        }
    };
    let last_event_id = items.last().map(|item| item.event_id.clone());
    let view = StoredView { view: TaskView::from_folded(id, &folded), last_event_id };
    match repository.put_if_version(&view, previous).await {
        Ok(true) => {
            stats.conflicts = 1;
            let behind: Vec<usize> =
                events.iter().filter(|(_, e)| e.sequence > folded.version).map(|(i, _)| *i).collect();
            stats.gaps = behind.len() as u32;
            tracing::warn!(
                aggregate = id,
                version = folded.version,
                "view rebuilt from the settled log after a conflict"
            );
            (stats, behind)
        }
        outcome => {
            let reason = outcome.err().map_or_else(|| "another invocation moved the view".into(), |e| e.to_string());
            tracing::warn!(aggregate = id, previous, reason, "rebuilt view did not apply; will retry");
            stats.failed = all.len() as u32;
            (stats, all)
        }
    }
}
