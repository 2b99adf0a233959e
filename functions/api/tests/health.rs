//! `/health` cannot be used to take the region out of DNS: whatever the request rate, a
//! container runs its deep check (one GetItem, one GetParameter, one DescribeStream) at most once
//! per interval, concurrent requests share the check in flight, and a throttled DescribeStream
//! does not fail the region. AWS is answered in-process and every call is counted.
#![allow(clippy::unwrap_used)]

use api::health::{CACHE_FOR, HealthCache};
use api::{Api, Health};
use aws_lambda_events::http::Response;
use domain::idempotency::IdempotencyStore;
use domain::store::EventStore;
use domain::{CommandService, Origin};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use test_support::fixtures::http_request;
use test_support::offline::{infallible_client_fn, sdk_config_with};
use time::OffsetDateTime;

/// An api whose AWS calls are counted; DescribeStream is throttled when `throttle_streams`.
fn api(calls: Arc<AtomicUsize>, throttle_streams: bool) -> Api {
    let http = infallible_client_fn(move |request| {
        calls.fetch_add(1, Ordering::SeqCst);
        let target = request.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let (status, body) = match target {
            t if t.ends_with(".DescribeStream") && throttle_streams => (
                400,
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#LimitExceededException","message":"Rate exceeded"}"#,
            ),
            t if t.ends_with(".DescribeStream") => (200, r#"{"StreamDescription":{"StreamStatus":"ENABLED"}}"#),
            t if t.ends_with(".GetParameter") => {
                (400, r#"{"__type":"ParameterNotFound","message":"Parameter /orders/drill/us-east-1 not found."}"#)
            }
            _ => (200, "{}"),
        };
        Response::builder().status(status).header("content-type", "application/x-amz-json-1.1").body(body).unwrap()
    });
    let config = sdk_config_with(http);
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let store = EventStore::new(dynamodb.clone(), "orders-events");
    Api {
        commands: CommandService::new(
            store.clone(),
            IdempotencyStore::new(dynamodb, "orders-idempotency"),
            Origin::new("us-east-1").unwrap(),
        ),
        views: None,
        health: Health {
            store,
            streams: aws_sdk_dynamodbstreams::Client::new(&config),
            stream_arn: "arn:aws:dynamodb:us-east-1:123456789012:table/orders-events/stream/x".into(),
            ssm: aws_sdk_ssm::Client::new(&config),
            drill_parameter: "/orders/drill/us-east-1".into(),
            check_timeout: api::health::CHECK_TIMEOUT,
            cache: HealthCache::default(),
        },
    }
}

async fn health(api: &Api) -> i64 {
    api.handle(&http_request("GET /health", "/health", None), OffsetDateTime::now_utc()).await.status_code
}

#[tokio::test]
async fn a_thousand_concurrent_requests_share_one_deep_check() {
    let calls = Arc::new(AtomicUsize::new(0));
    let api = Arc::new(api(calls.clone(), false));
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..1_000 {
        let api = api.clone();
        requests.spawn(async move { health(&api).await });
    }
    while let Some(status) = requests.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 3, "one GetItem, one GetParameter, one DescribeStream");
}

#[tokio::test(start_paused = true)]
async fn the_check_runs_again_only_once_the_interval_has_passed() {
    let calls = Arc::new(AtomicUsize::new(0));
    let api = api(calls.clone(), false);
    for _ in 0..50 {
        assert_eq!(health(&api).await, 200);
        tokio::time::sleep(CACHE_FOR / 50).await;
    }
    assert!(calls.load(Ordering::SeqCst) <= 6, "{} calls in one interval", calls.load(Ordering::SeqCst));
    tokio::time::sleep(CACHE_FOR).await;
    let before = calls.load(Ordering::SeqCst);
    assert_eq!(health(&api).await, 200);
    assert_eq!(calls.load(Ordering::SeqCst), before + 3, "a stale report is checked again");
}

#[tokio::test(start_paused = true)]
async fn a_throttled_describe_stream_does_not_take_the_region_out() {
    let api = api(Arc::new(AtomicUsize::new(0)), true);
    let response = api.handle(&http_request("GET /health", "/health", None), OffsetDateTime::now_utc()).await;
    let Some(aws_lambda_events::encodings::Body::Text(body)) = &response.body else { panic!("no body") };
    assert_eq!(response.status_code, 200, "{body}");
    assert!(body.contains("rate-limited"), "{body}");
}
