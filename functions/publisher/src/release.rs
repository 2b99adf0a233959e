//! Releasing a poison hold: what `redrive` calls once the held aggregate's poison event has been
//! dealt with (published after a fix, or given up on). It publishes, in order, this region's
//! events of the aggregate after the poison event, read from the event log (the events the
//! publisher kept back, and any later ones: duplicates are allowed, loss is not), then removes
//! the hold, but only if no event was kept back while it published; otherwise it goes again.
//! An event among them that cannot be published either becomes the new hold, after the ones
//! before it went out.

use crate::handler::envelope;
use crate::sink::{OutgoingRecord, RecordSink};
use crate::waves::{WaveSettings, publish};
use domain::holds::{Hold, HoldStore};
use domain::origin::format_recorded_at;
use domain::store::EventStore;
use domain::{DomainError, Origin};
use rand::rngs::SmallRng;
use tokio::time::Instant;

/// Rounds of publish-then-remove before giving up to a busy stream of new events.
const MAX_ROUNDS: u32 = 5;

/// What a release did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Released {
    /// The hold is gone; `published` events went out (in the last round).
    Lifted {
        /// Events published.
        published: u32,
    },
    /// Event `sequence` cannot be published either: the events before it went out and the
    /// hold now sits on it.
    MovedTo {
        /// The new poison event's sequence.
        sequence: u64,
        /// Events published before it.
        published: u32,
    },
}

/// Why a release did not finish; the hold is still in place and the release can be run again.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// There is no hold on the aggregate.
    #[error("{0} is not held by this region's publisher")]
    NotHeld(String),
    /// Reading the log or the holds, or writing the hold, failed.
    #[error(transparent)]
    Store(#[from] DomainError),
    /// Kinesis did not take every event before the deadline.
    #[error("{unpublished} events of {aggregate} could not be published before the deadline; run the release again")]
    Unpublished {
        /// The aggregate.
        aggregate: String,
        /// Events left.
        unpublished: usize,
    },
    /// New events kept being held back while the release ran.
    #[error("events of {0} kept arriving behind the hold; run the release again")]
    Busy(String),
}

/// The publisher's side of a release: its stream, holds and region, and the log to read.
pub struct Release<'a, K, H> {
    /// The region's Kinesis stream.
    pub sink: &'a K,
    /// The region's holds.
    pub holds: &'a H,
    /// The event log of this region's replica.
    pub log: &'a EventStore,
    /// This region.
    pub origin: &'a Origin,
    /// Call limits and retry timing.
    pub settings: &'a WaveSettings,
}

impl<K: RecordSink, H: HoldStore> Release<'_, K, H> {
    /// Publishes the events held back behind `aggregate_key`'s poison event and lifts its hold.
    pub async fn run(
        &self,
        aggregate_key: &str,
        deadline: Instant,
        rng: &mut SmallRng,
    ) -> Result<Released, ReleaseError> {
        for _ in 0..MAX_ROUNDS {
            let holds = self.holds.load().await?;
            let hold = holds.get(aggregate_key).ok_or_else(|| ReleaseError::NotHeld(aggregate_key.to_owned()))?;
            let (outgoing, next) = self.held_events(hold).await?;
            let report = publish(self.sink, &outgoing, self.settings, deadline, rng).await;
            let unpublished = report.stored.iter().filter(|stored| !**stored).count();
            if unpublished > 0 {
                return Err(ReleaseError::Unpublished { aggregate: aggregate_key.to_owned(), unpublished });
            }
            let published = u32::try_from(outgoing.len()).unwrap_or(u32::MAX);
            if self.holds.settle(aggregate_key, hold.kept_back, next.as_ref()).await? {
                return Ok(match next {
                    Some(next) => Released::MovedTo { sequence: next.sequence, published },
                    None => Released::Lifted { published },
                });
            }
        }
        Err(ReleaseError::Busy(aggregate_key.to_owned()))
    }

    /// This region's events after the hold's poison event, up to the next one that cannot be
    /// published (returned as the next hold).
    async fn held_events(&self, hold: &Hold) -> Result<(Vec<OutgoingRecord>, Option<Hold>), DomainError> {
        let items = self.log.load_range(&hold.aggregate_key, hold.sequence + 1, None).await?;
        let mut outgoing = Vec::new();
        for item in items.iter().filter(|item| item.origin_region == self.origin.region()) {
            match envelope(item, self.origin) {
                Ok(record) => outgoing.push(record),
                Err(error) => {
                    let next = Hold {
                        aggregate_key: hold.aggregate_key.clone(),
                        sequence: item.sequence,
                        event_id: item.event_id.clone(),
                        stream_sequence_number: String::new(),
                        reason: error.to_string(),
                        held_at: format_recorded_at(time::OffsetDateTime::now_utc()),
                        kept_back: 0,
                    };
                    return Ok((outgoing, Some(next)));
                }
            }
        }
        Ok((outgoing, None))
    }
}
