//! The local runtime end to end: a two-region app deployed to the emulator with the engine, the
//! real function binaries run through the host, a command sent over HTTP to one region's API,
//! and the event followed through every store; then the region is killed.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::{AUDIT_AND_TASKS, app_config, app_name, deploy_app, quick_run_settings};
use local::clients::Clients;
use local::gateway::client::{CallError, call};
use local::run::trace::{Trace, trace_task};
use local::run::{Kill, Runtime, discover};
use serde_json::json;
use std::time::Duration;

const A: &str = "us-east-1";
const B: &str = "eu-west-1";
const WAIT: Duration = Duration::from_secs(30);
const CALL: Duration = Duration::from_secs(10);

async fn eventually_traced(
    clients: &Clients,
    deployment: &discover::Deployment,
    id: &str,
    done: fn(&Trace) -> bool,
) -> Trace {
    let start = tokio::time::Instant::now();
    loop {
        let trace = trace_task(clients, deployment, id).await.unwrap();
        if done(&trace) {
            return trace;
        }
        assert!(start.elapsed() < WAIT, "not there after {WAIT:?}: {trace:#?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn settled(trace: &Trace) -> bool {
    let (a, b) = (&trace.regions[A], &trace.regions[B]);
    !a.on_stream.is_empty()
        && a.audit_objects > 0
        && a.view_version.is_some()
        && b.view_version.is_some()
        && !b.in_log.is_empty()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_on_one_regions_api_is_published_once_projected_everywhere_and_a_killed_region_stops_answering() {
    let emulator = engine::testing::emulator();
    let config = app_config("run-test.toml", &app_name("run"), &[A, B], AUDIT_AND_TASKS);
    let (clients, deployment) = deploy_app(&emulator, config).await;
    let settings = quick_run_settings(&emulator.endpoint);
    let mut runtime = Runtime::start(&clients, &deployment, settings).await.unwrap();
    let report = runtime.report(&deployment, &[]).join("\n");
    assert!(report.contains("from the synthesized template (PublisherSubscription)"), "{report}");
    assert!(report.contains("from the Lambda API"), "{report}");
    let urls = runtime.urls();

    let created = call(&urls[A], "POST", "/tasks", Some(&json!({"title": "through the runtime"})), CALL).await.unwrap();
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_owned();

    let trace = eventually_traced(&clients, &deployment, &id, settled).await;
    // Later deliveries (a retried batch, the other region's publisher) would show up by now.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let trace = trace_task(&clients, &deployment, &id).await.map(|later| (trace, later)).unwrap().1;
    let (a, b) = (&trace.regions[A], &trace.regions[B]);
    assert_eq!(a.on_stream, [(1, A.to_owned())], "published once, on the origin's stream");
    assert!(b.on_stream.is_empty(), "the other region publishes none of A's events: {b:?}");
    assert_eq!(trace.published(1), 1);
    assert_eq!((a.in_log.as_slice(), b.in_log.as_slice()), (&[1][..], &[1][..]), "replicated into B's table");
    assert_eq!((a.view_version, b.view_version), (Some(1), Some(1)), "the view in both regions");
    assert_eq!((a.audit_objects, b.audit_objects), (1, 0), "one audit object, in the origin's bucket");

    let health = call(&urls[B], "GET", "/health", None, CALL).await.unwrap();
    assert_eq!(health.status, 200, "{}", health.body);
    runtime.schedule(&Kill { region: A.to_owned(), after: runtime.elapsed(), back: None }).unwrap();
    let start = tokio::time::Instant::now();
    loop {
        match call(&urls[A], "GET", "/health", None, CALL).await {
            Err(CallError::Connection { .. }) => break,
            other => assert!(start.elapsed() < WAIT, "A still answers after the kill: {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(runtime.outages().is_down(A));
    let health = call(&urls[B], "GET", "/health", None, CALL).await.unwrap();
    assert_eq!(health.status, 200, "B still serves: {}", health.body);
    runtime.shutdown().await;
}
