//! The whole path in the moto emulator, with the tests playing the event source mappings:
//! HTTP commands → event log → its DynamoDB stream → publisher → Kinesis → audit and view
//! projectors, delivered twice to show that each projection applies each event once.
#![allow(clippy::unwrap_used)]

use api::{Api, Health};
use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use aws_lambda_events::dynamodb::Event as DynamoDbEvent;
use aws_lambda_events::encodings::Body;
use aws_lambda_events::kinesis::KinesisEvent;
use domain::holds::MemoryHolds;
use domain::idempotency::IdempotencyStore;
use domain::store::EventStore;
use domain::{CommandService, Origin, ViewStore};
use projector_audit::S3Store;
use publisher::{KinesisSink, Publisher, SqsConflicts, WaveSettings};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use serde_json::Value;
use std::time::Duration;
use test_support::aws::{self, create_event_log, create_idempotency_table, create_view_table, dynamodb, unique};
use test_support::fixtures::{http_request, kinesis_event, kinesis_record};
use test_support::streams::{dynamodb_stream_records, kinesis_records};
use time::OffsetDateTime;

const REGION: &str = "us-east-1";

fn json(response: &ApiGatewayV2httpResponse) -> Value {
    let Some(Body::Text(text)) = &response.body else { panic!("no body") };
    serde_json::from_str(text).unwrap()
}

/// The api over fresh tables, with its read model and the event log's stream ARN.
async fn setup() -> (Api, ViewStore, String) {
    let client = dynamodb();
    let (log, stream_arn) = create_event_log(&client).await;
    let store = EventStore::new(client.clone(), log);
    let views = ViewStore::new(client.clone(), create_view_table(&client).await, REGION);
    let api = Api {
        commands: CommandService::new(
            store.clone(),
            IdempotencyStore::new(client.clone(), create_idempotency_table(&client).await),
            Origin::new(REGION).unwrap(),
        ),
        views: Some(views.clone()),
        health: Health {
            store,
            streams: aws::streams(),
            stream_arn: stream_arn.clone(),
            ssm: aws::ssm(),
            drill_parameter: unique("/drill"),
            check_timeout: Duration::from_secs(20),
            cache: api::health::HealthCache::default(),
        },
    };
    (api, views, stream_arn)
}

/// Plays the publisher's event source mapping: the table stream → the publisher → a new
/// Kinesis stream, whose records come back as the projectors' event.
async fn publish(stream_arn: &str) -> KinesisEvent {
    let records = dynamodb_stream_records(&aws::streams(), stream_arn).await;
    assert_eq!(records.len(), 5);
    let event: DynamoDbEvent = serde_json::from_value(serde_json::json!({ "Records": records })).unwrap();
    let kinesis = aws::kinesis();
    let stream_name = aws::create_stream(&kinesis, 1).await;
    let publisher = Publisher {
        sink: KinesisSink::new(kinesis.clone(), &stream_name),
        conflicts: SqsConflicts::new(aws::sqs(), aws::create_queue(&aws::sqs()).await),
        holds: MemoryHolds::default(),
        origin: Origin::new(REGION).unwrap(),
        settings: WaveSettings::default(),
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let (response, stats) = publisher.handle(&event, deadline, &mut SmallRng::seed_from_u64(9)).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!((stats.published, stats.calls), (5, 3), "task one has three events: three waves");
    let entries = kinesis_records(&kinesis, &stream_name).await;
    kinesis_event(entries.iter().map(|e| kinesis_record(&e.data, &e.partition_key, &e.sequence_number)).collect())
}

#[tokio::test]
async fn commands_flow_through_publisher_and_projectors_exactly_once() {
    let (api, views, stream_arn) = setup().await;
    let now = OffsetDateTime::now_utc();
    let mut ids = Vec::new();
    for title in ["one", "two", "three"] {
        let response =
            api.handle(&http_request("POST /tasks", "/tasks", Some(&format!(r#"{{"title":"{title}"}}"#))), now).await;
        ids.push(json(&response)["id"].as_str().unwrap().to_owned());
    }
    for body in [r#"{"type":"rename","title":"one, renamed"}"#, r#"{"type":"complete"}"#] {
        let request = http_request("POST /tasks/{id}/commands", &format!("/tasks/{}/commands", ids[0]), Some(body));
        assert_eq!(api.handle(&request, now).await.status_code, 200);
    }
    let delivery = publish(&stream_arn).await;

    // Projectors: the same Kinesis batch delivered twice.
    let s3 = aws::s3();
    let bucket = aws::create_bucket(&s3).await;
    let audit = S3Store::new(s3.clone(), &bucket);
    for round in 0..2 {
        let (audit_response, audit_stats) = projector_audit::handle(&audit, &delivery).await;
        let (view_response, view_stats) = projector_view::handle(&views, api.commands.store(), &delivery).await;
        assert!(audit_response.batch_item_failures.is_empty() && view_response.batch_item_failures.is_empty());
        let (written, applied) = if round == 0 { (5, 5) } else { (0, 0) };
        assert_eq!((audit_stats.written, view_stats.applied), (written, applied), "round {round}");
    }
    let listed = s3.list_objects_v2().bucket(&bucket).prefix(format!("events/{REGION}/Task/")).send().await.unwrap();
    assert_eq!(listed.key_count(), Some(5));

    // The read model now answers reads, and agrees with the log.
    let read = http_request("GET /tasks/{id}", &format!("/tasks/{}", ids[0]), None);
    let response = api.handle(&read, now).await;
    assert_eq!(response.headers["x-read-source"], "view");
    let task = json(&response);
    assert_eq!(
        (task["title"].as_str(), task["completed"].as_bool(), task["version"].as_u64()),
        (Some("one, renamed"), Some(true), Some(3))
    );
}
