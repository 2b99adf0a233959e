//! The origin index against DynamoDB in the moto emulator: "events of origin R since T" comes
//! back complete, without other regions' or older events, by time and in sequence order per
//! aggregate, in one Query per shard.
#![allow(clippy::unwrap_used)]

use domain::EventItem;
use domain::contract::event_log::ORIGIN_SHARDS;
use domain::origin_index::OriginWindow;
use domain::store::EventStore;
use std::collections::HashMap;
use test_support::aws::{create_event_log, dynamodb};

fn event(aggregate: usize, sequence: u64, origin: &str, second: u64) -> EventItem {
    EventItem {
        aggregate_key: format!("Task#origin-{aggregate:03}"),
        sequence,
        event_id: format!("e-{aggregate}-{sequence}"),
        event_type: "TaskRenamed".into(),
        event_version: 1,
        payload: "{}".into(),
        origin_region: origin.to_owned(),
        recorded_at: format!("2026-01-02T03:{:02}:{:02}.000Z", second / 60, second % 60),
        command_id: format!("c-{aggregate}-{sequence}"),
    }
}

#[tokio::test]
async fn events_of_an_origin_since_a_time_come_back_complete_and_in_order() {
    let client = dynamodb();
    let (table, _) = create_event_log(&client).await;
    let store = EventStore::new(client.clone(), &table);
    let mut written = Vec::new();
    for aggregate in 0..40 {
        let origin = if aggregate % 4 == 0 { "eu-west-1" } else { "us-east-1" };
        for sequence in 1..=3u64 {
            // Events 2 and 3 of a command share a time stamp; aggregates interleave in time.
            let second = aggregate as u64 + 60 * sequence.min(2);
            written.push(event(aggregate, sequence, origin, second));
        }
    }
    for item in &written {
        client.put_item().table_name(&table).set_item(Some(item.to_sdk())).send().await.unwrap();
    }
    let since = "2026-01-02T03:00:20.000Z";
    let found = store.events_of_origin(OriginWindow { origin: "us-east-1", since, until: None }).await.unwrap();
    assert_eq!(found.queries, ORIGIN_SHARDS, "one Query per shard for a small window");

    let mut expected: Vec<(String, u64)> = written
        .iter()
        .filter(|e| e.origin_region == "us-east-1" && e.recorded_at.as_str() >= since)
        .map(|e| (e.aggregate_key.clone(), e.sequence))
        .collect();
    let mut got: Vec<(String, u64)> = found.events.iter().map(|e| (e.aggregate_key.clone(), e.sequence)).collect();
    assert!(found.events.windows(2).all(|w| w[0].recorded_at <= w[1].recorded_at), "by time");
    let mut last: HashMap<&str, u64> = HashMap::new();
    for event in &found.events {
        let previous = last.insert(&event.aggregate_key, event.sequence).unwrap_or(0);
        assert!(event.sequence > previous, "{} out of sequence", event.aggregate_key);
    }
    expected.sort();
    got.sort();
    assert_eq!(got, expected, "every us-east-1 event since T, nothing else");

    let until = "2026-01-02T03:01:10.000Z";
    let window = OriginWindow { origin: "us-east-1", since, until: Some(until) };
    let bounded = store.events_of_origin(window).await.unwrap();
    assert!(!bounded.events.is_empty());
    assert!(bounded.events.iter().all(|e| e.recorded_at.as_str() >= since && e.recorded_at.as_str() <= until));
    assert!(bounded.events.len() < found.events.len());
}
