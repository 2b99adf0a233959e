//! Reading a replay's events from the region's replica of the event log, in log order: one
//! aggregate with a Query on its key (sequence order); otherwise the origin index of the chosen
//! origin, or of every configured region, merged by `origin_index::in_order`.

use super::{Position, Selection};
use domain::origin_index::{OriginWindow, in_order};
use domain::store::EventStore;
use domain::{DomainError, EventItem};

/// Before any event.
const BEGINNING: &str = "1970-01-01T00:00:00.000Z";

/// The events of `selection` still to replay (after `resume_from`), in log order.
pub async fn select(
    log: &EventStore,
    selection: &Selection,
    regions: &[String],
    resume_from: Option<&Position>,
) -> Result<Vec<EventItem>, DomainError> {
    let since = [selection.since.as_deref(), resume_from.and_then(|p| p.since.as_deref())]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(BEGINNING)
        .to_owned();
    if let (Some(kind), Some(id)) = (&selection.aggregate_type, &selection.aggregate_id) {
        let key = domain::item::aggregate_key(kind, id);
        let from = resume_from.and_then(|p| p.from_sequence).unwrap_or(1);
        let events = log.load_range(&key, from, None).await?;
        return Ok(events
            .into_iter()
            .filter(|e| selection.origin.as_ref().is_none_or(|o| &e.origin_region == o))
            .filter(|e| e.recorded_at >= since)
            .collect());
    }
    let origins: Vec<&str> = match &selection.origin {
        Some(origin) => vec![origin.as_str()],
        None => regions.iter().map(String::as_str).collect(),
    };
    let mut events = Vec::new();
    for origin in origins {
        let window = OriginWindow { origin, since: &since, until: None };
        events.extend(log.events_of_origin(window).await?.events);
    }
    let prefix = selection.aggregate_type.as_ref().map(|kind| domain::item::aggregate_key(kind, ""));
    events.retain(|e| prefix.as_ref().is_none_or(|p| e.aggregate_key.starts_with(p.as_str())));
    Ok(in_order(events))
}
