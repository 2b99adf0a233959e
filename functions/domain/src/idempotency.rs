//! The idempotency table (`Key`, TTL `ExpiresAt`): command records that make a retried command
//! return its first result, and the once-per-(consumer, EventId) guard for side effects.
//!
//! Keys: `command#<command id>` and `guard#<consumer>#<event id>`.

use crate::error::DomainError;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use std::collections::HashMap;
use std::future::Future;

pub use contract::idempotency::{EXPIRES_AT, KEY};
/// How long a command id is remembered: a client retrying later than this creates a new effect.
pub const COMMAND_TTL_SECONDS: i64 = 7 * 24 * 3600;

/// What a processed command left behind, so a retry answers the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRecord {
    /// The client's (or generated) command id.
    pub command_id: String,
    /// `Task#<id>` the command applied to.
    pub aggregate_key: String,
    /// The aggregate's version after the command.
    pub version: u64,
    /// Hash of the command, to refuse a reused id with a different command.
    pub fingerprint: String,
    /// Epoch seconds after which DynamoDB may delete the record.
    pub expires_at: i64,
}

/// How the guard ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Once<T> {
    /// This call ran the effect.
    Ran(T),
    /// A previous call completed it: nothing was done.
    AlreadyDone,
}

/// Timing of the guard, in seconds.
#[derive(Debug, Clone, Copy)]
pub struct GuardTiming {
    /// Now, epoch seconds.
    pub now: i64,
    /// How long a claim stays exclusive: after that a crashed holder's claim can be taken over.
    pub lease: i64,
    /// How long a completed guard is kept.
    pub ttl: i64,
}

/// The idempotency table.
#[derive(Debug, Clone)]
pub struct IdempotencyStore {
    client: Client,
    table: String,
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

impl IdempotencyStore {
    /// The store over `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        IdempotencyStore { client, table: table.into() }
    }

    /// The record of `command_id`, read consistently.
    pub async fn command(&self, command_id: &str) -> Result<Option<CommandRecord>, DomainError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .consistent_read(true)
            .key(KEY, s(&format!("command#{command_id}")))
            .send()
            .await
            .map_err(|e| DomainError::from_sdk("GetItem", &e))?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        let text = |name: &str| match item.get(name) {
            Some(AttributeValue::S(v)) => Ok(v.clone()),
            _ => Err(DomainError::malformed("command record", format!("{name} is missing"))),
        };
        let number = |name: &str| match item.get(name) {
            Some(AttributeValue::N(v)) => v
                .parse::<i64>()
                .map_err(|_| DomainError::malformed("command record", format!("{name} is not a number"))),
            _ => Err(DomainError::malformed("command record", format!("{name} is missing"))),
        };
        Ok(Some(CommandRecord {
            command_id: command_id.to_owned(),
            aggregate_key: text("AggregateTypeAndId")?,
            version: u64::try_from(number("Version")?).unwrap_or_default(),
            fingerprint: text("Fingerprint")?,
            expires_at: number(EXPIRES_AT)?,
        }))
    }

    /// A Put of `record` that fails if the command id is already recorded; goes into the same
    /// transaction as the command's events.
    pub fn command_put(&self, record: &CommandRecord) -> Result<TransactWriteItem, DomainError> {
        let item = HashMap::from([
            (KEY.to_owned(), s(&format!("command#{}", record.command_id))),
            ("AggregateTypeAndId".to_owned(), s(&record.aggregate_key)),
            ("Version".to_owned(), n(i64::try_from(record.version).unwrap_or(i64::MAX))),
            ("Fingerprint".to_owned(), s(&record.fingerprint)),
            (EXPIRES_AT.to_owned(), n(record.expires_at)),
        ]);
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#k)")
            .expression_attribute_names("#k", KEY)
            .build()
            .map_err(|e| DomainError::Config(format!("building the command record Put: {e}")))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Runs `effect` at most once per `(consumer, event_id)` among callers that finish: claims
    /// the key with a conditional put (a lease), runs the effect, then marks it done. A failed
    /// effect releases the claim so a retry can run it; a crashed holder's claim expires after
    /// the lease. A live claim held by someone else is a retryable error.
    pub async fn run_once<T, F, Fut>(
        &self,
        consumer: &str,
        event_id: &str,
        timing: GuardTiming,
        effect: F,
    ) -> Result<Once<T>, DomainError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, DomainError>>,
    {
        let key = format!("guard#{consumer}#{event_id}");
        let token = uuid::Uuid::now_v7().to_string();
        if !self.claim(&key, &token, timing).await? {
            return self.claimed_by_other(&key).await;
        }
        match effect().await {
            Ok(value) => {
                self.finish(&key, &token, timing).await?;
                Ok(Once::Ran(value))
            }
            Err(error) => {
                // Best effort: if the release fails the lease still expires.
                if let Err(release) = self.release(&key, &token).await {
                    tracing::warn!(%key, error = %release, "could not release a side-effect guard");
                }
                Err(error)
            }
        }
    }

    async fn claim(&self, key: &str, token: &str, timing: GuardTiming) -> Result<bool, DomainError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(KEY, s(key))
            .item("Status", s("pending"))
            .item("Token", s(token))
            .item("LeaseUntil", n(timing.now + timing.lease))
            .item(EXPIRES_AT, n(timing.now + timing.ttl))
            .condition_expression("attribute_not_exists(#k) OR (#st = :pending AND #lease < :now)")
            .expression_attribute_names("#k", KEY)
            .expression_attribute_names("#st", "Status")
            .expression_attribute_names("#lease", "LeaseUntil")
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":now", n(timing.now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(DomainError::from_sdk("PutItem", &e)),
        }
    }

    async fn claimed_by_other<T>(&self, key: &str) -> Result<Once<T>, DomainError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .consistent_read(true)
            .key(KEY, s(key))
            .send()
            .await
            .map_err(|e| DomainError::from_sdk("GetItem", &e))?
            .item;
        match item.as_ref().and_then(|i| i.get("Status")) {
            Some(AttributeValue::S(status)) if status == "done" => Ok(Once::AlreadyDone),
            _ => Err(DomainError::Aws {
                operation: "guard".into(),
                code: "InProgress".into(),
                message: format!("{key} is being processed by another invocation"),
                retryable: true,
            }),
        }
    }

    async fn finish(&self, key: &str, token: &str, timing: GuardTiming) -> Result<(), DomainError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(KEY, s(key))
            .item("Status", s("done"))
            .item("Token", s(token))
            .item(EXPIRES_AT, n(timing.now + timing.ttl))
            .condition_expression("#tok = :tok")
            .expression_attribute_names("#tok", "Token")
            .expression_attribute_values(":tok", s(token))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Our lease expired and another caller took over: the effect ran, and theirs will
            // mark it done. Report it rather than failing an effect that happened.
            Err(e) if is_conditional_failure(&e) => {
                tracing::warn!(%key, "side-effect guard lease expired before completion");
                Ok(())
            }
            Err(e) => Err(DomainError::from_sdk("PutItem", &e)),
        }
    }

    async fn release(&self, key: &str, token: &str) -> Result<(), DomainError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(KEY, s(key))
            .condition_expression("#tok = :tok")
            .expression_attribute_names("#tok", "Token")
            .expression_attribute_values(":tok", s(token))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_conditional_failure(&e) => Ok(()),
            Err(e) => Err(DomainError::from_sdk("DeleteItem", &e)),
        }
    }
}

/// Whether a DynamoDB write failed only because its condition did not hold.
pub fn is_conditional_failure<E, R>(error: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    error.as_service_error().and_then(|e| e.code()).is_some_and(|code| code == "ConditionalCheckFailedException")
}
