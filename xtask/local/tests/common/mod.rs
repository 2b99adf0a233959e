//! What the engine tests share: clients for the emulator, tables and streams in any region, a
//! fake function that records what it is given, and a bounded wait.

#![allow(dead_code, clippy::unwrap_used)]

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    StreamSpecification, StreamViewType,
};
use bytes::Bytes;
use local::clients::Clients;
use local::mapping::{InvokeFailure, Invoked, Invoker};
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

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
}

impl FakeFunction {
    /// A function answering with `behaviour`.
    pub fn new(behaviour: impl Fn(&Value, usize) -> Result<Value, String> + Send + Sync + 'static) -> FakeFunction {
        FakeFunction { calls: Mutex::new(Vec::new()), behaviour: Box::new(behaviour) }
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
