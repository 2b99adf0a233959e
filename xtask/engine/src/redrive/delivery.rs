//! Re-delivering a failed batch to its function, as the mapping did: a synchronous invocation
//! with the event the mapping built (the failure record's `payload`). Behind a trait so tests
//! deliver in-process to the real handler (Lambda code does not run on the emulator).

use anyhow::{Context, Result};
use serde_json::Value;
use std::future::Future;

/// How a delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// The function took the whole batch.
    Done,
    /// The function failed, or reported batch item failures; the record stays.
    Failed(String),
}

/// Something that runs a function on an event.
pub trait Delivery: Sync {
    /// Invokes `function_arn` with `event` and says whether the whole batch was processed.
    fn deliver(&self, function_arn: &str, event: &Value) -> impl Future<Output = Result<Delivered>> + Send;
}

/// Reads a stream handler's answer: `batchItemFailures` present and not empty means part of the
/// batch failed (Lambda developer guide, "Reporting batch item failures": an empty or null list,
/// or an empty response, is full success).
pub fn outcome(response: &[u8]) -> Delivered {
    let Ok(answer) = serde_json::from_slice::<Value>(response) else { return Delivered::Done };
    match answer["batchItemFailures"].as_array() {
        Some(failures) if !failures.is_empty() => {
            let first = failures[0]["itemIdentifier"].as_str().unwrap_or("");
            Delivered::Failed(format!("the function reported {} batch item failure(s), from {first}", failures.len()))
        }
        _ => Delivered::Done,
    }
}

/// Delivery through Lambda's `Invoke` (`RequestResponse`).
#[derive(Debug, Clone)]
pub struct LambdaDelivery {
    lambda: aws_sdk_lambda::Client,
}

impl LambdaDelivery {
    /// Invokes through `lambda` (the region's client).
    pub fn new(lambda: aws_sdk_lambda::Client) -> Self {
        LambdaDelivery { lambda }
    }
}

impl Delivery for LambdaDelivery {
    async fn deliver(&self, function_arn: &str, event: &Value) -> Result<Delivered> {
        let answer = self
            .lambda
            .invoke()
            .function_name(function_arn)
            .payload(aws_sdk_lambda::primitives::Blob::new(event.to_string()))
            .send()
            .await
            .map_err(aws_sdk_lambda::Error::from)
            .with_context(|| format!("invoking {function_arn}"))?;
        let body = answer.payload().map(|p| p.as_ref().to_vec()).unwrap_or_default();
        if let Some(error) = answer.function_error() {
            let detail = String::from_utf8_lossy(&body);
            return Ok(Delivered::Failed(format!("the function failed ({error}): {detail}")));
        }
        Ok(outcome(&body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_or_missing_failure_list_is_success_and_any_failure_is_not() {
        assert_eq!(outcome(b"{}"), Delivered::Done);
        assert_eq!(outcome(b"null"), Delivered::Done);
        assert_eq!(outcome(br#"{"batchItemFailures":[]}"#), Delivered::Done);
        let failed = outcome(br#"{"batchItemFailures":[{"itemIdentifier":"42"}]}"#);
        assert!(matches!(failed, Delivered::Failed(ref why) if why.contains("from 42")), "{failed:?}");
    }
}
