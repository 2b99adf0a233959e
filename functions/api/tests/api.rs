//! API handler tests with real-shaped API Gateway v2 requests against DynamoDB, DynamoDB
//! Streams and SSM in the moto emulator: commands, reads, idempotency, conflicts, bad input and
//! the deep health check with its drill flag.
#![allow(clippy::unwrap_used)]

use api::{Api, Health, error_response};
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use base64::Engine;
use domain::idempotency::IdempotencyStore;
use domain::store::EventStore;
use domain::{CommandService, DomainError, Origin, StoredView, TaskView, ViewStore};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;
use test_support::aws::{
    create_event_log, create_idempotency_table, create_view_table, dynamodb, ssm, streams, unique,
};
use test_support::fixtures::{API_GATEWAY_V2_SAMPLE, http_request, task_event};
use time::OffsetDateTime;

async fn api(with_view: bool) -> Api {
    let client = dynamodb();
    let (log, stream_arn) = create_event_log(&client).await;
    let store = EventStore::new(client.clone(), log);
    let views = if with_view {
        Some(ViewStore::new(client.clone(), create_view_table(&client).await, "us-east-1"))
    } else {
        None
    };
    Api {
        commands: CommandService::new(
            store.clone(),
            IdempotencyStore::new(client.clone(), create_idempotency_table(&client).await),
            Origin::new("us-east-1").unwrap(),
        ),
        views,
        health: Health {
            store,
            streams: streams(),
            stream_arn,
            ssm: ssm(),
            drill_parameter: format!("/{}/drill/us-east-1", unique("app")),
            // Generous: many tests share two cores with their emulators.
            check_timeout: Duration::from_secs(20),
            // Every check runs: these tests change what the checks see between requests.
            cache: api::health::HealthCache::new(Duration::ZERO),
        },
    }
}

async fn call(api: &Api, request: &ApiGatewayV2httpRequest) -> (i64, Value, ApiGatewayV2httpResponse) {
    let response = api.handle(request, OffsetDateTime::now_utc()).await;
    let Some(Body::Text(text)) = &response.body else { panic!("no JSON body: {response:?}") };
    assert_eq!(response.headers["content-type"], "application/json");
    (response.status_code, serde_json::from_str(text).unwrap(), response)
}

async fn create(api: &Api, title: &str) -> String {
    let (status, body, _) =
        call(api, &http_request("POST /tasks", "/tasks", Some(&format!(r#"{{"title":"{title}"}}"#)))).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

async fn command(api: &Api, id: &str, body: &str) -> (i64, Value) {
    let (status, body, _) =
        call(api, &http_request("POST /tasks/{id}/commands", &format!("/tasks/{id}/commands"), Some(body))).await;
    (status, body)
}

#[tokio::test]
async fn a_created_task_is_read_back_from_the_event_log_without_a_read_model() {
    let api = api(false).await;
    let request = http_request("POST /tasks", "/tasks", Some(r#"{"title":"  Buy milk "}"#));
    let (status, body, response) = call(&api, &request).await;
    assert_eq!((status, body["version"].as_u64()), (201, Some(1)));
    let id = body["id"].as_str().unwrap();
    assert_eq!(response.headers["location"], format!("/tasks/{id}").as_str());
    let (status, task, response) = call(&api, &http_request("GET /tasks/{id}", &format!("/tasks/{id}"), None)).await;
    assert_eq!(status, 200);
    assert_eq!(
        (task["title"].as_str(), task["completed"].as_bool(), task["version"].as_u64()),
        (Some("Buy milk"), Some(false), Some(1))
    );
    assert_eq!(response.headers["x-read-source"], "log");
}

#[tokio::test]
async fn reads_come_from_the_read_model_when_it_has_the_task() {
    let api = api(true).await;
    let id = create(&api, "a").await;
    let (_, _, response) = call(&api, &http_request("GET /tasks/{id}", &format!("/tasks/{id}"), None)).await;
    assert_eq!(response.headers["x-read-source"], "log", "the view has not caught up yet");
    let view = TaskView {
        id: id.clone(),
        title: "from the view".into(),
        completed: true,
        version: 1,
        created_at: String::new(),
        updated_at: String::new(),
    };
    let stored = StoredView { view, last_event_id: None };
    api.views.as_ref().unwrap().put_if_version(&stored, 0).await.unwrap();
    let (status, task, response) = call(&api, &http_request("GET /tasks/{id}", &format!("/tasks/{id}"), None)).await;
    assert_eq!((status, task["title"].as_str()), (200, Some("from the view")));
    assert_eq!(response.headers["x-read-source"], "view");
}

#[tokio::test]
async fn commands_change_the_task_and_return_its_new_version() {
    let api = api(false).await;
    let id = create(&api, "a").await;
    assert_eq!(command(&api, &id, r#"{"type":"rename","title":"b","expected_version":1}"#).await.1["version"], 2);
    assert_eq!(command(&api, &id, r#"{"type":"complete"}"#).await.1["version"], 3);
    assert_eq!(command(&api, &id, r#"{"type":"reopen"}"#).await.1["version"], 4);
    let (_, task, _) = call(&api, &http_request("GET /tasks/{id}", &format!("/tasks/{id}"), None)).await;
    assert_eq!((task["title"].as_str(), task["completed"].as_bool()), (Some("b"), Some(false)));
}

#[tokio::test]
async fn a_stale_expected_version_is_409_with_the_current_version() {
    let api = api(false).await;
    let id = create(&api, "a").await;
    command(&api, &id, r#"{"type":"complete"}"#).await;
    let (status, body) = command(&api, &id, r#"{"type":"reopen","expected_version":1}"#).await;
    assert_eq!(
        (status, body["code"].as_str(), body["current_version"].as_u64()),
        (409, Some("version_conflict"), Some(2))
    );
    assert_eq!(body["field"], "expected_version");
}

#[tokio::test]
async fn an_invariant_violation_is_409_and_a_missing_task_is_404() {
    let api = api(false).await;
    let id = create(&api, "a").await;
    let (status, body) = command(&api, &id, r#"{"type":"reopen"}"#).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("rejected")));
    assert_eq!(body["error"], "the task is not completed");
    let (status, body) = command(&api, "nope", r#"{"type":"complete"}"#).await;
    assert_eq!((status, body["field"].as_str()), (404, Some("id")));
    let (status, _, _) = call(&api, &http_request("GET /tasks/{id}", "/tasks/nope", None)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_retried_command_returns_the_first_result_and_a_reused_id_is_422() {
    let api = api(false).await;
    let mut request = http_request("POST /tasks", "/tasks", Some(r#"{"title":"once"}"#));
    request.headers.insert("idempotency-key", "client-key-1".parse().unwrap());
    let (_, first, _) = call(&api, &request).await;
    let (status, again, response) = call(&api, &request).await;
    assert_eq!((status, &again["id"]), (201, &first["id"]));
    assert_eq!(response.headers["idempotent-replayed"], "true");
    request.body = Some(r#"{"title":"different"}"#.into());
    let (status, body, _) = call(&api, &request).await;
    assert_eq!((status, body["field"].as_str()), (422, Some("command_id")));
}

#[tokio::test]
async fn bad_input_is_400_naming_the_field() {
    let api = api(false).await;
    let create = |body: Option<&str>| http_request("POST /tasks", "/tasks", body);
    let cmd = |body: &str| http_request("POST /tasks/{id}/commands", "/tasks/t1/commands", Some(body));
    let mut not_base64 = create(Some("%%%"));
    not_base64.is_base64_encoded = true;
    let cases = [
        (create(None), "body"),
        (create(Some("[]")), "body"),
        (create(Some("{")), "body"),
        (not_base64, "body"),
        (create(Some("{}")), "title"),
        (create(Some(r#"{"title":5}"#)), "title"),
        (create(Some(r#"{"title":"   "}"#)), "title"),
        (create(Some(&format!(r#"{{"title":"{}"}}"#, "x".repeat(201)))), "title"),
        (create(Some(r#"{"title":"a","owner":"me"}"#)), "owner"),
        (create(Some(r#"{"title":"a","command_id":"has space"}"#)), "command_id"),
        (cmd(r#"{"type":"explode"}"#), "type"),
        (cmd("{}"), "type"),
        (cmd(r#"{"type":"rename"}"#), "title"),
        (cmd(r#"{"type":"complete","title":"x"}"#), "title"),
        (cmd(r#"{"type":"complete","expected_version":-1}"#), "expected_version"),
        (cmd(r#"{"type":"complete","expected_version":"3"}"#), "expected_version"),
        (http_request("POST /tasks/{id}/commands", "/tasks/bad%23id/commands", Some(r#"{"type":"complete"}"#)), "id"),
        (http_request("GET /tasks/{id}", "/tasks/a#b", None), "id"),
    ];
    for (request, field) in cases {
        let (status, body, _) = call(&api, &request).await;
        assert_eq!((status, body["field"].as_str()), (400, Some(field)), "{:?} -> {body}", request.body);
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
}

#[tokio::test]
async fn a_base64_body_is_decoded() {
    let api = api(false).await;
    let mut request = http_request("POST /tasks", "/tasks", None);
    request.body = Some(base64::engine::general_purpose::STANDARD.encode(r#"{"title":"encoded"}"#));
    request.is_base64_encoded = true;
    assert_eq!(call(&api, &request).await.0, 201);
}

#[tokio::test]
async fn unknown_routes_are_404_and_default_routes_match_by_path() {
    let api = api(false).await;
    let sample: ApiGatewayV2httpRequest = serde_json::from_str(API_GATEWAY_V2_SAMPLE).unwrap();
    let (status, body, _) = call(&api, &sample).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("no_route")));
    let mut by_path = http_request("POST /tasks", "/tasks", Some(r#"{"title":"via $default"}"#));
    by_path.route_key = Some("$default".into());
    assert_eq!(call(&api, &by_path).await.0, 201);
}

#[tokio::test]
async fn health_is_ok_and_describes_each_check() {
    let api = api(false).await;
    let (status, body, _) = call(&api, &http_request("GET /health", "/health", None)).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")), "{body}");
    assert_eq!(body["checks"]["stream"]["status"], "ENABLED");
    assert_eq!(body["checks"]["replica"]["ok"], true);
    assert_eq!(body["checks"]["drill"]["value"], Value::Null);
}

#[tokio::test]
async fn health_is_503_while_the_drill_flag_says_fail() {
    let api = api(false).await;
    let health = http_request("GET /health", "/health", None);
    let set = |value: &'static str| {
        ssm()
            .put_parameter()
            .name(&api.health.drill_parameter)
            .value(value)
            .overwrite(true)
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .send()
    };
    set("fail").await.unwrap();
    let (status, body, _) = call(&api, &health).await;
    assert_eq!(
        (status, body["status"].as_str(), body["checks"]["drill"]["ok"].as_bool()),
        (503, Some("failing"), Some(false))
    );
    set("ok").await.unwrap();
    assert_eq!(call(&api, &health).await.0, 200);
}

#[tokio::test]
async fn health_is_503_when_the_stream_cannot_be_described() {
    let mut api = api(false).await;
    api.health.stream_arn =
        "arn:aws:dynamodb:us-east-1:123456789012:table/missing/stream/2026-01-01T00:00:00.000".into();
    let (status, body, _) = call(&api, &http_request("GET /health", "/health", None)).await;
    assert_eq!((status, body["checks"]["stream"]["ok"].as_bool()), (503, Some(false)));
}

fn get(id: &str, min_version: Option<&str>) -> ApiGatewayV2httpRequest {
    let mut request = http_request("GET /tasks/{id}", &format!("/tasks/{id}"), None);
    let parameters: HashMap<String, String> =
        min_version.map(|v| HashMap::from([("min_version".to_owned(), v.to_owned())])).unwrap_or_default();
    request.query_string_parameters = parameters.into();
    request
}

#[tokio::test]
async fn an_aggregate_with_a_missing_sequence_is_503_retry_after_not_500() {
    let api = api(false).await;
    let store = api.commands.store();
    // Events 1 and 3 have replicated here, event 2 not yet.
    for sequence in [1, 3] {
        let item = task_event("half", sequence, "eu-west-1");
        store.append(vec![store.append_put(&item).unwrap()]).await.unwrap();
    }
    let (status, body, response) = call(&api, &get("half", None)).await;
    assert_eq!((status, body["code"].as_str(), body["current_version"].as_u64()), (503, Some("replicating"), Some(1)));
    assert_eq!(response.headers["retry-after"], "1");
    let (status, body) = command(&api, "half", r#"{"type":"complete"}"#).await;
    assert_eq!((status, body["code"].as_str()), (503, Some("replicating")), "commands on it too");
}

#[tokio::test]
async fn min_version_reads_the_log_when_the_view_is_behind_and_waits_for_replication() {
    let api = api(true).await;
    let id = create(&api, "a").await;
    let folded = TaskView {
        id: id.clone(),
        title: "a".into(),
        completed: false,
        version: 1,
        created_at: String::new(),
        updated_at: String::new(),
    };
    let stored = StoredView { view: folded, last_event_id: None };
    api.views.as_ref().unwrap().put_if_version(&stored, 0).await.unwrap();
    command(&api, &id, r#"{"type":"complete"}"#).await;
    let (_, task, response) = call(&api, &get(&id, None)).await;
    assert_eq!(task["version"].as_u64(), Some(1));
    assert_eq!(response.headers["x-read-source"], "view");
    let (status, task, response) = call(&api, &get(&id, Some("2"))).await;
    assert_eq!((status, task["version"].as_u64(), task["completed"].as_bool()), (200, Some(2), Some(true)));
    assert_eq!(response.headers["x-read-source"], "log");
    let (_, _, response) = call(&api, &get(&id, Some("1"))).await;
    assert_eq!(response.headers["x-read-source"], "view", "the view is recent enough");
    let (status, body, response) = call(&api, &get(&id, Some("3"))).await;
    assert_eq!((status, body["current_version"].as_u64()), (503, Some(2)));
    assert_eq!(response.headers["retry-after"], "1");
    let (status, _, _) = call(&api, &get("not-here-yet", Some("1"))).await;
    assert_eq!(status, 503, "a task written elsewhere may not have arrived yet");
    for bad in ["two", "-1", "+2", "1.5", ""] {
        let (status, body, _) = call(&api, &get(&id, Some(bad))).await;
        assert_eq!((status, body["field"].as_str()), (400, Some("min_version")), "{bad:?}");
    }
}

#[test]
fn storage_errors_are_503_when_retryable_and_500_otherwise_without_details() {
    let throttled = DomainError::Aws {
        operation: "Query".into(),
        code: "ThrottlingException".into(),
        message: "secret".into(),
        retryable: true,
    };
    let response = error_response(&throttled);
    assert_eq!((response.status_code, response.headers["retry-after"].to_str().unwrap()), (503, "1"));
    let denied = DomainError::Aws {
        operation: "Query".into(),
        code: "AccessDeniedException".into(),
        message: "secret".into(),
        retryable: false,
    };
    let response = error_response(&denied);
    let Some(Body::Text(text)) = response.body else { panic!() };
    assert_eq!(response.status_code, 500);
    assert!(!text.contains("secret") && !text.contains("AccessDenied"), "{text}");
}
