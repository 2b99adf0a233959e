//! The publisher's poison holds, kept durably in the idempotency table. An event that can never
//! be published (a malformed item, an envelope over Kinesis' limit) holds back the later events
//! of its aggregate: publishing them would put event n+1 on the stream with n missing. The
//! event source mapping gives up on the poison record after its bounded retries (dead-letter
//! queue) and moves on, so the hold must outlive the invocation: later invocations keep the
//! aggregate's events back (acknowledged, not published, counted) until `redrive` has dealt
//! with the poison event and releases the hold, which publishes the events kept back from the
//! event log, in order (`publisher::release`).
//!
//! One item per region, `publisher#<region>#holds`, with a map `Holds` from aggregate key to
//! its hold: one consistent GetItem per invocation reads every hold of the region. Each hold
//! counts the events kept back behind it (`KeptBack`); a release removes the hold only if the
//! count did not move while it published, so an event kept back during a release is never lost.

use crate::error::DomainError;
use crate::idempotency::is_conditional_failure;
use crate::item::AttributeMap;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use contract::idempotency::{KEY, publisher_holds_key};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

/// An aggregate held behind an event that could not be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// `Task#<id>`.
    pub aggregate_key: String,
    /// The sequence of the event that could not be published; later ones are kept back.
    pub sequence: u64,
    /// Its EventId.
    pub event_id: String,
    /// Its stream record's SequenceNumber (what the dead-letter record names).
    pub stream_sequence_number: String,
    /// Why it could not be published.
    pub reason: String,
    /// When the hold was recorded (RFC 3339).
    pub held_at: String,
    /// Events kept back behind it so far.
    pub kept_back: u64,
}

/// Where a region's publisher keeps its holds.
pub trait HoldStore: Send + Sync {
    /// Every hold of the region, by aggregate key (read consistently).
    fn load(&self) -> impl Future<Output = Result<HashMap<String, Hold>, DomainError>> + Send;
    /// Records `hold` unless its aggregate is already held (the first hold stays).
    fn hold(&self, hold: &Hold) -> impl Future<Output = Result<(), DomainError>> + Send;
    /// Counts one more event kept back behind the hold on `aggregate_key`; `Ok(false)` when
    /// there is no hold any more (it was released: publish the event).
    fn keep_back(&self, aggregate_key: &str) -> impl Future<Output = Result<bool, DomainError>> + Send;
    /// Replaces the hold on `aggregate_key` with `next` (`None` removes it) if it still counts
    /// `kept_back` events; `Ok(false)` when more were kept back meanwhile.
    fn settle(
        &self,
        aggregate_key: &str,
        kept_back: u64,
        next: Option<&Hold>,
    ) -> impl Future<Output = Result<bool, DomainError>> + Send;
}

const HOLDS: &str = "Holds";
const SEQUENCE: &str = "Sequence";
const EVENT_ID: &str = "EventId";
const STREAM_SEQUENCE_NUMBER: &str = "StreamSequenceNumber";
const REASON: &str = "Reason";
const HELD_AT: &str = "HeldAt";
const KEPT_BACK: &str = "KeptBack";

impl Hold {
    fn to_sdk(&self) -> AttributeValue {
        AttributeValue::M(HashMap::from([
            (SEQUENCE.to_owned(), AttributeValue::N(self.sequence.to_string())),
            (EVENT_ID.to_owned(), AttributeValue::S(self.event_id.clone())),
            (STREAM_SEQUENCE_NUMBER.to_owned(), AttributeValue::S(self.stream_sequence_number.clone())),
            (REASON.to_owned(), AttributeValue::S(self.reason.clone())),
            (HELD_AT.to_owned(), AttributeValue::S(self.held_at.clone())),
            (KEPT_BACK.to_owned(), AttributeValue::N(self.kept_back.to_string())),
        ]))
    }

    fn from_sdk(aggregate_key: &str, value: &AttributeValue) -> Result<Self, DomainError> {
        let AttributeValue::M(map) = value else {
            return Err(DomainError::malformed("publisher hold", format!("{aggregate_key} is not a map")));
        };
        let text = |name: &str| map.string(name).unwrap_or_default().to_owned();
        let number = |name: &str| map.number(name).and_then(|n| n.parse().ok()).unwrap_or_default();
        Ok(Hold {
            aggregate_key: aggregate_key.to_owned(),
            sequence: number(SEQUENCE),
            event_id: text(EVENT_ID),
            stream_sequence_number: text(STREAM_SEQUENCE_NUMBER),
            reason: text(REASON),
            held_at: text(HELD_AT),
            kept_back: number(KEPT_BACK),
        })
    }
}

/// [`HoldStore`] over the idempotency table.
#[derive(Debug, Clone)]
pub struct HoldTable {
    client: Client,
    table: String,
    key: String,
}

impl HoldTable {
    /// The holds of `region`'s publisher in the idempotency table `table`.
    pub fn new(client: Client, table: impl Into<String>, region: &str) -> Self {
        HoldTable { client, table: table.into(), key: publisher_holds_key(region) }
    }

    fn update(&self) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(self.key.clone()))
            .expression_attribute_names("#holds", HOLDS)
    }
}

impl HoldStore for HoldTable {
    async fn load(&self) -> Result<HashMap<String, Hold>, DomainError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .consistent_read(true)
            .key(KEY, AttributeValue::S(self.key.clone()))
            .send()
            .await
            .map_err(|e| DomainError::from_sdk("GetItem", &e))?;
        let Some(AttributeValue::M(holds)) = output.item.as_ref().and_then(|item| item.get(HOLDS)) else {
            return Ok(HashMap::new());
        };
        holds.iter().map(|(key, value)| Ok((key.clone(), Hold::from_sdk(key, value)?))).collect()
    }

    async fn hold(&self, hold: &Hold) -> Result<(), DomainError> {
        // The map must exist before a path inside it can be set: two updates, both idempotent.
        self.update()
            .update_expression("SET #holds = if_not_exists(#holds, :empty)")
            .expression_attribute_values(":empty", AttributeValue::M(HashMap::new()))
            .send()
            .await
            .map_err(|e| DomainError::from_sdk("UpdateItem", &e))?;
        self.update()
            .update_expression("SET #holds.#aggregate = if_not_exists(#holds.#aggregate, :hold)")
            .expression_attribute_names("#aggregate", &hold.aggregate_key)
            .expression_attribute_values(":hold", hold.to_sdk())
            .send()
            .await
            .map(drop)
            .map_err(|e| DomainError::from_sdk("UpdateItem", &e))
    }

    async fn keep_back(&self, aggregate_key: &str) -> Result<bool, DomainError> {
        let result = self
            .update()
            .update_expression("SET #holds.#aggregate.#kept = #holds.#aggregate.#kept + :one")
            .condition_expression("attribute_exists(#holds.#aggregate)")
            .expression_attribute_names("#aggregate", aggregate_key)
            .expression_attribute_names("#kept", KEPT_BACK)
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(DomainError::from_sdk("UpdateItem", &e)),
        }
    }

    async fn settle(&self, aggregate_key: &str, kept_back: u64, next: Option<&Hold>) -> Result<bool, DomainError> {
        let request = self
            .update()
            .condition_expression("#holds.#aggregate.#kept = :kept")
            .expression_attribute_names("#aggregate", aggregate_key)
            .expression_attribute_names("#kept", KEPT_BACK)
            .expression_attribute_values(":kept", AttributeValue::N(kept_back.to_string()));
        let request = match next {
            Some(hold) => request
                .update_expression("SET #holds.#aggregate = :next")
                .expression_attribute_values(":next", hold.to_sdk()),
            None => request.update_expression("REMOVE #holds.#aggregate"),
        };
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(DomainError::from_sdk("UpdateItem", &e)),
        }
    }
}

/// [`HoldStore`] in memory: for tests, benchmarks and anything that runs the publisher without
/// DynamoDB.
#[derive(Debug, Clone, Default)]
pub struct MemoryHolds {
    holds: Arc<Mutex<HashMap<String, Hold>>>,
    failing: bool,
}

impl MemoryHolds {
    /// A store whose every call fails with a retryable error, as an unreachable table would.
    pub fn unreachable() -> Self {
        MemoryHolds { failing: true, ..MemoryHolds::default() }
    }

    fn guard(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, Hold>>, DomainError> {
        if self.failing {
            return Err(DomainError::Aws {
                operation: "holds".into(),
                code: "ServiceUnavailable".into(),
                message: "the hold store is unreachable".into(),
                retryable: true,
            });
        }
        // A panic while holding this lock is a test failure already; keep the data.
        Ok(self.holds.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

impl HoldStore for MemoryHolds {
    async fn load(&self) -> Result<HashMap<String, Hold>, DomainError> {
        Ok(self.guard()?.clone())
    }
    async fn hold(&self, hold: &Hold) -> Result<(), DomainError> {
        self.guard()?.entry(hold.aggregate_key.clone()).or_insert_with(|| hold.clone());
        Ok(())
    }
    async fn keep_back(&self, aggregate_key: &str) -> Result<bool, DomainError> {
        Ok(self.guard()?.get_mut(aggregate_key).map(|hold| hold.kept_back += 1).is_some())
    }
    async fn settle(&self, aggregate_key: &str, kept_back: u64, next: Option<&Hold>) -> Result<bool, DomainError> {
        let mut holds = self.guard()?;
        if holds.get(aggregate_key).is_none_or(|hold| hold.kept_back != kept_back) {
            return Ok(false);
        }
        match next {
            Some(hold) => holds.insert(aggregate_key.to_owned(), hold.clone()),
            None => holds.remove(aggregate_key),
        };
        Ok(true)
    }
}
