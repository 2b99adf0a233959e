//! CPU of the api per request: routing, validation, deciding, and the DynamoDB SDK's
//! serialization, signing and parsing, with every DynamoDB call answered in-process by a canned
//! HTTP client (no network, so only CPU is measured). `cargo bench -p api`.

use api::{Api, Health};
use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use criterion::{Criterion, criterion_group, criterion_main};
use domain::idempotency::IdempotencyStore;
use domain::store::EventStore;
use domain::{CommandService, Origin};
use std::hint::black_box;
use test_support::fixtures::{http_request, task_event};
use test_support::offline::{infallible_client_fn, sdk_config_with};
use time::OffsetDateTime;

/// Answers DynamoDB by operation: no command record, one stored event, writes accepted.
fn canned_api() -> Api {
    let stored = serde_json::json!(task_event("t1", 1, "us-east-1").to_stream_image());
    let query = serde_json::json!({"Count": 1, "ScannedCount": 1, "Items": [stored]}).to_string();
    let http = infallible_client_fn(move |request| {
        let target = request.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let body = if target.ends_with(".Query") { query.clone() } else { "{}".to_owned() };
        aws_lambda_events::http::Response::builder()
            .status(200)
            .header("content-type", "application/x-amz-json-1.0")
            .body(body)
            .unwrap_or_default()
    });
    let config = sdk_config_with(http);
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let store = EventStore::new(dynamodb.clone(), "orders-events");
    Api {
        commands: CommandService::new(
            store.clone(),
            IdempotencyStore::new(dynamodb, "orders-idempotency"),
            Origin::new("us-east-1").unwrap_or_else(|e| panic!("{e}")),
        ),
        views: None,
        health: Health {
            store,
            streams: aws_sdk_dynamodbstreams::Client::new(&config),
            stream_arn: "arn:aws:dynamodb:us-east-1:123456789012:table/orders-events/stream/x".into(),
            ssm: aws_sdk_ssm::Client::new(&config),
            drill_parameter: "/orders/drill/us-east-1".into(),
            check_timeout: api::health::CHECK_TIMEOUT,
            cache: api::health::HealthCache::default(),
        },
    }
}

fn bench_request(c: &mut Criterion, name: &str, api: &Api, request: &ApiGatewayV2httpRequest, expected: i64) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap_or_else(|e| panic!("{e}"));
    let status = rt.block_on(api.handle(request, OffsetDateTime::now_utc())).status_code;
    assert_eq!(status, expected, "{name}");
    c.bench_function(name, |b| b.iter(|| rt.block_on(api.handle(black_box(request), OffsetDateTime::now_utc()))));
}

fn benches(c: &mut Criterion) {
    let api = canned_api();
    let create = http_request("POST /tasks", "/tasks", Some(r#"{"title":"Buy milk","command_id":"c-1"}"#));
    bench_request(c, "api/create-task (GetItem + TransactWriteItems)", &api, &create, 201);
    let rename = http_request(
        "POST /tasks/{id}/commands",
        "/tasks/t1/commands",
        Some(r#"{"type":"rename","title":"Buy oat milk"}"#),
    );
    bench_request(c, "api/rename-task (GetItem + Query + TransactWriteItems)", &api, &rename, 200);
    let invalid = http_request("POST /tasks", "/tasks", Some(r#"{"title":""}"#));
    bench_request(c, "api/invalid-input (400, no AWS call)", &api, &invalid, 400);
}

criterion_group!(api_benches, benches);
criterion_main!(api_benches);
