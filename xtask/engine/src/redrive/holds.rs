//! Lifting the publisher's poison holds once their events are published by a redrive: the held
//! aggregate's later events, kept back from the stream, are published from the event log in order
//! and the hold removed (`publisher::Release`).

use super::record::FailureRecord;
use crate::aws::Aws;
use domain::Origin;
use domain::contract::event_log::{AGGREGATE_KEY, EVENT_ID};
use domain::holds::{HoldStore, HoldTable};
use domain::store::EventStore;
use publisher::{KinesisSink, Release, Released, WaveSettings};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use std::time::Duration;

/// Time one release may take.
const RELEASE_DEADLINE: Duration = Duration::from_secs(60);

/// The region's publisher resources a release works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublisherTargets {
    /// The region's Kinesis stream of domain events.
    pub stream: String,
    /// The event log table (this region's replica).
    pub event_log_table: String,
    /// The idempotency table holding the holds.
    pub idempotency_table: String,
}

/// `(aggregate key, EventId)` of every record of a redriven publisher batch.
fn events_of(record: &FailureRecord) -> Vec<(String, String)> {
    record
        .records()
        .iter()
        .filter_map(|r| {
            let image = &r["dynamodb"]["NewImage"];
            Some((image[AGGREGATE_KEY]["S"].as_str()?.to_owned(), image[EVENT_ID]["S"].as_str()?.to_owned()))
        })
        .collect()
}

/// Releases each hold whose poison event was in `record`'s (now published) batch; one line per
/// hold, saying what happened.
pub async fn release_published(
    aws: &Aws,
    region: &str,
    targets: &PublisherTargets,
    record: &FailureRecord,
) -> Vec<String> {
    let events = events_of(record);
    if events.is_empty() {
        return Vec::new();
    }
    let origin = match Origin::new(region) {
        Ok(origin) => origin,
        Err(error) => return vec![format!("holds not checked: {error}")],
    };
    let holds = HoldTable::new(aws.dynamodb(region), targets.idempotency_table.clone(), origin.region());
    let held = match holds.load().await {
        Ok(held) => held,
        Err(error) => return vec![format!("holds not checked ({error}); run redrive again to release them")],
    };
    let sink = KinesisSink::new(aws.kinesis(region), targets.stream.clone());
    let log = EventStore::new(aws.dynamodb(region), targets.event_log_table.clone());
    let settings = WaveSettings::default();
    let release = Release { sink: &sink, holds: &holds, log: &log, origin: &origin, settings: &settings };
    let mut rng = SmallRng::from_os_rng();
    let mut lines = Vec::new();
    for (aggregate, event_id) in events {
        if held.get(&aggregate).is_none_or(|hold| hold.event_id != event_id) {
            continue;
        }
        let deadline = tokio::time::Instant::now() + RELEASE_DEADLINE;
        lines.push(match release.run(&aggregate, deadline, &mut rng).await {
            Ok(Released::Lifted { published }) => {
                format!("released the hold on {aggregate}: {published} event(s) kept back were published")
            }
            Ok(Released::MovedTo { sequence, published }) => format!(
                "the hold on {aggregate} moved to event {sequence}, which cannot be published either \
                 ({published} published before it); redrive its failed batch once fixed"
            ),
            Err(error) => format!("the hold on {aggregate} stays: {error}"),
        });
    }
    lines
}
