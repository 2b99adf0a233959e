//! Republishing events read back from the event log: what a takeover (another region's events,
//! `published_by` this region) and a replay (`replay: true`, for named consumers) both do. The
//! events come in log order (time, and sequence within an aggregate); they go out through
//! [`waves::publish`](crate::waves::publish), the publisher's own ordered loop, so event n+1 of an
//! aggregate is never stored before event n. An event that can never be published (a payload
//! that is not JSON, an envelope over Kinesis' limit) stops its aggregate for the rest of the
//! run: its later events are not sent, and the run says so.

use crate::handler::MAX_RECORD_BYTES;
use crate::sink::{OutgoingRecord, RecordSink};
use crate::waves::{WaveSettings, publish};
use domain::{DomainError, DomainEventRef, EventItem};
use rand::rngs::SmallRng;
use std::collections::HashSet;
use tokio::time::Instant;

/// How events are republished.
#[derive(Debug, Clone, Copy)]
pub struct Republication<'a> {
    /// The region whose stream takes them (`published_by`).
    pub published_by: &'a str,
    /// Marked as a replay (consumers act on it only when named, or when none is named).
    pub replay: bool,
    /// The consumers a replay is meant for; empty: all.
    pub consumers: &'a [String],
}

/// An event that can never be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpublishable {
    /// `Task#<id>`.
    pub aggregate_key: String,
    /// Its sequence.
    pub sequence: u64,
    /// Why.
    pub reason: String,
}

/// What one republication did, per event of the input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Republished {
    /// `stored[i]`: event i is on the stream.
    pub stored: Vec<bool>,
    /// Events that can never be published; their aggregates' later events were not sent.
    pub unpublishable: Vec<Unpublishable>,
    /// PutRecords calls made.
    pub calls: u32,
}

impl Republished {
    /// Events stored.
    pub fn published(&self) -> usize {
        self.stored.iter().filter(|s| **s).count()
    }

    /// Events neither stored nor unpublishable themselves: still to do.
    pub fn left<'a>(&'a self, events: &'a [EventItem]) -> impl Iterator<Item = &'a EventItem> + 'a {
        let poison: HashSet<(&str, u64)> =
            self.unpublishable.iter().map(|u| (u.aggregate_key.as_str(), u.sequence)).collect();
        events
            .iter()
            .zip(&self.stored)
            .filter(move |(event, stored)| {
                !**stored && !poison.contains(&(event.aggregate_key.as_str(), event.sequence))
            })
            .map(|(event, _)| event)
    }
}

/// The Kinesis record of `item` as republished.
pub fn record(item: &EventItem, how: &Republication<'_>) -> Result<OutgoingRecord, DomainError> {
    let envelope = DomainEventRef::from_item(item, how.published_by, how.replay)?.for_consumers(how.consumers);
    let outgoing = OutgoingRecord { partition_key: item.aggregate_key.clone(), data: envelope.to_json() };
    if outgoing.size() > MAX_RECORD_BYTES {
        return Err(DomainError::malformed(
            "event log item",
            format!("envelope is {} bytes; Kinesis takes at most {MAX_RECORD_BYTES}", outgoing.size()),
        ));
    }
    Ok(outgoing)
}

/// The records of `events` in order, with the index of the event each came from; an event that
/// cannot be published stops its aggregate.
pub fn records(events: &[EventItem], how: &Republication<'_>) -> (Vec<OutgoingRecord>, Vec<usize>, Vec<Unpublishable>) {
    let (mut outgoing, mut origins, mut unpublishable) = (Vec::new(), Vec::new(), Vec::new());
    let mut stopped: HashSet<&str> = HashSet::new();
    for (index, event) in events.iter().enumerate() {
        if stopped.contains(event.aggregate_key.as_str()) {
            continue;
        }
        match record(event, how) {
            Ok(record) => {
                outgoing.push(record);
                origins.push(index);
            }
            Err(error) => {
                stopped.insert(&event.aggregate_key);
                unpublishable.push(Unpublishable {
                    aggregate_key: event.aggregate_key.clone(),
                    sequence: event.sequence,
                    reason: error.to_string(),
                });
            }
        }
    }
    (outgoing, origins, unpublishable)
}

/// Republishes `events` (in log order) on `sink` until all are stored or the deadline leaves no
/// time for another attempt.
pub async fn republish<S: RecordSink>(
    sink: &S,
    events: &[EventItem],
    how: &Republication<'_>,
    settings: &WaveSettings,
    deadline: Instant,
    rng: &mut SmallRng,
) -> Republished {
    let (outgoing, origins, unpublishable) = records(events, how);
    let report = publish(sink, &outgoing, settings, deadline, rng).await;
    let mut stored = vec![false; events.len()];
    for (&index, &done) in origins.iter().zip(&report.stored) {
        stored[index] = done;
    }
    Republished { stored, unpublishable, calls: report.calls }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn event(key: &str, sequence: u64, payload: &str) -> EventItem {
        EventItem {
            aggregate_key: key.into(),
            sequence,
            event_id: format!("e-{sequence}"),
            event_type: "TaskRenamed".into(),
            event_version: 1,
            payload: payload.into(),
            origin_region: "eu-west-1".into(),
            recorded_at: "2026-01-02T03:04:05.678Z".into(),
            command_id: "c".into(),
        }
    }

    #[test]
    fn an_unpublishable_event_stops_its_aggregate_and_only_its_aggregate() {
        let events =
            [event("Task#a", 1, "{}"), event("Task#a", 2, "{oops"), event("Task#b", 1, "{}"), event("Task#a", 3, "{}")];
        let how = Republication { published_by: "us-east-1", replay: false, consumers: &[] };
        let (outgoing, origins, unpublishable) = records(&events, &how);
        assert_eq!(origins, [0, 2]);
        assert_eq!(outgoing[1].partition_key, "Task#b");
        assert_eq!(unpublishable.len(), 1);
        assert_eq!((unpublishable[0].aggregate_key.as_str(), unpublishable[0].sequence), ("Task#a", 2));
        let done = Republished { stored: vec![true, false, true, false], unpublishable, calls: 1 };
        let left: Vec<u64> = done.left(&events).map(|e| e.sequence).collect();
        assert_eq!(left, [3], "the event behind the poison is still to do, the poison itself is reported");
    }

    #[test]
    fn a_republished_record_names_its_publisher_replay_and_consumers() {
        let consumers = ["view".to_owned()];
        let how = Republication { published_by: "us-east-1", replay: true, consumers: &consumers };
        let record = record(&event("Task#a", 1, "{}"), &how).unwrap();
        let parsed = domain::DomainEvent::parse(&record.data).unwrap();
        assert_eq!((parsed.published_by.as_str(), parsed.replay), ("us-east-1", true));
        assert_eq!((parsed.origin_region.as_str(), parsed.consumers.as_slice()), ("eu-west-1", &consumers[..]));
    }
}
