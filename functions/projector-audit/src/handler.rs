//! The audit projector: writes each domain event to `events/<origin>/<aggregate_type>/
//! <aggregate_id>/<sequence>.json`. The key is a function of the event, so a redelivered event
//! lands on the same object; writes are conditional (`If-None-Match: *`) so the first copy is
//! kept and a duplicate is an acknowledged no-op.

use aws_lambda_events::kinesis::{KinesisEvent, KinesisEventRecord};
use aws_lambda_events::streams::KinesisEventResponse;
use domain::contract::consumers::AUDIT;
use domain::{DomainError, DomainEvent};
use futures::StreamExt;
use std::future::Future;

/// Objects written at once: S3 takes thousands of writes a second per prefix; this bounds the
/// function's connections.
const CONCURRENT_WRITES: usize = 16;

/// What a conditional write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The object was created.
    Created,
    /// An object was already there (a duplicate delivery).
    AlreadyThere,
}

/// An object store, as far as the projector needs one.
pub trait ObjectStore: Send + Sync {
    /// Creates `key` with `body` unless it exists.
    fn put_if_absent(&self, key: &str, body: Vec<u8>) -> impl Future<Output = Result<Written, DomainError>> + Send;
}

/// Counts of one invocation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Objects created.
    pub written: u32,
    /// Duplicates acknowledged.
    pub duplicates: u32,
    /// Poison records (not an event): reported so the event source mapping's retries end in
    /// its dead-letter queue.
    pub poison: u32,
    /// Writes that failed and will be retried.
    pub failed: u32,
    /// Replays meant for other consumers, acknowledged untouched.
    pub not_for_audit: u32,
}

/// The S3 key of `event`. Every segment was validated by [`DomainEvent::parse`] as
/// `[A-Za-z0-9._-]`, so keys cannot escape the `events/` prefix.
pub fn object_key(event: &DomainEvent) -> String {
    format!("events/{}/{}/{}/{}.json", event.origin_region, event.aggregate_type, event.aggregate_id, event.sequence)
}

enum Outcome {
    Written(Written),
    NotForAudit,
    Poison,
    Failed,
}

async fn project<S: ObjectStore>(store: &S, record: &KinesisEventRecord) -> Outcome {
    let data = &record.kinesis.data.0;
    let event = match DomainEvent::parse(data) {
        Ok(event) => event,
        Err(error) => {
            tracing::error!(%error, sequence_number = record.kinesis.sequence_number, "poison record");
            return Outcome::Poison;
        }
    };
    if !event.is_for(AUDIT) {
        return Outcome::NotForAudit;
    }
    match store.put_if_absent(&object_key(&event), data.clone()).await {
        Ok(written) => Outcome::Written(written),
        Err(error) => {
            tracing::warn!(%error, event = event.id, "audit write failed; will retry");
            Outcome::Failed
        }
    }
}

/// Projects a batch; every record that is not written is reported as a batch item failure.
pub async fn handle<S: ObjectStore>(store: &S, event: &KinesisEvent) -> (KinesisEventResponse, Stats) {
    let outcomes: Vec<(usize, Outcome)> = futures::stream::iter(event.records.iter().enumerate())
        .map(|(index, record)| async move { (index, project(store, record).await) })
        .buffer_unordered(CONCURRENT_WRITES)
        .collect()
        .await;
    let mut stats = Stats::default();
    let mut failed = Vec::new();
    for (index, outcome) in outcomes {
        match outcome {
            Outcome::Written(Written::Created) => stats.written += 1,
            Outcome::Written(Written::AlreadyThere) => stats.duplicates += 1,
            Outcome::NotForAudit => stats.not_for_audit += 1,
            Outcome::Poison => {
                stats.poison += 1;
                failed.push(index);
            }
            Outcome::Failed => {
                stats.failed += 1;
                failed.push(index);
            }
        }
    }
    failed.sort_unstable();
    let mut response = KinesisEventResponse::default();
    response.set_failures(failed.iter().map(|&i| event.records[i].kinesis.sequence_number.clone()));
    (response, stats)
}

/// [`ObjectStore`] over the S3 SDK client.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Store {
    /// Writes into `bucket`.
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        S3Store { client, bucket: bucket.into() }
    }
}

impl ObjectStore for S3Store {
    async fn put_if_absent(&self, key: &str, body: Vec<u8>) -> Result<Written, DomainError> {
        let result = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .if_none_match("*")
            .content_type("application/json")
            .body(body.into())
            .send()
            .await;
        match result {
            Ok(_) => Ok(Written::Created),
            // 412: the object exists. (409 means a concurrent conditional write: retry.)
            Err(error) if error.raw_response().is_some_and(|r| r.status().as_u16() == 412) => Ok(Written::AlreadyThere),
            Err(error) => Err(DomainError::from_sdk("PutObject", &error)),
        }
    }
}
