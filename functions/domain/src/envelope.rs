//! The domain event as published on Kinesis (DESIGN.md "Domain event on Kinesis"): built from an
//! event-log item by the publisher, parsed and validated by the projectors.

use crate::error::DomainError;
use crate::item::EventItem;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The envelope as the projectors read it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DomainEvent {
    /// Event id (UUIDv7).
    pub id: String,
    /// `TaskCreated`, ...
    #[serde(rename = "type")]
    pub event_type: String,
    /// Payload schema version.
    pub version: u32,
    /// `Task`.
    pub aggregate_type: String,
    /// The aggregate's id.
    pub aggregate_id: String,
    /// 1, 2, 3 ... per aggregate.
    pub sequence: u64,
    /// Region where the event was recorded.
    pub origin_region: String,
    /// RFC 3339 UTC with milliseconds.
    pub recorded_at: String,
    /// Region whose publisher put it on the stream (differs from origin after a takeover).
    pub published_by: String,
    /// True when re-sent by `cargo xtask replay`; consumers opt in.
    #[serde(default)]
    pub replay: bool,
    /// The consumers a replay is meant for (`contract::consumers`); absent or empty: all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consumers: Vec<String>,
    /// The event body, kept as JSON text.
    pub payload: Box<RawValue>,
}

/// The envelope as the publisher writes it: borrows everything from the stored item so building
/// it costs no copies of the payload.
#[derive(Debug, Serialize)]
pub struct DomainEventRef<'a> {
    /// See [`DomainEvent::id`].
    pub id: &'a str,
    /// See [`DomainEvent::event_type`].
    #[serde(rename = "type")]
    pub event_type: &'a str,
    /// See [`DomainEvent::version`].
    pub version: u32,
    /// See [`DomainEvent::aggregate_type`].
    pub aggregate_type: &'a str,
    /// See [`DomainEvent::aggregate_id`].
    pub aggregate_id: &'a str,
    /// See [`DomainEvent::sequence`].
    pub sequence: u64,
    /// See [`DomainEvent::origin_region`].
    pub origin_region: &'a str,
    /// See [`DomainEvent::recorded_at`].
    pub recorded_at: &'a str,
    /// See [`DomainEvent::published_by`].
    pub published_by: &'a str,
    /// See [`DomainEvent::replay`].
    pub replay: bool,
    /// See [`DomainEvent::consumers`].
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub consumers: &'a [String],
    /// See [`DomainEvent::payload`].
    pub payload: &'a RawValue,
}

impl<'a> DomainEventRef<'a> {
    /// The envelope of `item`, published by `publisher_region`. Fails when the stored payload is
    /// not JSON or the key is not `<type>#<id>`.
    pub fn from_item(item: &'a EventItem, publisher_region: &'a str, replay: bool) -> Result<Self, DomainError> {
        let (aggregate_type, aggregate_id) = item.aggregate()?;
        let payload: &RawValue = serde_json::from_str(&item.payload)
            .map_err(|e| DomainError::malformed("event log item", format!("Payload is not JSON: {e}")))?;
        Ok(DomainEventRef {
            id: &item.event_id,
            event_type: &item.event_type,
            version: item.event_version,
            aggregate_type,
            aggregate_id,
            sequence: item.sequence,
            origin_region: &item.origin_region,
            recorded_at: &item.recorded_at,
            published_by: publisher_region,
            replay,
            consumers: &[],
            payload,
        })
    }

    /// The same envelope, meant for `consumers` only (a targeted replay).
    pub fn for_consumers(self, consumers: &'a [String]) -> Self {
        DomainEventRef { consumers, ..self }
    }

    /// The JSON bytes put on the stream.
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing plain strings, integers and already-valid raw JSON cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

impl DomainEvent {
    /// Parses and validates a record's data. Anything that is not a well-formed envelope is
    /// [`DomainError::Malformed`]: a poison record, never worth retrying.
    pub fn parse(data: &[u8]) -> Result<Self, DomainError> {
        let event: DomainEvent =
            serde_json::from_slice(data).map_err(|e| DomainError::malformed("domain event", e.to_string()))?;
        event.validate()?;
        Ok(event)
    }

    fn validate(&self) -> Result<(), DomainError> {
        let bad = |message: String| Err(DomainError::malformed("domain event", message));
        if self.sequence == 0 {
            return bad("sequence starts at 1".into());
        }
        for (name, value) in [
            ("id", &self.id),
            ("type", &self.event_type),
            ("aggregate_type", &self.aggregate_type),
            ("aggregate_id", &self.aggregate_id),
            ("origin_region", &self.origin_region),
            ("published_by", &self.published_by),
        ] {
            if !is_safe_segment(value) {
                return bad(format!("{name} {value:?} must be 1-128 characters of A-Z a-z 0-9 . _ -"));
            }
        }
        if let Some(consumer) = self.consumers.iter().find(|c| !is_safe_segment(c)) {
            return bad(format!("consumer {consumer:?} must be 1-128 characters of A-Z a-z 0-9 . _ -"));
        }
        if time::OffsetDateTime::parse(&self.recorded_at, &time::format_description::well_known::Rfc3339).is_err() {
            return bad(format!("recorded_at {:?} is not RFC 3339", self.recorded_at));
        }
        Ok(())
    }

    /// Whether `consumer` acts on this event: always on a published event; on a replay only when
    /// the replay names no consumer or names this one. The one rule every projector applies.
    pub fn is_for(&self, consumer: &str) -> bool {
        !self.replay || self.consumers.is_empty() || self.consumers.iter().any(|c| c == consumer)
    }

    /// The aggregate's key in the event log and the read models: `Task#<id>`.
    pub fn aggregate_key(&self) -> String {
        crate::item::aggregate_key(&self.aggregate_type, &self.aggregate_id)
    }
}

/// Whether `value` can be used as an S3 key segment and a DynamoDB key part as is.
pub fn is_safe_segment(value: &str) -> bool {
    (1..=128).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn item() -> EventItem {
        EventItem {
            aggregate_key: "Task#t-1".into(),
            sequence: 2,
            event_id: "0191b2c3-0000-7000-8000-000000000002".into(),
            event_type: "TaskRenamed".into(),
            event_version: 1,
            payload: r#"{"title":"Buy \"oat\" milk"}"#.into(),
            origin_region: "us-east-1".into(),
            recorded_at: "2026-01-02T03:04:05.678Z".into(),
            command_id: "c".into(),
        }
    }

    #[test]
    fn the_published_envelope_parses_back_with_the_payload_verbatim() {
        let item = item();
        let json = DomainEventRef::from_item(&item, "eu-west-1", false).unwrap().to_json();
        let event = DomainEvent::parse(&json).unwrap();
        assert_eq!(event.aggregate_type, "Task");
        assert_eq!(event.aggregate_id, "t-1");
        assert_eq!(event.sequence, 2);
        assert_eq!(event.published_by, "eu-west-1");
        assert_eq!(event.origin_region, "us-east-1");
        assert_eq!(event.payload.get(), item.payload);
        assert_eq!(event.aggregate_key(), "Task#t-1");
    }

    #[test]
    fn a_targeted_replay_carries_its_consumers_and_an_ordinary_event_none() {
        let item = item();
        let plain = DomainEventRef::from_item(&item, "us-east-1", false).unwrap().to_json();
        assert!(!String::from_utf8_lossy(&plain).contains("consumers"), "absent means every consumer");
        let consumers = ["audit".to_owned()];
        let json = DomainEventRef::from_item(&item, "us-east-1", true).unwrap().for_consumers(&consumers).to_json();
        let event = DomainEvent::parse(&json).unwrap();
        assert!(event.replay);
        assert_eq!(event.consumers, ["audit"]);
    }

    #[test]
    fn a_replay_is_for_the_consumers_it_names_and_an_ordinary_event_for_all() {
        let item = item();
        let parse = |replay: bool, consumers: &[String]| {
            let json =
                DomainEventRef::from_item(&item, "us-east-1", replay).unwrap().for_consumers(consumers).to_json();
            DomainEvent::parse(&json).unwrap()
        };
        let audit = ["audit".to_owned()];
        assert!(parse(false, &[]).is_for("view"));
        assert!(parse(false, &audit).is_for("view"), "a published event is always handled");
        assert!(parse(true, &[]).is_for("view"), "a replay naming no consumer is for all");
        assert!(parse(true, &audit).is_for("audit"));
        assert!(!parse(true, &audit).is_for("view"));
    }

    #[test]
    fn poison_data_is_malformed() {
        for data in [
            &b"not json"[..],
            br#"{"id":"x"}"#,
            br#"{"id":"x","type":"T","version":1,"aggregate_type":"Task","aggregate_id":"../etc","sequence":1,"origin_region":"r","recorded_at":"2026-01-02T03:04:05.678Z","published_by":"r","payload":{}}"#,
            br#"{"id":"x","type":"T","version":1,"aggregate_type":"Task","aggregate_id":"a","sequence":0,"origin_region":"r","recorded_at":"2026-01-02T03:04:05.678Z","published_by":"r","payload":{}}"#,
            br#"{"id":"x","type":"T","version":1,"aggregate_type":"Task","aggregate_id":"a","sequence":1,"origin_region":"r","recorded_at":"yesterday","published_by":"r","payload":{}}"#,
        ] {
            let error = DomainEvent::parse(data).unwrap_err();
            assert!(matches!(error, DomainError::Malformed { .. }), "{error}");
        }
    }

    #[test]
    fn a_stored_payload_that_is_not_json_cannot_be_published() {
        let mut item = item();
        item.payload = "{oops".into();
        assert!(DomainEventRef::from_item(&item, "us-east-1", false).is_err());
    }
}
