//! Publisher CPU on a 1,000-record DynamoDB stream batch, next to the lower bound of parsing the
//! same bytes with serde_json alone. `cargo bench -p publisher`.
//!
//! - `parse/value`: serde_json into `serde_json::Value` (the bound).
//! - `parse/typed`: serde_json into the `aws_lambda_events` DynamoDB event (what the runtime does).
//! - `handle/in-memory`: parse + the whole handler with an in-memory Kinesis (our code's CPU).
//! - `handle/sdk`: parse + handler + the Kinesis SDK's serialization, SigV4 signing and response
//!   parsing, answered by a canned in-process HTTP client.

use aws_lambda_events::dynamodb::Event as DynamoDbEvent;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use domain::holds::MemoryHolds;
use domain::{DomainError, Origin};
use publisher::{ConflictSink, EntryResult, KinesisSink, OutgoingRecord, Publisher, RecordSink, WaveSettings};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use std::hint::black_box;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use test_support::fixtures::{Change, stream_record, task_event};

const REGION: &str = "us-east-1";

/// Counts calls and accepts everything, storing nothing.
#[derive(Default)]
struct CountingSink {
    calls: AtomicU32,
}

impl RecordSink for CountingSink {
    async fn put_records(&self, records: &[&OutgoingRecord]) -> Result<Vec<EntryResult>, DomainError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        Ok(vec![EntryResult::Stored; records.len()])
    }
}

struct NoConflicts;

impl ConflictSink for NoConflicts {
    async fn report(&self, _body: String) -> Result<(), DomainError> {
        Ok(())
    }
}

/// The batch as Lambda sends it: `aggregates` tasks with `per_aggregate` events each.
fn batch_bytes(aggregates: usize, per_aggregate: u64) -> Vec<u8> {
    let mut records = Vec::new();
    for sequence in 1..=per_aggregate {
        for a in 0..aggregates {
            let item = task_event(&format!("0192a3b4-c5d6-7e8f-9a0b-{a:012}"), sequence, REGION);
            records.push(stream_record(Change::Insert(&item), records.len() as u64 + 1));
        }
    }
    serde_json::to_vec(&serde_json::json!({ "Records": records })).unwrap_or_default()
}

fn publisher<K: RecordSink>(sink: K) -> Publisher<K, NoConflicts, MemoryHolds> {
    Publisher {
        sink,
        conflicts: NoConflicts,
        holds: MemoryHolds::default(),
        origin: Origin::new(REGION).unwrap_or_else(|e| panic!("{e}")),
        settings: WaveSettings::default(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap_or_else(|e| panic!("{e}"))
}

async fn handle<K: RecordSink>(publisher: &Publisher<K, NoConflicts, MemoryHolds>, bytes: &[u8]) -> usize {
    let event: DynamoDbEvent = serde_json::from_slice(bytes).unwrap_or_default();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let (response, _) = publisher.handle(&event, deadline, &mut SmallRng::seed_from_u64(1)).await;
    response.batch_item_failures.len()
}

/// Prints the Kinesis calls one batch takes, per batch shape.
fn report_calls() {
    let rt = runtime();
    for (aggregates, per_aggregate) in [(1000, 1), (500, 2), (200, 5)] {
        let publisher = publisher(CountingSink::default());
        rt.block_on(handle(&publisher, &batch_bytes(aggregates, per_aggregate)));
        println!(
            "kinesis calls for 1,000 records ({aggregates} aggregates x {per_aggregate} events): {}",
            publisher.sink.calls.load(Ordering::Relaxed)
        );
    }
}

/// A Kinesis client answered in-process with a success for every entry of each request.
fn canned_kinesis() -> KinesisSink {
    let http = test_support::offline::infallible_client_fn(|request| {
        let body = request.body().bytes().unwrap_or_default();
        let count = body.windows(14).filter(|w| w == b"\"PartitionKey\"").count();
        let entry = r#"{"SequenceNumber":"49590338271490256608559692538361571095921575989136588898","ShardId":"shardId-000000000000"}"#;
        let records = vec![entry; count].join(",");
        aws_lambda_events::http::Response::builder()
            .status(200)
            .body(format!(r#"{{"FailedRecordCount":0,"Records":[{records}]}}"#))
            .unwrap_or_default()
    });
    let config = test_support::offline::sdk_config_with(http);
    KinesisSink::new(aws_sdk_kinesis::Client::new(&config), "orders-events")
}

fn benches(c: &mut Criterion) {
    report_calls();
    let bytes = batch_bytes(1000, 1);
    let rt = runtime();
    let mut group = c.benchmark_group("publisher-1000-records");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("parse/value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&bytes)).map(drop))
    });
    group.bench_function("parse/typed", |b| {
        b.iter(|| serde_json::from_slice::<DynamoDbEvent>(black_box(&bytes)).map(drop))
    });
    let in_memory = publisher(CountingSink::default());
    group.bench_function("handle/in-memory", |b| b.iter(|| rt.block_on(handle(&in_memory, black_box(&bytes)))));
    let sdk = publisher(canned_kinesis());
    assert_eq!(rt.block_on(handle(&sdk, &bytes)), 0, "the canned Kinesis accepts every record");
    println!("batch size: {} bytes of JSON for 1,000 records", bytes.len());
    group.bench_function("handle/sdk", |b| b.iter(|| rt.block_on(handle(&sdk, black_box(&bytes)))));
    group.finish();
}

criterion_group!(publisher_benches, benches);
criterion_main!(publisher_benches);
