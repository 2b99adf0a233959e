//! Throughput of the two engines against the emulator: records delivered per second by an event
//! source mapping (DynamoDB Streams and Kinesis, a function that answers at once) and writes
//! replicated per second between three regions. `cargo run -p local --example engines`
//! (starts its own moto server, or uses `KIT_EMULATOR_ENDPOINT`). The emulator is the bottleneck,
//! so the dev profile measures the same as a release build.

#![allow(clippy::unwrap_used, missing_docs)]

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use bytes::Bytes;
use local::clients::Clients;
use local::mapping::{
    EventSourceMappings, InvokeFailure, Invoked, Invoker, MappingConfig, MappingSettings, StartingPosition,
};
use local::outage::Outages;
use local::replication::{GlobalTable, Replication, ReplicationSettings};
use std::sync::Arc;
use std::time::{Duration, Instant};

const RECORDS: usize = 2_000;
const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];

struct Instant200;

impl Invoker for Instant200 {
    async fn invoke(&self, _function: &str, _payload: Bytes) -> Result<Invoked, InvokeFailure> {
        Ok(Invoked { request_id: String::new(), response: Bytes::from_static(b"{}") })
    }
}

async fn table(clients: &Clients, region: &str, name: &str) -> String {
    test_support::aws::create_streamed_table(&clients.dynamodb(region), name, "pk").await
}

async fn fill_table(clients: &Clients, region: &str, name: &str) {
    let dynamodb = clients.dynamodb(region);
    for chunk in (0..RECORDS).collect::<Vec<_>>().chunks(25) {
        let writes = chunk.iter().map(|n| {
            let item = [
                ("pk".to_owned(), AttributeValue::S(format!("item-{n}"))),
                ("Payload".to_owned(), AttributeValue::S("x".repeat(200))),
            ];
            WriteRequest::builder()
                .put_request(PutRequest::builder().set_item(Some(item.into())).build().unwrap())
                .build()
        });
        dynamodb.batch_write_item().request_items(name, writes.collect()).send().await.unwrap();
    }
}

fn config(arn: &str) -> MappingConfig {
    MappingConfig {
        uuid: uuid::Uuid::now_v7().to_string(),
        function_name: "consumer".into(),
        function_arn: "arn:aws:lambda:us-east-1:123456789012:function:consumer".into(),
        event_source_arn: arn.into(),
        starting_position: StartingPosition::TrimHorizon,
        batch_size: 100,
        batching_window: Duration::ZERO,
        filters: Vec::new(),
        report_batch_item_failures: true,
        bisect_on_error: true,
        maximum_retry_attempts: Some(5),
        maximum_record_age: None,
        on_failure: None,
        enabled: true,
    }
}

async fn deliver(clients: &Clients, arn: &str) -> f64 {
    let engine =
        EventSourceMappings::new(clients.clone(), Arc::new(Instant200), Outages::new(), MappingSettings::eager());
    let started = Instant::now();
    let handle = engine.start(config(arn)).unwrap();
    while handle.stats().delivered < RECORDS as u64 {
        assert!(started.elapsed() < Duration::from_secs(300), "mapping stalled at {:?}", handle.stats());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    RECORDS as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let clients = Clients::new(test_support::aws::sdk_config("us-east-1"));
    let name = test_support::aws::unique("bench");
    let arn = table(&clients, "us-east-1", &name).await;
    fill_table(&clients, "us-east-1", &name).await;
    println!(
        "mapping, DynamoDB stream: {:.0} records/s delivered ({RECORDS} records, batches of 100)",
        deliver(&clients, &arn).await
    );

    let kinesis = clients.kinesis("us-east-1");
    let stream = test_support::aws::create_stream(&kinesis, 1).await;
    for chunk in (0..RECORDS).collect::<Vec<_>>().chunks(500) {
        let entries = chunk.iter().map(|n| {
            aws_sdk_kinesis::types::PutRecordsRequestEntry::builder()
                .partition_key(format!("k{n}"))
                .data(aws_sdk_kinesis::primitives::Blob::new("x".repeat(200)))
                .build()
                .unwrap()
        });
        kinesis.put_records().stream_name(&stream).set_records(Some(entries.collect())).send().await.unwrap();
    }
    let arn = format!("arn:aws:kinesis:us-east-1:123456789012:stream/{stream}");
    println!(
        "mapping, Kinesis stream: {:.0} records/s delivered ({RECORDS} records, batches of 100)",
        deliver(&clients, &arn).await
    );

    let global = test_support::aws::unique("bench-global");
    for region in REGIONS {
        table(&clients, region, &global).await;
    }
    fill_table(&clients, REGIONS[0], &global).await;
    let settings = ReplicationSettings {
        lag: Duration::ZERO,
        poll: Duration::from_millis(10),
        shard_discovery: Duration::from_secs(1),
    };
    let tables = [GlobalTable { name: global, regions: REGIONS.map(str::to_owned).to_vec() }];
    let started = Instant::now();
    let replication =
        Replication::start(&clients, &tables, Outages::new(), &local::writes::Writes::new(), settings).await.unwrap();
    let target = (RECORDS * (REGIONS.len() - 1)) as u64;
    while replication.stats().applied < target {
        assert!(started.elapsed() < Duration::from_secs(600), "replication stalled at {:?}", replication.stats());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let rate = target as f64 / started.elapsed().as_secs_f64();
    println!(
        "replication, 3 regions: {rate:.0} writes/s applied ({RECORDS} writes in one region, each to 2 others, lag 0)"
    );
}
