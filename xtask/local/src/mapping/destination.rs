//! What a stream mapping sends to its on-failure destination when it discards a batch, and
//! sending it (developer guide, "Retain discarded records for a DynamoDB event source in Lambda"
//! and "Retain discarded batch records for a Kinesis Data Streams event source in Lambda"):
//!
//! - every destination gets a JSON document: `requestContext` (`requestId`, `functionArn`,
//!   `condition`, `approximateInvokeCount`), `responseContext` (`statusCode`,
//!   `executedVersion`, `functionError`), `version` `1.0`, `timestamp`, and `DDBStreamBatchInfo`
//!   or `KinesisBatchInfo` (`shardId`, `startSequenceNumber`, `endSequenceNumber`,
//!   `approximateArrivalOfFirstRecord`, `approximateArrivalOfLastRecord`, `batchSize`,
//!   `streamArn`); SQS gets it as the message body, SNS as the message;
//! - an S3 bucket also gets the whole invocation record (`payload`: the event the function was
//!   given), as object `aws/lambda/<mapping UUID>/<shard ID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<UUID>`.
//!
//! The record is what a redrive reads: the shard and sequence range, the stream ARN, and for S3
//! the records themselves.

use super::payload::{self, Delivery};
use crate::clients::Clients;
use crate::streams::{StreamKind, arn_parts};
use serde_json::{Value, json};
use std::time::SystemTime;
use time::OffsetDateTime;
use time::macros::format_description;

/// Why a batch was discarded (`requestContext.condition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// `MaximumRetryAttempts` reached.
    RetryAttemptsExhausted,
    /// A record older than `MaximumRecordAgeInSeconds`.
    RecordAgeExceeded,
}

impl Condition {
    /// The value Lambda writes.
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::RetryAttemptsExhausted => "RetryAttemptsExhausted",
            Condition::RecordAgeExceeded => "RecordAgeExceeded",
        }
    }
}

/// A discarded batch and what happened to it.
#[derive(Debug, Clone)]
pub struct Discarded<'a> {
    /// The mapping's function ARN.
    pub function_arn: &'a str,
    /// The stream ARN.
    pub stream_arn: &'a str,
    /// DynamoDB or Kinesis.
    pub kind: StreamKind,
    /// The shard.
    pub shard_id: &'a str,
    /// The records, in order (never empty).
    pub batch: &'a [Delivery],
    /// Why.
    pub condition: Condition,
    /// Invocations of this batch (0 when it aged out before any).
    pub invoke_count: u32,
    /// The last invocation's request id.
    pub request_id: Option<String>,
    /// Whether the last invocation ended in a function error.
    pub function_error: bool,
}

/// The JSON document Lambda sends for `discarded` at `now`; with `payload`, the S3 form.
pub fn failure_record(discarded: &Discarded<'_>, now: SystemTime, with_payload: bool) -> Value {
    let (Some(first), Some(last)) = (discarded.batch.first(), discarded.batch.last()) else { return Value::Null };
    let arrival = |at: SystemTime| match discarded.kind {
        // DynamoDB's creation times are whole seconds; Kinesis arrivals carry milliseconds.
        StreamKind::DynamoDb => rfc3339(at, false),
        StreamKind::Kinesis => rfc3339(at, true),
    };
    let info_key = match discarded.kind {
        StreamKind::DynamoDb => "DDBStreamBatchInfo",
        StreamKind::Kinesis => "KinesisBatchInfo",
    };
    let mut response_context = json!({"statusCode": 200, "executedVersion": "$LATEST"});
    if discarded.function_error {
        response_context["functionError"] = json!("Unhandled");
    }
    if discarded.invoke_count == 0 {
        response_context = json!({});
    }
    let mut record = json!({
        "requestContext": {
            "requestId": discarded.request_id.clone().unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
            "functionArn": discarded.function_arn,
            "condition": discarded.condition.as_str(),
            "approximateInvokeCount": discarded.invoke_count,
        },
        "responseContext": response_context,
        "version": "1.0",
        "timestamp": rfc3339(now, true),
        info_key: {
            "shardId": discarded.shard_id,
            "startSequenceNumber": first.sequence_number,
            "endSequenceNumber": last.sequence_number,
            "approximateArrivalOfFirstRecord": arrival(first.arrival),
            "approximateArrivalOfLastRecord": arrival(last.arrival),
            "batchSize": discarded.batch.len(),
            "streamArn": discarded.stream_arn,
        },
    });
    if with_payload {
        record["payload"] = payload::event(discarded.batch);
    }
    record
}

/// `2019-11-14T00:38:06.021Z` (or without the fraction).
pub fn rfc3339(at: SystemTime, millis: bool) -> String {
    let at = OffsetDateTime::from(at);
    let formatted = if millis {
        at.format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"))
    } else {
        at.format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"))
    };
    formatted.unwrap_or_default()
}

/// The S3 object key of a discarded batch.
pub fn s3_key(mapping_uuid: &str, shard_id: &str, now: SystemTime) -> String {
    let at = OffsetDateTime::from(now);
    let day = at.format(format_description!("[year]/[month]/[day]")).unwrap_or_default();
    let stamp = at.format(format_description!("[year]-[month]-[day]T[hour].[minute].[second]")).unwrap_or_default();
    format!("aws/lambda/{mapping_uuid}/{shard_id}/{day}/{stamp}-{}", uuid::Uuid::now_v7())
}

/// The destination could not take the record.
#[derive(Debug, Clone, thiserror::Error)]
#[error("on-failure destination {destination}: {message}")]
pub struct DestinationError {
    /// The destination ARN.
    pub destination: String,
    /// What went wrong.
    pub message: String,
}

/// Sends the record of `discarded` to `destination` (an SQS queue, SNS topic or S3 bucket ARN).
pub async fn send(
    clients: &Clients,
    destination: &str,
    mapping_uuid: &str,
    discarded: &Discarded<'_>,
) -> Result<(), DestinationError> {
    let fail = |message: String| DestinationError { destination: destination.to_owned(), message };
    let (service, region, resource) = arn_parts(destination).ok_or_else(|| fail("not an ARN".into()))?;
    let now = SystemTime::now();
    match service {
        "sqs" => {
            let sqs = clients.sqs(region);
            let account = destination.split(':').nth(4).unwrap_or_default();
            let url = sqs
                .get_queue_url()
                .queue_name(resource)
                .queue_owner_aws_account_id(account)
                .send()
                .await
                .map_err(|e| fail(aws_sdk_sqs::error::DisplayErrorContext(&e).to_string()))?
                .queue_url
                .ok_or_else(|| fail("GetQueueUrl returned no URL".into()))?;
            let body = failure_record(discarded, now, false).to_string();
            sqs.send_message()
                .queue_url(url)
                .message_body(body)
                .send()
                .await
                .map_err(|e| fail(aws_sdk_sqs::error::DisplayErrorContext(&e).to_string()))?;
        }
        "sns" => {
            let message = failure_record(discarded, now, false).to_string();
            clients
                .sns(region)
                .publish()
                .topic_arn(destination)
                .message(message)
                .send()
                .await
                .map_err(|e| fail(aws_sdk_sns::error::DisplayErrorContext(&e).to_string()))?;
        }
        "s3" => {
            // Bucket ARNs carry no region; the bucket is written from the mapping's region.
            let (_, stream_region, _) = arn_parts(discarded.stream_arn).unwrap_or(("", "us-east-1", ""));
            let body = failure_record(discarded, now, true).to_string();
            clients
                .s3(stream_region)
                .put_object()
                .bucket(resource)
                .key(s3_key(mapping_uuid, discarded.shard_id, now))
                .content_type("application/json")
                .body(body.into_bytes().into())
                .send()
                .await
                .map_err(|e| fail(aws_sdk_s3::error::DisplayErrorContext(&e).to_string()))?;
        }
        other => return Err(fail(format!("{other} is not a stream mapping destination (SQS, SNS or S3)"))),
    }
    Ok(())
}
