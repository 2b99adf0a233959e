//! `redrive` against the emulator: failure records shaped as Lambda writes them to the
//! failed-batches bucket are re-delivered to the real publisher handler, run in-process (Lambda
//! code does not run on moto), and every refusal says how to fix it.

use crate::support::config;
use aws_lambda_events::event::dynamodb::Event as DynamoDbEvent;
use domain::EventItem;
use domain::Origin;
use domain::holds::{Hold, HoldStore, HoldTable};
use engine::redrive::{
    Delivered, Delivery, PublisherTargets, RateLimit, RedriveError, RedriveOptions, RedrivePlan, check, redrive,
};
use engine::testing::{aws, emulator};
use publisher::{KinesisSink, Publisher, SqsConflicts, WaveSettings};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use serde_json::{Value, json};
use std::sync::Mutex;
use std::time::Duration;
use test_support::fixtures::{Change, stream_record, task_event};

const REGION: &str = "us-east-1";
const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:rd-publisher";
const MAPPING_UUID: &str = "9b0c6f43-2b1e-4a55-9d59-1b2c3d4e5f60";

/// The publisher's real handler, run in-process on the emulator's tables and stream.
struct InProcess {
    publisher: Publisher<KinesisSink, SqsConflicts, HoldTable>,
    invoked: Mutex<Vec<String>>,
}

impl Delivery for InProcess {
    async fn deliver(&self, function_arn: &str, event: &Value) -> anyhow::Result<Delivered> {
        self.invoked.lock().expect("invocations").push(function_arn.to_owned());
        let event: DynamoDbEvent = serde_json::from_value(event.clone())?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let (response, _) = self.publisher.handle(&event, deadline, &mut SmallRng::seed_from_u64(7)).await;
        Ok(engine::redrive::delivery::outcome(&serde_json::to_vec(&response)?))
    }
}

/// A failure record as Lambda writes it to an S3 destination (developer guide, "Retain
/// discarded records for a DynamoDB event source in Lambda").
fn failure_record(records: Vec<Value>) -> Value {
    let first = records[0]["dynamodb"]["SequenceNumber"].clone();
    let last = records[records.len() - 1]["dynamodb"]["SequenceNumber"].clone();
    json!({
        "requestContext": {
            "requestId": "c9b8fa9f-5a7f-4a1e-9a6e-8f2d3c4b5a69",
            "functionArn": FUNCTION,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 6
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": "2026-11-30T10:00:00.000Z",
        "DDBStreamBatchInfo": {
            "shardId": "shardId-00000001700000000000-abcdef01",
            "startSequenceNumber": first,
            "endSequenceNumber": last,
            "approximateArrivalOfFirstRecord": "2026-11-30T09:59:00Z",
            "approximateArrivalOfLastRecord": "2026-11-30T09:59:00Z",
            "batchSize": records.len(),
            "streamArn": "arn:aws:dynamodb:us-east-1:123456789012:table/rd-events/stream/2026-11-30T00:00:00.000"
        },
        "payload": {"Records": records}
    })
}

fn key(n: u32) -> String {
    format!("aws/lambda/{MAPPING_UUID}/shardId-00000001700000000000-abcdef01/2026/11/30/2026-11-30T10.00.0{n}-0000")
}

struct World {
    aws: engine::aws::Aws,
    plan: RedrivePlan,
    delivery: InProcess,
}

async fn world(emulator: &engine::testing::TestEmulator) -> World {
    let aws = aws(emulator).await;
    let dynamodb = aws.dynamodb(REGION);
    let (event_log_table, _) = test_support::aws::create_event_log(&dynamodb).await;
    let idempotency_table = test_support::aws::create_idempotency_table(&dynamodb).await;
    let stream = test_support::aws::create_stream(&aws.kinesis(REGION), 1).await;
    let bucket = test_support::aws::create_bucket(&aws.s3(REGION)).await;
    let queue = test_support::aws::create_queue(&aws.sqs(REGION)).await;
    let origin = Origin::new(REGION).expect("a region code");
    let publisher = Publisher {
        sink: KinesisSink::new(aws.kinesis(REGION), stream.clone()),
        conflicts: SqsConflicts::new(aws.sqs(REGION), queue),
        holds: HoldTable::new(dynamodb.clone(), idempotency_table.clone(), REGION),
        origin,
        settings: WaveSettings::default(),
    };
    let plan = RedrivePlan {
        region: REGION.into(),
        bucket,
        mapping: None,
        dry_run: false,
        limit: RateLimit::default(),
        publisher: PublisherTargets { stream, event_log_table, idempotency_table },
    };
    World { aws, plan, delivery: InProcess { publisher, invoked: Mutex::new(Vec::new()) } }
}

async fn put_object(world: &World, key: &str, body: &Value) {
    let s3 = world.aws.s3(REGION);
    let body = body.to_string().into_bytes();
    s3.put_object().bucket(&world.plan.bucket).key(key).body(body.into()).send().await.expect("putting a record");
}

async fn keys(world: &World) -> Vec<String> {
    let s3 = world.aws.s3(REGION);
    let listed = s3.list_objects_v2().bucket(&world.plan.bucket).send().await.expect("listing the bucket");
    listed.contents().iter().filter_map(|o| o.key().map(str::to_owned)).collect()
}

async fn append(world: &World, item: &EventItem) {
    let dynamodb = world.aws.dynamodb(REGION);
    let table = &world.plan.publisher.event_log_table;
    dynamodb.put_item().table_name(table).set_item(Some(item.to_sdk())).send().await.expect("appending an event");
}

#[tokio::test]
async fn redrive_delivers_a_kept_batch_deletes_it_and_releases_the_hold_its_event_was_under() {
    let emulator = emulator();
    let world = world(&emulator).await;
    // Event 1 of t1 was the poison event (its batch was given up on, the aggregate held); 2
    // and 3 were kept back. The publisher has since been fixed: event 1 is publishable.
    let events: Vec<EventItem> = (1..=3).map(|n| task_event("t1", n, REGION)).collect();
    for event in &events {
        append(&world, event).await;
    }
    let holds = HoldTable::new(world.aws.dynamodb(REGION), world.plan.publisher.idempotency_table.clone(), REGION);
    let hold = Hold {
        aggregate_key: "Task#t1".into(),
        sequence: 1,
        event_id: events[0].event_id.clone(),
        stream_sequence_number: format!("{:021}", 100),
        reason: "envelope over 1 MiB".into(),
        held_at: "2026-11-30T09:59:00.000Z".into(),
        kept_back: 2,
    };
    holds.hold(&hold).await.unwrap();
    put_object(&world, &key(1), &failure_record(vec![stream_record(Change::Insert(&events[0]), 100)])).await;
    // A batch whose event can never be published: the handler fails it, so it stays.
    let mut poison = task_event("t2", 1, REGION);
    poison.payload = "not json".into();
    put_object(&world, &key(2), &failure_record(vec![stream_record(Change::Insert(&poison), 200)])).await;

    let mut lines = Vec::new();
    let report = redrive(&world.aws, &world.plan, &world.delivery, &mut |l| lines.push(l.to_owned())).await.unwrap();

    assert_eq!(report.redriven, vec![key(1)], "{lines:#?}");
    assert_eq!(report.left.len(), 1, "{lines:#?}");
    assert_eq!(report.left[0].key, key(2));
    assert!(report.left[0].reason.contains("batch item failure"), "{:?}", report.left[0]);
    assert_eq!(keys(&world).await, vec![key(2)], "only the redriven record is marked done (deleted)");
    assert_eq!(*world.delivery.invoked.lock().unwrap(), vec![FUNCTION.to_owned(), FUNCTION.to_owned()]);
    let published =
        test_support::streams::kinesis_records(&world.aws.kinesis(REGION), &world.plan.publisher.stream).await;
    let sequences: Vec<u64> = published
        .iter()
        .filter(|r| r.partition_key == "Task#t1")
        .map(|r| serde_json::from_slice::<Value>(&r.data).unwrap()["sequence"].as_u64().unwrap())
        .collect();
    assert_eq!(sequences, [1, 2, 3], "the poison event, then the events kept back behind it, in order");
    let left_held: Vec<String> = holds.load().await.unwrap().into_keys().collect();
    assert_eq!(left_held, ["Task#t2"], "t1's hold is released; the new poison event holds t2");
    assert!(report.holds.iter().any(|l| l.contains("released the hold on Task#t1")), "{:?}", report.holds);
    let verdict = report.verdict(REGION).unwrap_err().to_string();
    assert!(verdict.contains(&key(2)) && verdict.contains("cargo xtask redrive --region us-east-1"), "{verdict}");
}

#[tokio::test]
async fn a_dry_run_lists_the_records_and_neither_delivers_nor_deletes() {
    let emulator = emulator();
    let mut world = world(&emulator).await;
    world.plan.dry_run = true;
    let event = task_event("t3", 1, REGION);
    put_object(&world, &key(1), &failure_record(vec![stream_record(Change::Insert(&event), 300)])).await;
    let mut lines = Vec::new();
    let report = redrive(&world.aws, &world.plan, &world.delivery, &mut |l| lines.push(l.to_owned())).await.unwrap();
    assert_eq!(report.redriven, vec![key(1)]);
    assert!(lines[0].contains("would redrive") && lines[0].contains("1 record(s)"), "{lines:?}");
    assert!(world.delivery.invoked.lock().unwrap().is_empty());
    assert_eq!(keys(&world).await, vec![key(1)]);
}

#[tokio::test]
async fn an_empty_bucket_has_nothing_to_redrive_and_a_missing_one_asks_for_a_deploy() {
    let emulator = emulator();
    let mut world = world(&emulator).await;
    let mut lines = Vec::new();
    let report = redrive(&world.aws, &world.plan, &world.delivery, &mut |l| lines.push(l.to_owned())).await.unwrap();
    assert!(report.redriven.is_empty() && report.left.is_empty());
    assert!(lines[0].contains("nothing to redrive"), "{lines:?}");
    assert!(report.verdict(REGION).is_ok());
    world.plan.bucket = "rd-failures-000000000000-us-east-1".into();
    let error = redrive(&world.aws, &world.plan, &world.delivery, &mut |_| {}).await.unwrap_err().to_string();
    assert!(error.contains("cargo xtask deploy --region us-east-1"), "{error}");
}

#[test]
fn unknown_regions_and_mappings_are_refused_with_the_names_that_exist() {
    let config = config("rd", &["us-east-1", "eu-west-1"], 24, &["view"]);
    let assembly = stacks::synthesize(&config).unwrap();
    let options = |region: &str, mapping: Option<&str>| RedriveOptions {
        region: region.into(),
        mapping: mapping.map(str::to_owned),
        dry_run: false,
        limit: RateLimit::default(),
    };
    assert_eq!(check(&config, &assembly.stacks, &options("eu-west-1", Some("PublisherSubscription"))), Ok(()));
    let region = check(&config, &assembly.stacks, &options("ap-south-1", None)).unwrap_err();
    assert_eq!(
        region,
        RedriveError::UnknownRegion { region: "ap-south-1".into(), configured: "us-east-1, eu-west-1".into() }
    );
    let mapping = check(&config, &assembly.stacks, &options("us-east-1", Some("Publisher"))).unwrap_err();
    let message = mapping.to_string();
    assert!(
        message.contains("ProjectorAuditSubscription, ProjectorViewSubscription, PublisherSubscription"),
        "{message}"
    );
}
