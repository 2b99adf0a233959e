//! `cargo xtask replay --region R`: events read back from R's replica of the event log and put
//! on R's stream again with `replay: true` and the consumers they are meant for (a projector acts
//! on a replay only when it is named, or when none is: `DomainEvent::is_for`). One aggregate is
//! read with a Query on its key (in sequence order); anything else through the origin index
//! (`domain::origin_index`), per origin, merged in log order. The events go out through the
//! publisher's ordered republish under the redrive rate limit, a chunk at a time, and the
//! position after each chunk is saved ([`position`]) so `--resume` continues an interrupted run.

pub mod position;
mod read;

pub use position::{Position, PositionFile};
pub use read::select;

use crate::redrive::{Limiter, RateLimit};
use domain::EventItem;
use domain::contract::consumers;
use domain::origin::format_recorded_at;
use publisher::{RecordSink, Republication, WaveSettings, republish};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use stacks::AppConfig;
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Records per chunk: one PutRecords call's worth.
const CHUNK: usize = 500;
/// Time one chunk may take to publish, retries included.
const CHUNK_DEADLINE: Duration = Duration::from_secs(60);

/// What the operator asked for.
#[derive(Debug, Clone, Default)]
pub struct ReplayOptions {
    /// The region whose log is read and whose stream takes the replay.
    pub region: String,
    /// Only events of this aggregate type (`Task`).
    pub aggregate_type: Option<String>,
    /// Only events of this aggregate (needs the type).
    pub aggregate_id: Option<String>,
    /// Only events recorded in this region.
    pub origin: Option<String>,
    /// Only events recorded at or after this time (RFC 3339).
    pub since: Option<String>,
    /// The consumers the replay is meant for; empty: all.
    pub consumers: Vec<String>,
    /// Continue from the saved position of the same selection.
    pub resume: bool,
    /// The write rate.
    pub limit: RateLimit,
}

/// A request that cannot run; found before any AWS call.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ReplayError {
    /// `--aggregate-id` without `--aggregate-type`.
    #[error("--aggregate-id needs --aggregate-type (the event log's key is <type>#<id>, e.g. --aggregate-type Task)")]
    IdWithoutType,
    /// `--since` is not RFC 3339.
    #[error("--since {0:?} is not an RFC 3339 time; write it like 2026-03-04T05:06:07Z")]
    BadSince(String),
    /// A consumer the kit does not have.
    #[error("--for {given}: unknown consumer; the consumers are: {known}")]
    UnknownConsumer {
        /// What was given.
        given: String,
        /// The known names.
        known: String,
    },
    /// A region that is not configured.
    #[error("{flag} {region} is not in regions.toml; pass one of: {configured}")]
    UnknownRegion {
        /// `--region` or `--origin`.
        flag: &'static str,
        /// What was given.
        region: String,
        /// The configured regions.
        configured: String,
    },
}

/// A checked request: `since` normalized to the event log's `RecordedAt` form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// See [`ReplayOptions::region`].
    pub region: String,
    /// See [`ReplayOptions::aggregate_type`].
    pub aggregate_type: Option<String>,
    /// See [`ReplayOptions::aggregate_id`].
    pub aggregate_id: Option<String>,
    /// See [`ReplayOptions::origin`].
    pub origin: Option<String>,
    /// `RecordedAt` of the earliest event.
    pub since: Option<String>,
    /// See [`ReplayOptions::consumers`].
    pub consumers: Vec<String>,
}

impl Selection {
    /// The selection as one line: what a saved position belongs to.
    pub fn describe(&self) -> String {
        let any = |v: &Option<String>| v.clone().unwrap_or_else(|| "*".into());
        let consumers = if self.consumers.is_empty() { "all".to_owned() } else { self.consumers.join(",") };
        format!(
            "region={} type={} id={} origin={} since={} for={consumers}",
            self.region,
            any(&self.aggregate_type),
            any(&self.aggregate_id),
            any(&self.origin),
            any(&self.since)
        )
    }
}

/// Checks `options` against the configuration and the contract; no AWS call.
pub fn check(config: &AppConfig, options: &ReplayOptions) -> Result<Selection, ReplayError> {
    if options.aggregate_id.is_some() && options.aggregate_type.is_none() {
        return Err(ReplayError::IdWithoutType);
    }
    let configured: Vec<&str> = config.region_names().collect();
    let flags = [("--region", Some(&options.region)), ("--origin", options.origin.as_ref())];
    for (flag, region) in flags.into_iter().filter_map(|(f, r)| Some((f, r?))) {
        if !configured.contains(&region.as_str()) {
            return Err(ReplayError::UnknownRegion { flag, region: region.clone(), configured: configured.join(", ") });
        }
    }
    if let Some(given) = options.consumers.iter().find(|c| !consumers::ALL.contains(&c.as_str())) {
        return Err(ReplayError::UnknownConsumer { given: given.clone(), known: consumers::ALL.join(", ") });
    }
    let since = match &options.since {
        None => None,
        Some(text) => Some(
            OffsetDateTime::parse(text, &Rfc3339)
                .map(format_recorded_at)
                .map_err(|_| ReplayError::BadSince(text.clone()))?,
        ),
    };
    Ok(Selection {
        region: options.region.clone(),
        aggregate_type: options.aggregate_type.clone(),
        aggregate_id: options.aggregate_id.clone(),
        origin: options.origin.clone(),
        since,
        consumers: options.consumers.clone(),
    })
}

/// What a replay did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// Events selected.
    pub selected: usize,
    /// Events put on the stream.
    pub published: usize,
    /// Events that can never be published.
    pub unpublishable: Vec<String>,
    /// Events not published (a chunk not fully stored): `--resume` continues.
    pub left: usize,
}

/// Republishes `events` (in log order) on `sink` as a replay of `selection`, a chunk at a time
/// under `limit`, saving the position after each chunk and telling `progress` how many are done.
pub async fn replay<K: RecordSink>(
    sink: &K,
    selection: &Selection,
    events: &[EventItem],
    limit: RateLimit,
    save: &mut (dyn FnMut(&Position) -> anyhow::Result<()> + Send),
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> anyhow::Result<ReplayReport> {
    let how = Republication { published_by: &selection.region, replay: true, consumers: &selection.consumers };
    let mut limiter = Limiter::new(limit);
    let mut rng = SmallRng::from_os_rng();
    let settings = WaveSettings::default();
    let mut report = ReplayReport { selected: events.len(), ..ReplayReport::default() };
    for (index, chunk) in events.chunks(CHUNK).enumerate() {
        let bytes: usize = chunk.iter().map(|e| e.payload.len() + e.aggregate_key.len()).sum();
        limiter.acquire(chunk.len(), bytes).await;
        let deadline = tokio::time::Instant::now() + CHUNK_DEADLINE;
        let done = republish(sink, chunk, &how, &settings, deadline, &mut rng).await;
        report.published += done.published();
        report.unpublishable.extend(
            done.unpublishable.iter().map(|u| format!("{} event {}: {}", u.aggregate_key, u.sequence, u.reason)),
        );
        let rest = &events[(index * CHUNK + chunk.len())..];
        let left: Vec<&EventItem> = done.left(chunk).chain(rest).collect();
        save(&Position::after(selection, &left))?;
        progress(report.published, events.len());
        if done.left(chunk).next().is_some() {
            report.left = left.len();
            break;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use domain::DomainError;
    use publisher::{EntryResult, OutgoingRecord};

    fn config() -> AppConfig {
        let text = "app = \"orders\"\nhome = \"us-east-1\"\n\n[[region]]\nname = \"us-east-1\"\n\n[[region]]\nname = \"eu-west-1\"\n";
        AppConfig::from_toml("regions.toml", text).unwrap()
    }

    fn options() -> ReplayOptions {
        ReplayOptions { region: "us-east-1".into(), ..ReplayOptions::default() }
    }

    #[test]
    fn flags_are_checked_before_any_call_and_say_how_to_fix_them() {
        let config = config();
        let id_alone = ReplayOptions { aggregate_id: Some("t1".into()), ..options() };
        assert_eq!(check(&config, &id_alone), Err(ReplayError::IdWithoutType));
        let since = ReplayOptions { since: Some("yesterday".into()), ..options() };
        assert!(check(&config, &since).unwrap_err().to_string().contains("2026-03-04T05:06:07Z"));
        let consumer = ReplayOptions { consumers: vec!["view".into(), "billing".into()], ..options() };
        let error = check(&config, &consumer).unwrap_err().to_string();
        assert!(error.contains("--for billing: unknown consumer; the consumers are: audit, view"), "{error}");
        let origin = ReplayOptions { origin: Some("ap-south-1".into()), ..options() };
        assert!(
            check(&config, &origin).unwrap_err().to_string().contains("--origin ap-south-1 is not in regions.toml")
        );
        let good = ReplayOptions { since: Some("2026-03-04T07:06:07+02:00".into()), ..options() };
        assert_eq!(
            check(&config, &good).unwrap().since.as_deref(),
            Some("2026-03-04T05:06:07.000Z"),
            "normalized to UTC"
        );
    }

    struct Accepting;

    impl RecordSink for Accepting {
        async fn put_records(&self, records: &[&OutgoingRecord]) -> Result<Vec<EntryResult>, DomainError> {
            Ok(records.iter().map(|_| EntryResult::Stored).collect())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn chunks_are_spaced_by_the_rate_limit() {
        let events: Vec<EventItem> = (0..1200)
            .map(|i| EventItem {
                aggregate_key: format!("Task#t{i}"),
                sequence: 1,
                event_id: format!("e{i}"),
                event_type: "TaskCreated".into(),
                event_version: 1,
                payload: "{}".into(),
                origin_region: "us-east-1".into(),
                recorded_at: "2026-03-04T05:06:07.000Z".into(),
                command_id: "c".into(),
            })
            .collect();
        let selection = check(&config(), &options()).unwrap();
        let limit = RateLimit { records_per_second: 100, bytes_per_second: u64::MAX };
        let start = tokio::time::Instant::now();
        let mut saved = Vec::new();
        let mut save = |p: &Position| {
            saved.push(p.clone());
            Ok(())
        };
        let report = replay(&Accepting, &selection, &events, limit, &mut save, &mut |_, _| {}).await.unwrap();
        assert_eq!(report.published, 1200);
        // Chunks of 500, 500, 200 at 100 records/s: the third starts after 5 s + 5 s.
        assert_eq!(start.elapsed(), Duration::from_secs(10));
        assert_eq!(saved.len(), 3);
        assert!(saved[2].done && !saved[1].done);
    }
}
