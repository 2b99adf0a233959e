//! Publisher handler tests with real-shaped DynamoDB stream events and in-process fakes of
//! Kinesis, SQS and the hold store: ordering, wave sizes, conflicts (reported within the
//! deadline, overwritten inserts not published), mixed origins, unpublishable events holding
//! their aggregate across invocations, and fault injection (partial failures and throttling)
//! over 10,000 events.
#![allow(clippy::unwrap_used)]

mod fakes;

use aws_lambda_events::dynamodb::Event as DynamoDbEvent;
use domain::holds::{HoldStore, MemoryHolds};
use domain::{DomainEvent, Origin};
use fakes::{FakeConflicts, FakeKinesis};
use publisher::{Publisher, Stats, WaveSettings};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use std::time::Duration;
use test_support::fixtures::{Change, DYNAMODB_STREAM_SAMPLE, dynamodb_event, stream_record, task_event};
use tokio::time::Instant;

const REGION: &str = "us-east-1";

type TestPublisher = Publisher<FakeKinesis, FakeConflicts, MemoryHolds>;

fn publisher(kinesis: FakeKinesis, conflicts: FakeConflicts) -> TestPublisher {
    with_holds(kinesis, conflicts, MemoryHolds::default())
}

fn with_holds(kinesis: FakeKinesis, conflicts: FakeConflicts, holds: MemoryHolds) -> TestPublisher {
    Publisher {
        sink: kinesis,
        conflicts,
        holds,
        origin: Origin::new(REGION).unwrap(),
        settings: WaveSettings::default(),
    }
}

async fn run(publisher: &TestPublisher, event: &DynamoDbEvent) -> (Option<String>, Stats) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let (response, stats) = publisher.handle(event, deadline, &mut SmallRng::seed_from_u64(1)).await;
    assert!(response.batch_item_failures.len() <= 1, "only the earliest record is reported");
    (response.batch_item_failures.first().and_then(|f| f.item_identifier.clone()), stats)
}

/// `aggregates` tasks with `per_aggregate` events each, interleaved round-robin.
fn interleaved(aggregates: usize, per_aggregate: u64, origin: &str) -> Vec<serde_json::Value> {
    let mut records = Vec::new();
    for sequence in 1..=per_aggregate {
        for a in 0..aggregates {
            let item = task_event(&format!("a{a}"), sequence, origin);
            records.push(stream_record(Change::Insert(&item), records.len() as u64 + 1));
        }
    }
    records
}

#[tokio::test]
async fn a_thousand_record_batch_without_failures_takes_at_most_two_calls() {
    for (aggregates, per_aggregate) in [(1000, 1), (500, 2)] {
        let kinesis = FakeKinesis::reliable();
        let publisher = publisher(kinesis.clone(), FakeConflicts::default());
        let (failure, stats) = run(&publisher, &dynamodb_event(interleaved(aggregates, per_aggregate, REGION))).await;
        assert_eq!(failure, None);
        assert_eq!(stats.published, 1000);
        assert_eq!(stats.calls, 2, "{aggregates} aggregates x {per_aggregate}");
        kinesis.assert_per_key_order();
    }
}

#[tokio::test]
async fn events_of_one_aggregate_go_out_one_per_call_in_order() {
    let kinesis = FakeKinesis::reliable();
    let publisher = publisher(kinesis.clone(), FakeConflicts::default());
    let (failure, stats) = run(&publisher, &dynamodb_event(interleaved(3, 4, REGION))).await;
    assert_eq!(failure, None);
    assert_eq!((stats.published, stats.calls), (12, 4));
    assert_eq!(kinesis.sequences_of("Task#a1"), [1, 2, 3, 4]);
}

#[tokio::test]
async fn the_published_envelope_has_every_field_of_the_design() {
    let kinesis = FakeKinesis::reliable();
    let publisher = publisher(kinesis.clone(), FakeConflicts::default());
    run(&publisher, &dynamodb_event(interleaved(1, 1, REGION))).await;
    let stored = kinesis.stored();
    assert_eq!(stored[0].0, "Task#a0", "partition key is AggregateTypeAndId");
    let json: serde_json::Value = serde_json::from_slice(&stored[0].1).unwrap();
    let mut fields: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "aggregate_id",
            "aggregate_type",
            "id",
            "origin_region",
            "payload",
            "published_by",
            "recorded_at",
            "replay",
            "sequence",
            "type",
            "version"
        ]
    );
    let event = DomainEvent::parse(&stored[0].1).unwrap();
    assert_eq!((event.published_by.as_str(), event.replay), (REGION, false));
    assert_eq!(event.payload.get(), r#"{"title":"task a0"}"#);
}

#[tokio::test]
async fn mixed_origin_batches_publish_only_local_events() {
    let mut records = Vec::new();
    for i in 0..40u64 {
        let origin = if i % 3 == 0 { "eu-west-1" } else { REGION };
        let item = task_event(&format!("m{i}"), 1, origin);
        records.push(stream_record(Change::Insert(&item), i + 1));
    }
    let kinesis = FakeKinesis::reliable();
    let publisher = publisher(kinesis.clone(), FakeConflicts::default());
    let (failure, stats) = run(&publisher, &dynamodb_event(records)).await;
    assert_eq!(failure, None);
    assert_eq!((stats.published, stats.skipped_foreign), (26, 14));
    for (_, data) in kinesis.stored() {
        assert_eq!(DomainEvent::parse(&data).unwrap().origin_region, REGION);
    }
}

#[tokio::test]
async fn an_overwritten_local_event_is_reported_as_a_conflict_not_published() {
    let ours = task_event("c", 2, REGION);
    let mut theirs = task_event("c", 2, "eu-west-1");
    theirs.event_id = "0000ffff-0000-7000-8000-000000000000".into();
    let records = vec![stream_record(Change::Modify { old: &ours, new: &theirs }, 1)];
    let (kinesis, conflicts) = (FakeKinesis::reliable(), FakeConflicts::default());
    let publisher = publisher(kinesis.clone(), conflicts.clone());
    let (failure, stats) = run(&publisher, &dynamodb_event(records)).await;
    assert_eq!((failure, stats.conflicts, stats.published), (None, 1, 0));
    assert!(kinesis.stored().is_empty());
    let report: serde_json::Value = serde_json::from_str(&conflicts.reports()[0]).unwrap();
    assert_eq!(report["kind"], "conflict");
    assert_eq!(report["aggregate_key"], "Task#c");
    assert_eq!(report["old_image"]["EventId"]["S"], ours.event_id.as_str());
    assert_eq!(report["new_image"]["OriginRegion"]["S"], "eu-west-1");
}

#[tokio::test]
async fn other_modifies_removes_and_unchanged_rewrites_are_skipped() {
    let foreign = task_event("f", 1, "eu-west-1");
    let ours = task_event("o", 1, REGION);
    let records = vec![
        stream_record(Change::Modify { old: &foreign, new: &ours }, 1),
        stream_record(Change::Modify { old: &ours, new: &ours }, 2),
        stream_record(Change::Remove(&ours), 3),
    ];
    let (kinesis, conflicts) = (FakeKinesis::reliable(), FakeConflicts::default());
    let publisher = publisher(kinesis.clone(), conflicts.clone());
    let (failure, stats) = run(&publisher, &dynamodb_event(records)).await;
    assert_eq!((failure, stats.skipped_other, stats.conflicts), (None, 3, 0));
    assert!(kinesis.stored().is_empty() && conflicts.reports().is_empty());
}

#[tokio::test]
async fn a_conflict_that_cannot_be_reported_is_retried_from_its_record() {
    let ours = task_event("c", 1, REGION);
    let mut theirs = task_event("c", 1, "eu-west-1");
    theirs.event_id = "0000ffff-0000-7000-8000-000000000000".into();
    let later = task_event("d", 1, REGION);
    let records =
        vec![stream_record(Change::Insert(&later), 7), stream_record(Change::Modify { old: &ours, new: &theirs }, 8)];
    let publisher = publisher(FakeKinesis::reliable(), FakeConflicts::failing());
    let (failure, stats) = run(&publisher, &dynamodb_event(records)).await;
    assert_eq!(failure.as_deref(), Some("000000000000000000008"));
    assert_eq!(stats.published, 1);
}

#[tokio::test]
async fn an_unpublishable_event_holds_back_its_aggregate_and_is_reported() {
    let mut broken = task_event("x", 2, REGION);
    broken.payload = "{not json".into();
    let records = vec![
        stream_record(Change::Insert(&task_event("x", 1, REGION)), 1),
        stream_record(Change::Insert(&broken), 2),
        stream_record(Change::Insert(&task_event("y", 1, REGION)), 3),
        stream_record(Change::Insert(&task_event("x", 3, REGION)), 4),
    ];
    let kinesis = FakeKinesis::reliable();
    let publisher = publisher(kinesis.clone(), FakeConflicts::default());
    let (failure, stats) = run(&publisher, &dynamodb_event(records)).await;
    assert_eq!(failure.as_deref(), Some("000000000000000000002"));
    assert_eq!((stats.unpublishable, stats.published), (1, 2));
    assert_eq!(kinesis.sequences_of("Task#x"), [1], "event 3 waits behind event 2");
    assert_eq!(kinesis.sequences_of("Task#y"), [1]);
}

#[tokio::test]
async fn a_non_retryable_kinesis_error_gives_up_at_once_from_the_earliest_record() {
    let kinesis = FakeKinesis::denied();
    let publisher = publisher(kinesis.clone(), FakeConflicts::default());
    let mut records = interleaved(2, 1, "eu-west-1");
    records.extend(interleaved(2, 2, REGION).into_iter().map(|mut r| {
        r["dynamodb"]["SequenceNumber"] =
            serde_json::json!(format!("9{}", r["dynamodb"]["SequenceNumber"].as_str().unwrap()));
        r
    }));
    let (failure, stats) = run(&publisher, &dynamodb_event(records)).await;
    assert_eq!(failure.as_deref(), Some("9000000000000000000001"));
    assert_eq!((stats.calls, stats.published, stats.left_for_retry), (1, 0, 4));
}

#[tokio::test]
async fn the_documentation_sample_from_another_table_is_skipped_without_failures() {
    let event: DynamoDbEvent = serde_json::from_str(DYNAMODB_STREAM_SAMPLE).unwrap();
    let kinesis = FakeKinesis::reliable();
    let publisher = publisher(kinesis.clone(), FakeConflicts::default());
    let (failure, stats) = run(&publisher, &event).await;
    assert_eq!(failure, None);
    assert_eq!((stats.skipped_foreign, stats.skipped_other, stats.calls), (1, 2, 0));
}

#[path = "handler/fault.rs"]
mod fault;

#[path = "handler/holds.rs"]
mod holds;

#[path = "handler/conflicts.rs"]
mod conflicts;

/// Events of `aggregates` tasks, one each, recorded one second apart.
fn timed(aggregates: usize) -> Vec<serde_json::Value> {
    (0..aggregates)
        .map(|a| {
            let item = domain::EventItem {
                recorded_at: format!("2026-05-06T07:08:{a:02}.000Z"),
                ..task_event(&format!("w{a}"), 1, REGION)
            };
            stream_record(Change::Insert(&item), a as u64 + 1)
        })
        .collect()
}

#[tokio::test]
async fn the_watermark_is_the_latest_event_stored_when_the_whole_batch_went_out() {
    let publisher = publisher(FakeKinesis::reliable(), FakeConflicts::default());
    let (failure, stats) = run(&publisher, &dynamodb_event(timed(5))).await;
    assert_eq!(failure, None);
    assert_eq!(stats.watermark.as_deref(), Some("2026-05-06T07:08:04.000Z"));
}

#[tokio::test]
async fn no_watermark_is_allowed_when_nothing_was_stored() {
    let publisher = publisher(FakeKinesis::denied(), FakeConflicts::default());
    let (failure, stats) = run(&publisher, &dynamodb_event(timed(5))).await;
    assert!(failure.is_some());
    assert_eq!(stats.watermark, None, "PutRecords stored nothing: the watermark must not move");
}

#[tokio::test]
async fn the_watermark_stays_below_the_earliest_event_not_published() {
    // The event at second 2 can never be published; events of other aggregates after it are.
    let mut records = timed(5);
    let poison = domain::EventItem {
        recorded_at: "2026-05-06T07:08:02.000Z".into(),
        payload: "{not json".into(),
        ..task_event("w2", 1, REGION)
    };
    records[2] = stream_record(Change::Insert(&poison), 3);
    let kinesis = FakeKinesis::reliable();
    let publisher = publisher(kinesis.clone(), FakeConflicts::default());
    let (failure, stats) = run(&publisher, &dynamodb_event(records)).await;
    assert!(failure.is_some());
    assert_eq!(stats.published, 4, "the other aggregates' events went out");
    assert_eq!(stats.watermark.as_deref(), Some("2026-05-06T07:08:01.000Z"), "not past the unpublished event");
}
