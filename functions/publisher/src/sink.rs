//! Where the publisher sends things, behind two small traits so tests and benchmarks can inject
//! faults: the Kinesis stream (PutRecords) and the conflicts queue (SQS).

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use domain::DomainError;
use std::future::Future;

/// One record to put on the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingRecord {
    /// `AggregateTypeAndId`, so one aggregate's events share a shard and stay ordered.
    pub partition_key: String,
    /// The domain-event JSON.
    pub data: Vec<u8>,
}

impl OutgoingRecord {
    /// What Kinesis counts against its per-record (1 MiB) and per-call (5 MiB) limits.
    pub fn size(&self) -> usize {
        self.partition_key.len() + self.data.len()
    }
}

/// The fate of one entry of a PutRecords call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryResult {
    /// Stored on the stream.
    Stored,
    /// Not stored (`ProvisionedThroughputExceededException`, `InternalFailure`, ...).
    Failed {
        /// Kinesis error code.
        code: String,
    },
}

/// A Kinesis stream, as far as the publisher needs one.
pub trait RecordSink: Send + Sync {
    /// One PutRecords call: one result per record, in order. An `Err` means the whole call
    /// failed (throttled, timed out, denied) and no entry is known to be stored.
    fn put_records(
        &self,
        records: &[&OutgoingRecord],
    ) -> impl Future<Output = Result<Vec<EntryResult>, DomainError>> + Send;
}

/// The conflicts queue.
pub trait ConflictSink: Send + Sync {
    /// Sends one conflict report (JSON).
    fn report(&self, body: String) -> impl Future<Output = Result<(), DomainError>> + Send;
}

/// [`RecordSink`] over the Kinesis SDK client.
#[derive(Debug, Clone)]
pub struct KinesisSink {
    client: aws_sdk_kinesis::Client,
    stream_name: String,
}

impl KinesisSink {
    /// Puts records on stream `stream_name`.
    pub fn new(client: aws_sdk_kinesis::Client, stream_name: impl Into<String>) -> Self {
        KinesisSink { client, stream_name: stream_name.into() }
    }
}

impl RecordSink for KinesisSink {
    async fn put_records(&self, records: &[&OutgoingRecord]) -> Result<Vec<EntryResult>, DomainError> {
        let entries = records
            .iter()
            .map(|r| {
                PutRecordsRequestEntry::builder()
                    .partition_key(&r.partition_key)
                    .data(Blob::new(r.data.clone()))
                    .build()
                    .map_err(|e| DomainError::Config(format!("building a PutRecords entry: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let output = self
            .client
            .put_records()
            .stream_name(&self.stream_name)
            .set_records(Some(entries))
            .send()
            .await
            .map_err(|e| DomainError::from_sdk("PutRecords", &e))?;
        if output.records.len() != records.len() {
            return Err(DomainError::Aws {
                operation: "PutRecords".into(),
                code: "ShortResponse".into(),
                message: format!("{} results for {} records", output.records.len(), records.len()),
                retryable: true,
            });
        }
        Ok(output
            .records
            .into_iter()
            .map(|r| match r.error_code {
                Some(code) => EntryResult::Failed { code },
                None => EntryResult::Stored,
            })
            .collect())
    }
}

/// [`ConflictSink`] over the SQS SDK client.
#[derive(Debug, Clone)]
pub struct SqsConflicts {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsConflicts {
    /// Sends to queue `queue_url`.
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        SqsConflicts { client, queue_url: queue_url.into() }
    }
}

impl ConflictSink for SqsConflicts {
    async fn report(&self, body: String) -> Result<(), DomainError> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .send()
            .await
            .map(drop)
            .map_err(|e| DomainError::from_sdk("SendMessage", &e))
    }
}
