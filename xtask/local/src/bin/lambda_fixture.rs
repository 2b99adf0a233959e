//! A `lambda_runtime` function that misbehaves on request, for the host's tests.
//!
//! At start, `FIXTURE_INIT` = `exit` returns an error from `main` (the process exits before its
//! first `/next`), `report` posts `/runtime/init/error` and exits, `hang` never asks for work.
//! Each event's `action`: `echo` answers the event, what the runtime was told about it (request
//! id, deadline, ARN, trace header) and the variables named in `variables`; `fail` returns an
//! error; `exit` ends the process with `code`; `sleep` answers after `ms` milliseconds.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use lambda_runtime_api_client::body::Body;
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    match std::env::var("FIXTURE_INIT").as_deref() {
        Ok("exit") => return Err("FIXTURE_INIT=exit: giving up during init".into()),
        Ok("report") => {
            report_init_error().await?;
            std::process::exit(1);
        }
        Ok("hang") => loop {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        },
        _ => {}
    }
    lambda_runtime::run(service_fn(handle)).await
}

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let (payload, context) = (event.payload, event.context);
    match payload["action"].as_str() {
        Some("fail") => Err(payload["message"].as_str().unwrap_or("failed on request").into()),
        Some("exit") => {
            eprintln!("exiting on request");
            std::process::exit(payload["code"].as_i64().and_then(|c| i32::try_from(c).ok()).unwrap_or(3));
        }
        Some("sleep") => {
            tokio::time::sleep(Duration::from_millis(payload["ms"].as_u64().unwrap_or(0))).await;
            Ok(json!({"slept": payload["ms"]}))
        }
        _ => {
            let variables: serde_json::Map<String, Value> = payload["variables"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(|name| (name.to_owned(), std::env::var(name).map_or(Value::Null, Value::String)))
                .collect();
            Ok(json!({
                "event": payload,
                "request_id": context.request_id,
                "deadline_ms": context.deadline,
                "function_arn": context.invoked_function_arn,
                "trace_id": context.xray_trace_id,
                "variables": variables,
            }))
        }
    }
}

/// Posts Lambda's error format to `/runtime/init/error` with the official runtime client.
async fn report_init_error() -> Result<(), Error> {
    let client = lambda_runtime_api_client::PooledClient::builder().build();
    let body = json!({"errorType": "Fixture.InitFailed", "errorMessage": "FIXTURE_INIT=report"}).to_string();
    let request = lambda_runtime_api_client::build_request()
        .method("POST")
        .uri("/2018-06-01/runtime/init/error")
        .header("Lambda-Runtime-Function-Error-Type", "Fixture.InitFailed")
        .body(Body::from(body))?;
    client.call(request).await?;
    Ok(())
}
