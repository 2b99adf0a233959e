//! `FilterCriteria` as Lambda evaluates it for stream sources (developer guide, "Lambda event
//! filtering", <https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html>):
//! up to five patterns, ORed; within a pattern every field must match (AND) and each field's
//! list is ORed; the rule syntax is EventBridge's, matched here by the `quamina` crate (a port of
//! the EventBridge-style matcher). The stream-specific rules (same guide, "Properly filtering
//! Kinesis and DynamoDB messages"; "Using event filtering with a Kinesis event source"):
//!
//! - DynamoDB: patterns match the record as delivered (`eventName`, `dynamodb.NewImage...`).
//! - Kinesis: `data` is matched as the JSON the base64 payload decodes to. A record whose data
//!   is not JSON is dropped by any pattern on `data`, and only patterns on metadata (here the
//!   Kinesis record fields, e.g. `partitionKey`) are evaluated for it.
//! - Records no pattern matches are dropped and checkpointed, never delivered.

use quamina::Quamina;
use serde_json::Value;

/// Lambda's default quota of filters per mapping (it can be raised to 10).
pub const MAX_FILTERS: usize = 10;

/// A pattern Lambda would reject when the mapping is created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("filter pattern {pattern}: {reason}")]
pub struct FilterError {
    /// The pattern as given.
    pub pattern: String,
    /// Why it is rejected.
    pub reason: String,
}

/// A mapping's compiled filters.
pub struct Filters {
    /// Every pattern (ORed).
    all: Option<Quamina<usize>>,
    /// Patterns that do not touch the data key (for records whose data is not JSON).
    metadata_only: Option<Quamina<usize>>,
}

impl std::fmt::Debug for Filters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filters").field("active", &self.all.is_some()).finish()
    }
}

impl Filters {
    /// Compiles `patterns`; `data_key` is the source's data property (`data` for Kinesis,
    /// `dynamodb` for DynamoDB). No patterns: every record passes.
    pub fn new(patterns: &[String], data_key: &str) -> Result<Filters, FilterError> {
        if patterns.len() > MAX_FILTERS {
            let reason = format!("{} filters; Lambda allows at most {MAX_FILTERS}", patterns.len());
            return Err(FilterError { pattern: patterns.join(" | "), reason });
        }
        if patterns.is_empty() {
            return Ok(Filters { all: None, metadata_only: None });
        }
        let mut all = Quamina::new();
        let mut metadata_only = Quamina::new();
        let mut any_metadata_only = false;
        for (index, pattern) in patterns.iter().enumerate() {
            let reject = |reason: String| FilterError { pattern: pattern.clone(), reason };
            let parsed: Value = serde_json::from_str(pattern).map_err(|e| reject(format!("not JSON: {e}")))?;
            if !parsed.is_object() {
                return Err(reject("a pattern is a JSON object".into()));
            }
            all.add_pattern(index, pattern).map_err(|e| reject(format!("{e:?}")))?;
            if parsed.get(data_key).is_none() {
                metadata_only.add_pattern(index, pattern).map_err(|e| reject(format!("{e:?}")))?;
                any_metadata_only = true;
            }
        }
        Ok(Filters { all: Some(all), metadata_only: any_metadata_only.then_some(metadata_only) })
    }

    /// Whether a record whose filterable form is `document` is delivered; `data_is_json` is
    /// false for a Kinesis record whose data does not parse as JSON.
    pub fn admits(&self, document: &Value, data_is_json: bool) -> bool {
        let Some(all) = &self.all else { return true };
        let matcher = if data_is_json { Some(all) } else { self.metadata_only.as_ref() };
        let Some(matcher) = matcher else { return false };
        let event = document.to_string();
        matcher.matches_for_event(event.as_bytes()).is_ok_and(|matched| !matched.is_empty())
    }
}
