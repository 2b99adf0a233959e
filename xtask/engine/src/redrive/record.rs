//! The failure records Lambda writes to the failed-batches bucket, and reading them back. Lambda
//! developer guide, "Retain discarded records for a DynamoDB event source in Lambda" and "Retain
//! discarded batch records for a Kinesis Data Streams event source in Lambda": a JSON document
//! with `requestContext`, `responseContext`, `version`, `timestamp`, `DDBStreamBatchInfo` or
//! `KinesisBatchInfo`, and for an S3 destination the whole invocation record as `payload`, under
//! `aws/lambda/<mapping UUID>/<shard ID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<UUID>`.

use anyhow::{Context, Result};
use serde::Deserialize;
use serde_json::Value;

/// Where Lambda writes failure records in the bucket.
pub const KEY_PREFIX: &str = "aws/lambda/";

/// The key prefix of one mapping's records.
pub fn mapping_prefix(mapping_uuid: &str) -> String {
    format!("{KEY_PREFIX}{mapping_uuid}/")
}

/// One failure record (an SQS or SNS destination gets the same document without `payload`).
#[derive(Debug, Clone, Deserialize)]
pub struct FailureRecord {
    /// Who was invoked and why the batch was given up on.
    #[serde(rename = "requestContext")]
    pub request_context: RequestContext,
    /// The batch of a DynamoDB stream mapping.
    #[serde(rename = "DDBStreamBatchInfo")]
    pub dynamodb: Option<BatchInfo>,
    /// The batch of a Kinesis mapping.
    #[serde(rename = "KinesisBatchInfo")]
    pub kinesis: Option<BatchInfo>,
    /// The event the function was given (S3 destinations only).
    pub payload: Option<Value>,
}

/// `requestContext`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestContext {
    /// The function the mapping invokes.
    pub function_arn: String,
    /// `RetryAttemptsExhausted`, `RecordAgeExceeded`, ...
    #[serde(default)]
    pub condition: String,
}

/// `DDBStreamBatchInfo` / `KinesisBatchInfo`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchInfo {
    /// The shard.
    pub shard_id: String,
    /// First record of the batch.
    pub start_sequence_number: String,
    /// Last record of the batch.
    pub end_sequence_number: String,
    /// Records in the batch.
    #[serde(default)]
    pub batch_size: u64,
    /// The stream.
    pub stream_arn: String,
    /// When the batch's first record reached the stream (where a replay starts).
    #[serde(default)]
    pub approximate_arrival_of_first_record: Option<String>,
}

/// Which kind of stream a batch came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The event log's table stream (the publisher).
    DynamoDb,
    /// The Kinesis stream of domain events (a projector).
    Kinesis,
}

impl FailureRecord {
    /// Parses an object's body; the error says which object.
    pub fn parse(key: &str, body: &[u8]) -> Result<Self> {
        serde_json::from_slice(body).with_context(|| format!("{key} is not a Lambda failure record"))
    }

    /// The source and its batch.
    pub fn batch(&self) -> Option<(Source, &BatchInfo)> {
        match (&self.dynamodb, &self.kinesis) {
            (Some(info), _) => Some((Source::DynamoDb, info)),
            (None, Some(info)) => Some((Source::Kinesis, info)),
            (None, None) => None,
        }
    }

    /// The records of the payload (`Records`), empty without a payload.
    pub fn records(&self) -> &[Value] {
        self.payload.as_ref().and_then(|p| p["Records"].as_array()).map_or(&[], Vec::as_slice)
    }
}

/// Every key under `prefix`, in key order (within a shard, oldest first).
pub async fn list(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Result<Vec<String>> {
    let mut keys = Vec::new();
    let mut pages = s3.list_objects_v2().bucket(bucket).prefix(prefix).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(aws_sdk_s3::Error::from).with_context(|| format!("listing s3://{bucket}/{prefix}"))?;
        keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_owned)));
    }
    keys.sort();
    Ok(keys)
}

/// An object's body.
pub async fn read(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<Vec<u8>> {
    let object = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(aws_sdk_s3::Error::from)
        .with_context(|| format!("reading s3://{bucket}/{key}"))?;
    let body = object.body.collect().await.with_context(|| format!("reading s3://{bucket}/{key}"))?;
    Ok(body.into_bytes().to_vec())
}

/// Marks a record done by deleting it: the bucket is versioned, so the record stays restorable
/// for the bucket's noncurrent-version days (7) and then goes.
pub async fn mark_done(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<()> {
    s3.delete_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(aws_sdk_s3::Error::from)
        .with_context(|| format!("deleting the redriven s3://{bucket}/{key}"))?;
    Ok(())
}
