//! The soak's audit: what the client was told (acknowledgements) against what every store holds,
//! once the system has converged: a killed region is brought back before the audit, so every
//! region's replica, stream, audit bucket and read model is judged.
//!
//! Definitions (README "Soak" repeats them):
//! - **lost**: a command acknowledged (2xx) whose event is missing from any region's replica of
//!   the log, or is on no region's stream, or has no audit object in any region's bucket; or a
//!   read model (any region's replica) behind the fold of that region's log.
//! - **stranded**: acknowledged by the killed region and, just before its return, held in its
//!   replica and in no other: asynchronous replication's window (the RPO). Measured, not lost:
//!   a global table propagates an offline Region's writes when it comes back, and so does the
//!   runtime. A stranded event another region overwrote meanwhile (a write at the same version
//!   while the region was away) loses last writer wins on the return, as on AWS, where such a
//!   pending propagation is suppressed: counted apart as **stranded, overwritten**.
//! - **duplicated effects**: an effect applied twice: a read model whose version is beyond the
//!   fold of its log, or one event audited under more than one object key. The audit key is a
//!   function of the event (`events/<origin>/<type>/<id>/<sequence>.json`; DESIGN: "S3 audit keys
//!   are deterministic per event"), so when two regions project one event (the takeover's
//!   republish, then the returned region's own publisher) each region's bucket holds the same key:
//!   one audit record kept in two regions, counted as **audit copies** like duplicate deliveries
//!   on the streams, which are allowed and counted apart.
//! - **order violation**: on a stream, for one task and one origin region, an event (its first
//!   delivery there) after a later event of that task and origin; or a read model that differs
//!   from the fold of its region's log up to its version. Events of one task from different
//!   origins may interleave on a stream (a takeover puts a lost region's events on a survivor's
//!   stream after the survivor's own later events): each region publishes its own events, so the
//!   publisher's ordering promise (DESIGN: never event n+1 of an aggregate before event n) is per
//!   origin, and the read models, which apply n only on n-1 and close gaps from the log, must
//!   still equal the fold of the log: the second half of the definition checks exactly that.
//! - **conflicts**: injected = concurrent pairs both acknowledged at the same version (the same
//!   sequence appended in two regions); overwritten = acknowledged events that lost the global
//!   table's last-writer-wins; detected = conflict reports the publishers sent. A step that held
//!   two different events (a conflict, or a stranded event overwritten) is contested: its audit
//!   objects and its task's read models are left out of the duplicate and fold comparisons.

use super::driver::{Ack, Driven};
use super::snapshot::{Log, RegionSnapshot};
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
    /// Acknowledged by the killed region, only in its replica just before its return.
    pub stranded: Vec<Finding>,
    /// Of those, overwritten on the return by another region's write at the same version.
    pub stranded_overwritten: Vec<Finding>,
    /// Acknowledged, then overwritten (last writer wins) by a concurrent write at the same version
    /// whose command was recorded but never acknowledged: its answer was lost (a region went down
    /// with it in flight, or the call timed out) and the client wrote that version elsewhere. Two
    /// appends at one version in two regions are a conflict like an injected pair's: the loser's
    /// replica shows the MODIFY and its publisher reports it (DESIGN.md), so it is not lost.
    pub overwritten_by_unacknowledged: Vec<Finding>,
    /// Effects applied twice.
    pub duplicate_effects: Vec<Finding>,
    /// Extra deliveries of one event on the streams (allowed).
    pub duplicate_deliveries: usize,
    /// Extra copies of one audit object in other regions' buckets (allowed).
    pub audit_copies: usize,
    /// Order violations.
    pub order_violations: Vec<Finding>,
    /// Concurrent pairs both acknowledged at one version.
    pub conflicts_injected: usize,
    /// Acknowledged events overwritten by last writer wins.
    pub conflicts_overwritten: usize,
    /// Tasks with a contested step (compared with no fold: the log itself changed under them).
    pub conflicted_tasks: usize,
    /// Acknowledged events found on a stream, with command sent -> stream arrival.
    pub publish_latencies: Vec<Duration>,
}

impl Audit {
    /// Nothing acknowledged is lost, out of order, or applied twice.
    pub fn passed(&self) -> bool {
        self.lost.is_empty() && self.order_violations.is_empty() && self.duplicate_effects.is_empty()
    }
}

/// The region that was killed, and every region's log just before it came back.
#[derive(Debug, Clone, Copy)]
pub struct Killed<'a> {
    /// The region.
    pub region: &'a str,
    /// Per region, its replica of the log just before the killed region's return.
    pub before_return: &'a BTreeMap<String, Log>,
}

/// (task, sequence).
type Step = (String, u64);

/// What every acknowledgement is checked against.
struct Stores<'a> {
    regions: &'a BTreeMap<String, RegionSnapshot>,
    published: Published,
    /// (origin, task, sequence) of each audit object -> the buckets holding it.
    audited: BTreeMap<(String, String, u64), usize>,
    conflicted: BTreeSet<Step>,
    stranded: BTreeSet<&'a str>,
    /// Every acknowledged command.
    acked: BTreeSet<&'a str>,
}

/// Audits `driven` against `stores` (per region, converged); `killed` if a region was killed.
pub fn audit(driven: &Driven, stores: &BTreeMap<String, RegionSnapshot>, killed: Option<Killed<'_>>) -> Audit {
    let mut audit =
        Audit { acknowledged: driven.acks.len(), conflicts_injected: driven.conflicting_pairs, ..Audit::default() };
    audit.stranded = killed.map(|k| stranded(&driven.acks, k)).unwrap_or_default();
    let stranded_ids = stranded_commands(&driven.acks, &audit.stranded, killed);
    let context = Stores {
        regions: stores,
        published: published(stores),
        audited: audited(stores),
        conflicted: conflicted_steps(&driven.acks),
        stranded: stranded_ids,
        acked: driven.acks.iter().map(|a| a.command_id.as_str()).collect(),
    };
    for ack in &driven.acks {
        check_ack(&mut audit, ack, &context);
    }
    let acked: BTreeSet<&str> = driven.acks.iter().map(|a| a.command_id.as_str()).collect();
    let recorded: BTreeSet<&str> =
        stores.values().flat_map(|s| s.log.values().flat_map(|t| t.values())).map(|e| e.command_id.as_str()).collect();
    audit.recorded_unacknowledged = recorded.difference(&acked).count();
    audit.duplicate_deliveries = context.published.values().map(|on| on.len().saturating_sub(1)).sum();
    audit.audit_copies = context.audited.values().map(|buckets| buckets.saturating_sub(1)).sum();
    let contested = contested(&context, killed);
    audit.conflicted_tasks = contested.iter().map(|(task, _)| task).collect::<BTreeSet<_>>().len();
    check_audit_keys(&mut audit, &context, &contested);
    let contested_tasks: BTreeSet<&str> = contested.iter().map(|(t, _)| t.as_str()).collect();
    for (region, store) in stores {
        check_stream_order(&mut audit, region, store);
        check_views(&mut audit, region, store, &contested_tasks);
    }
    audit.publish_latencies.sort_unstable();
    audit
}

/// Acknowledged by the killed region, in its replica just before its return, in no other.
fn stranded(acks: &[Ack], killed: Killed<'_>) -> Vec<Finding> {
    let holds = |region: &str, ack: &Ack| {
        let log = killed.before_return.get(region);
        log.and_then(|l| l.get(&ack.task))
            .and_then(|t| t.get(&ack.version))
            .is_some_and(|e| e.command_id == ack.command_id)
    };
    let others: Vec<&str> = killed.before_return.keys().map(String::as_str).filter(|r| *r != killed.region).collect();
    acks.iter()
        .filter(|ack| ack.region == killed.region && holds(killed.region, ack))
        .filter(|ack| !others.iter().any(|r| holds(r, ack)))
        .map(|ack| Finding {
            task: ack.task.clone(),
            sequence: ack.version,
            what: format!("only in {}'s replica before its return", ack.region),
        })
        .collect()
}

fn stranded_commands<'a>(acks: &'a [Ack], stranded: &[Finding], killed: Option<Killed<'_>>) -> BTreeSet<&'a str> {
    let steps: BTreeSet<(&str, u64)> = stranded.iter().map(|f| (f.task.as_str(), f.sequence)).collect();
    let region = killed.map(|k| k.region);
    acks.iter()
        .filter(|a| Some(a.region.as_str()) == region && steps.contains(&(a.task.as_str(), a.version)))
        .map(|a| a.command_id.as_str())
        .collect()
}

/// The command of the event that holds `ack`'s step in every replica, when that command was
/// recorded but never acknowledged.
fn unacknowledged_winner<'a>(ack: &Ack, stores: &Stores<'a>) -> Option<&'a str> {
    let mut holders = stores.regions.values().map(|s| s.log.get(&ack.task).and_then(|t| t.get(&ack.version)));
    let first = holders.next()??;
    let everywhere = holders.all(|e| e.is_some_and(|e| e.command_id == first.command_id));
    (everywhere && !stores.acked.contains(first.command_id.as_str())).then_some(first.command_id.as_str())
}

/// (task, sequence) appended by two acknowledged commands.
fn conflicted_steps(acks: &[Ack]) -> BTreeSet<Step> {
    let mut seen = BTreeMap::new();
    for ack in acks {
        *seen.entry((ack.task.clone(), ack.version)).or_insert(0) += 1;
    }
    seen.into_iter().filter(|(_, n)| *n > 1).map(|(key, _)| key).collect()
}

/// Steps that held two different events somewhere: acknowledged twice, two event ids on the
/// streams or in the logs (now or before the return).
fn contested(stores: &Stores<'_>, killed: Option<Killed<'_>>) -> BTreeSet<Step> {
    let mut ids: BTreeMap<Step, BTreeSet<&str>> = BTreeMap::new();
    for store in stores.regions.values() {
        for event in &store.stream {
            ids.entry((event.task.clone(), event.sequence)).or_default().insert(&event.event_id);
        }
    }
    let before = killed.into_iter().flat_map(|k| k.before_return.values());
    for log in stores.regions.values().map(|s| &s.log).chain(before) {
        for (task, events) in log {
            for event in events.values() {
                ids.entry((task.clone(), event.sequence)).or_default().insert(&event.event_id);
            }
        }
    }
    let mut contested = stores.conflicted.clone();
    contested.extend(ids.into_iter().filter(|(_, ids)| ids.len() > 1).map(|(step, _)| step));
    contested
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

fn audited(stores: &BTreeMap<String, RegionSnapshot>) -> BTreeMap<(String, String, u64), usize> {
    let mut audited = BTreeMap::new();
    for object in stores.values().flat_map(|s| &s.audit) {
        *audited.entry((object.origin.clone(), object.task.clone(), object.sequence)).or_insert(0) += 1;
    }
    audited
}

fn check_ack(audit: &mut Audit, ack: &Ack, stores: &Stores<'_>) {
    let at = |region: &str| stores.regions.get(region).and_then(|s| s.log.get(&ack.task)?.get(&ack.version));
    let mine = |event: Option<&EventItem>| event.is_some_and(|e| e.command_id == ack.command_id);
    let finding = |what: String| Finding { task: ack.task.clone(), sequence: ack.version, what };
    let missing: Vec<&str> = stores.regions.keys().map(String::as_str).filter(|r| !mine(at(r))).collect();
    let Some(event) = stores.regions.keys().find_map(|r| at(r).filter(|e| e.command_id == ack.command_id)) else {
        if stores.stranded.contains(ack.command_id.as_str()) {
            let what = format!("stranded in {}, overwritten on its return by a write made meanwhile", ack.region);
            audit.stranded_overwritten.push(finding(what));
        } else if stores.conflicted.contains(&(ack.task.clone(), ack.version)) {
            audit.conflicts_overwritten += 1;
        } else if let Some(winner) = unacknowledged_winner(ack, stores) {
            let what = format!("acknowledged by {}, overwritten by command {winner}, never acknowledged", ack.region);
            audit.overwritten_by_unacknowledged.push(finding(what));
        } else {
            audit.lost.push(finding(format!("acknowledged by {} but in no replica", ack.region)));
        }
        return;
    };
    if !missing.is_empty() {
        audit.lost.push(finding(format!("missing from the replica in {}", missing.join(", "))));
        return;
    }
    let Some(deliveries) = stores.published.get(&event.event_id) else {
        audit.lost.push(finding("on no region's stream".to_owned()));
        return;
    };
    if let Some(first) = deliveries.iter().map(|(_, at)| *at).min() {
        audit.publish_latencies.push(first.duration_since(ack.sent).unwrap_or_default());
    }
    if !stores.audited.contains_key(&(event.origin_region.clone(), ack.task.clone(), ack.version)) {
        audit.lost.push(finding("no audit object in any region's bucket".to_owned()));
    }
}

/// An uncontested step audited under more than one key (two origins for one event).
fn check_audit_keys(audit: &mut Audit, stores: &Stores<'_>, contested: &BTreeSet<Step>) {
    let mut origins: BTreeMap<Step, Vec<&str>> = BTreeMap::new();
    for (origin, task, sequence) in stores.audited.keys() {
        origins.entry((task.clone(), *sequence)).or_default().push(origin);
    }
    for ((task, sequence), origins) in origins.into_iter().filter(|(_, o)| o.len() > 1) {
        if !contested.contains(&(task.clone(), sequence)) {
            let what = format!("one event audited under {} keys (origins {origins:?})", origins.len());
            audit.duplicate_effects.push(Finding { task, sequence, what });
        }
    }
}

/// Per task and origin, each first delivery on `region`'s stream must come later in sequence
/// than the one before.
fn check_stream_order(audit: &mut Audit, region: &str, store: &RegionSnapshot) {
    let mut last: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    // Records of one task share a partition key, hence a shard: shard order is their order.
    for event in &store.stream {
        if !seen.insert(event.event_id.as_str()) {
            continue;
        }
        let previous = last.insert((event.task.as_str(), event.origin.as_str()), event.sequence);
        if let Some(previous) = previous.filter(|p| *p >= event.sequence) {
            let what = format!("on {region}'s stream after sequence {previous} of the same origin ({})", event.origin);
            audit.order_violations.push(Finding { task: event.task.clone(), sequence: event.sequence, what });
        }
    }
}

/// `region`'s read model against the fold of its own replica of the log.
fn check_views(audit: &mut Audit, region: &str, store: &RegionSnapshot, contested: &BTreeSet<&str>) {
    for (task, events) in &store.log {
        if contested.contains(task.as_str()) {
            continue;
        }
        let logged = contiguous(events);
        let view = store.views.get(task).map(|s| &s.view);
        let version = view.map_or(0, |v| v.version);
        let finding = |sequence, what: String| Finding { task: task.clone(), sequence, what };
        let what = format!("{region}'s read model at version {version}, its log at {}", logged.len());
        if version > logged.len() as u64 {
            audit.duplicate_effects.push(finding(version, what));
        } else if version < logged.len() as u64 {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::soak::snapshot::{AuditObject, StreamedEvent};
    use domain::StoredView;
    use std::time::SystemTime;
    use test_support::fixtures::task_event;

    const KILLED: &str = "c";

    /// Task `t`: event 1 from a, 2 from c (stranded in c until its return), 3 from a.
    fn events() -> Vec<EventItem> {
        vec![task_event("t", 1, "a"), task_event("t", 2, KILLED), task_event("t", 3, "a")]
    }

    fn driven() -> Driven {
        let ack = |event: &EventItem| Ack {
            task: "t".into(),
            region: event.origin_region.clone(),
            command_id: event.command_id.clone(),
            version: event.sequence,
            sent: SystemTime::UNIX_EPOCH,
            latency: Duration::ZERO,
            paired: false,
        };
        Driven { acks: events().iter().map(ack).collect(), ..Driven::default() }
    }

    fn log(events: &[EventItem]) -> Log {
        [("t".to_owned(), events.iter().map(|e| (e.sequence, e.clone())).collect())].into()
    }

    fn streamed(event: &EventItem, by: &str) -> StreamedEvent {
        StreamedEvent {
            task: "t".into(),
            sequence: event.sequence,
            event_id: event.event_id.clone(),
            origin: event.origin_region.clone(),
            published_by: by.into(),
            shard: "shard-0".into(),
            arrival: SystemTime::UNIX_EPOCH,
        }
    }

    fn object(origin: &str, sequence: u64) -> AuditObject {
        AuditObject { origin: origin.into(), task: "t".into(), sequence }
    }

    /// The converged system after c's return: a's stream carries a's events, then c's event 2
    /// republished by the takeover; c's own publisher put event 2 on c's stream after its return;
    /// both a's and c's buckets hold event 2's audit object.
    fn converged() -> BTreeMap<String, RegionSnapshot> {
        let all = events();
        let folded = fold::<Task>(&all).unwrap();
        let view = StoredView { view: TaskView::from_folded("t", &folded), last_event_id: None };
        let store = |stream: Vec<StreamedEvent>, audit: Vec<AuditObject>| RegionSnapshot {
            log: log(&all),
            stream,
            audit,
            views: [("t".to_owned(), view.clone())].into(),
        };
        let a_stream = vec![streamed(&all[0], "a"), streamed(&all[2], "a"), streamed(&all[1], "a")];
        [
            ("a".to_owned(), store(a_stream, vec![object("a", 1), object("a", 3), object(KILLED, 2)])),
            ("b".to_owned(), store(Vec::new(), Vec::new())),
            (KILLED.to_owned(), store(vec![streamed(&all[1], KILLED)], vec![object(KILLED, 2)])),
        ]
        .into()
    }

    fn before_return() -> BTreeMap<String, Log> {
        let all = events();
        let survivors = log(&[all[0].clone(), all[2].clone()]);
        [("a".to_owned(), survivors.clone()), ("b".to_owned(), survivors), (KILLED.to_owned(), log(&all))].into()
    }

    #[test]
    fn a_returned_regions_event_projected_in_two_regions_is_a_copy_not_a_second_effect() {
        let before = before_return();
        let audit = audit(&driven(), &converged(), Some(Killed { region: KILLED, before_return: &before }));
        assert!(audit.passed(), "{audit:?}");
        assert_eq!(audit.stranded.len(), 1, "event 2 was only in c before its return");
        assert_eq!(audit.stranded_overwritten, []);
        assert_eq!((audit.duplicate_deliveries, audit.audit_copies), (1, 1));
        assert_eq!(audit.order_violations, [], "c's event 2 after a's event 3 on a's stream is in order per origin");
    }

    #[test]
    fn one_event_audited_under_two_keys_is_a_duplicated_effect() {
        let mut stores = converged();
        stores.get_mut("b").unwrap().audit.push(object("b", 2));
        let audit = audit(&driven(), &stores, None);
        assert_eq!(audit.duplicate_effects.len(), 1, "{audit:?}");
        assert!(!audit.passed());
    }

    #[test]
    fn an_origins_events_out_of_sequence_on_a_stream_and_a_missing_replica_event_are_found() {
        let mut stores = converged();
        let all = events();
        stores.get_mut("b").unwrap().stream = vec![streamed(&all[2], "b"), streamed(&all[0], "b")];
        stores.get_mut("b").unwrap().log.get_mut("t").unwrap().remove(&3);
        let audit = audit(&driven(), &stores, None);
        assert_eq!(audit.order_violations.len(), 1, "{audit:?}");
        assert!(audit.lost.iter().any(|f| f.sequence == 3 && f.what.contains("missing from the replica in b")));
        let past = audit.duplicate_effects.iter().any(|f| f.what.contains("b's read model at version 3"));
        assert!(past, "b's view is past its log: {audit:?}");
    }

    #[test]
    fn a_stranded_event_overwritten_on_the_return_is_counted_apart_and_its_step_contested() {
        let before = before_return();
        let mut stores = converged();
        let winner = domain::EventItem { command_id: "cmd-other".into(), ..task_event("t", 2, "b") };
        let winner = domain::EventItem { event_id: format!("{}-b", winner.event_id), ..winner };
        for store in stores.values_mut() {
            store.log.get_mut("t").unwrap().insert(2, winner.clone());
        }
        let audit = audit(&driven(), &stores, Some(Killed { region: KILLED, before_return: &before }));
        assert_eq!(audit.stranded_overwritten.len(), 1, "{audit:?}");
        assert_eq!(audit.lost, []);
        assert_eq!(audit.conflicted_tasks, 1);
    }

    #[test]
    fn an_acknowledged_event_overwritten_by_a_write_never_acknowledged_is_a_conflict_and_a_partial_one_is_lost() {
        let mut stores = converged();
        let winner = domain::EventItem { command_id: "cmd-in-flight".into(), ..task_event("t", 3, "b") };
        let winner = domain::EventItem { event_id: format!("{}-b", winner.event_id), ..winner };
        for store in stores.values_mut() {
            store.log.get_mut("t").unwrap().insert(3, winner.clone());
        }
        let audit = audit(&driven(), &stores, None);
        assert_eq!(audit.lost, [], "{audit:?}");
        assert_eq!(audit.overwritten_by_unacknowledged.len(), 1, "{audit:?}");
        assert!(audit.overwritten_by_unacknowledged[0].what.contains("cmd-in-flight"));

        // Replicas that disagree have not converged: that is still a loss.
        stores.get_mut("b").unwrap().log.get_mut("t").unwrap().remove(&3);
        let diverged = super::audit(&driven(), &stores, None);
        assert_eq!(diverged.overwritten_by_unacknowledged, []);
        assert_eq!(diverged.lost.len(), 1, "{diverged:?}");
    }
}
