//! The host against real `lambda_runtime` binaries: the hello-world function and a fixture that
//! fails on request (handler error, init error, exit during init, crash, deadline).

#![allow(clippy::unwrap_used, missing_docs)]

use local::events::{EventKind, Outcome};
use local::{AwsAccess, FunctionSpec, Host, HostError, HostSettings, InitFailure, InvokeError};
use serde_json::{Value, json};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const HELLO: &str = env!("CARGO_BIN_EXE_hello-world");
const FIXTURE: &str = env!("CARGO_BIN_EXE_lambda-fixture");

fn spec(name: &str, binary: &str) -> FunctionSpec {
    FunctionSpec::new(name, binary, "eu-west-1", AwsAccess::emulator("http://127.0.0.1:4566"))
}

fn host_with(spec: FunctionSpec) -> Host {
    let host = Host::new(HostSettings::default());
    host.add_function(spec).unwrap();
    host
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

#[tokio::test]
async fn hello_world_answers_through_the_runtime_api_and_stays_warm() {
    let host = host_with(spec("hello", HELLO));
    let first = host.invoke("hello", r#"{"hello":"world"}"#).await.unwrap();
    assert_eq!(json(&first.response), json!({"hello": "world"}));
    let cold = first.timings.cold_start.expect("the first invocation starts an environment");
    assert!(cold.ready > cold.spawned && first.timings.delivered >= cold.ready);
    assert!(first.timings.completed >= first.timings.delivered);

    let second = host.invoke("hello", "[1,2]").await.unwrap();
    assert_eq!(json(&second.response), json!([1, 2]));
    assert_eq!(second.timings.cold_start, None, "a warm environment is reused");
    assert_eq!(second.environment, first.environment);
    assert_ne!(second.request_id, first.request_id);
    host.shutdown().await;
}

#[tokio::test]
async fn next_carries_the_documented_headers_and_the_process_gets_lambdas_variables_only() {
    let mut function = spec("echo", FIXTURE);
    function.timeout = Duration::from_secs(7);
    function.memory_mb = 512;
    function.variables.insert("EVENT_LOG_TABLE".into(), "orders-events".into());
    let arn = function.arn();
    let host = host_with(function);
    let names = [
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "_HANDLER",
        "EVENT_LOG_TABLE",
        "HOME",
    ];
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    let invocation = host.invoke("echo", json!({"action": "echo", "variables": names}).to_string()).await.unwrap();
    let answer = json(&invocation.response);
    assert_eq!(answer["request_id"], invocation.request_id.as_str());
    assert_eq!(answer["function_arn"], arn.as_str());
    assert!(answer["trace_id"].as_str().unwrap().starts_with("Root=1-"), "{answer}");
    let deadline = answer["deadline_ms"].as_u64().unwrap();
    assert!((now_ms + 6_000..=now_ms + 8_000).contains(&deadline), "deadline {deadline} vs now {now_ms}");
    let variables = &answer["variables"];
    assert_eq!(variables["AWS_LAMBDA_FUNCTION_NAME"], "echo");
    assert_eq!(variables["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "512");
    assert!(variables["AWS_LAMBDA_RUNTIME_API"].as_str().unwrap().starts_with("127.0.0.1:"));
    assert_eq!(variables["AWS_REGION"], "eu-west-1");
    assert_eq!(variables["AWS_ENDPOINT_URL"], "http://127.0.0.1:4566");
    assert_eq!(variables["AWS_ACCESS_KEY_ID"], "test");
    assert_eq!(variables["_HANDLER"], "bootstrap");
    assert_eq!(variables["EVENT_LOG_TABLE"], "orders-events");
    assert_eq!(variables["HOME"], Value::Null, "nothing leaks from the host's environment");
    host.shutdown().await;
}

#[tokio::test]
async fn a_handler_error_is_reported_and_the_environment_stays_warm() {
    let host = host_with(spec("fixture", FIXTURE));
    let error = host.invoke("fixture", r#"{"action":"fail","message":"no such task"}"#).await.unwrap_err();
    let InvokeError::Handler { error, environment, .. } = error else {
        panic!("expected a handler error, got {error}")
    };
    assert_eq!(error.error_message, "no such task");
    assert!(!error.error_type.is_empty());
    let next = host.invoke("fixture", r#"{"action":"echo"}"#).await.unwrap();
    assert_eq!(next.environment, environment, "Lambda keeps an environment after a reported error");
    assert_eq!(next.timings.cold_start, None);
    host.shutdown().await;
}

#[tokio::test]
async fn an_init_error_posted_by_the_runtime_fails_the_invocation() {
    let mut function = spec("fixture", FIXTURE);
    function.variables.insert("FIXTURE_INIT".into(), "report".into());
    let host = host_with(function);
    let error = host.invoke("fixture", "{}").await.unwrap_err();
    let InvokeError::Init { failure: InitFailure::Reported(reported), .. } = &error else {
        panic!("expected a reported init error, got {error}")
    };
    assert_eq!(reported.error_type, "Fixture.InitFailed");
    assert_eq!(reported.error_message, "FIXTURE_INIT=report");
}

#[tokio::test]
async fn a_process_that_exits_during_init_fails_with_its_last_output() {
    let mut function = spec("fixture", FIXTURE);
    function.variables.insert("FIXTURE_INIT".into(), "exit".into());
    let host = host_with(function);
    let error = host.invoke("fixture", "{}").await.unwrap_err();
    let InvokeError::Init { failure: InitFailure::Exited(status), log_tail, .. } = &error else {
        panic!("expected an exit during init, got {error}")
    };
    assert!(status.contains('1'), "{status}");
    assert!(log_tail.iter().any(|line| line.contains("giving up during init")), "{log_tail:?}");
    assert!(error.to_string().contains("giving up during init"), "the message shows the output: {error}");
}

#[tokio::test]
async fn an_init_that_never_asks_for_work_times_out() {
    let mut function = spec("fixture", FIXTURE);
    function.variables.insert("FIXTURE_INIT".into(), "hang".into());
    let host = Host::new(HostSettings { init_timeout: Duration::from_millis(400), log_dir: None });
    host.add_function(function).unwrap();
    let started = Instant::now();
    let error = host.invoke("fixture", "{}").await.unwrap_err();
    assert!(matches!(error, InvokeError::Init { failure: InitFailure::TimedOut(_), .. }), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_crash_during_an_invocation_loses_the_environment_and_the_next_starts_cold() {
    let host = host_with(spec("fixture", FIXTURE));
    let error = host.invoke("fixture", r#"{"action":"exit","code":3}"#).await.unwrap_err();
    let InvokeError::Crashed { status, log_tail, environment, .. } = &error else {
        panic!("expected a crash, got {error}")
    };
    assert!(status.contains('3'), "{status}");
    assert!(log_tail.iter().any(|line| line.contains("exiting on request")), "{log_tail:?}");
    assert_eq!(environment.number, 1);
    let next = host.invoke("fixture", r#"{"action":"echo"}"#).await.unwrap();
    assert!(next.timings.cold_start.is_some());
    assert_eq!(next.environment.number, 2);
    host.shutdown().await;
}

#[tokio::test]
async fn an_invocation_past_its_deadline_is_stopped_and_the_next_starts_cold() {
    let mut function = spec("fixture", FIXTURE);
    function.timeout = Duration::from_millis(300);
    let host = host_with(function);
    let started = Instant::now();
    let error = host.invoke("fixture", r#"{"action":"sleep","ms":20000}"#).await.unwrap_err();
    assert!(matches!(error, InvokeError::TimedOut { timeout, .. } if timeout == Duration::from_millis(300)), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5), "the deadline, not the handler, ends it");
    let next = host.invoke("fixture", r#"{"action":"sleep","ms":10}"#).await.unwrap();
    assert_eq!(next.environment.number, 2, "the timed-out environment is not reused");
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_invocations_get_their_own_environments_up_to_the_limit() {
    let mut function = spec("fixture", FIXTURE);
    function.max_concurrency = 2;
    let host = std::sync::Arc::new(host_with(function));
    let calls = (0..4).map(|_| {
        let host = host.clone();
        tokio::spawn(async move { host.invoke("fixture", r#"{"action":"sleep","ms":300}"#).await })
    });
    let started = Instant::now();
    let mut environments = std::collections::BTreeSet::new();
    for call in calls.collect::<Vec<_>>() {
        environments.insert(call.await.unwrap().unwrap().environment.number);
    }
    assert_eq!(environments.into_iter().collect::<Vec<_>>(), [1, 2], "two environments, each used twice");
    assert!(started.elapsed() >= Duration::from_millis(600), "four 300 ms calls over two environments");
    host.shutdown().await;
}

#[tokio::test]
async fn events_time_each_step_of_an_environment_in_order() {
    let host = host_with(spec("hello", HELLO));
    let mut events = host.subscribe();
    let invocation = host.invoke("hello", "{}").await.unwrap();
    assert_eq!(host.retire_idle("hello").await.unwrap(), 1);
    let mut seen = Vec::new();
    while let Ok(Some(event)) = tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
        let exited = matches!(event.kind, EventKind::Exited { .. });
        seen.push(event);
        if exited {
            break;
        }
    }
    let steps: Vec<&str> = seen
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Spawned { .. } => Some("spawned"),
            EventKind::Ready { .. } => Some("ready"),
            EventKind::Delivered { .. } => Some("delivered"),
            EventKind::Completed { outcome: Outcome::Response, .. } => Some("completed"),
            EventKind::Exited { .. } => Some("exited"),
            _ => None,
        })
        .collect();
    assert_eq!(steps, ["spawned", "ready", "delivered", "completed", "exited"]);
    assert!(seen.windows(2).all(|w| w[0].at <= w[1].at), "time stamps are in order");
    let init = seen.iter().find_map(|e| if let EventKind::Ready { init } = e.kind { Some(init) } else { None });
    assert_eq!(init, invocation.timings.cold_start.map(|c| c.init()));
    let delivered = seen.iter().find_map(|e| match &e.kind {
        EventKind::Delivered { request_id } => Some((request_id.clone(), e.at)),
        _ => None,
    });
    assert_eq!(delivered, Some((invocation.request_id.clone(), invocation.timings.delivered)));
}

#[tokio::test]
async fn unknown_functions_missing_binaries_and_duplicates_are_refused() {
    let host = host_with(spec("hello", HELLO));
    assert!(matches!(host.invoke("nope", "{}").await, Err(InvokeError::UnknownFunction(_))));
    assert!(matches!(host.add_function(spec("hello", HELLO)), Err(HostError::Duplicate(_))));
    let missing = host.add_function(spec("ghost", "/nonexistent/bootstrap")).unwrap_err();
    assert!(matches!(missing, HostError::MissingBinary { .. }), "{missing}");
    let mut none = spec("none", HELLO);
    none.max_concurrency = 0;
    assert!(matches!(host.add_function(none), Err(HostError::NoConcurrency(_))));
}
