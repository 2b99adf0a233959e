//! The Runtime API server spoken to with the official runtime client
//! (`lambda_runtime_api_client`), request by request: paths, headers and status codes as the
//! AWS Lambda developer guide ("Using the Lambda runtime API") documents them.

#![allow(clippy::unwrap_used, missing_docs)]

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::StatusCode;
use lambda_runtime_api_client::body::Body;
use lambda_runtime_api_client::{PooledClient, build_request};
use local::FunctionError;
use local::runtime_api::{Channels, Completion, Delivery, RESPONSE_LIMIT, RuntimeApi, Signal};
use std::time::{Duration, UNIX_EPOCH};
use tokio::sync::oneshot;

async fn started() -> (RuntimeApi, Channels, PooledClient) {
    let (api, channels) = RuntimeApi::start().await.unwrap();
    let client = PooledClient::builder().with_endpoint(format!("http://{}", api.address()).parse().unwrap()).build();
    (api, channels, client)
}

async fn call(client: &PooledClient, method: &str, path: &str, body: Body) -> (StatusCode, hyper::HeaderMap, Bytes) {
    let request = build_request().method(method).uri(path).body(body).unwrap();
    let response = client.call(request).await.unwrap();
    let (parts, body) = response.into_parts();
    (parts.status, parts.headers, body.collect().await.unwrap().to_bytes())
}

async fn deliver(channels: &Channels, request_id: &str) -> oneshot::Receiver<Completion> {
    let (completion, answer) = oneshot::channel();
    let delivery = Delivery {
        request_id: request_id.to_owned(),
        payload: Bytes::from_static(br#"{"key":"value"}"#),
        deadline: UNIX_EPOCH + Duration::from_millis(1_542_409_706_888),
        function_arn: "arn:aws:lambda:us-east-2:123456789012:function:custom-runtime".into(),
        trace_id: "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1".into(),
        completion,
    };
    channels.deliveries.send(delivery).await.unwrap();
    answer
}

const NEXT: &str = "/2018-06-01/runtime/invocation/next";

#[tokio::test]
async fn next_hands_out_the_event_with_the_documented_headers_and_a_response_completes_it() {
    let (_api, mut channels, client) = started().await;
    let answer = deliver(&channels, "8476a536-e9f4-11e8-9739-2dfe598c3fcd").await;
    let (status, headers, body) = call(&client, "GET", NEXT, Body::empty()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, &br#"{"key":"value"}"#[..]);
    assert_eq!(headers["Lambda-Runtime-Aws-Request-Id"], "8476a536-e9f4-11e8-9739-2dfe598c3fcd");
    assert_eq!(headers["Lambda-Runtime-Deadline-Ms"], "1542409706888");
    assert_eq!(
        headers["Lambda-Runtime-Invoked-Function-Arn"],
        "arn:aws:lambda:us-east-2:123456789012:function:custom-runtime"
    );
    assert_eq!(
        headers["Lambda-Runtime-Trace-Id"],
        "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"
    );

    let path = "/2018-06-01/runtime/invocation/8476a536-e9f4-11e8-9739-2dfe598c3fcd/response";
    let (status, _, _) = call(&client, "POST", path, Body::from("SUCCESS")).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(answer.await.unwrap(), Completion::Response(Bytes::from_static(b"SUCCESS")));
    let (status, _, body) = call(&client, "POST", path, Body::from("again")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an answered request id is no longer in flight");
    assert!(String::from_utf8_lossy(&body).contains("InvalidRequestID"));

    assert!(matches!(channels.signals.recv().await, Some(Signal::Next { .. })));
    let delivered = channels.signals.recv().await;
    assert!(matches!(delivered, Some(Signal::Delivered { ref request_id, .. }) if request_id.starts_with("8476a536")));
}

#[tokio::test]
async fn an_invocation_error_takes_its_type_from_the_body_or_the_header() {
    let (_api, channels, client) = started().await;
    let answer = deliver(&channels, "req-1").await;
    call(&client, "GET", NEXT, Body::empty()).await;
    let request = build_request()
        .method("POST")
        .uri("/2018-06-01/runtime/invocation/req-1/error")
        .header("Lambda-Runtime-Function-Error-Type", "Runtime.UnknownReason")
        .body(Body::from("something went wrong"))
        .unwrap();
    assert_eq!(client.call(request).await.unwrap().status(), StatusCode::ACCEPTED);
    let expected =
        FunctionError { error_type: "Runtime.UnknownReason".into(), error_message: "something went wrong".into() };
    assert_eq!(answer.await.unwrap(), Completion::Error(expected));

    let answer = deliver(&channels, "req-2").await;
    call(&client, "GET", NEXT, Body::empty()).await;
    let body = r#"{"errorMessage":"Error parsing event data.","errorType":"InvalidEventDataException"}"#;
    call(&client, "POST", "/2018-06-01/runtime/invocation/req-2/error", Body::from(body)).await;
    let Completion::Error(error) = answer.await.unwrap() else { panic!("expected an error") };
    assert_eq!(error.error_type, "InvalidEventDataException");
    assert_eq!(error.error_message, "Error parsing event data.");
}

#[tokio::test]
async fn an_init_error_is_accepted_and_signalled() {
    let (_api, mut channels, client) = started().await;
    let body = r#"{"errorMessage":"Failed to load function.","errorType":"InvalidFunctionException"}"#;
    let (status, _, _) = call(&client, "POST", "/2018-06-01/runtime/init/error", Body::from(body)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let Some(Signal::InitError { error, .. }) = channels.signals.recv().await else { panic!("expected an init error") };
    assert_eq!(error.error_type, "InvalidFunctionException");
}

#[tokio::test]
async fn a_response_over_six_megabytes_is_refused_and_fails_the_invocation() {
    let (_api, channels, client) = started().await;
    let answer = deliver(&channels, "big").await;
    call(&client, "GET", NEXT, Body::empty()).await;
    let oversized = vec![b'x'; RESPONSE_LIMIT + 1];
    let (status, _, _) =
        call(&client, "POST", "/2018-06-01/runtime/invocation/big/response", Body::from(oversized)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let Completion::Error(error) = answer.await.unwrap() else { panic!("expected an error") };
    assert_eq!(error.error_type, "Function.ResponseSizeTooLarge");
}

#[tokio::test]
async fn unknown_paths_are_not_found() {
    let (_api, _channels, client) = started().await;
    let (status, _, _) = call(&client, "GET", "/2018-06-01/runtime/restore/next-thing", Body::empty()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = call(&client, "GET", "/2020-01-01/runtime/invocation/next", Body::empty()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
