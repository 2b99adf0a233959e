//! How far a region's events were taken over: one item per lost region, `takeover#<region>`
//! (`contract::idempotency`) in the global idempotency table, so every surviving region (and
//! `status`) sees it. It holds the `RecordedAt` a run resumes from, the region that took over and
//! the events it published. It only moves forwards (conditional write), so two runs cannot undo
//! each other's progress.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::DomainError;
use domain::contract::idempotency::{KEY, PUBLISHED, TAKEN_OVER_BY, UPDATED_AT, WATERMARK, takeover_key};
use domain::idempotency::is_conditional_failure;
use domain::item::AttributeMap;
use serde::Serialize;

/// A takeover's recorded progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Position {
    /// Events recorded before this time are on a stream (events at it may not be).
    pub up_to: String,
    /// The region that took over.
    pub by: String,
    /// Events published by takeover runs so far.
    pub published: u64,
    /// When it was written (RFC 3339).
    pub updated_at: String,
}

/// The takeover position of one lost region, in the idempotency table.
#[derive(Debug, Clone)]
pub struct PositionTable {
    client: Client,
    table: String,
    key: String,
}

impl PositionTable {
    /// The position of the takeover of `origin`'s events, in the idempotency table `table`.
    pub fn new(client: Client, table: impl Into<String>, origin: &str) -> Self {
        PositionTable { client, table: table.into(), key: takeover_key(origin) }
    }

    /// The recorded position, if a takeover ran.
    pub async fn load(&self) -> Result<Option<Position>, DomainError> {
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
            Some(Position {
                up_to: item.string(WATERMARK)?.to_owned(),
                by: item.string(TAKEN_OVER_BY).unwrap_or_default().to_owned(),
                published: item.number(PUBLISHED).and_then(|n| n.parse().ok()).unwrap_or_default(),
                updated_at: item.string(UPDATED_AT).unwrap_or_default().to_owned(),
            })
        }))
    }

    /// Records that `by` published `published` more events and everything before `up_to` is
    /// done; `Ok(false)` when the stored position is already later (it never moves back).
    pub async fn advance(&self, up_to: &str, by: &str, published: u64, now: &str) -> Result<bool, DomainError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(self.key.clone()))
            .update_expression("SET #mark = :at, #by = :by, #updated = :now ADD #published :published")
            .condition_expression("attribute_not_exists(#mark) OR #mark <= :at")
            .expression_attribute_names("#mark", WATERMARK)
            .expression_attribute_names("#by", TAKEN_OVER_BY)
            .expression_attribute_names("#updated", UPDATED_AT)
            .expression_attribute_names("#published", PUBLISHED)
            .expression_attribute_values(":at", AttributeValue::S(up_to.to_owned()))
            .expression_attribute_values(":by", AttributeValue::S(by.to_owned()))
            .expression_attribute_values(":now", AttributeValue::S(now.to_owned()))
            .expression_attribute_values(":published", AttributeValue::N(published.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(DomainError::from_sdk("UpdateItem", &e)),
        }
    }
}
