//! What the engine tests share: clients for the emulator, tables and streams in any region, a
//! fake function that records what it is given, a bounded wait; and for the end-to-end tests an
//! app deployed to the emulator, the function binaries and the runtime's settings.

#![allow(dead_code, clippy::unwrap_used)]

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    StreamSpecification, StreamViewType,
};
use bytes::Bytes;
use engine::testing::TestEmulator;
use local::clients::Clients;
use local::mapping::{InvokeFailure, Invoked, Invoker, MappingSettings};
use local::replication::ReplicationSettings;
use local::run::{Deployment, RunSettings, build, discover};
use serde_json::Value;
use stacks::AppConfig;
use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

#[allow(unused_imports)] // not every test binary names its tables
pub use test_support::aws::unique;

/// Clients for the test emulator.
pub fn clients() -> Clients {
    Clients::new(test_support::aws::sdk_config("us-east-1"))
}

/// Waits until `check` holds, polling; panics with `what` after `limit`.
pub async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = tokio::time::Instant::now();
    while start.elapsed() < limit {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out after {limit:?} waiting for {what}");
}

/// A table `name` in `region` keyed `pk` (S) / `sk` (N) with a NEW_AND_OLD_IMAGES stream;
/// returns the stream ARN.
pub async fn create_table(clients: &Clients, region: &str, name: &str) -> String {
    let attribute =
        |name: &str, kind| AttributeDefinition::builder().attribute_name(name).attribute_type(kind).build().unwrap();
    let key = |name: &str, kind| KeySchemaElement::builder().attribute_name(name).key_type(kind).build().unwrap();
    let stream = StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::NewAndOldImages)
        .build()
        .unwrap();
    let output = clients
        .dynamodb(region)
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("pk", ScalarAttributeType::S))
        .attribute_definitions(attribute("sk", ScalarAttributeType::N))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .stream_specification(stream)
        .send()
        .await
        .unwrap();
    output.table_description.unwrap().latest_stream_arn.unwrap()
}

/// An item of [`create_table`]'s shape.
pub fn item(pk: &str, sk: u32, fields: &[(&str, &str)]) -> HashMap<String, AttributeValue> {
    let mut item: HashMap<String, AttributeValue> =
        [("pk".to_owned(), AttributeValue::S(pk.into())), ("sk".to_owned(), AttributeValue::N(sk.to_string()))].into();
    item.extend(fields.iter().map(|(k, v)| ((*k).to_owned(), AttributeValue::S((*v).to_owned()))));
    item
}

/// Puts `item` into `table` in `region`.
pub async fn put(clients: &Clients, region: &str, table: &str, item: HashMap<String, AttributeValue>) {
    clients.dynamodb(region).put_item().table_name(table).set_item(Some(item)).send().await.unwrap();
}

/// What the fake function answers for one invocation (the event it got, the call's index).
pub type Behaviour = dyn Fn(&Value, usize) -> Result<Value, String> + Send + Sync;

/// A function that records every event and answers by `behaviour`.
pub struct FakeFunction {
    pub calls: Mutex<Vec<Value>>,
    behaviour: Box<Behaviour>,
    answer_after: std::time::Duration,
}

impl FakeFunction {
    /// A function answering with `behaviour`.
    pub fn new(behaviour: impl Fn(&Value, usize) -> Result<Value, String> + Send + Sync + 'static) -> FakeFunction {
        FakeFunction { calls: Mutex::new(Vec::new()), behaviour: Box::new(behaviour), answer_after: Default::default() }
    }

    /// The same function, answering each invocation `delay` after it starts.
    pub fn answering_after(self, delay: std::time::Duration) -> FakeFunction {
        FakeFunction { answer_after: delay, ..self }
    }

    /// A function that always succeeds.
    pub fn ok() -> FakeFunction {
        FakeFunction::new(|_, _| Ok(Value::Null))
    }

    /// Every event so far.
    pub fn events(&self) -> Vec<Value> {
        self.calls.lock().unwrap().clone()
    }

    /// The size of every batch so far.
    pub fn batch_sizes(&self) -> Vec<usize> {
        self.events().iter().map(|e| e["Records"].as_array().map_or(0, Vec::len)).collect()
    }
}

impl Invoker for FakeFunction {
    async fn invoke(&self, _function: &str, payload: Bytes) -> Result<Invoked, InvokeFailure> {
        let event: Value = serde_json::from_slice(&payload).unwrap();
        let index = {
            let mut calls = self.calls.lock().unwrap();
            calls.push(event.clone());
            calls.len() - 1
        };
        let request_id = format!("request-{index}");
        tokio::time::sleep(self.answer_after).await;
        match (self.behaviour)(&event, index) {
            Ok(answer) => Ok(Invoked { request_id, response: Bytes::from(answer.to_string()) }),
            Err(message) => {
                Err(InvokeFailure::Function { request_id: Some(request_id), error_type: "Handled".into(), message })
            }
        }
    }
}

/// The `pk` of each DynamoDB record of `event`.
pub fn keys_of(event: &Value) -> Vec<String> {
    event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["dynamodb"]["Keys"]["pk"]["S"].as_str().unwrap().to_owned())
        .collect()
}

/// The projections of the end-to-end apps: an S3 audit and a `tasks` read model.
pub const AUDIT_AND_TASKS: &[(&str, &str)] = &[("audit", "s3-audit"), ("tasks", "read-model")];

/// A fresh app name starting with `prefix` (letters and digits only).
pub fn app_name(prefix: &str) -> String {
    format!("{prefix}{}", &uuid::Uuid::now_v7().simple().to_string()[24..])
}

/// The config of `app` in `regions` (the first one its home) with `projections` (name, kind),
/// read as the file `source`.
pub fn app_config(source: &str, app: &str, regions: &[&str], projections: &[(&str, &str)]) -> AppConfig {
    let mut text = format!("app = \"{app}\"\nhome = \"{}\"\n", regions[0]);
    for region in regions {
        text.push_str(&format!("\n[[region]]\nname = \"{region}\"\n"));
    }
    for (name, kind) in projections {
        text.push_str(&format!("\n[[projection]]\nname = \"{name}\"\nkind = \"{kind}\"\n"));
    }
    AppConfig::from_toml(source, &text).unwrap()
}

/// `config` deployed to the emulator with the engine, and the deployment the runtime reads back.
pub async fn deploy_app(emulator: &TestEmulator, config: AppConfig) -> (Clients, Deployment) {
    let session = engine::testing::deployed(emulator, config).await;
    let clients = Clients::emulator(&emulator.endpoint);
    let deployment = discover::discover(&clients, &session.config, &[]).await.unwrap();
    (clients, deployment)
}

/// The function binaries next to this test's own build (`cargo xtask test` builds them with the
/// workspace); built here only when they are missing.
pub fn binaries() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    if build::has_every_binary(&dir) {
        return dir;
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    build::build_functions(&cargo, &workspace).unwrap()
}

/// The runtime on the emulator at `endpoint` for a short end-to-end test: the binaries, two API
/// workers, free ports, eager mappings and replication fast enough for the test's waits.
pub fn quick_run_settings(endpoint: &str) -> RunSettings {
    RunSettings {
        endpoint: endpoint.to_owned(),
        binaries: binaries(),
        api_concurrency: 2,
        base_port: 0,
        mapping: MappingSettings::eager(),
        replication: ReplicationSettings {
            lag: Duration::from_millis(50),
            poll: Duration::from_millis(20),
            shard_discovery: Duration::from_millis(200),
        },
        log_dir: None,
    }
}
