//! The event log in DynamoDB: load an aggregate's events with a consistent Query, append new
//! events with conditional Puts in one transaction (a concurrent append cancels it instead of
//! overwriting), and a cheap read that proves the local replica answers.

use crate::cancellation::{Cancellation, classify};
use crate::error::DomainError;
use crate::item::{AGGREGATE_KEY, EventItem, SEQUENCE_KEY};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use std::collections::HashMap;

/// Aggregate key that no aggregate uses (`#` cannot appear in an aggregate type), read by the
/// health check.
const PROBE_KEY: &str = "#health";

/// The event log table.
#[derive(Debug, Clone)]
pub struct EventStore {
    client: Client,
    table: String,
}

/// Why an append did not happen.
#[derive(Debug)]
pub enum AppendError {
    /// DynamoDB cancelled the transaction; nothing was written.
    Cancelled(Cancellation),
    /// Any other failure.
    Failed(DomainError),
}

impl EventStore {
    /// The store over `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        EventStore { client, table: table.into() }
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The DynamoDB client.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// A consistent Query for the items of `aggregate_key` with sequences `from..=to` (`to`
    /// `None`: to the last), in sequence order.
    fn query_aggregate(&self, aggregate_key: &str, from: u64, to: Option<u64>) -> QueryFluentBuilder {
        let mut values = HashMap::from([
            (":k".to_owned(), AttributeValue::S(aggregate_key.to_owned())),
            (":from".to_owned(), AttributeValue::N(from.to_string())),
        ]);
        let condition = match to {
            Some(to) => {
                values.insert(":to".to_owned(), AttributeValue::N(to.to_string()));
                "#k = :k AND #s BETWEEN :from AND :to"
            }
            None => "#k = :k AND #s >= :from",
        };
        self.client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .key_condition_expression(condition)
            .expression_attribute_names("#k", AGGREGATE_KEY)
            .expression_attribute_names("#s", SEQUENCE_KEY)
            .set_expression_attribute_values(Some(values))
    }

    /// Every event of `aggregate_key`, in sequence order (consistent read, all pages).
    pub async fn load(&self, aggregate_key: &str) -> Result<Vec<EventItem>, DomainError> {
        self.load_range(aggregate_key, 1, None).await
    }

    /// The events of `aggregate_key` with sequences `from..=to` (`to` `None`: to the last), in
    /// sequence order, read consistently from this region's replica (all pages).
    pub async fn load_range(
        &self,
        aggregate_key: &str,
        from: u64,
        to: Option<u64>,
    ) -> Result<Vec<EventItem>, DomainError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .query_aggregate(aggregate_key, from, to)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| DomainError::from_sdk("Query", &e))?;
            for item in page.items() {
                items.push(EventItem::from_sdk(item)?);
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    /// The highest sequence of `aggregate_key` (0 if none), read consistently.
    pub async fn latest_sequence(&self, aggregate_key: &str) -> Result<u64, DomainError> {
        let page = self
            .query_aggregate(aggregate_key, 1, None)
            .scan_index_forward(false)
            .limit(1)
            .send()
            .await
            .map_err(|e| DomainError::from_sdk("Query", &e))?;
        match page.items().first() {
            Some(item) => Ok(EventItem::from_sdk(item)?.sequence),
            None => Ok(0),
        }
    }

    /// A Put of `event` that fails if its sequence is taken: the optimistic-concurrency check.
    pub fn append_put(&self, event: &EventItem) -> Result<TransactWriteItem, DomainError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(event.to_sdk()))
            .condition_expression("attribute_not_exists(#s)")
            .expression_attribute_names("#s", SEQUENCE_KEY)
            .build()
            .map_err(|e| DomainError::Config(format!("building the event Put: {e}")))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Writes `items` atomically (event Puts from [`Self::append_put`] plus, e.g., the command
    /// record). A failed condition cancels everything; nothing is ever overwritten.
    pub async fn append(&self, items: Vec<TransactWriteItem>) -> Result<(), AppendError> {
        let result = self.client.transact_write_items().set_transact_items(Some(items)).send().await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => match error.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
                    let codes = cancelled.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None"));
                    Err(AppendError::Cancelled(classify(codes, cancelled.message())))
                }
                _ => Err(AppendError::Failed(DomainError::from_sdk("TransactWriteItems", &error))),
            },
        }
    }

    /// Reads one key with a consistent GetItem: proves the local replica serves reads.
    pub async fn probe(&self) -> Result<(), DomainError> {
        self.client
            .get_item()
            .table_name(&self.table)
            .consistent_read(true)
            .key(AGGREGATE_KEY, AttributeValue::S(PROBE_KEY.to_owned()))
            .key(SEQUENCE_KEY, AttributeValue::N("0".to_owned()))
            .send()
            .await
            .map(drop)
            .map_err(|e| DomainError::from_sdk("GetItem", &e))
    }
}
