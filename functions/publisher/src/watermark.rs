//! The publisher's watermark: the `RecordedAt` of the latest event of this region that it put on
//! the stream with every earlier event of its batch stored. A takeover starts there (less a
//! safety margin) when the region is lost, so the watermark must never claim an event that is not
//! on the stream:
//!
//! - it is computed from what PutRecords stored, below the earliest event of the batch that was
//!   not done (`Stats::watermark`), and written only after the PutRecords calls returned;
//! - it only moves forwards: one conditional UpdateItem per invocation (`Watermark < :at`), so
//!   concurrent invocations on other stream shards, or a retried batch, cannot move it back;
//! - it lives in the (global) idempotency table under `publisher#<region>#watermark`
//!   (`contract::idempotency`), inside the key prefix the publisher's role may write, and is
//!   replicated to the regions that may have to take over.
//!
//! A failed write only leaves the watermark behind: a takeover then republishes more events than
//! needed (duplicates are allowed), never fewer.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::DomainError;
use domain::contract::idempotency::{KEY, UPDATED_AT, WATERMARK, publisher_watermark_key};
use domain::idempotency::is_conditional_failure;
use domain::item::AttributeMap;

/// A region's publisher watermark as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watermark {
    /// `RecordedAt` of the latest event published with every earlier one of its batch.
    pub recorded_at: String,
    /// When it was written (RFC 3339).
    pub updated_at: String,
}

/// The watermark of one region's publisher in the idempotency table.
#[derive(Debug, Clone)]
pub struct WatermarkTable {
    client: Client,
    table: String,
    key: String,
}

impl WatermarkTable {
    /// The watermark of `region`'s publisher in the idempotency table `table`.
    pub fn new(client: Client, table: impl Into<String>, region: &str) -> Self {
        WatermarkTable { client, table: table.into(), key: publisher_watermark_key(region) }
    }

    /// Moves the watermark to `recorded_at` if it is later than the stored one; `Ok(false)` when
    /// the stored one is already there or later (it never moves back).
    pub async fn advance(&self, recorded_at: &str, now: &str) -> Result<bool, DomainError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(self.key.clone()))
            .update_expression("SET #mark = :at, #updated = :now")
            .condition_expression("attribute_not_exists(#mark) OR #mark < :at")
            .expression_attribute_names("#mark", WATERMARK)
            .expression_attribute_names("#updated", UPDATED_AT)
            .expression_attribute_values(":at", AttributeValue::S(recorded_at.to_owned()))
            .expression_attribute_values(":now", AttributeValue::S(now.to_owned()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(DomainError::from_sdk("UpdateItem", &e)),
        }
    }

    /// The stored watermark; `None` when the publisher has published nothing yet. Read
    /// consistently from this region's replica (the latest write of a lost region may not have
    /// replicated yet: an older watermark only means more duplicates).
    pub async fn load(&self) -> Result<Option<Watermark>, DomainError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .consistent_read(true)
            .key(KEY, AttributeValue::S(self.key.clone()))
            .send()
            .await
            .map_err(|e| DomainError::from_sdk("GetItem", &e))?;
        Ok(output.item.and_then(|item| {
            Some(Watermark {
                recorded_at: item.string(WATERMARK)?.to_owned(),
                updated_at: item.string(UPDATED_AT).unwrap_or_default().to_owned(),
            })
        }))
    }
}

/// The watermark a batch allows: the latest `RecordedAt` among the events stored, counting only
/// those recorded before the earliest event that was not done (failed, or left for retry), so
/// nothing at or before the watermark is missing from the stream. `None` when nothing qualifies.
pub fn allowed<'a>(
    stored: impl IntoIterator<Item = &'a str>,
    not_done: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let earliest_not_done = not_done.into_iter().min();
    stored.into_iter().filter(|at| earliest_not_done.is_none_or(|limit| *at < limit)).max().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watermark_stops_below_the_earliest_event_not_done() {
        let stored = ["2026-01-01T00:00:01.000Z", "2026-01-01T00:00:03.000Z", "2026-01-01T00:00:05.000Z"];
        assert_eq!(allowed(stored, []), Some("2026-01-01T00:00:05.000Z".into()));
        assert_eq!(allowed(stored, ["2026-01-01T00:00:04.000Z"]), Some("2026-01-01T00:00:03.000Z".into()));
        assert_eq!(
            allowed(stored, ["2026-01-01T00:00:03.000Z"]),
            Some("2026-01-01T00:00:01.000Z".into()),
            "an event at the same time as a failed one is not covered"
        );
        assert_eq!(allowed(stored, ["2026-01-01T00:00:00.500Z"]), None);
        assert_eq!(allowed([], []), None);
    }
}
