//! View projector tests: real-shaped Kinesis events against an in-memory read model and event
//! log (order, duplicates, out-of-order delivery, gaps closed from the log or left for retry,
//! conflicts rebuilt from the log, poison, concurrent writers) and against DynamoDB in the moto
//! emulator.
#![allow(clippy::unwrap_used)]

use aws_lambda_events::kinesis::KinesisEvent;
use aws_lambda_events::streams::KinesisEventResponse;
use domain::store::EventStore;
use domain::{DomainError, DomainEventRef, EventItem, StoredView, ViewStore};
use projector_view::{EventLog, ViewRepository, handle};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use test_support::fixtures::{kinesis_event, kinesis_record, task_event};

#[derive(Clone, Default)]
struct MemoryViews {
    views: Arc<Mutex<HashMap<String, StoredView>>>,
    writes: Arc<Mutex<u32>>,
    lose_races: bool,
}

impl ViewRepository for MemoryViews {
    async fn get(&self, id: &str) -> Result<Option<StoredView>, DomainError> {
        Ok(self.views.lock().unwrap().get(id).cloned())
    }
    async fn put_if_version(&self, view: &StoredView, previous: u64) -> Result<bool, DomainError> {
        let mut views = self.views.lock().unwrap();
        let current = views.get(&view.view.id).map_or(0, |v| v.view.version);
        if self.lose_races || current != previous {
            return Ok(false);
        }
        *self.writes.lock().unwrap() += 1;
        views.insert(view.view.id.clone(), view.clone());
        Ok(true)
    }
}

impl MemoryViews {
    fn version(&self, id: &str) -> u64 {
        self.views.lock().unwrap().get(id).map_or(0, |v| v.view.version)
    }

    fn stored(&self, id: &str) -> StoredView {
        self.views.lock().unwrap()[id].clone()
    }
}

/// An event log in memory; empty unless events are added.
#[derive(Clone, Default)]
struct MemoryLog {
    events: Arc<Mutex<HashMap<String, Vec<EventItem>>>>,
}

impl MemoryLog {
    fn with(events: &[EventItem]) -> Self {
        let log = MemoryLog::default();
        for event in events {
            log.events.lock().unwrap().entry(event.aggregate_key.clone()).or_default().push(event.clone());
        }
        log
    }
}

impl EventLog for MemoryLog {
    async fn events(&self, key: &str, from: u64, to: Option<u64>) -> Result<Vec<EventItem>, DomainError> {
        let events = self.events.lock().unwrap().get(key).cloned().unwrap_or_default();
        Ok(events.into_iter().filter(|e| e.sequence >= from && to.is_none_or(|to| e.sequence <= to)).collect())
    }
}

fn data(item: &EventItem) -> Vec<u8> {
    DomainEventRef::from_item(item, "us-east-1", false).unwrap().to_json()
}

/// A batch of `(aggregate, sequence)` events; record i has sequence number `seq-<i>`.
fn batch(events: &[(&str, u64)]) -> KinesisEvent {
    let data: Vec<Vec<u8>> = events.iter().map(|(id, n)| data(&task_event(id, *n, "us-east-1"))).collect();
    raw_batch(&data)
}

fn raw_batch(data: &[Vec<u8>]) -> KinesisEvent {
    kinesis_event(data.iter().enumerate().map(|(i, d)| kinesis_record(d, "Task#x", &format!("seq-{i}"))).collect())
}

fn failures(response: &KinesisEventResponse) -> Vec<String> {
    response.batch_item_failures.iter().map(|f| f.item_identifier.clone().unwrap()).collect()
}

#[tokio::test]
async fn events_apply_in_order_with_one_conditional_write_per_aggregate() {
    let views = MemoryViews::default();
    let (response, stats) =
        handle(&views, &MemoryLog::default(), &batch(&[("a", 1), ("b", 1), ("a", 2), ("a", 3)])).await;
    assert!(failures(&response).is_empty());
    assert_eq!(stats.applied, 4);
    assert_eq!(*views.writes.lock().unwrap(), 2);
    let view = views.stored("a").view;
    assert_eq!((view.version, view.title.as_str(), view.completed), (3, "task a v3", false));
}

#[tokio::test]
async fn a_duplicate_delivery_is_an_acknowledged_no_op() {
    let views = MemoryViews::default();
    handle(&views, &MemoryLog::default(), &batch(&[("a", 1), ("a", 2)])).await;
    let (response, stats) = handle(&views, &MemoryLog::default(), &batch(&[("a", 1), ("a", 2)])).await;
    assert!(failures(&response).is_empty());
    assert_eq!((stats.duplicates, stats.applied), (2, 0));
    assert_eq!(*views.writes.lock().unwrap(), 1, "nothing written for duplicates");
}

#[tokio::test]
async fn out_of_order_delivery_within_a_batch_is_applied_in_sequence() {
    let views = MemoryViews::default();
    let (response, stats) = handle(&views, &MemoryLog::default(), &batch(&[("a", 2), ("a", 1), ("a", 3)])).await;
    assert!(failures(&response).is_empty());
    assert_eq!((stats.applied, views.version("a")), (3, 3));
}

#[tokio::test]
async fn a_gap_the_log_cannot_close_yet_fails_the_record_and_those_behind_it_for_retry() {
    let views = MemoryViews::default();
    handle(&views, &MemoryLog::default(), &batch(&[("a", 1)])).await;
    let (response, stats) = handle(&views, &MemoryLog::default(), &batch(&[("b", 1), ("a", 3), ("a", 4)])).await;
    assert_eq!(failures(&response), ["seq-1", "seq-2"]);
    assert_eq!((stats.gaps, stats.applied, views.version("a")), (2, 1, 1));
    handle(&views, &MemoryLog::default(), &batch(&[("a", 2)])).await;
    let (response, _) = handle(&views, &MemoryLog::default(), &batch(&[("a", 3), ("a", 4)])).await;
    assert!(failures(&response).is_empty());
    assert_eq!(views.version("a"), 4);
}

#[tokio::test]
async fn poison_records_are_reported_and_other_aggregates_still_apply() {
    let mut unknown = task_event("p", 1, "us-east-1");
    unknown.event_type = "TaskDeleted".into();
    let mut bad_payload = task_event("q", 1, "us-east-1");
    bad_payload.payload = r#"{"name":"no title"}"#.into();
    let records = [
        b"not json".to_vec(),
        data(&unknown),
        br#"{"id":"x","type":"TaskCreated"}"#.to_vec(),
        data(&bad_payload),
        data(&task_event("ok", 1, "us-east-1")),
    ];
    let views = MemoryViews::default();
    let (response, stats) = handle(&views, &MemoryLog::default(), &raw_batch(&records)).await;
    assert_eq!(failures(&response), ["seq-0", "seq-1", "seq-2", "seq-3"]);
    assert_eq!((stats.poison, stats.applied), (4, 1));
    assert_eq!(views.version("ok"), 1);
}

#[tokio::test]
async fn events_of_other_aggregate_types_are_acknowledged() {
    let mut order = task_event("o", 1, "us-east-1");
    order.aggregate_key = "Order#o".into();
    let (response, stats) = handle(&MemoryViews::default(), &MemoryLog::default(), &raw_batch(&[data(&order)])).await;
    assert!(failures(&response).is_empty());
    assert_eq!(stats.ignored, 1);
}

#[tokio::test]
async fn a_write_that_loses_to_a_concurrent_writer_is_retried() {
    let views = MemoryViews { lose_races: true, ..MemoryViews::default() };
    let (response, stats) = handle(&views, &MemoryLog::default(), &batch(&[("a", 1), ("a", 2)])).await;
    assert_eq!(failures(&response), ["seq-0", "seq-1"]);
    assert_eq!((stats.failed, stats.applied), (2, 0));
}

#[tokio::test]
async fn a_gap_is_closed_from_the_event_log_and_applied_in_order() {
    let views = MemoryViews::default();
    let log = MemoryLog::with(&[task_event("a", 1, "us-east-1"), task_event("a", 2, "eu-west-1")]);
    // Event 1 was projected before event 2 reached this region's log.
    handle(&views, &MemoryLog::with(&[task_event("a", 1, "us-east-1")]), &batch(&[("a", 1)])).await;
    let (response, stats) = handle(&views, &log, &batch(&[("a", 3), ("a", 4)])).await;
    assert!(failures(&response).is_empty());
    assert_eq!((stats.filled, stats.applied, stats.gaps, views.version("a")), (1, 2, 0, 4));
    assert_eq!(*views.writes.lock().unwrap(), 2, "one write for the batch, filled event included");
}

#[tokio::test]
async fn the_view_is_written_at_the_head_of_the_log_so_a_late_batch_never_writes_an_older_version() {
    // Events 2 and 3 came from another region's stream and are already in this region's log.
    let log = MemoryLog::with(&[
        task_event("h", 1, "us-east-1"),
        task_event("h", 2, "eu-west-1"),
        task_event("h", 3, "eu-west-1"),
    ]);
    let views = MemoryViews::default();
    let (response, stats) = handle(&views, &log, &batch(&[("h", 1)])).await;
    assert!(failures(&response).is_empty());
    assert_eq!((stats.applied, stats.filled, views.version("h")), (1, 2, 3));
    assert_eq!(views.stored("h").view.title, "task h v3");
    // A row written before events 2 and 3 replicated to its region's log moves to the log's head
    // on the next delivery of any event of the task, here a duplicate.
    let older = MemoryViews::default();
    handle(&older, &MemoryLog::with(&[task_event("h", 1, "us-east-1")]), &batch(&[("h", 1)])).await;
    views.views.lock().unwrap().insert("h".into(), older.stored("h"));
    let (response, stats) = handle(&views, &log, &batch(&[("h", 1)])).await;
    assert!(failures(&response).is_empty());
    assert_eq!((stats.duplicates, stats.filled, views.version("h")), (1, 2, 3));
}

#[tokio::test]
async fn the_same_sequence_with_another_event_id_is_a_conflict_rebuilt_from_the_log() {
    // Two regions appended sequence 2; the log settled on the other region's event.
    let mut theirs = task_event("c", 2, "eu-west-1");
    theirs.event_id = "0000ffff-0000-7000-8000-000000000000".into();
    theirs.payload = r#"{"title":"their title"}"#.into();
    let log = MemoryLog::with(&[task_event("c", 1, "us-east-1"), theirs.clone()]);
    let views = MemoryViews::default();
    // Our event 2 reached the view before their event 2 replaced it in this region's log.
    let unsettled = MemoryLog::with(&[task_event("c", 1, "us-east-1"), task_event("c", 2, "us-east-1")]);
    handle(&views, &unsettled, &batch(&[("c", 1), ("c", 2)])).await;
    assert_eq!(views.stored("c").view.title, "task c v2");
    let (response, stats) = handle(&views, &log, &raw_batch(&[data(&theirs)])).await;
    assert!(failures(&response).is_empty());
    assert_eq!((stats.conflicts, stats.duplicates), (1, 0), "not a duplicate");
    let rebuilt = views.stored("c");
    assert_eq!((rebuilt.view.version, rebuilt.view.title.as_str()), (2, "their title"));
    assert_eq!(rebuilt.last_event_id.as_deref(), Some(theirs.event_id.as_str()));
    let (_, stats) = handle(&views, &log, &raw_batch(&[data(&theirs)])).await;
    assert_eq!((stats.duplicates, stats.conflicts), (1, 0), "the settled event is now a duplicate");
}

#[tokio::test]
async fn a_row_standing_on_an_event_last_writer_wins_replaced_is_rebuilt_when_its_region_projects_again() {
    let mut theirs = task_event("s", 2, "eu-west-1");
    theirs.event_id = "0000dddd-0000-7000-8000-000000000000".into();
    theirs.payload = r#"{"title":"their title"}"#.into();
    let views = MemoryViews::default();
    let unsettled = MemoryLog::with(&[task_event("s", 1, "us-east-1"), task_event("s", 2, "us-east-1")]);
    handle(&views, &unsettled, &batch(&[("s", 1), ("s", 2)])).await;
    // Their event 2 won; our next event 3 arrives on top of the row's replaced event 2.
    let settled = MemoryLog::with(&[task_event("s", 1, "us-east-1"), theirs.clone(), task_event("s", 3, "us-east-1")]);
    let (response, stats) = handle(&views, &settled, &batch(&[("s", 3)])).await;
    assert!(failures(&response).is_empty());
    assert_eq!(stats.conflicts, 1, "detected, not applied on the replaced event");
    let rebuilt = views.stored("s");
    assert_eq!(rebuilt.view.version, 3);
    assert_eq!(rebuilt.last_event_id, Some(task_event("s", 3, "us-east-1").event_id));
    // The row now stands on the settled log: a redelivery is a duplicate.
    let (_, stats) = handle(&views, &settled, &batch(&[("s", 3)])).await;
    assert_eq!((stats.duplicates, stats.conflicts), (1, 0));
}

#[tokio::test]
async fn a_rebuild_never_moves_a_view_back_to_a_log_that_is_behind_it() {
    let views = MemoryViews::default();
    handle(&views, &MemoryLog::default(), &batch(&[("r", 1), ("r", 2), ("r", 3)])).await;
    let mut other = task_event("r", 3, "eu-west-1");
    other.event_id = "0000eeee-0000-7000-8000-000000000000".into();
    let behind = MemoryLog::with(&[task_event("r", 1, "us-east-1"), task_event("r", 2, "us-east-1")]);
    let (response, stats) = handle(&views, &behind, &raw_batch(&[data(&other)])).await;
    assert_eq!((failures(&response).len(), stats.conflicts), (1, 0), "retried, not rebuilt backwards");
    assert_eq!(views.version("r"), 3);
}

#[tokio::test]
async fn only_event_3_of_a_task_whose_events_1_to_3_are_in_the_log_gives_version_3_without_failures() {
    let client = test_support::aws::dynamodb();
    let views = ViewStore::new(client.clone(), test_support::aws::create_view_table(&client).await, "us-east-1");
    let (table, _) = test_support::aws::create_event_log(&client).await;
    let log = EventStore::new(client.clone(), table);
    // Created in one region, renamed in another: events 2 and 3 came from different streams.
    let events = [task_event("x3", 1, "eu-west-1"), task_event("x3", 2, "eu-west-1"), task_event("x3", 3, "us-east-1")];
    for event in &events {
        log.append(vec![log.append_put(event).unwrap()]).await.unwrap();
    }
    let (response, stats) = handle(&views, &log, &raw_batch(&[data(&events[2])])).await;
    assert!(failures(&response).is_empty(), "no failure reported");
    assert_eq!((stats.filled, stats.applied), (2, 1));
    let stored = views.get("x3", true).await.unwrap().unwrap();
    assert_eq!((stored.view.version, stored.view.title.as_str()), (3, "task x3 v3"));
    assert_eq!(stored.last_event_id.as_deref(), Some(events[2].event_id.as_str()));
}

#[tokio::test]
async fn the_dynamodb_read_model_applies_each_event_exactly_once() {
    let client = test_support::aws::dynamodb();
    let views = ViewStore::new(client.clone(), test_support::aws::create_view_table(&client).await, "us-east-1");
    let (table, _) = test_support::aws::create_event_log(&client).await;
    let log = EventStore::new(client.clone(), table);
    let (response, _) = handle(&views, &log, &batch(&[("e", 1), ("e", 2)])).await;
    assert!(failures(&response).is_empty());
    let (response, stats) = handle(&views, &log, &batch(&[("e", 2), ("e", 3), ("e", 5)])).await;
    assert_eq!(failures(&response), ["seq-2"]);
    assert_eq!((stats.duplicates, stats.applied, stats.gaps), (1, 1, 1));
    let stored = views.get("e", true).await.unwrap().unwrap();
    assert_eq!((stored.view.version, stored.view.title.as_str()), (3, "task e v3"));
}

fn replay_data(item: &EventItem, consumers: &[String]) -> Vec<u8> {
    DomainEventRef::from_item(item, "us-east-1", true).unwrap().for_consumers(consumers).to_json()
}

#[tokio::test]
async fn a_replay_is_applied_when_it_names_the_view_or_no_consumer_and_skipped_when_it_names_another() {
    let for_audit = ["audit".to_owned()];
    let for_view = ["view".to_owned()];
    let views = MemoryViews::default();
    let skipped = raw_batch(&[replay_data(&task_event("a", 1, "us-east-1"), &for_audit)]);
    let (response, stats) = handle(&views, &MemoryLog::default(), &skipped).await;
    assert!(failures(&response).is_empty(), "acknowledged");
    assert_eq!((stats.not_for_view, stats.applied), (1, 0));
    assert_eq!(views.version("a"), 0, "untouched");

    let named = raw_batch(&[replay_data(&task_event("a", 1, "us-east-1"), &for_view)]);
    let (_, stats) = handle(&views, &MemoryLog::default(), &named).await;
    assert_eq!((stats.not_for_view, stats.applied), (0, 1));
    let anyone = raw_batch(&[replay_data(&task_event("a", 2, "us-east-1"), &[])]);
    let (_, stats) = handle(&views, &MemoryLog::default(), &anyone).await;
    assert_eq!(stats.applied, 1, "a replay naming no consumer is for every consumer");
    assert_eq!(views.version("a"), 2);
}
