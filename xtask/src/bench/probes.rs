//! What `bench init` runs each function with: the variables its region stack sets (pointing at
//! tables, a stream, a bucket and a queue made in the emulator with the test harness's
//! stack-shaped helpers), a first event that does the function's real work (a new task through
//! the api, a new event through the publisher and both projectors), and a check that the answer
//! is a success, so a fast failure is never timed as a fast start.

use anyhow::{Context, Result, ensure};
use contract::env::{ApiEnvironment, AuditProjectorEnvironment, PublisherEnvironment, ViewProjectorEnvironment};
use domain::envelope::DomainEventRef;
use serde_json::{Value, json};
use stacks::app::FunctionKind;
use std::collections::BTreeMap;
use test_support::fixtures::{
    Change, dynamodb_event, http_request, kinesis_event, kinesis_record, stream_record, task_event,
};

/// The region every function runs in.
pub const REGION: &str = "us-east-1";
/// The baseline: `xtask/local`'s `hello-world` binary.
pub const HELLO_WORLD: &str = "hello-world";

/// One function under measurement.
#[derive(Debug, Clone)]
pub struct Probe {
    /// Its binary (and crate) name.
    pub name: &'static str,
    /// `None` for the hello-world baseline.
    pub kind: Option<FunctionKind>,
    /// The variables its stack would set.
    pub variables: BTreeMap<String, String>,
}

impl Probe {
    /// The first event of run `run`: new ids every run, so no run replays another's work.
    pub fn event(&self, run: usize) -> Result<Vec<u8>> {
        let id = format!("bench-{}-{run}", uuid::Uuid::now_v7().simple());
        let item = task_event(&id, 1, REGION);
        let event = match self.kind {
            None => json!({"hello": "world", "run": run}),
            Some(FunctionKind::Api) => {
                let body = json!({"title": format!("bench task {run}")}).to_string();
                serde_json::to_value(http_request("POST /tasks", "/tasks", Some(&body)))?
            }
            Some(FunctionKind::Publisher) => {
                serde_json::to_value(dynamodb_event(vec![stream_record(Change::Insert(&item), run as u64 + 1)]))?
            }
            Some(FunctionKind::ProjectorAudit | FunctionKind::ProjectorView) => {
                let envelope = DomainEventRef::from_item(&item, REGION, false)?.to_json();
                let sequence = format!("{:056}", run + 1);
                serde_json::to_value(kinesis_event(vec![kinesis_record(&envelope, &item.aggregate_key, &sequence)]))?
            }
        };
        Ok(serde_json::to_vec(&event)?)
    }

    /// Fails unless `response` is the function's success answer to [`Probe::event`].
    pub fn check(&self, response: &[u8]) -> Result<()> {
        let value: Value = serde_json::from_slice(response).context("the response is not JSON")?;
        match self.kind {
            None => ensure!(value["hello"] == "world", "hello-world did not echo its event: {value}"),
            Some(FunctionKind::Api) => {
                let status = value["statusCode"].as_u64().unwrap_or_default();
                ensure!((200..300).contains(&status), "the api answered {status}: {}", value["body"]);
            }
            Some(_) => {
                let failures = value["batchItemFailures"].as_array().map_or(0, Vec::len);
                ensure!(failures == 0, "{} reported {failures} batch item failures: {value}", self.name);
            }
        }
        Ok(())
    }
}

/// The emulator's clients the fixtures are made with.
pub struct Clients {
    /// DynamoDB.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// Kinesis.
    pub kinesis: aws_sdk_kinesis::Client,
    /// S3 (path-style).
    pub s3: aws_sdk_s3::Client,
    /// SQS.
    pub sqs: aws_sdk_sqs::Client,
}

/// The hello-world baseline and every function, with their resources made in the emulator.
pub async fn probes(clients: &Clients) -> Result<Vec<Probe>> {
    use test_support::aws::{create_bucket, create_event_log, create_idempotency_table, create_queue, create_stream};
    let (event_log, event_log_stream) = create_event_log(&clients.dynamodb).await;
    let idempotency = create_idempotency_table(&clients.dynamodb).await;
    let view = test_support::aws::create_view_table(&clients.dynamodb).await;
    let stream = create_stream(&clients.kinesis, 1).await;
    let bucket = create_bucket(&clients.s3).await;
    let conflicts = create_queue(&clients.sqs).await;
    let app_name = "bench".to_owned();
    // The names come from the functions' contract, as the region stack writes them.
    let variables = |kind: FunctionKind| -> Vec<(&'static str, String)> {
        match kind {
            FunctionKind::Api => ApiEnvironment {
                app_name: app_name.clone(),
                event_log_table: event_log.clone(),
                event_log_stream_arn: event_log_stream.clone(),
                idempotency_table: idempotency.clone(),
                drill_parameter: format!("/bench/drill/{REGION}"),
                read_model_table: Some(view.clone()),
            }
            .into_variables(),
            FunctionKind::Publisher => PublisherEnvironment {
                app_name: app_name.clone(),
                event_stream_name: stream.clone(),
                conflicts_queue_url: conflicts.clone(),
                idempotency_table: idempotency.clone(),
            }
            .into_variables(),
            FunctionKind::ProjectorAudit => {
                AuditProjectorEnvironment { app_name: app_name.clone(), audit_bucket: bucket.clone() }.into_variables()
            }
            FunctionKind::ProjectorView => ViewProjectorEnvironment {
                app_name: app_name.clone(),
                view_table: view.clone(),
                event_log_table: event_log.clone(),
            }
            .into_variables(),
        }
    };
    let mut probes = vec![Probe { name: HELLO_WORLD, kind: None, variables: BTreeMap::new() }];
    for kind in FunctionKind::ALL {
        let variables = variables(kind).into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        probes.push(Probe { name: kind.crate_name(), kind: Some(kind), variables });
    }
    Ok(probes)
}
