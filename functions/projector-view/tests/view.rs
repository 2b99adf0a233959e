//! View projector tests: real-shaped Kinesis events against an in-memory read model (order,
//! duplicates, out-of-order delivery, gaps, poison, concurrent writers) and against DynamoDB in
//! the moto emulator.
#![allow(clippy::unwrap_used)]

use aws_lambda_events::kinesis::KinesisEvent;
use aws_lambda_events::streams::KinesisEventResponse;
use domain::{DomainError, DomainEventRef, EventItem, TaskView, ViewStore};
use projector_view::{ViewRepository, handle};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use test_support::fixtures::{kinesis_event, kinesis_record, task_event};

#[derive(Clone, Default)]
struct MemoryViews {
    views: Arc<Mutex<HashMap<String, TaskView>>>,
    writes: Arc<Mutex<u32>>,
    lose_races: bool,
}

impl ViewRepository for MemoryViews {
    async fn get(&self, id: &str) -> Result<Option<TaskView>, DomainError> {
        Ok(self.views.lock().unwrap().get(id).cloned())
    }
    async fn put_if_version(&self, view: &TaskView, previous: u64) -> Result<bool, DomainError> {
        let mut views = self.views.lock().unwrap();
        let current = views.get(&view.id).map_or(0, |v| v.version);
        if self.lose_races || current != previous {
            return Ok(false);
        }
        *self.writes.lock().unwrap() += 1;
        views.insert(view.id.clone(), view.clone());
        Ok(true)
    }
}

impl MemoryViews {
    fn version(&self, id: &str) -> u64 {
        self.views.lock().unwrap().get(id).map_or(0, |v| v.version)
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
    let (response, stats) = handle(&views, &batch(&[("a", 1), ("b", 1), ("a", 2), ("a", 3)])).await;
    assert!(failures(&response).is_empty());
    assert_eq!(stats.applied, 4);
    assert_eq!(*views.writes.lock().unwrap(), 2);
    let view = views.views.lock().unwrap()["a"].clone();
    assert_eq!((view.version, view.title.as_str(), view.completed), (3, "task a v3", false));
}

#[tokio::test]
async fn a_duplicate_delivery_is_an_acknowledged_no_op() {
    let views = MemoryViews::default();
    handle(&views, &batch(&[("a", 1), ("a", 2)])).await;
    let (response, stats) = handle(&views, &batch(&[("a", 1), ("a", 2)])).await;
    assert!(failures(&response).is_empty());
    assert_eq!((stats.duplicates, stats.applied), (2, 0));
    assert_eq!(*views.writes.lock().unwrap(), 1, "nothing written for duplicates");
}

#[tokio::test]
async fn out_of_order_delivery_within_a_batch_is_applied_in_sequence() {
    let views = MemoryViews::default();
    let (response, stats) = handle(&views, &batch(&[("a", 2), ("a", 1), ("a", 3)])).await;
    assert!(failures(&response).is_empty());
    assert_eq!((stats.applied, views.version("a")), (3, 3));
}

#[tokio::test]
async fn a_gap_fails_the_record_and_those_behind_it_until_the_missing_event_arrives() {
    let views = MemoryViews::default();
    handle(&views, &batch(&[("a", 1)])).await;
    let (response, stats) = handle(&views, &batch(&[("b", 1), ("a", 3), ("a", 4)])).await;
    assert_eq!(failures(&response), ["seq-1", "seq-2"]);
    assert_eq!((stats.gaps, stats.applied, views.version("a")), (2, 1, 1));
    handle(&views, &batch(&[("a", 2)])).await;
    let (response, _) = handle(&views, &batch(&[("a", 3), ("a", 4)])).await;
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
    let (response, stats) = handle(&views, &raw_batch(&records)).await;
    assert_eq!(failures(&response), ["seq-0", "seq-1", "seq-2", "seq-3"]);
    assert_eq!((stats.poison, stats.applied), (4, 1));
    assert_eq!(views.version("ok"), 1);
}

#[tokio::test]
async fn events_of_other_aggregate_types_are_acknowledged() {
    let mut order = task_event("o", 1, "us-east-1");
    order.aggregate_key = "Order#o".into();
    let (response, stats) = handle(&MemoryViews::default(), &raw_batch(&[data(&order)])).await;
    assert!(failures(&response).is_empty());
    assert_eq!(stats.ignored, 1);
}

#[tokio::test]
async fn a_write_that_loses_to_a_concurrent_writer_is_retried() {
    let views = MemoryViews { lose_races: true, ..MemoryViews::default() };
    let (response, stats) = handle(&views, &batch(&[("a", 1), ("a", 2)])).await;
    assert_eq!(failures(&response), ["seq-0", "seq-1"]);
    assert_eq!((stats.failed, stats.applied), (2, 0));
}

#[tokio::test]
async fn the_dynamodb_read_model_applies_each_event_exactly_once() {
    let client = test_support::aws::dynamodb();
    let views = ViewStore::new(client.clone(), test_support::aws::create_view_table(&client).await);
    let (response, _) = handle(&views, &batch(&[("e", 1), ("e", 2)])).await;
    assert!(failures(&response).is_empty());
    let (response, stats) = handle(&views, &batch(&[("e", 2), ("e", 3), ("e", 5)])).await;
    assert_eq!(failures(&response), ["seq-2"]);
    assert_eq!((stats.duplicates, stats.applied, stats.gaps), (1, 1, 1));
    let view = views.get("e", true).await.unwrap().unwrap();
    assert_eq!((view.version, view.title.as_str()), (3, "task e v3"));
}
