//! The local runtime's takeover: a two-region app deployed to the emulator, a region killed, and
//! the events it recorded that reached the other region but were never published end up on the
//! survivor's stream, `published_by` the survivor, after the grace period.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::{app_config, app_name, deploy_app, quick_run_settings};
use domain::DomainEvent;
use domain::origin::format_recorded_at;
use local::clients::Clients;
use local::gateway::client::call;
use local::run::{Kill, Runtime};
use local::takeover::TakeoverSettings;
use publisher::WatermarkTable;
use serde_json::json;
use stacks::app::{event_log_table_name, event_stream_name, idempotency_table_name};
use std::time::Duration;
use test_support::fixtures::task_event;
use test_support::streams::kinesis_records;

const A: &str = "us-east-1";
const B: &str = "eu-west-1";
const WAIT: Duration = Duration::from_secs(40);

async fn stream_of(clients: &Clients, app: &str, region: &str) -> Vec<DomainEvent> {
    let records = kinesis_records(&clients.kinesis(region), &event_stream_name(app)).await;
    records.iter().filter_map(|r| DomainEvent::parse(&r.data).ok()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_regions_replicated_but_unpublished_events_are_published_by_a_survivor_after_the_grace_period() {
    let emulator = engine::testing::emulator();
    let app = app_name("tko");
    let (clients, deployment) = deploy_app(&emulator, app_config("takeover-test.toml", &app, &[A, B], &[])).await;
    let settings = quick_run_settings(&emulator.endpoint);
    let mut runtime = Runtime::start(&clients, &deployment, settings).await.unwrap();
    let grace = Duration::from_secs(3);
    runtime.takeovers().configure(TakeoverSettings { grace, margin: Duration::ZERO, ..TakeoverSettings::default() });

    // A publishes a task of its own, and its watermark reaches B's replica.
    let created = call(&runtime.urls()[A], "POST", "/tasks", Some(&json!({"title": "before"})), WAIT).await.unwrap();
    assert_eq!(created.status, 201, "{}", created.body);
    let watermark = WatermarkTable::new(clients.dynamodb(B), idempotency_table_name(&app), A);
    let start = tokio::time::Instant::now();
    while watermark.load().await.unwrap().is_none() {
        assert!(start.elapsed() < WAIT, "A's watermark never reached B");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A is lost with two events in B's replica that its publisher never put on a stream.
    runtime.schedule(&Kill { region: A.to_owned(), after: runtime.elapsed(), back: None }).unwrap();
    runtime.outages().wait_down(A).await;
    let now = format_recorded_at(time::OffsetDateTime::now_utc());
    for sequence in 1..=2 {
        let item = domain::EventItem { recorded_at: now.clone(), ..task_event("unpublished", sequence, A) };
        let put = clients.dynamodb(B).put_item().table_name(event_log_table_name(&app)).set_item(Some(item.to_sdk()));
        put.send().await.unwrap();
    }
    assert!(stream_of(&clients, &app, B).await.is_empty(), "B's publisher leaves A's events alone");

    let start = tokio::time::Instant::now();
    let takeover = loop {
        if let Some(done) = runtime.takeovers().done().pop() {
            break done;
        }
        assert!(start.elapsed() < WAIT, "no takeover after {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(start.elapsed() >= grace.saturating_sub(Duration::from_millis(500)), "not before the grace period");
    assert_eq!((takeover.from.as_str(), takeover.to.as_str()), (A, B));
    let report = takeover.outcome.unwrap();
    assert!(report.is_complete(), "{report:?}");
    let on_b = stream_of(&clients, &app, B).await;
    let taken: Vec<u64> = on_b.iter().filter(|e| e.aggregate_id == "unpublished").map(|e| e.sequence).collect();
    assert_eq!(taken, [1, 2], "both unpublished events, in order: {on_b:?}");
    assert!(on_b.iter().all(|e| e.published_by == B && e.origin_region == A), "{on_b:?}");
    // The task A had published sits at its watermark: republished at most once, and counted.
    assert_eq!(report.published, on_b.len());
    assert_eq!(report.possible_duplicates, on_b.len() - 2, "{report:?}");
    runtime.shutdown().await;
}
