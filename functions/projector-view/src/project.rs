//! One aggregate's events of a batch onto its view. Reads this region's row of the view and its
//! replica of the log, applies the events in sequence order (event n only on version n-1), then
//! writes the row once with a condition on the version it read. Each region writes only its own
//! row and readers take the newest ([`domain::contract::read_model`]), so last writer wins never
//! moves a view back.
//!
//! - The log is read once per aggregate and batch: a consistent Query of the aggregate's partition
//!   from the row's version. The events the batch carries were appended to this region's log
//!   before they were published, and so were the ones before them, unless replication is still
//!   applying those.
//! - A duplicate (a sequence at or below the row's version, with the same EventId at the
//!   row's version) is acknowledged.
//! - A gap is normal: a region's row moves only on the events its region publishes, so event n
//!   often arrives on a version far below n-1. The missing events are taken from the log and
//!   folded in. Only a gap the log cannot close yet fails the record, for a retry.
//! - The row's sequence with another EventId is a conflict, not a duplicate: last-writer-wins
//!   replaced one region's event with another's, and both were published. So is a log that no
//!   longer holds the event the row stood on before the batch, or ends on after it. The row is
//!   rebuilt from the whole log, which holds the settled event, and the conflict is counted.
//! - The row is written at the head of the log: the events it holds beyond the batch are folded in
//!   too.

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

    /// Whether the log holds another event than this state's at its version: last writer wins
    /// replaced the one it applied.
    fn replaced_in(&self, logged: &[EventItem], key: &str) -> bool {
        let version = self.folded.version;
        let at_version = logged.iter().find(|item| item.sequence == version);
        let Some((item, applied)) = at_version.zip(self.last_event_id.as_ref()) else { return false };
        if item.event_id == *applied {
            return false;
        }
        tracing::warn!(
            aggregate = key,
            sequence = version,
            event = item.event_id,
            view_event = applied,
            "conflict: the log holds another event than the view applied; rebuilding the view from the log"
        );
        true
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
    let key = aggregate_key(Task::TYPE, id);
    let logged = match log.events(&key, previous.max(1), None).await {
        Ok(items) => items,
        Err(error) => {
            tracing::warn!(%error, aggregate = id, "reading the event log failed; will retry");
            stats.failed = all.len() as u32;
            return (stats, all);
        }
    };
    if state.replaced_in(&logged, &key) {
        return rebuild(repository, log, id, previous, &events).await;
    }
    // Redeliveries can arrive out of order; the stream order of one key is only a hint here.
    events.sort_by_key(|(_, event)| event.sequence);
    match apply_in_order(&mut state, &logged, &key, &events, &mut stats) {
        Outcome::Conflict => rebuild(repository, log, id, previous, &events).await,
        Outcome::Applied { applied, mut failed } => {
            if failed.is_empty() {
                if state.replaced_in(&logged, &key) {
                    return rebuild(repository, log, id, previous, &events).await;
                }
                let after = logged.partition_point(|item| item.sequence <= state.folded.version);
                fold_in(&mut state, &logged[after..], &key, &mut stats);
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

fn apply_in_order(
    state: &mut State,
    logged: &[EventItem],
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
        if event.sequence > version + 1 && !fill(state, logged, key, event.sequence - 1, stats) {
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

/// Folds the logged events (in sequence order) after the view's version up to `up_to` into
/// `state`; false when the log does not have them all yet (replication in flight).
fn fill(state: &mut State, logged: &[EventItem], key: &str, up_to: u64, stats: &mut Stats) -> bool {
    let from = state.folded.version + 1;
    let missing = &logged[logged.partition_point(|item| item.sequence < from)..];
    let missing = &missing[..missing.partition_point(|item| item.sequence <= up_to)];
    if missing.len() as u64 != up_to - from + 1 {
        tracing::warn!(
            aggregate = key,
            have = from - 1,
            up_to,
            found = missing.len(),
            "gap: the log does not have the missing events yet; will retry"
        );
        return false;
    }
    fold_in(state, missing, key, stats)
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
