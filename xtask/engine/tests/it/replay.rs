//! `replay` against the emulator: one aggregate read by its key, an origin since a time read
//! through the origin index, the consumers carried on the stream, and a replay interrupted
//! mid-way resumed from its saved position without starting over.
#![allow(clippy::unwrap_used)]

use domain::{DomainError, DomainEvent, EventItem};
use engine::redrive::RateLimit;
use engine::replay::{PositionFile, ReplayOptions, check, replay, select};
use engine::testing::{aws, emulator};
use publisher::{EntryResult, KinesisSink, OutgoingRecord, RecordSink};
use std::sync::atomic::{AtomicU32, Ordering};
use test_support::fixtures::task_event;
use test_support::streams::kinesis_records;

const REGION: &str = "us-east-1";
const OTHER: &str = "eu-west-1";

fn at(second: u32) -> String {
    format!("2026-03-04T05:06:{second:02}.000Z")
}

fn event(id: &str, sequence: u64, origin: &str, second: u32) -> EventItem {
    EventItem { recorded_at: at(second), ..task_event(id, sequence, origin) }
}

fn config() -> stacks::AppConfig {
    let text = format!(
        "app = \"rp\"\nhome = \"{REGION}\"\n\n[[region]]\nname = \"{REGION}\"\n\n[[region]]\nname = \"{OTHER}\"\n"
    );
    stacks::AppConfig::from_toml("regions.toml", &text).expect("a config")
}

struct World {
    log: domain::store::EventStore,
    sink: KinesisSink,
    kinesis: aws_sdk_kinesis::Client,
    stream: String,
}

async fn world(emulator: &engine::testing::TestEmulator, events: &[EventItem]) -> World {
    let aws = aws(emulator).await;
    let dynamodb = aws.dynamodb(REGION);
    let (table, _) = test_support::aws::create_event_log(&dynamodb).await;
    let stream = test_support::aws::create_stream(&aws.kinesis(REGION), 1).await;
    for event in events {
        dynamodb.put_item().table_name(&table).set_item(Some(event.to_sdk())).send().await.expect("appending");
    }
    World {
        log: domain::store::EventStore::new(dynamodb, &table),
        sink: KinesisSink::new(aws.kinesis(REGION), stream.clone()),
        kinesis: aws.kinesis(REGION),
        stream,
    }
}

async fn on_stream(world: &World) -> Vec<DomainEvent> {
    let records = kinesis_records(&world.kinesis, &world.stream).await;
    records.iter().map(|r| DomainEvent::parse(&r.data).expect("a domain event")).collect()
}

fn regions() -> Vec<String> {
    vec![REGION.into(), OTHER.into()]
}

fn history() -> Vec<EventItem> {
    vec![
        event("a", 1, REGION, 1),
        event("b", 1, OTHER, 2),
        event("a", 2, OTHER, 3),
        event("a", 3, REGION, 4),
        event("c", 1, REGION, 5),
    ]
}

#[tokio::test]
async fn one_aggregate_is_replayed_in_sequence_for_the_named_consumer() {
    let emulator = emulator();
    let world = world(&emulator, &history()).await;
    let options = ReplayOptions {
        region: REGION.into(),
        aggregate_type: Some("Task".into()),
        aggregate_id: Some("a".into()),
        consumers: vec!["view".into()],
        ..ReplayOptions::default()
    };
    let selection = check(&config(), &options).unwrap();
    let events = select(&world.log, &selection, &regions(), None).await.unwrap();
    let report =
        replay(&world.sink, &selection, &events, RateLimit::default(), &mut |_| Ok(()), &mut |_, _| {}).await.unwrap();
    assert_eq!((report.selected, report.published, report.left), (3, 3, 0));
    let published = on_stream(&world).await;
    let seen: Vec<(String, u64)> = published.iter().map(|e| (e.aggregate_id.clone(), e.sequence)).collect();
    assert_eq!(seen, [("a".to_owned(), 1), ("a".to_owned(), 2), ("a".to_owned(), 3)]);
    assert!(published.iter().all(|e| e.replay && e.consumers == ["view"] && e.published_by == REGION));
    assert!(published.iter().all(|e| e.is_for("view") && !e.is_for("audit")));
}

#[tokio::test]
async fn an_origin_since_a_time_is_read_through_the_origin_index() {
    let emulator = emulator();
    let world = world(&emulator, &history()).await;
    let options = ReplayOptions {
        region: REGION.into(),
        origin: Some(REGION.into()),
        since: Some("2026-03-04T05:06:04Z".into()),
        ..ReplayOptions::default()
    };
    let selection = check(&config(), &options).unwrap();
    let events = select(&world.log, &selection, &regions(), None).await.unwrap();
    let keys: Vec<(String, u64)> = events.iter().map(|e| (e.aggregate_key.clone(), e.sequence)).collect();
    assert_eq!(keys, [("Task#a".to_owned(), 3), ("Task#c".to_owned(), 1)], "REGION's events from second 4 on");
    replay(&world.sink, &selection, &events, RateLimit::default(), &mut |_| Ok(()), &mut |_, _| {}).await.unwrap();
    let published = on_stream(&world).await;
    assert_eq!(published.len(), 2);
    assert!(published.iter().all(|e| e.replay && e.consumers.is_empty() && e.is_for("audit") && e.is_for("view")));

    let every_origin = check(&config(), &ReplayOptions { region: REGION.into(), ..ReplayOptions::default() }).unwrap();
    let all = select(&world.log, &every_origin, &regions(), None).await.unwrap();
    let order: Vec<u64> = all.iter().filter(|e| e.aggregate_key == "Task#a").map(|e| e.sequence).collect();
    assert_eq!((all.len(), order), (5, vec![1, 2, 3]), "both origins merged in log order");
}

/// Kinesis that stores the first `calls` PutRecords calls and then refuses every call.
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
async fn an_interrupted_replay_resumes_from_its_saved_position() {
    let emulator = emulator();
    // Two events per aggregate: the first wave takes every first event, the second every second.
    let events: Vec<EventItem> = ["a", "b", "c"]
        .iter()
        .enumerate()
        .flat_map(|(i, id)| [event(id, 1, REGION, 1 + i as u32), event(id, 2, REGION, 4 + i as u32)])
        .collect();
    let world = world(&emulator, &events).await;
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    let root = std::env::temp_dir().join(format!("kit-replay-{}-{nanos}", std::process::id()));
    let file = PositionFile::new(&root, REGION);
    let selection = check(&config(), &ReplayOptions { region: REGION.into(), ..ReplayOptions::default() }).unwrap();

    let selected = select(&world.log, &selection, &regions(), None).await.unwrap();
    let interrupted = FailsAfter { inner: world.sink.clone(), calls: 1, made: AtomicU32::new(0) };
    let first =
        replay(&interrupted, &selection, &selected, RateLimit::default(), &mut |p| file.save(p), &mut |_, _| {})
            .await
            .unwrap();
    assert_eq!((first.published, first.left), (3, 3));
    let saved = file.load(&selection).unwrap().expect("a saved position");
    assert_eq!((saved.done, saved.since.as_deref()), (false, Some(at(4).as_str())));

    let rest = select(&world.log, &selection, &regions(), Some(&saved)).await.unwrap();
    assert_eq!(rest.len(), 3, "only what was left");
    let second = replay(&world.sink, &selection, &rest, RateLimit::default(), &mut |p| file.save(p), &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!((second.published, second.left), (3, 0));
    assert!(file.load(&selection).unwrap().unwrap().done);
    let mut seen: Vec<(String, u64)> =
        on_stream(&world).await.into_iter().map(|e| (e.aggregate_id, e.sequence)).collect();
    seen.sort();
    assert_eq!(seen.len(), 6, "every event once: {seen:?}");
    let other = check(
        &config(),
        &ReplayOptions { region: REGION.into(), origin: Some(OTHER.into()), ..ReplayOptions::default() },
    )
    .unwrap();
    assert_eq!(file.load(&other).unwrap(), None, "a position belongs to its selection");
    let _ = std::fs::remove_dir_all(root);
}
