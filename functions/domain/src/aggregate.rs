//! What an event-sourced aggregate is to the kit: a type name, commands that decide events,
//! events that evolve state, and a fold from the event log with gap detection.

use crate::error::DomainError;
use crate::item::EventItem;
use serde::Serialize;

/// An event body: how it is named, versioned and stored as JSON text.
pub trait EventBody: Sized {
    /// `TaskCreated`, ...: the `EventType` attribute and the envelope's `type`.
    fn event_type(&self) -> &'static str;
    /// Schema version of the payload.
    fn event_version(&self) -> u32 {
        1
    }
    /// The payload as JSON text (the `Payload` attribute).
    fn payload_json(&self) -> String;
    /// Reads an event back; an unknown type or version, or a payload of the wrong shape, is
    /// [`DomainError::Malformed`].
    fn from_parts(event_type: &str, version: u32, payload: &str) -> Result<Self, DomainError>;
}

/// Where and when an event happened, for state that tracks it (timestamps).
#[derive(Debug, Clone, Copy)]
pub struct EventMeta<'a> {
    /// 1, 2, 3 ... per aggregate.
    pub sequence: u64,
    /// RFC 3339 UTC with milliseconds.
    pub recorded_at: &'a str,
}

/// An aggregate: decides events from commands and evolves by applying events.
pub trait Aggregate: Default {
    /// The type part of `AggregateTypeAndId` (`Task`).
    const TYPE: &'static str;
    /// Commands; serialized to fingerprint a CommandId's command.
    type Command: Serialize;
    /// Events.
    type Event: EventBody;

    /// Whether any event has been applied (a created aggregate).
    fn exists(&self) -> bool;
    /// Checks the invariants and returns the events the command causes.
    fn decide(&self, command: &Self::Command) -> Result<Vec<Self::Event>, DomainError>;
    /// Evolves the state; never fails, since events are facts.
    fn apply(&mut self, event: &Self::Event, meta: EventMeta<'_>);
}

/// State rebuilt from events, with the version (last sequence) it reflects.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Folded<A> {
    /// The state.
    pub state: A,
    /// The last applied sequence; 0 for an aggregate with no events.
    pub version: u64,
}

impl<A: Aggregate> Folded<A> {
    /// Applies `item` if it is the next event. Returns `Ok(false)` for an event at or below the
    /// current version (a duplicate), and an error for a gap or an unreadable event.
    pub fn apply_item(
        &mut self,
        event_type: &str,
        event_version: u32,
        payload: &str,
        meta: EventMeta<'_>,
    ) -> Result<bool, ApplyError> {
        if meta.sequence <= self.version {
            return Ok(false);
        }
        if meta.sequence != self.version + 1 {
            return Err(ApplyError::Gap { have: self.version, got: meta.sequence });
        }
        let event = A::Event::from_parts(event_type, event_version, payload).map_err(ApplyError::Malformed)?;
        self.state.apply(&event, meta);
        self.version = meta.sequence;
        Ok(true)
    }
}

/// Why an event could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// Events between `have` and `got` are missing: retry later, they are on their way.
    #[error("gap: state is at version {have}, event has sequence {got}")]
    Gap {
        /// The current version.
        have: u64,
        /// The event's sequence.
        got: u64,
    },
    /// The event cannot be read (unknown type, wrong schema): a poison record.
    #[error(transparent)]
    Malformed(DomainError),
}

/// Rebuilds an aggregate from its event-log items in sequence order. An unreadable event is
/// [`DomainError::Malformed`]; a missing sequence is [`DomainError::Replicating`]: a replica
/// applies replicated items one by one, so a later event can be there before an earlier one.
pub fn fold<A: Aggregate>(items: &[EventItem]) -> Result<Folded<A>, DomainError> {
    let mut folded = Folded::<A>::default();
    for item in items {
        let meta = EventMeta { sequence: item.sequence, recorded_at: &item.recorded_at };
        folded.apply_item(&item.event_type, item.event_version, &item.payload, meta).map_err(|e| match e {
            ApplyError::Malformed(e) => e,
            ApplyError::Gap { have, .. } => {
                DomainError::Replicating { aggregate: item.aggregate_key.clone(), have, want: have + 1 }
            }
        })?;
    }
    Ok(folded)
}
