//! One takeover run: the lost region's events from its watermark (less the margin) on, read from
//! the surviving region's replica of the event log through the origin index, republished on the
//! surviving region's stream `published_by` it, a chunk at a time under the rate limit, with the
//! position recorded after each chunk. The same code runs for `cargo xtask takeover` and for the
//! local runtime's automatic takeover.

use super::position::{Position, PositionTable};
use crate::redrive::{Limiter, RateLimit};
use domain::holds::{HoldStore, HoldTable};
use domain::origin::format_recorded_at;
use domain::origin_index::OriginWindow;
use domain::store::EventStore;
use domain::{DomainError, EventItem};
use publisher::republish::Unpublishable;
use publisher::{KinesisSink, RecordSink, Republication, WatermarkTable, WaveSettings, republish};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use serde::Serialize;
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// How far before the watermark a takeover starts reading. The watermark is one value per region
/// while the publisher runs one invocation per stream shard: a shard behind the others leaves
/// unpublished events before the watermark another shard wrote. The margin covers that lag (the
/// region stack alarms when the publisher's `IteratorAge` passes 60 s), clock skew between the
/// api's containers (`RecordedAt` is their clock), and the origin index's eventual consistency.
/// Events inside the margin were most likely published already: they are the duplicates a
/// takeover reports.
pub const DEFAULT_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Records per chunk: one PutRecords call's worth (Kinesis takes at most 500 records a call).
const CHUNK: usize = 500;

/// Time one chunk may take to publish, retries included.
const CHUNK_DEADLINE: Duration = Duration::from_secs(60);

/// Where a takeover reads and writes: everything in the surviving region.
#[derive(Debug, Clone)]
pub struct Targets<K = KinesisSink> {
    /// The lost region whose events are taken over.
    pub origin: String,
    /// The surviving region that publishes them.
    pub by: String,
    /// The surviving region's replica of the event log.
    pub log: EventStore,
    /// The surviving region's stream.
    pub sink: K,
    /// The lost region's publisher watermark (read from the surviving replica).
    pub watermark: WatermarkTable,
    /// The lost region's publisher holds (read from the surviving replica).
    pub holds: HoldTable,
    /// The takeover's position.
    pub position: PositionTable,
}

/// How a takeover runs.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// How far before the watermark reading starts.
    pub margin: Duration,
    /// The write rate.
    pub limit: RateLimit,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { margin: DEFAULT_MARGIN, limit: RateLimit::default() }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// The lost region's watermark, if its publisher ever wrote one.
    pub watermark: Option<String>,
    /// The position a previous run left, if any.
    pub resumed_from: Option<Position>,
    /// Where reading started (inclusive).
    pub since: String,
    /// Events read from the origin index.
    pub read: usize,
    /// Events republished.
    pub published: usize,
    /// Of those, events at or before the watermark or the previous position: already on a stream,
    /// so each is a duplicate.
    pub possible_duplicates: usize,
    /// Events of aggregates held by the lost region's publisher behind a poison event, left out.
    pub held_back: usize,
    /// Events that can never be published.
    pub unpublishable: Vec<String>,
    /// Events not published in this run (a chunk not fully stored): run it again to resume.
    pub left: usize,
    /// The position recorded at the end: everything before it is on a stream.
    pub up_to: Option<String>,
}

impl Report {
    /// Whether every event read is on a stream (or can never be).
    pub fn is_complete(&self) -> bool {
        self.left == 0
    }
}

/// `at` less `margin`, as a `RecordedAt`; an unparsable `at` gives the start of time (read all).
fn less(at: &str, margin: Duration) -> String {
    OffsetDateTime::parse(at, &Rfc3339)
        .ok()
        .and_then(|t| t.checked_sub(time::Duration::try_from(margin).ok()?))
        .map_or_else(|| BEGINNING.to_owned(), format_recorded_at)
}

/// Before any event.
const BEGINNING: &str = "1970-01-01T00:00:00.000Z";

/// Takes `targets.origin`'s unpublished events over, telling `progress` after each chunk.
pub async fn take_over<K: RecordSink>(
    targets: &Targets<K>,
    settings: &Settings,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<Report, DomainError> {
    let watermark = targets.watermark.load().await?.map(|w| w.recorded_at);
    let previous = targets.position.load().await?;
    let resume_at = previous.as_ref().map(|p| p.up_to.clone());
    let since = [watermark.as_deref(), resume_at.as_deref()]
        .into_iter()
        .flatten()
        .max()
        .map_or_else(|| BEGINNING.to_owned(), |at| less(at, settings.margin));
    // On a stream already: at or before the watermark, or before the previous run's position.
    let already_published =
        |at: &str| watermark.as_deref().is_some_and(|w| at <= w) || resume_at.as_deref().is_some_and(|p| at < p);
    let window = OriginWindow { origin: &targets.origin, since: &since, until: None };
    let read = targets.log.events_of_origin(window).await?.events;
    let holds = targets.holds.load().await?;
    let (events, held_back): (Vec<EventItem>, Vec<EventItem>) =
        read.into_iter().partition(|e| holds.get(&e.aggregate_key).is_none_or(|hold| e.sequence < hold.sequence));
    let mut report = Report {
        watermark: watermark.clone(),
        resumed_from: previous,
        since,
        read: events.len() + held_back.len(),
        held_back: held_back.len(),
        ..Report::default()
    };
    progress(&format!(
        "takeover of {} by {}: {} event(s) recorded since {} ({} held back behind poison events)",
        targets.origin, targets.by, report.read, report.since, report.held_back
    ));
    let mut limiter = Limiter::new(settings.limit);
    let mut rng = SmallRng::from_os_rng();
    let how = Republication { published_by: &targets.by, replay: false, consumers: &[] };
    let wave_settings = WaveSettings::default();
    for (index, chunk) in events.chunks(CHUNK).enumerate() {
        let bytes: usize = chunk.iter().map(|e| e.payload.len() + e.aggregate_key.len()).sum();
        limiter.acquire(chunk.len(), bytes).await;
        let deadline = tokio::time::Instant::now() + CHUNK_DEADLINE;
        let done = republish(&targets.sink, chunk, &how, &wave_settings, deadline, &mut rng).await;
        let published = done.published();
        report.published += published;
        report.possible_duplicates +=
            chunk.iter().zip(&done.stored).filter(|(e, stored)| **stored && already_published(&e.recorded_at)).count();
        report.unpublishable.extend(done.unpublishable.iter().map(describe));
        let rest = &events[(index * CHUNK + chunk.len())..];
        let left: Vec<&EventItem> = done.left(chunk).chain(rest).collect();
        let up_to = match left.iter().map(|e| e.recorded_at.as_str()).min() {
            Some(earliest) => earliest.to_owned(),
            None => events.iter().map(|e| e.recorded_at.clone()).max().unwrap_or_else(|| report.since.clone()),
        };
        let now = format_recorded_at(OffsetDateTime::now_utc());
        targets.position.advance(&up_to, &targets.by, published as u64, &now).await?;
        report.up_to = Some(up_to.clone());
        progress(&format!("  published {} of {} (up to {up_to})", report.published, events.len()));
        if done.left(chunk).next().is_some() {
            report.left = left.len();
            return Ok(report);
        }
    }
    if report.up_to.is_none() {
        let up_to = report.since.clone();
        let now = format_recorded_at(OffsetDateTime::now_utc());
        targets.position.advance(&up_to, &targets.by, 0, &now).await?;
        report.up_to = Some(up_to);
    }
    Ok(report)
}

fn describe(event: &Unpublishable) -> String {
    format!("{} event {}: {}", event.aggregate_key, event.sequence, event.reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_margin_is_taken_off_the_watermark_and_a_bad_time_reads_everything() {
        assert_eq!(less("2026-01-02T03:10:00.000Z", Duration::from_secs(300)), "2026-01-02T03:05:00.000Z");
        assert_eq!(less("2026-01-02T03:10:00.250Z", Duration::ZERO), "2026-01-02T03:10:00.250Z");
        assert_eq!(less("yesterday", Duration::from_secs(1)), BEGINNING);
    }
}
