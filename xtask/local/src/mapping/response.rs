//! A function's answer to a stream batch under `ReportBatchItemFailures` (developer guide,
//! "Using AWS Lambda with Amazon Kinesis", "Reporting batch item failures", success and failure
//! conditions; the DynamoDB guide states the same):
//!
//! - complete success: an empty or null `batchItemFailures` list, an empty or null response;
//! - complete failure: an `itemIdentifier` that is empty, null, or not a sequence number of the
//!   batch ("an itemIdentifier with a bad key name");
//! - otherwise Lambda checkpoints before the lowest reported sequence number and retries from it.

use serde_json::Value;

/// How a batch ended, as the mapping acts on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchResult {
    /// Every record is done.
    Success,
    /// Records before index `first_failed` are done; retry from there.
    Partial {
        /// Index (in the batch) of the lowest sequence number reported.
        first_failed: usize,
    },
    /// The whole batch failed (the function's response said so, or it could not be read).
    Failure,
}

/// Reads `response` (the function's JSON) for a batch whose sequence numbers are `sequences`,
/// in order.
pub fn batch_result(response: &[u8], sequences: &[&str]) -> BatchResult {
    if response.iter().all(u8::is_ascii_whitespace) {
        return BatchResult::Success;
    }
    let Ok(value) = serde_json::from_slice::<Value>(response) else { return BatchResult::Success };
    let failures = match value.get("batchItemFailures") {
        None | Some(Value::Null) => return BatchResult::Success,
        Some(Value::Array(failures)) => failures,
        Some(_) => return BatchResult::Failure,
    };
    let mut lowest: Option<usize> = None;
    for failure in failures {
        let identifier = failure.get("itemIdentifier").and_then(Value::as_str).unwrap_or("");
        let Some(index) = sequences.iter().position(|s| *s == identifier).filter(|_| !identifier.is_empty()) else {
            return BatchResult::Failure;
        };
        lowest = Some(lowest.map_or(index, |l| l.min(index)));
    }
    match lowest {
        None => BatchResult::Success,
        Some(first_failed) => BatchResult::Partial { first_failed },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BATCH: [&str; 3] = ["100", "200", "300"];

    #[test]
    fn empty_and_null_answers_are_a_complete_success() {
        for answer in ["", "null", "{}", r#"{"batchItemFailures": []}"#, r#"{"batchItemFailures": null}"#] {
            assert_eq!(batch_result(answer.as_bytes(), &BATCH), BatchResult::Success, "{answer}");
        }
    }

    #[test]
    fn empty_null_or_unknown_identifiers_fail_the_whole_batch() {
        for answer in [
            r#"{"batchItemFailures": [{"itemIdentifier": ""}]}"#,
            r#"{"batchItemFailures": [{"itemIdentifier": null}]}"#,
            r#"{"batchItemFailures": [{}]}"#,
            r#"{"batchItemFailures": [{"itemIdentifier": "999"}]}"#,
            r#"{"batchItemFailures": "200"}"#,
        ] {
            assert_eq!(batch_result(answer.as_bytes(), &BATCH), BatchResult::Failure, "{answer}");
        }
    }

    #[test]
    fn the_lowest_reported_sequence_number_is_where_the_retry_starts() {
        let answer = r#"{"batchItemFailures": [{"itemIdentifier": "300"}, {"itemIdentifier": "200"}]}"#;
        assert_eq!(batch_result(answer.as_bytes(), &BATCH), BatchResult::Partial { first_failed: 1 });
    }

    #[test]
    fn answers_parse_as_the_aws_lambda_events_response_types() {
        let answer = r#"{"batchItemFailures": [{"itemIdentifier": "200"}]}"#;
        let typed: aws_lambda_events::streams::DynamoDbEventResponse = serde_json::from_str(answer).expect("typed");
        assert_eq!(typed.batch_item_failures[0].item_identifier.as_deref(), Some("200"));
        assert_eq!(batch_result(answer.as_bytes(), &BATCH), BatchResult::Partial { first_failed: 1 });
    }
}
