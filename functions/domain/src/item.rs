//! The event-log item of DESIGN.md and its conversions both ways: to and from the SDK's
//! `AttributeValue` map (PutItem, Query) and to and from a stream record image
//! (`serde_dynamo::Item`, as `aws_lambda_events` delivers DynamoDB stream records).

use crate::error::DomainError;
use aws_sdk_dynamodb::types::AttributeValue as SdkValue;
use serde_dynamo::AttributeValue as StreamValue;
use std::collections::HashMap;

pub use contract::event_log::{
    AGGREGATE_KEY, COMMAND_ID, EVENT_ID, EVENT_TYPE, EVENT_VERSION, ORIGIN_REGION, ORIGIN_SHARD, PAYLOAD, RECORDED_AT,
    SEQUENCE_KEY,
};

/// One immutable event as stored in the event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventItem {
    /// `Task#<id>`.
    pub aggregate_key: String,
    /// 1, 2, 3 ... per aggregate.
    pub sequence: u64,
    /// UUIDv7.
    pub event_id: String,
    /// `TaskCreated`, ...
    pub event_type: String,
    /// Payload schema version.
    pub event_version: u32,
    /// JSON text.
    pub payload: String,
    /// The writing region.
    pub origin_region: String,
    /// RFC 3339 UTC with milliseconds.
    pub recorded_at: String,
    /// The command that produced it.
    pub command_id: String,
}

/// Read access to an attribute map, whichever representation it comes in.
pub trait AttributeMap {
    /// The string value of attribute `name`, if it is an `S`.
    fn string(&self, name: &str) -> Option<&str>;
    /// The text of number attribute `name`, if it is an `N`.
    fn number(&self, name: &str) -> Option<&str>;
}

impl AttributeMap for HashMap<String, SdkValue> {
    fn string(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(SdkValue::S(s)) => Some(s),
            _ => None,
        }
    }
    fn number(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(SdkValue::N(n)) => Some(n),
            _ => None,
        }
    }
}

impl AttributeMap for HashMap<String, StreamValue> {
    fn string(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(StreamValue::S(s)) => Some(s),
            _ => None,
        }
    }
    fn number(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(StreamValue::N(n)) => Some(n),
            _ => None,
        }
    }
}

/// Reads string attribute `name` or says which one is missing.
pub fn required_string<'a>(map: &'a impl AttributeMap, name: &str) -> Result<&'a str, DomainError> {
    map.string(name).ok_or_else(|| DomainError::malformed("event log item", format!("{name} (S) is missing")))
}

/// Reads number attribute `name` as an unsigned integer.
pub fn required_number<T: std::str::FromStr>(map: &impl AttributeMap, name: &str) -> Result<T, DomainError> {
    let text =
        map.number(name).ok_or_else(|| DomainError::malformed("event log item", format!("{name} (N) is missing")))?;
    text.parse()
        .map_err(|_| DomainError::malformed("event log item", format!("{name} is {text}, not an unsigned integer")))
}

impl EventItem {
    /// Reads an item from any attribute map (SDK item or stream image).
    pub fn from_attributes(map: &impl AttributeMap) -> Result<Self, DomainError> {
        let item = EventItem {
            aggregate_key: required_string(map, AGGREGATE_KEY)?.to_owned(),
            sequence: required_number(map, SEQUENCE_KEY)?,
            event_id: required_string(map, EVENT_ID)?.to_owned(),
            event_type: required_string(map, EVENT_TYPE)?.to_owned(),
            event_version: required_number(map, EVENT_VERSION)?,
            payload: required_string(map, PAYLOAD)?.to_owned(),
            origin_region: required_string(map, ORIGIN_REGION)?.to_owned(),
            recorded_at: required_string(map, RECORDED_AT)?.to_owned(),
            command_id: required_string(map, COMMAND_ID)?.to_owned(),
        };
        if item.sequence == 0 {
            return Err(DomainError::malformed("event log item", "AggregateIdSequence starts at 1"));
        }
        Ok(item)
    }

    /// Reads an item returned by Query or GetItem.
    pub fn from_sdk(map: &HashMap<String, SdkValue>) -> Result<Self, DomainError> {
        Self::from_attributes(map)
    }

    /// Reads the NewImage or OldImage of a stream record.
    pub fn from_stream_image(image: &serde_dynamo::Item) -> Result<Self, DomainError> {
        Self::from_attributes(image.inner())
    }

    /// The item as PutItem takes it.
    pub fn to_sdk(&self) -> HashMap<String, SdkValue> {
        self.fields()
            .map(|(name, value)| {
                let value = match value {
                    Field::S(s) => SdkValue::S(s),
                    Field::N(n) => SdkValue::N(n),
                };
                (name.to_owned(), value)
            })
            .collect()
    }

    /// The item as it appears in a stream record image (for fixtures and replays).
    pub fn to_stream_image(&self) -> serde_dynamo::Item {
        let map: HashMap<String, StreamValue> = self
            .fields()
            .map(|(name, value)| {
                let value = match value {
                    Field::S(s) => StreamValue::S(s),
                    Field::N(n) => StreamValue::N(n),
                };
                (name.to_owned(), value)
            })
            .collect();
        serde_dynamo::Item::from(map)
    }

    /// Every attribute with its DynamoDB type, written once for both representations. The
    /// origin shard is derived, so it is written but never read back.
    fn fields(&self) -> impl Iterator<Item = (&'static str, Field)> {
        [
            (AGGREGATE_KEY, Field::S(self.aggregate_key.clone())),
            (SEQUENCE_KEY, Field::N(self.sequence.to_string())),
            (EVENT_ID, Field::S(self.event_id.clone())),
            (EVENT_TYPE, Field::S(self.event_type.clone())),
            (EVENT_VERSION, Field::N(self.event_version.to_string())),
            (PAYLOAD, Field::S(self.payload.clone())),
            (ORIGIN_REGION, Field::S(self.origin_region.clone())),
            (RECORDED_AT, Field::S(self.recorded_at.clone())),
            (COMMAND_ID, Field::S(self.command_id.clone())),
            (ORIGIN_SHARD, Field::S(contract::event_log::origin_shard(&self.origin_region, &self.aggregate_key))),
        ]
        .into_iter()
    }

    /// `(aggregate type, aggregate id)` from `Type#id`.
    pub fn aggregate(&self) -> Result<(&str, &str), DomainError> {
        split_aggregate_key(&self.aggregate_key)
    }
}

enum Field {
    S(String),
    N(String),
}

/// `Task#0191...` → `("Task", "0191...")`; both parts must be non-empty.
pub fn split_aggregate_key(key: &str) -> Result<(&str, &str), DomainError> {
    match key.split_once('#') {
        Some((kind, id)) if !kind.is_empty() && !id.is_empty() => Ok((kind, id)),
        _ => Err(DomainError::malformed("event log item", format!("{AGGREGATE_KEY} {key:?} is not <type>#<id>"))),
    }
}

/// `("Task", "abc")` → `Task#abc`.
pub fn aggregate_key(aggregate_type: &str, id: &str) -> String {
    format!("{aggregate_type}#{id}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sample() -> EventItem {
        EventItem {
            aggregate_key: "Task#0191b2c3".into(),
            sequence: 3,
            event_id: "0191b2c3-0000-7000-8000-000000000003".into(),
            event_type: "TaskRenamed".into(),
            event_version: 1,
            payload: r#"{"title":"Buy milk"}"#.into(),
            origin_region: "eu-west-1".into(),
            recorded_at: "2026-01-02T03:04:05.678Z".into(),
            command_id: "cmd-1".into(),
        }
    }

    #[test]
    fn sdk_and_stream_representations_round_trip() {
        let item = sample();
        assert_eq!(EventItem::from_sdk(&item.to_sdk()).unwrap(), item);
        assert_eq!(EventItem::from_stream_image(&item.to_stream_image()).unwrap(), item);
    }

    #[test]
    fn a_missing_or_mistyped_attribute_is_malformed_and_named() {
        let mut map = sample().to_sdk();
        map.insert(SEQUENCE_KEY.into(), SdkValue::S("3".into()));
        let error = EventItem::from_sdk(&map).unwrap_err();
        assert!(error.to_string().contains(SEQUENCE_KEY), "{error}");
        map.remove(ORIGIN_REGION);
        map.insert(SEQUENCE_KEY.into(), SdkValue::N("3".into()));
        let error = EventItem::from_sdk(&map).unwrap_err();
        assert!(error.to_string().contains(ORIGIN_REGION), "{error}");
        assert!(!error.is_retryable());
    }

    #[test]
    fn sequence_zero_and_bad_keys_are_rejected() {
        let mut item = sample();
        item.sequence = 0;
        assert!(EventItem::from_sdk(&item.to_sdk()).is_err());
        assert!(split_aggregate_key("Task").is_err());
        assert!(split_aggregate_key("#x").is_err());
        assert_eq!(split_aggregate_key("Task#a#b").unwrap(), ("Task", "a#b"));
    }
}
