//! "Events of origin R since T, in order": what takeover and replay read from the event log's
//! origin index. The index is keyed on `<region>#<shard>` (`contract::event_log`), so the read is
//! one Query per shard, [`contract::event_log::ORIGIN_SHARDS`] in all plus one per extra 1 MB page, run concurrently
//! and merged: every event recorded in R at or after T, ordered by time, and each aggregate's
//! events in sequence order (an aggregate lives in one shard, and events of one command share a
//! time stamp, so the sequence decides between them).
//!
//! Index reads are eventually consistent (a global secondary index cannot be read
//! consistently), so an event written a moment ago may be missing: readers that must not miss
//! one start from a watermark and read again past it. `since` is inclusive for the same reason.

use crate::error::DomainError;
use crate::item::{EventItem, ORIGIN_SHARD, RECORDED_AT};
use crate::store::EventStore;
use aws_sdk_dynamodb::types::AttributeValue;
use contract::event_log::{BY_ORIGIN_INDEX, origin_shards};
use std::collections::HashMap;

/// Which events to read.
#[derive(Debug, Clone, Copy)]
pub struct OriginWindow<'a> {
    /// The region the events were recorded in.
    pub origin: &'a str,
    /// `RecordedAt` of the earliest event wanted (inclusive).
    pub since: &'a str,
    /// `RecordedAt` of the latest event wanted (inclusive); `None` reads to the end.
    pub until: Option<&'a str>,
}

/// What the read found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OriginEvents {
    /// The events, by time and, within an aggregate, by sequence.
    pub events: Vec<EventItem>,
    /// Query calls made (pages included): [`contract::event_log::ORIGIN_SHARDS`] for a window under 1 MB per shard.
    pub queries: u32,
}

impl EventStore {
    /// Every event recorded in `window.origin` within the window, in order.
    pub async fn events_of_origin(&self, window: OriginWindow<'_>) -> Result<OriginEvents, DomainError> {
        let reads = origin_shards(window.origin).map(|shard| self.read_shard(shard, window));
        let mut found = OriginEvents::default();
        for (events, queries) in futures::future::try_join_all(reads).await? {
            found.events.extend(events);
            found.queries += queries;
        }
        found.events = in_order(found.events);
        Ok(found)
    }

    /// Every page of one shard's Query; returns its events and the number of calls.
    async fn read_shard(&self, shard: String, window: OriginWindow<'_>) -> Result<(Vec<EventItem>, u32), DomainError> {
        let mut values = HashMap::from([
            (":shard".to_owned(), AttributeValue::S(shard)),
            (":since".to_owned(), AttributeValue::S(window.since.to_owned())),
        ]);
        let condition = match window.until {
            Some(until) => {
                values.insert(":until".to_owned(), AttributeValue::S(until.to_owned()));
                "#shard = :shard AND #at BETWEEN :since AND :until"
            }
            None => "#shard = :shard AND #at >= :since",
        };
        let (mut events, mut queries, mut start) = (Vec::new(), 0, None);
        loop {
            let page = self
                .client()
                .query()
                .table_name(self.table())
                .index_name(BY_ORIGIN_INDEX)
                .key_condition_expression(condition)
                .expression_attribute_names("#shard", ORIGIN_SHARD)
                .expression_attribute_names("#at", RECORDED_AT)
                .set_expression_attribute_values(Some(values.clone()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| DomainError::from_sdk("Query", &e))?;
            queries += 1;
            for item in page.items() {
                events.push(EventItem::from_sdk(item)?);
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok((events, queries)),
            }
        }
    }
}

/// Sorts by time, then puts each aggregate's events in sequence order within the places its
/// events took: ties in time and clock skew between containers never reorder an aggregate.
pub fn in_order(mut events: Vec<EventItem>) -> Vec<EventItem> {
    events.sort_by(|a, b| {
        (&a.recorded_at, &a.aggregate_key, a.sequence).cmp(&(&b.recorded_at, &b.aggregate_key, b.sequence))
    });
    let mut places: HashMap<String, Vec<usize>> = HashMap::new();
    for (place, event) in events.iter().enumerate() {
        places.entry(event.aggregate_key.clone()).or_default().push(place);
    }
    let mut slots: Vec<Option<EventItem>> = events.into_iter().map(Some).collect();
    for places in places.values() {
        let mut aggregate: Vec<EventItem> = places.iter().filter_map(|&p| slots[p].take()).collect();
        aggregate.sort_by_key(|event| event.sequence);
        for (&place, event) in places.iter().zip(aggregate) {
            slots[place] = Some(event);
        }
    }
    slots.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(key: &str, sequence: u64, at: &str) -> EventItem {
        EventItem {
            aggregate_key: key.into(),
            sequence,
            event_id: format!("{key}-{sequence}"),
            event_type: "TaskRenamed".into(),
            event_version: 1,
            payload: "{}".into(),
            origin_region: "us-east-1".into(),
            recorded_at: at.into(),
            command_id: "c".into(),
        }
    }

    #[test]
    fn events_come_by_time_and_never_out_of_sequence_within_an_aggregate() {
        // Task#a's event 2 carries an earlier clock than its event 1 (another container).
        let events = vec![
            event("Task#b", 1, "2026-01-02T03:04:05.002Z"),
            event("Task#a", 1, "2026-01-02T03:04:05.003Z"),
            event("Task#a", 2, "2026-01-02T03:04:05.001Z"),
            event("Task#c", 2, "2026-01-02T03:04:05.004Z"),
            event("Task#c", 1, "2026-01-02T03:04:05.004Z"),
        ];
        let ordered: Vec<(String, u64)> = in_order(events).into_iter().map(|e| (e.aggregate_key, e.sequence)).collect();
        assert_eq!(
            ordered,
            [("Task#a", 1), ("Task#b", 1), ("Task#a", 2), ("Task#c", 1), ("Task#c", 2)].map(|(k, s)| (k.to_owned(), s))
        );
    }
}
