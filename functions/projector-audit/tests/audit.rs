//! Audit projector tests: real-shaped Kinesis events against an in-memory store (duplicates,
//! poison, failed writes) and against S3 in the moto emulator.
#![allow(clippy::unwrap_used)]

use aws_lambda_events::kinesis::KinesisEvent;
use domain::{DomainError, DomainEventRef};
use projector_audit::{ObjectStore, S3Store, Written, handle};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use test_support::fixtures::{KINESIS_SAMPLE, kinesis_event, kinesis_record, task_event};

#[derive(Clone, Default)]
struct MemoryStore {
    objects: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    failing_key: Option<String>,
}

impl ObjectStore for MemoryStore {
    async fn put_if_absent(&self, key: &str, body: Vec<u8>) -> Result<Written, DomainError> {
        if self.failing_key.as_deref() == Some(key) {
            return Err(DomainError::Aws {
                operation: "PutObject".into(),
                code: "SlowDown".into(),
                message: "injected".into(),
                retryable: true,
            });
        }
        let mut objects = self.objects.lock().unwrap();
        if objects.contains_key(key) {
            return Ok(Written::AlreadyThere);
        }
        objects.insert(key.to_owned(), body);
        Ok(Written::Created)
    }
}

fn event_data(id: &str, sequence: u64, replay: bool) -> Vec<u8> {
    let item = task_event(id, sequence, "eu-west-1");
    DomainEventRef::from_item(&item, "eu-west-1", replay).unwrap().to_json()
}

fn batch(data: &[Vec<u8>]) -> KinesisEvent {
    kinesis_event(data.iter().enumerate().map(|(i, d)| kinesis_record(d, "Task#x", &format!("4959{i:04}"))).collect())
}

fn failures(response: &aws_lambda_events::streams::KinesisEventResponse) -> Vec<String> {
    response.batch_item_failures.iter().map(|f| f.item_identifier.clone().unwrap()).collect()
}

#[tokio::test]
async fn each_event_is_written_once_at_its_deterministic_key() {
    let store = MemoryStore::default();
    let (response, stats) = handle(&store, &batch(&[event_data("t1", 1, false), event_data("t1", 2, false)])).await;
    assert!(failures(&response).is_empty());
    assert_eq!(stats.written, 2);
    let objects = store.objects.lock().unwrap();
    let body = &objects["events/eu-west-1/Task/t1/2.json"];
    assert_eq!(body, &event_data("t1", 2, false), "the object is the event as published");
    assert!(objects.contains_key("events/eu-west-1/Task/t1/1.json"));
}

#[tokio::test]
async fn a_duplicate_delivery_is_an_acknowledged_no_op_that_keeps_the_first_copy() {
    let store = MemoryStore::default();
    handle(&store, &batch(&[event_data("t1", 1, false)])).await;
    let (response, stats) = handle(&store, &batch(&[event_data("t1", 1, true)])).await;
    assert!(failures(&response).is_empty());
    assert_eq!((stats.written, stats.duplicates), (0, 1));
    assert_eq!(store.objects.lock().unwrap()["events/eu-west-1/Task/t1/1.json"], event_data("t1", 1, false));
}

#[tokio::test]
async fn poison_records_are_reported_and_the_rest_of_the_batch_is_written() {
    let store = MemoryStore::default();
    let wrong_schema = br#"{"id":"x","type":"TaskCreated","sequence":"one"}"#.to_vec();
    let data = [
        event_data("a", 1, false),
        b"not json".to_vec(),
        event_data("b", 1, false),
        wrong_schema,
        event_data("c", 1, false),
    ];
    let (response, stats) = handle(&store, &batch(&data)).await;
    assert_eq!(failures(&response), ["49590001", "49590003"]);
    assert_eq!((stats.written, stats.poison), (3, 2));
}

#[tokio::test]
async fn a_failed_write_is_reported_for_retry() {
    let store = MemoryStore { failing_key: Some("events/eu-west-1/Task/b/1.json".into()), ..MemoryStore::default() };
    let (response, stats) = handle(&store, &batch(&[event_data("a", 1, false), event_data("b", 1, false)])).await;
    assert_eq!(failures(&response), ["49590001"]);
    assert_eq!((stats.written, stats.failed), (1, 1));
}

#[tokio::test]
async fn the_documentation_sample_is_not_a_domain_event_and_is_reported() {
    let event: KinesisEvent = serde_json::from_str(KINESIS_SAMPLE).unwrap();
    let (response, stats) = handle(&MemoryStore::default(), &event).await;
    assert_eq!(failures(&response), [event.records[0].kinesis.sequence_number.clone()]);
    assert_eq!(stats.poison, 1);
}

#[tokio::test]
async fn s3_in_the_emulator_keeps_the_first_copy_of_each_event() {
    let client = test_support::aws::s3();
    let bucket = test_support::aws::create_bucket(&client).await;
    let store = S3Store::new(client.clone(), &bucket);
    let (response, stats) = handle(&store, &batch(&[event_data("t9", 1, false), event_data("t9", 2, false)])).await;
    assert!(failures(&response).is_empty());
    assert_eq!(stats.written, 2);
    let (response, stats) = handle(&store, &batch(&[event_data("t9", 1, true)])).await;
    assert!(failures(&response).is_empty());
    assert_eq!(stats.duplicates, 1);
    let object = client.get_object().bucket(&bucket).key("events/eu-west-1/Task/t9/1.json").send().await.unwrap();
    assert_eq!(object.content_type(), Some("application/json"));
    let body = object.body.collect().await.unwrap().into_bytes();
    assert_eq!(body.as_ref(), event_data("t9", 1, false).as_slice());
}

fn replay_for(id: &str, sequence: u64, consumers: &[String]) -> Vec<u8> {
    let item = task_event(id, sequence, "eu-west-1");
    DomainEventRef::from_item(&item, "eu-west-1", true).unwrap().for_consumers(consumers).to_json()
}

#[tokio::test]
async fn a_replay_is_written_when_it_names_audit_or_no_consumer_and_skipped_when_it_names_another() {
    let store = MemoryStore::default();
    let (view, audit) = (["view".to_owned()], ["audit".to_owned()]);
    let (response, stats) =
        handle(&store, &batch(&[replay_for("t1", 1, &view), replay_for("t1", 2, &audit), replay_for("t1", 3, &[])]))
            .await;
    assert!(failures(&response).is_empty());
    assert_eq!((stats.written, stats.not_for_audit), (2, 1));
    let objects = store.objects.lock().unwrap();
    assert!(!objects.contains_key("events/eu-west-1/Task/t1/1.json"), "meant for the view only");
    assert!(
        objects.contains_key("events/eu-west-1/Task/t1/2.json")
            && objects.contains_key("events/eu-west-1/Task/t1/3.json")
    );
}
