//! Fault injection: 10,000 events over 200 aggregates through a simulated event source mapping,
//! with 30% of PutRecords entries failing on every attempt, 5% of calls throttled as a whole,
//! and every third invocation given too little time to finish.

use super::*;
use rand::Rng;
use serde_json::Value;
use std::collections::HashSet;

const AGGREGATES: usize = 200;
const EVENTS: usize = 10_000;
const BATCH: usize = 1_000;

/// Stream records of `EVENTS` events spread at random over `AGGREGATES` aggregates, each
/// aggregate's events in sequence order (as DynamoDB Streams delivers one shard).
fn shuffled_stream(rng: &mut SmallRng) -> Vec<Value> {
    let per_aggregate = (EVENTS / AGGREGATES) as u64;
    let mut next = vec![1u64; AGGREGATES];
    let mut open: Vec<usize> = (0..AGGREGATES).collect();
    let mut records = Vec::with_capacity(EVENTS);
    while !open.is_empty() {
        let slot = rng.random_range(0..open.len());
        let aggregate = open[slot];
        let item = task_event(&format!("agg{aggregate}"), next[aggregate], REGION);
        records.push(stream_record(Change::Insert(&item), records.len() as u64 + 1));
        next[aggregate] += 1;
        if next[aggregate] > per_aggregate {
            open.swap_remove(slot);
        }
    }
    records
}

fn identity(record: &Value) -> (String, u64) {
    let image = &record["dynamodb"]["NewImage"];
    (
        image["AggregateTypeAndId"]["S"].as_str().unwrap().to_owned(),
        image["AggregateIdSequence"]["N"].as_str().unwrap().parse().unwrap(),
    )
}

fn stored_identities(stored: &[(String, Vec<u8>)]) -> Vec<(String, u64)> {
    stored.iter().map(|(key, data)| (key.clone(), DomainEvent::parse(data).unwrap().sequence)).collect()
}

#[tokio::test(start_paused = true)]
async fn ten_thousand_events_with_30_percent_failing_entries_lose_and_reorder_nothing() {
    let mut rng = SmallRng::seed_from_u64(42);
    let records = shuffled_stream(&mut rng);
    assert_eq!(records.len(), EVENTS);
    let kinesis = FakeKinesis::flaky(0.30, 0.05, 7);
    let publisher = publisher(kinesis.clone(), FakeConflicts::default());
    let (mut checkpoint, mut invocations, mut partial) = (0, 0, 0);
    while checkpoint < records.len() {
        invocations += 1;
        assert!(invocations <= 500, "the event source mapping made no progress");
        let batch = &records[checkpoint..(checkpoint + BATCH).min(records.len())];
        let budget = if invocations % 3 == 0 { Duration::from_millis(1_300) } else { Duration::from_secs(30) };
        let before = kinesis.stored().len();
        let (response, _) = publisher.handle(&dynamodb_event(batch.to_vec()), Instant::now() + budget, &mut rng).await;
        let stored_now: HashSet<(String, u64)> = stored_identities(&kinesis.stored()[before..]).into_iter().collect();
        let first_unpublished = batch.iter().position(|r| !stored_now.contains(&identity(r)));
        let reported: Vec<_> =
            response.batch_item_failures.iter().map(|f| f.item_identifier.clone().unwrap()).collect();
        match first_unpublished {
            None => {
                assert!(
                    reported.is_empty(),
                    "invocation {invocations} reported {reported:?} with everything published"
                );
                checkpoint += batch.len();
            }
            Some(position) => {
                let expected = batch[position]["dynamodb"]["SequenceNumber"].as_str().unwrap();
                assert_eq!(reported, [expected], "invocation {invocations}: the earliest unpublished record");
                checkpoint += position;
                partial += 1;
            }
        }
    }
    kinesis.assert_per_key_order();
    let stored = stored_identities(&kinesis.stored());
    let distinct: HashSet<_> = stored.iter().cloned().collect();
    assert_eq!(distinct.len(), EVENTS, "every event reached the stream");
    assert!(partial > 0, "some invocations ran out of time, exercising batchItemFailures");
    println!(
        "{invocations} invocations ({partial} partial), {} Kinesis calls, {} records stored for {EVENTS} events ({} duplicates)",
        kinesis.calls(),
        stored.len(),
        stored.len() - EVENTS
    );
}
