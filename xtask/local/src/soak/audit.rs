//! The soak's audit: what the client was told (acknowledgements) against what every store holds.
//!
//! Definitions (README "Soak" repeats them):
//! - **lost**: a command acknowledged (2xx) whose event is missing from a replica it must reach
//!   (every region that stayed up), or is on no region's stream, or has no audit object, or whose
//!   effect is missing from a surviving region's read model (its version below the fold of that
//!   region's log). Not lost: an event stranded in the killed region's replica (below), and an
//!   event published on the killed region's stream whose projections were still to run there.
//! - **stranded**: acknowledged by the killed region, present in its replica (which survives), and
//!   not replicated out before the kill: asynchronous replication's window, counted on its own.
//! - **duplicated effects**: an effect applied twice: a read model whose version is beyond the
//!   fold of the log, or more than one audit object for one event (one per origin region).
//!   Duplicate deliveries on the streams are allowed and counted apart.
//! - **order violation**: per task, a stream's events out of sequence order after dropping
//!   duplicates, or a read model that differs from the fold of the log up to its version (it
//!   applied n+1 before n, or something else than the log).
//! - **conflicts**: injected = concurrent pairs both acknowledged at the same version (the same
//!   sequence appended in two regions); overwritten = acknowledged events that lost the global
//!   table's last-writer-wins; detected = conflict reports the publishers sent.

use super::driver::{Ack, Driven};
use super::snapshot::RegionSnapshot;
use domain::{EventItem, Task, TaskView, fold};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// One finding, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The task.
    pub task: String,
    /// The event's sequence (or the view's version).
    pub sequence: u64,
    /// What is wrong, where.
    pub what: String,
}

/// The audit's structured result.
#[derive(Debug, Clone, Default)]
pub struct Audit {
    /// Commands acknowledged.
    pub acknowledged: usize,
    /// Events in the log whose command was never acknowledged (in flight when a region died).
    pub recorded_unacknowledged: usize,
    /// Acknowledged and lost.
    pub lost: Vec<Finding>,
    /// Acknowledged by the killed region, only in its replica.
    pub stranded: Vec<Finding>,
    /// Published on the killed region's stream, projections still to run there.
    pub pending_in_killed: usize,
    /// Effects applied twice.
    pub duplicate_effects: Vec<Finding>,
    /// Extra deliveries of one event on the streams (allowed).
    pub duplicate_deliveries: usize,
    /// Order violations.
    pub order_violations: Vec<Finding>,
    /// Concurrent pairs both acknowledged at one version.
    pub conflicts_injected: usize,
    /// Acknowledged events overwritten by last writer wins.
    pub conflicts_overwritten: usize,
    /// Views of tasks with a conflict (compared with no fold: the log itself changed under them).
    pub conflicted_tasks: usize,
    /// Acknowledged events found on a stream, with command sent -> stream arrival.
    pub publish_latencies: Vec<Duration>,
}

impl Audit {
    /// Nothing acknowledged is lost or out of order.
    pub fn passed(&self) -> bool {
        self.lost.is_empty() && self.order_violations.is_empty()
    }
}

/// Audits `driven` against `stores` (per region); `killed` is the region taken down, if any.
pub fn audit(driven: &Driven, stores: &BTreeMap<String, RegionSnapshot>, killed: Option<&str>) -> Audit {
    let survivors: Vec<&str> = stores.keys().map(String::as_str).filter(|r| Some(*r) != killed).collect();
    let mut audit = Audit { acknowledged: driven.acks.len(), ..Audit::default() };
    let conflicted = conflicted_steps(&driven.acks);
    audit.conflicts_injected = driven.conflicting_pairs;
    audit.conflicted_tasks = conflicted.iter().map(|(task, _)| task).collect::<BTreeSet<_>>().len();
    let published = published(stores);
    let audited = audited(stores);
    for ack in &driven.acks {
        check_ack(&mut audit, ack, stores, &survivors, killed, &published, &audited, &conflicted);
    }
    let acked: BTreeSet<&str> = driven.acks.iter().map(|a| a.command_id.as_str()).collect();
    let recorded: BTreeSet<&str> =
        stores.values().flat_map(|s| s.log.values().flat_map(|t| t.values())).map(|e| e.command_id.as_str()).collect();
    audit.recorded_unacknowledged = recorded.difference(&acked).count();
    audit.duplicate_deliveries = published.values().map(|on| on.len().saturating_sub(1)).sum();
    for object in audited.iter().filter(|(_, origins)| origins.len() > 1) {
        let ((task, sequence), origins) = object;
        if !conflicted.contains(&(task.clone(), *sequence)) {
            let what = format!("{} audit objects for one event ({origins:?})", origins.len());
            audit.duplicate_effects.push(Finding { task: task.clone(), sequence: *sequence, what });
        }
    }
    for (region, store) in stores {
        check_stream_order(&mut audit, region, store);
        if Some(region.as_str()) != killed {
            check_views(&mut audit, region, store, stores, killed, &conflicted);
        }
    }
    audit.publish_latencies.sort_unstable();
    audit
}

/// (task, sequence) appended by two acknowledged commands.
fn conflicted_steps(acks: &[Ack]) -> BTreeSet<(String, u64)> {
    let mut seen = BTreeMap::new();
    for ack in acks {
        *seen.entry((ack.task.clone(), ack.version)).or_insert(0) += 1;
    }
    seen.into_iter().filter(|(_, n)| *n > 1).map(|(key, _)| key).collect()
}

/// Each event id on the streams: (region, arrival) of each delivery.
type Published = BTreeMap<String, Vec<(String, std::time::SystemTime)>>;

fn published(stores: &BTreeMap<String, RegionSnapshot>) -> Published {
    let mut published: Published = BTreeMap::new();
    for (region, store) in stores {
        for event in &store.stream {
            published.entry(event.event_id.clone()).or_default().push((region.clone(), event.arrival));
        }
    }
    published
}

/// (task, sequence) -> the origins of its audit objects, over every bucket.
fn audited(stores: &BTreeMap<String, RegionSnapshot>) -> BTreeMap<(String, u64), Vec<String>> {
    let mut audited: BTreeMap<(String, u64), Vec<String>> = BTreeMap::new();
    for object in stores.values().flat_map(|s| &s.audit) {
        audited.entry((object.task.clone(), object.sequence)).or_default().push(object.origin.clone());
    }
    audited
}

#[allow(clippy::too_many_arguments)]
fn check_ack(
    audit: &mut Audit,
    ack: &Ack,
    stores: &BTreeMap<String, RegionSnapshot>,
    survivors: &[&str],
    killed: Option<&str>,
    published: &Published,
    audited: &BTreeMap<(String, u64), Vec<String>>,
    conflicted: &BTreeSet<(String, u64)>,
) {
    let at = |region: &str| stores.get(region).and_then(|s| s.log.get(&ack.task)).and_then(|t| t.get(&ack.version));
    let mine = |event: Option<&EventItem>| event.is_some_and(|e| e.command_id == ack.command_id);
    let finding = |what: String| Finding { task: ack.task.clone(), sequence: ack.version, what };
    if conflicted.contains(&(ack.task.clone(), ack.version)) && !stores.keys().any(|r| mine(at(r))) {
        audit.conflicts_overwritten += 1;
        return;
    }
    let missing: Vec<&str> = survivors.iter().copied().filter(|r| !mine(at(r))).collect();
    let Some(event) = stores.keys().find_map(|r| at(r).filter(|e| e.command_id == ack.command_id)) else {
        audit.lost.push(finding(format!("acknowledged by {} but in no replica", ack.region)));
        return;
    };
    if !missing.is_empty() {
        if killed == Some(ack.region.as_str()) && mine(at(&ack.region)) && missing.len() == survivors.len() {
            audit.stranded.push(finding(format!("only in {}'s replica", ack.region)));
        } else if conflicted.contains(&(ack.task.clone(), ack.version)) {
            audit.conflicts_overwritten += 1;
        } else {
            audit.lost.push(finding(format!("missing from the replica in {}", missing.join(", "))));
        }
        return;
    }
    let Some(deliveries) = published.get(&event.event_id) else {
        audit.lost.push(finding("on no region's stream".to_owned()));
        return;
    };
    if let Some(first) = deliveries.iter().map(|(_, at)| *at).min() {
        audit.publish_latencies.push(first.duration_since(ack.sent).unwrap_or_default());
    }
    if !audited.contains_key(&(ack.task.clone(), ack.version)) {
        if deliveries.iter().all(|(region, _)| Some(region.as_str()) == killed) {
            audit.pending_in_killed += 1;
        } else {
            audit.lost.push(finding("no audit object".to_owned()));
        }
    }
}

/// Per task, each delivery on `region`'s stream after the first of its event must come later
/// in sequence than the one before.
fn check_stream_order(audit: &mut Audit, region: &str, store: &RegionSnapshot) {
    let mut last: BTreeMap<&str, u64> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    // Records of one task share a partition key, hence a shard: shard order is their order.
    for event in &store.stream {
        if !seen.insert(event.event_id.as_str()) {
            continue;
        }
        let previous = last.insert(event.task.as_str(), event.sequence);
        if let Some(previous) = previous.filter(|p| *p >= event.sequence) {
            let what = format!("on {region}'s stream after sequence {previous}");
            audit.order_violations.push(Finding { task: event.task.clone(), sequence: event.sequence, what });
        }
    }
}

/// Each surviving region's read model against the fold of its own replica of the log.
fn check_views(
    audit: &mut Audit,
    region: &str,
    store: &RegionSnapshot,
    stores: &BTreeMap<String, RegionSnapshot>,
    killed: Option<&str>,
    conflicted: &BTreeSet<(String, u64)>,
) {
    let conflicted_tasks: BTreeSet<&str> = conflicted.iter().map(|(t, _)| t.as_str()).collect();
    for (task, events) in &store.log {
        if conflicted_tasks.contains(task.as_str()) {
            continue;
        }
        let logged = contiguous(events);
        let view = store.views.get(task).map(|s| &s.view);
        let version = view.map_or(0, |v| v.version);
        let finding = |sequence, what: String| Finding { task: task.clone(), sequence, what };
        if version > logged.len() as u64 {
            let in_killed = killed.and_then(|k| stores.get(k)).and_then(|s| s.log.get(task));
            if in_killed.is_some_and(|t| contiguous(t).len() as u64 >= version) {
                continue; // Applied from the killed region's stranded events before it died.
            }
            let what = format!("{region}'s read model at version {version}, its log at {}", logged.len());
            audit.duplicate_effects.push(finding(version, what));
        } else if version < logged.len() as u64 {
            let what = format!("{region}'s read model at version {version}, its log at {}", logged.len());
            audit.lost.push(finding(version + 1, what));
        }
        if let Some(view) = view.filter(|v| v.version <= logged.len() as u64) {
            let prefix: Vec<EventItem> = logged.iter().take(view.version as usize).map(|e| (*e).clone()).collect();
            let expected = fold::<Task>(&prefix).ok().map(|f| TaskView::from_folded(task, &f));
            if expected.as_ref() != Some(view) {
                let what =
                    format!("{region}'s read model differs from the fold of its log at version {}", view.version);
                audit.order_violations.push(finding(view.version, what));
            }
        }
    }
}

/// The events 1, 2, ... n without a gap.
fn contiguous(events: &BTreeMap<u64, EventItem>) -> Vec<&EventItem> {
    events.values().enumerate().take_while(|(i, e)| e.sequence == *i as u64 + 1).map(|(_, e)| e).collect()
}

/// The `q` quantile (0..=1) of sorted `values`.
pub fn quantile(values: &[Duration], q: f64) -> Option<Duration> {
    if values.is_empty() {
        return None;
    }
    let rank = ((values.len() - 1) as f64 * q).round() as usize;
    values.get(rank.min(values.len() - 1)).copied()
}

/// Every task the client created (for the snapshot's filter).
pub fn tasks(driven: &Driven) -> BTreeSet<String> {
    let acked = driven.acks.iter().map(|a| a.task.clone());
    acked.chain(driven.unacknowledged.iter().map(|u| u.task.clone())).collect()
}
