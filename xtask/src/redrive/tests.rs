//! Redrive of SQS pointers against the emulator: a pointer whose range the stream still has is
//! re-read, delivered with Lambda's shape and deleted; one whose range is gone stays with the
//! replay command to use instead; one whose delivery fails stays in the queue.

#![allow(clippy::unwrap_used)]

use super::range::ShardRange;
use engine::redrive::pointer::{QueuePlan, redrive_queue};
use engine::redrive::{Delivered, Delivery, PublisherTargets, RateLimit};
use local::clients::Clients;
use serde_json::{Value, json};
use std::sync::Mutex;

const REGION: &str = "eu-west-1";
const PROJECTOR: &str = "arn:aws:lambda:eu-west-1:123456789012:function:app-projector-audit";
const FAILING: &str = "arn:aws:lambda:eu-west-1:123456789012:function:app-projector-view";

/// Records every event; the view projector's deliveries fail.
#[derive(Default)]
struct Recording {
    events: Mutex<Vec<(String, Value)>>,
}

impl Delivery for Recording {
    async fn deliver(&self, function_arn: &str, event: &Value) -> anyhow::Result<Delivered> {
        self.events.lock().unwrap().push((function_arn.to_owned(), event.clone()));
        if function_arn == FAILING {
            return Ok(Delivered::Failed("the function failed (Unhandled): view store unavailable".into()));
        }
        Ok(Delivered::Done)
    }
}

/// A pointer as Lambda sends it to an SQS on-failure destination (developer guide, "Retain
/// discarded batch records for a Kinesis Data Streams event source in Lambda"): no payload.
fn pointer(function: &str, shard: &str, start: &str, end: &str, stream_arn: &str) -> Value {
    json!({
        "requestContext": {
            "requestId": "c9b8fa9f-5a7f-4a1e-9a6e-8f2d3c4b5a69",
            "functionArn": function,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 4
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": "2026-11-30T10:00:00.000Z",
        "KinesisBatchInfo": {
            "shardId": shard,
            "startSequenceNumber": start,
            "endSequenceNumber": end,
            "approximateArrivalOfFirstRecord": "2026-11-30T09:59:00.000Z",
            "approximateArrivalOfLastRecord": "2026-11-30T09:59:01.000Z",
            "batchSize": 2,
            "streamArn": stream_arn
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pointers_in_retention_are_redriven_and_deleted_and_the_others_stay_with_the_way_on() {
    let emulator = engine::testing::emulator();
    let aws = engine::testing::aws(&emulator).await;
    let kinesis = aws.kinesis(REGION);
    let stream = test_support::aws::create_stream(&kinesis, 1).await;
    let mut sequences = Vec::new();
    for id in ["t1", "t2"] {
        let data = json!({"id": format!("e-{id}"), "aggregate_id": id}).to_string().into_bytes();
        let put = kinesis.put_record().stream_name(&stream).partition_key(format!("Task#{id}")).data(data.into());
        let put = put.send().await.unwrap();
        sequences.push((put.shard_id, put.sequence_number));
    }
    let described = kinesis.describe_stream_summary().stream_name(&stream).send().await.unwrap();
    let stream_arn = described.stream_description_summary().unwrap().stream_arn().to_owned();
    let (shard, first) = sequences[0].clone();
    let last = sequences[1].1.clone();
    assert_ne!(first, "0", "the pointer below starts before the shard's first record");

    let sqs = aws.sqs(REGION);
    let queue = test_support::aws::create_queue(&sqs).await;
    let messages = [
        pointer(PROJECTOR, &shard, &first, &last, &stream_arn),
        // From before the first record the shard still has: trimmed away.
        pointer(PROJECTOR, &shard, "0", &first, &stream_arn),
        pointer(FAILING, &shard, &first, &last, &stream_arn),
    ];
    for message in &messages {
        sqs.send_message().queue_url(&queue).message_body(message.to_string()).send().await.unwrap();
    }

    let plan = QueuePlan {
        region: REGION.into(),
        queue_url: queue.clone(),
        dry_run: false,
        limit: RateLimit::default(),
        publisher: PublisherTargets {
            stream: stream.clone(),
            event_log_table: "unused".into(),
            idempotency_table: "unused".into(),
        },
    };
    let range = ShardRange::new(Clients::new(engine::redrive::pointer::reader_config(&aws)));
    let delivery = Recording::default();
    let mut lines = Vec::new();
    let report = redrive_queue(&aws, &plan, &range, &delivery, &mut |l| lines.push(l.to_owned())).await.unwrap();

    assert_eq!(report.redriven.len(), 1, "{lines:#?}");
    assert_eq!(report.left.len(), 2, "{lines:#?}");
    let gone = report.left.iter().find(|l| !l.replay.is_empty()).expect("the lost range names a replay");
    assert!(gone.reason.contains("is no longer retained"), "{}", gone.reason);
    assert_eq!(
        gone.replay,
        [format!(
            "cargo xtask replay --region {REGION} --aggregate-type Task --aggregate-id t1 --since \
             2026-11-30T09:59:00.000Z"
        )],
        "the retained part of the range names its aggregate"
    );
    let failed = report.left.iter().find(|l| l.replay.is_empty()).unwrap();
    assert!(failed.reason.contains("view store unavailable"), "{}", failed.reason);

    let events = delivery.events.lock().unwrap().clone();
    let (function, event) = events.iter().find(|(f, _)| f == PROJECTOR).unwrap();
    assert_eq!(function, PROJECTOR);
    let records = event["Records"].as_array().unwrap();
    let seen: Vec<&str> = records.iter().map(|r| r["kinesis"]["sequenceNumber"].as_str().unwrap()).collect();
    assert_eq!(seen, [first.as_str(), last.as_str()], "the whole range, in order");
    assert_eq!(records[0]["eventSource"], "aws:kinesis");
    assert_eq!(records[0]["eventSourceARN"], stream_arn.as_str());
    assert_eq!(records[0]["kinesis"]["partitionKey"], "Task#t1");
    assert_eq!(events.iter().filter(|(f, _)| f == FAILING).count(), 1, "a failing message is tried once a run");

    // The two left are in the queue again, visible now; the redriven one is deleted.
    let left = sqs.receive_message().queue_url(&queue).max_number_of_messages(10).send().await.unwrap();
    let bodies: Vec<Value> = left.messages().iter().map(|m| serde_json::from_str(m.body().unwrap()).unwrap()).collect();
    assert_eq!(bodies.len(), 2, "{bodies:#?}");
    assert!(bodies.contains(&messages[1]) && bodies.contains(&messages[2]), "{bodies:#?}");
}
