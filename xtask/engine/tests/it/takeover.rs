//! `takeover` against the emulator: a lost region's events past its publisher watermark are
//! republished by the surviving region, `published_by` it, with the duplicates counted; the
//! watermark and the position only move forwards; an interrupted takeover resumes where it
//! stopped.
#![allow(clippy::unwrap_used)]

use domain::{DomainError, DomainEvent, EventItem};
use engine::redrive::RateLimit;
use engine::takeover::{PositionTable, Settings, Targets, take_over};
use engine::testing::{aws, emulator};
use publisher::{EntryResult, KinesisSink, OutgoingRecord, RecordSink, WatermarkTable};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use test_support::fixtures::task_event;
use test_support::streams::kinesis_records;

/// The surviving region (where the tables and stream of the test live).
const SURVIVOR: &str = "us-east-1";
/// The lost region.
const LOST: &str = "eu-west-1";

fn at(second: u32) -> String {
    format!("2026-03-04T05:06:{second:02}.000Z")
}

/// Event `sequence` of task `id`, recorded in `origin` at second `second`.
fn event(id: &str, sequence: u64, origin: &str, second: u32) -> EventItem {
    EventItem { recorded_at: at(second), ..task_event(id, sequence, origin) }
}

struct World {
    targets: Targets,
    stream: String,
    kinesis: aws_sdk_kinesis::Client,
}

async fn world(emulator: &engine::testing::TestEmulator, events: &[EventItem]) -> World {
    let aws = aws(emulator).await;
    let dynamodb = aws.dynamodb(SURVIVOR);
    let (log, _) = test_support::aws::create_event_log(&dynamodb).await;
    let idempotency = test_support::aws::create_idempotency_table(&dynamodb).await;
    let stream = test_support::aws::create_stream(&aws.kinesis(SURVIVOR), 1).await;
    for event in events {
        dynamodb.put_item().table_name(&log).set_item(Some(event.to_sdk())).send().await.expect("appending");
    }
    let targets = Targets {
        origin: LOST.into(),
        by: SURVIVOR.into(),
        log: domain::store::EventStore::new(dynamodb.clone(), &log),
        sink: KinesisSink::new(aws.kinesis(SURVIVOR), stream.clone()),
        watermark: WatermarkTable::new(dynamodb.clone(), idempotency.clone(), LOST),
        holds: domain::holds::HoldTable::new(dynamodb.clone(), idempotency.clone(), LOST),
        position: PositionTable::new(dynamodb, idempotency, LOST),
    };
    World { targets, stream, kinesis: aws.kinesis(SURVIVOR) }
}

async fn published(world: &World) -> Vec<DomainEvent> {
    kinesis_records(&world.kinesis, &world.stream)
        .await
        .iter()
        .map(|r| DomainEvent::parse(&r.data).expect("a domain event"))
        .collect()
}

fn exact() -> Settings {
    Settings { margin: Duration::ZERO, limit: RateLimit::default() }
}

#[tokio::test]
async fn takeover_publishes_the_lost_regions_events_past_its_watermark_as_the_survivor_and_counts_duplicates() {
    let emulator = emulator();
    let events = vec![
        event("a", 1, LOST, 1),
        event("b", 1, LOST, 2),
        event("a", 2, LOST, 3),
        event("b", 2, LOST, 4),
        event("a", 3, LOST, 5),
        event("s", 1, SURVIVOR, 4),
    ];
    let world = world(&emulator, &events).await;
    // The lost region's publisher had published everything up to second 2.
    assert!(world.targets.watermark.advance(&at(2), &at(59)).await.unwrap());

    let report = take_over(&world.targets, &exact(), &mut |_| {}).await.unwrap();

    let on_stream = published(&world).await;
    let seen: Vec<(String, u64)> = on_stream.iter().map(|e| (e.aggregate_id.clone(), e.sequence)).collect();
    let expected: Vec<(String, u64)> = [("b", 1), ("a", 2), ("b", 2), ("a", 3)].map(|(a, s)| (a.into(), s)).into();
    let mut sorted = seen.clone();
    sorted.sort();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(sorted, expected_sorted, "from the watermark (inclusive) on, and no event of the survivor's own");
    for aggregate in ["a", "b"] {
        let order: Vec<u64> = on_stream.iter().filter(|e| e.aggregate_id == aggregate).map(|e| e.sequence).collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{aggregate} in sequence order: {order:?}");
    }
    assert!(on_stream.iter().all(|e| e.published_by == SURVIVOR && e.origin_region == LOST && !e.replay));
    assert_eq!((report.read, report.published, report.possible_duplicates), (4, 4, 1), "{report:?}");
    assert_eq!(report.watermark.as_deref(), Some(at(2).as_str()));
    assert!(report.is_complete());
    let position = world.targets.position.load().await.unwrap().expect("a position");
    assert_eq!((position.up_to.as_str(), position.by.as_str(), position.published), (at(5).as_str(), SURVIVOR, 4));
}

#[tokio::test]
async fn the_watermark_and_the_takeover_position_never_move_back() {
    let emulator = emulator();
    let world = world(&emulator, &[]).await;
    let watermark = &world.targets.watermark;
    assert_eq!(watermark.load().await.unwrap(), None);
    assert!(watermark.advance(&at(3), &at(50)).await.unwrap());
    assert!(!watermark.advance(&at(2), &at(51)).await.unwrap(), "an earlier time is refused");
    assert!(!watermark.advance(&at(3), &at(52)).await.unwrap(), "the same time is not an advance");
    assert_eq!(watermark.load().await.unwrap().unwrap().recorded_at, at(3));
    assert!(watermark.advance(&at(4), &at(53)).await.unwrap());
    assert_eq!(watermark.load().await.unwrap().unwrap().recorded_at, at(4));

    let position = &world.targets.position;
    assert!(position.advance(&at(10), SURVIVOR, 3, &at(50)).await.unwrap());
    assert!(!position.advance(&at(9), SURVIVOR, 1, &at(51)).await.unwrap());
    let stored = position.load().await.unwrap().unwrap();
    assert_eq!((stored.up_to, stored.published), (at(10), 3));
}

/// Kinesis that stores the first `calls` PutRecords calls and then fails for good.
struct FailsAfter {
    inner: KinesisSink,
    calls: u32,
    made: AtomicU32,
}

impl RecordSink for FailsAfter {
    async fn put_records(&self, records: &[&OutgoingRecord]) -> Result<Vec<EntryResult>, DomainError> {
        if self.made.fetch_add(1, Ordering::SeqCst) >= self.calls {
            return Err(DomainError::Aws {
                operation: "PutRecords".into(),
                code: "AccessDeniedException".into(),
                message: "interrupted".into(),
                retryable: false,
            });
        }
        self.inner.put_records(records).await
    }
}

#[tokio::test]
async fn an_interrupted_takeover_resumes_from_its_position_without_starting_over() {
    let emulator = emulator();
    // Three aggregates, two events each: the first wave takes every first event, the second
    // wave every second one.
    let events: Vec<EventItem> = ["a", "b", "c"]
        .iter()
        .enumerate()
        .flat_map(|(i, id)| [event(id, 1, LOST, 1 + i as u32), event(id, 2, LOST, 4 + i as u32)])
        .collect();
    let world = world(&emulator, &events).await;
    let interrupted = Targets {
        sink: FailsAfter { inner: world.targets.sink.clone(), calls: 1, made: AtomicU32::new(0) },
        origin: world.targets.origin.clone(),
        by: world.targets.by.clone(),
        log: world.targets.log.clone(),
        watermark: world.targets.watermark.clone(),
        holds: world.targets.holds.clone(),
        position: world.targets.position.clone(),
    };
    let first = take_over(&interrupted, &exact(), &mut |_| {}).await.unwrap();
    assert_eq!((first.published, first.left), (3, 3), "{first:?}");
    assert!(!first.is_complete());
    assert_eq!(first.up_to.as_deref(), Some(at(4).as_str()), "the earliest event left");

    let second = take_over(&world.targets, &exact(), &mut |_| {}).await.unwrap();
    assert!(second.is_complete(), "{second:?}");
    assert_eq!((second.read, second.published), (3, 3), "resumed at the first event left, not from the start");
    assert_eq!(second.resumed_from.as_ref().map(|p| p.up_to.clone()), Some(at(4)));
    let mut seen: Vec<(String, u64)> =
        published(&world).await.into_iter().map(|e| (e.aggregate_id, e.sequence)).collect();
    seen.sort();
    let expected: Vec<(String, u64)> =
        ["a", "b", "c"].iter().flat_map(|id| [((*id).to_owned(), 1), ((*id).to_owned(), 2)]).collect();
    assert_eq!(seen, expected, "every event once");
}
