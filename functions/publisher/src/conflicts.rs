//! Conflicts: this region's events that another region's concurrent append overwrote
//! (global tables settle concurrent writes last-writer-wins; the stream shows a `MODIFY` whose
//! old image is ours). Each is reported to the conflicts queue, never hidden, and an `INSERT`
//! whose overwriting `MODIFY` is in the same batch is not published: the event it carries is no
//! longer in the log, and the winning event is published by the region that wrote it.
//!
//! Reports go out concurrently and share one deadline that leaves the invocation time to publish
//! and answer: a slow queue costs at most that budget, and a report not sent in time fails its
//! record for a retry instead of timing out the invocation.

use crate::sink::ConflictSink;
use aws_lambda_events::dynamodb::EventRecord;
use domain::contract::origin::{Selected, StreamRecord, select};
use domain::item::{AGGREGATE_KEY, AttributeMap, EVENT_ID, ORIGIN_REGION, SEQUENCE_KEY};
use futures::StreamExt;
use std::collections::HashSet;
use tokio::time::Instant;

/// Reports sent at once.
const CONCURRENT_REPORTS: usize = 10;

/// `(aggregate key, sequence, EventId)` of an event.
pub(crate) type EventIdentity<'a> = (&'a str, &'a str, &'a str);

/// The origin rule applied to a stream record.
pub(crate) fn selected(record: &EventRecord, region: &str) -> Option<Selected> {
    let change = &record.change;
    let origins = StreamRecord {
        event_name: &record.event_name,
        new_origin: change.new_image.string(ORIGIN_REGION),
        old_origin: change.old_image.string(ORIGIN_REGION),
    };
    select(origins, region)
}

/// The identity of the event a record's `image` holds (keys from the record's keys).
fn identity<'a>(record: &'a EventRecord, image: &'a serde_dynamo::Item) -> Option<EventIdentity<'a>> {
    let keys = &record.change.keys;
    Some((keys.string(AGGREGATE_KEY)?, keys.number(SEQUENCE_KEY)?, image.string(EVENT_ID)?))
}

/// Whether a selected `MODIFY` replaced this region's event by another one (a new EventId), as
/// opposed to rewriting it unchanged.
fn overwrote(record: &EventRecord) -> bool {
    let change = &record.change;
    let old_id = change.old_image.string(EVENT_ID);
    old_id.is_none() || old_id != change.new_image.string(EVENT_ID)
}

/// This region's events overwritten within `records`.
pub(crate) fn overwritten_in_batch<'a>(records: &'a [EventRecord], region: &str) -> HashSet<EventIdentity<'a>> {
    records
        .iter()
        .filter(|record| selected(record, region) == Some(Selected::Overwritten) && overwrote(record))
        .filter_map(|record| identity(record, &record.change.old_image))
        .collect()
}

/// The identity of the new event an `INSERT` carries.
pub(crate) fn inserted(record: &EventRecord) -> Option<EventIdentity<'_>> {
    identity(record, &record.change.new_image)
}

/// The conflict report of a `MODIFY` that overwrote this region's event, or `None` when the
/// event itself did not change (same EventId: a rewrite, not a lost event).
pub(crate) fn report(record: &EventRecord, region: &str) -> Option<String> {
    if !overwrote(record) {
        return None;
    }
    let change = &record.change;
    let key = change.keys.string(AGGREGATE_KEY).unwrap_or_default();
    let sequence = change.keys.number(SEQUENCE_KEY).unwrap_or_default();
    tracing::error!(
        aggregate = key,
        sequence,
        overwritten_event = change.old_image.string(EVENT_ID),
        winning_event = change.new_image.string(EVENT_ID),
        winning_origin = change.new_image.string(ORIGIN_REGION),
        "conflict: another region's concurrent append overwrote an event of this region"
    );
    let report = serde_json::json!({
        "kind": "conflict",
        "detected_by": region,
        "aggregate_key": key,
        "sequence": sequence,
        "stream_sequence_number": change.sequence_number,
        "event_source_arn": record.event_source_arn,
        "old_image": change.old_image,
        "new_image": change.new_image,
    });
    Some(report.to_string())
}

/// Sends `reports` (batch position, body) until `until`; returns the positions not reported.
pub(crate) async fn send<C: ConflictSink>(
    sink: &C,
    reports: Vec<(usize, String)>,
    until: Option<Instant>,
) -> Vec<usize> {
    let Some(until) = until else {
        tracing::warn!(reports = reports.len(), "no time left to report conflicts; will retry");
        return reports.into_iter().map(|(position, _)| position).collect();
    };
    let results: Vec<(usize, bool)> = futures::stream::iter(reports)
        .map(|(position, body)| async move {
            match tokio::time::timeout_at(until, sink.report(body)).await {
                Ok(Ok(())) => (position, true),
                Ok(Err(error)) => {
                    tracing::error!(%error, "could not send a conflict report; will retry");
                    (position, false)
                }
                Err(_) => {
                    tracing::error!("the conflicts queue did not answer in time; will retry");
                    (position, false)
                }
            }
        })
        .buffer_unordered(CONCURRENT_REPORTS)
        .collect()
        .await;
    results.into_iter().filter(|(_, sent)| !sent).map(|(position, _)| position).collect()
}
