//! The publisher against the moto emulator: events written to a real (emulated) event log are
//! read from its DynamoDB stream, published to a Kinesis stream with the SDK sink, an
//! overwritten event lands in an SQS conflicts queue instead of on the stream, and a poison
//! event holds its aggregate in the idempotency table until the hold is released.
#![allow(clippy::unwrap_used)]

use aws_lambda_events::dynamodb::Event as DynamoDbEvent;
use domain::holds::{HoldStore, HoldTable};
use domain::idempotency::IdempotencyStore;
use domain::store::EventStore;
use domain::{CommandRequest, CommandService, DomainEvent, Origin, Target, Task, TaskCommand, Title};
use publisher::{KinesisSink, Publisher, Release, ReleaseError, Released, SqsConflicts, WaveSettings};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use std::time::Duration;
use test_support::aws::{
    create_event_log, create_idempotency_table, create_queue, create_stream, dynamodb, kinesis, sqs, streams,
};
use test_support::fixtures::{Change, dynamodb_event, stream_record, task_event};
use test_support::streams::{dynamodb_stream_records, kinesis_records};
use time::OffsetDateTime;

const REGION: &str = "us-east-1";

#[tokio::test]
async fn local_events_reach_kinesis_in_order_and_overwrites_reach_the_conflicts_queue() {
    let client = dynamodb();
    let (log, stream_arn) = create_event_log(&client).await;
    let store = EventStore::new(client.clone(), &log);
    let service = CommandService::new(
        store.clone(),
        IdempotencyStore::new(client.clone(), create_idempotency_table(&client).await),
        Origin::new(REGION).unwrap(),
    );
    let now = OffsetDateTime::now_utc();
    let title = |t: &str| Title::parse(t).unwrap();
    let request = |id: &str, command| CommandRequest { command_id: id.into(), expected_version: None, command };
    let task = service
        .execute::<Task>(Target::New, &request("c1", TaskCommand::Create { title: title("a") }), now)
        .await
        .unwrap();
    let target = Target::Existing(task.aggregate_id.clone());
    service.execute::<Task>(target.clone(), &request("c2", TaskCommand::Complete), now).await.unwrap();
    service.execute::<Task>(target, &request("c3", TaskCommand::Reopen), now).await.unwrap();
    // A replicated event from another region, and another region's write overwriting ours.
    let foreign = task_event("elsewhere", 1, "eu-west-1");
    client.put_item().table_name(&log).set_item(Some(foreign.to_sdk())).send().await.unwrap();
    let mut winner = store.load(&format!("Task#{}", task.aggregate_id)).await.unwrap()[2].clone();
    winner.origin_region = "eu-west-1".into();
    winner.event_id = uuid_like();
    client.put_item().table_name(&log).set_item(Some(winner.to_sdk())).send().await.unwrap();

    let records = dynamodb_stream_records(&streams(), &stream_arn).await;
    assert_eq!(records.len(), 5, "3 local inserts, 1 foreign insert, 1 modify");
    let event: DynamoDbEvent = serde_json::from_value(serde_json::json!({ "Records": records })).unwrap();

    let (kinesis_client, stream_name, queue_url, publisher) = publisher().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let (response, stats) = publisher.handle(&event, deadline, &mut SmallRng::seed_from_u64(3)).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    // Event 3 was overwritten in the same batch: reported, and not published (the log no longer
    // holds it; the winner is published by the region that wrote it).
    assert_eq!((stats.published, stats.skipped_foreign, stats.conflicts, stats.superseded), (2, 1, 1, 1));

    let published: Vec<DomainEvent> = kinesis_records(&kinesis_client, &stream_name)
        .await
        .iter()
        .map(|r| DomainEvent::parse(&r.data).unwrap())
        .collect();
    let sequences: Vec<u64> = published.iter().map(|e| e.sequence).collect();
    assert_eq!(sequences, [1, 2]);
    assert!(published.iter().all(|e| e.aggregate_id == task.aggregate_id && e.origin_region == REGION));
    let messages = sqs().receive_message().queue_url(&queue_url).max_number_of_messages(10).send().await.unwrap();
    let bodies: Vec<serde_json::Value> =
        messages.messages().iter().map(|m| serde_json::from_str(m.body().unwrap()).unwrap()).collect();
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["kind"], "conflict");
    assert_eq!(bodies[0]["new_image"]["OriginRegion"]["S"], "eu-west-1");
}

async fn publisher() -> (aws_sdk_kinesis::Client, String, String, Publisher<KinesisSink, SqsConflicts, HoldTable>) {
    let kinesis_client = kinesis();
    let stream_name = create_stream(&kinesis_client, 2).await;
    let queue_url = create_queue(&sqs()).await;
    let client = dynamodb();
    let publisher = Publisher {
        sink: KinesisSink::new(kinesis_client.clone(), &stream_name),
        conflicts: SqsConflicts::new(sqs(), &queue_url),
        holds: HoldTable::new(client.clone(), create_idempotency_table(&client).await, REGION),
        origin: Origin::new(REGION).unwrap(),
        settings: WaveSettings::default(),
    };
    (kinesis_client, stream_name, queue_url, publisher)
}

fn uuid_like() -> String {
    "ffffffff-0000-7000-8000-000000000000".to_owned()
}

#[tokio::test]
async fn a_poison_hold_outlives_invocations_and_release_publishes_the_held_events_in_order() {
    let client = dynamodb();
    let (log, _) = create_event_log(&client).await;
    let store = EventStore::new(client.clone(), &log);
    let idempotency = create_idempotency_table(&client).await;
    let mut poison = task_event("h", 2, REGION);
    poison.payload = "{not json".into();
    let events: Vec<_> = [
        task_event("h", 1, REGION),
        poison,
        task_event("h", 3, REGION),
        task_event("h", 4, REGION),
        task_event("h", 5, REGION),
    ]
    .into_iter()
    .collect();
    for event in &events {
        store.append(vec![store.append_put(event).unwrap()]).await.unwrap();
    }
    let (kinesis_client, stream_name, _, publisher) = publisher().await;
    let publisher = Publisher { holds: HoldTable::new(client.clone(), &idempotency, REGION), ..publisher };
    let deliver = |positions: &[usize]| {
        let records = positions.iter().map(|&i| stream_record(Change::Insert(&events[i]), i as u64 + 1)).collect();
        dynamodb_event(records)
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut rng = SmallRng::seed_from_u64(5);
    let (response, _) = publisher.handle(&deliver(&[0, 1]), deadline, &mut rng).await;
    assert_eq!(response.batch_item_failures.len(), 1, "the poison event is left to the dead-letter queue");
    // After the mapping gave up on it, the next batch: kept back, acknowledged.
    let (response, stats) = publisher.handle(&deliver(&[2, 3]), deadline, &mut rng).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!((stats.held_back, stats.published), (2, 0));

    // Another process (redrive) finds the hold in the table and releases it.
    let holds = HoldTable::new(client.clone(), &idempotency, REGION);
    let hold = holds.load().await.unwrap()["Task#h"].clone();
    assert_eq!((hold.sequence, hold.kept_back), (2, 2));
    let origin = Origin::new(REGION).unwrap();
    let settings = WaveSettings::default();
    let release = Release { sink: &publisher.sink, holds: &holds, log: &store, origin: &origin, settings: &settings };
    let released = release.run("Task#h", deadline, &mut rng).await.unwrap();
    assert_eq!(released, Released::Lifted { published: 3 }, "events 3 and 4, and 5 already in the log");
    assert!(holds.load().await.unwrap().is_empty());
    assert!(matches!(release.run("Task#h", deadline, &mut rng).await, Err(ReleaseError::NotHeld(_))));

    // The aggregate flows again (event 5 a second time: duplicates are allowed, gaps are not).
    let (response, stats) = publisher.handle(&deliver(&[4]), deadline, &mut rng).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(stats.published, 1);
    let sequences: Vec<u64> = kinesis_records(&kinesis_client, &stream_name)
        .await
        .iter()
        .map(|r| DomainEvent::parse(&r.data).unwrap().sequence)
        .collect();
    assert_eq!(sequences, [1, 3, 4, 5, 5]);
}
