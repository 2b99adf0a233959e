//! Every store the soak audits, read back whole through the AWS APIs, region by region: the
//! replica of the event log (Scan), the Kinesis stream (every shard from the trim horizon), the
//! audit bucket (ListObjectsV2) and the read model (Scan). Only the soak's own tasks are kept.
//! Names come from each function's deployed variables (the contract's typed environments).

use crate::DEFAULT_ACCOUNT;
use crate::clients::Clients;
use crate::run::discover::RegionDeployment;
use crate::streams::{RecordBody, ShardCursor, StartAt, Stream};
use contract::env::{ApiEnvironment, AuditProjectorEnvironment, PublisherEnvironment, ViewProjectorEnvironment};
use domain::item::{EventItem, split_aggregate_key};
use domain::{DomainEvent, StoredView};
use stacks::app::FunctionKind;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

/// Most reads of one shard (a bound, far above what a soak writes).
const MAX_READS_PER_SHARD: usize = 100_000;

/// Time one call of a whole-store read may take. moto answers each Scan page after walking every
/// item of the table: at the benchmark's 100,000 events, with the returned region's replication
/// still applying, one page took more than the runtime's 10 s.
const WHOLE_STORE_READ_ATTEMPT: Duration = Duration::from_secs(120);

/// Reading a store failed.
#[derive(Debug, thiserror::Error)]
#[error("{region}: reading {what}: {message}")]
pub struct SnapshotError {
    /// The region.
    pub region: String,
    /// The store.
    pub what: String,
    /// Why.
    pub message: String,
}

/// One record on a region's stream.
#[derive(Debug, Clone)]
pub struct StreamedEvent {
    /// The task.
    pub task: String,
    /// The event's sequence.
    pub sequence: u64,
    /// Its id.
    pub event_id: String,
    /// The region that recorded it.
    pub origin: String,
    /// The region whose publisher put it there.
    pub published_by: String,
    /// Its shard.
    pub shard: String,
    /// `ApproximateArrivalTimestamp`.
    pub arrival: SystemTime,
}

/// One audit object: `events/<origin>/<type>/<id>/<sequence>.json`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AuditObject {
    /// The event's origin region.
    pub origin: String,
    /// The task.
    pub task: String,
    /// The event's sequence.
    pub sequence: u64,
}

/// Per task, its events in one replica of the event log, by sequence.
pub type Log = BTreeMap<String, BTreeMap<u64, EventItem>>;

/// One region's stores.
#[derive(Debug, Clone, Default)]
pub struct RegionSnapshot {
    /// Per task, its events in this replica, by sequence.
    pub log: Log,
    /// Records on this region's stream, in shard order.
    pub stream: Vec<StreamedEvent>,
    /// Audit objects in this region's bucket.
    pub audit: Vec<AuditObject>,
    /// Per task, its view in this region's replica of the read model (the newest of its rows).
    pub views: BTreeMap<String, StoredView>,
}

/// Reads `region`'s stores, keeping the tasks in `tasks`.
pub async fn read_region(
    clients: &Clients,
    region: &RegionDeployment,
    tasks: &BTreeSet<String>,
) -> Result<RegionSnapshot, SnapshotError> {
    let clients = &clients.with_attempt_timeout(WHOLE_STORE_READ_ATTEMPT);
    let (log, stream, audit, views) = tokio::join!(
        read_log(clients, region, tasks),
        read_stream(clients, region, tasks),
        read_audit(clients, region, tasks),
        read_views(clients, region, tasks)
    );
    Ok(RegionSnapshot { log: log?, stream: stream?, audit: audit?, views: views? })
}

fn variables(region: &RegionDeployment, kind: FunctionKind) -> impl Fn(&str) -> Option<String> + '_ {
    move |name| region.function(kind).and_then(|f| f.variables.get(name).cloned())
}

fn failed<E: std::fmt::Display>(region: &RegionDeployment, what: &str) -> impl FnOnce(E) -> SnapshotError {
    let (region, what) = (region.region.clone(), what.to_owned());
    move |error| SnapshotError { region, what, message: error.to_string() }
}

/// Every item of `table`, page by page.
async fn scan(
    clients: &Clients,
    region: &RegionDeployment,
    table: &str,
) -> Result<Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>, SnapshotError> {
    let pages = clients.dynamodb(&region.region).scan().table_name(table).into_paginator().items().send();
    let items: Result<Vec<_>, _> = pages.collect::<Vec<_>>().await.into_iter().collect();
    items.map_err(|e| failed(region, &format!("table {table}"))(aws_sdk_dynamodb::error::DisplayErrorContext(&e)))
}

/// Reads `region`'s replica of the event log alone, keeping the tasks in `tasks`.
pub async fn read_log(
    clients: &Clients,
    region: &RegionDeployment,
    tasks: &BTreeSet<String>,
) -> Result<Log, SnapshotError> {
    let api = ApiEnvironment::from_lookup(variables(region, FunctionKind::Api))
        .map_err(failed(region, "the api's variables"))?;
    let clients = &clients.with_attempt_timeout(WHOLE_STORE_READ_ATTEMPT);
    let mut log = Log::new();
    for item in scan(clients, region, &api.event_log_table).await? {
        // Items that are not events (none today) are not the soak's.
        let Ok(event) = EventItem::from_sdk(&item) else { continue };
        let Ok((_, id)) = split_aggregate_key(&event.aggregate_key) else { continue };
        if tasks.contains(id) {
            let id = id.to_owned();
            log.entry(id).or_default().insert(event.sequence, event);
        }
    }
    Ok(log)
}

async fn read_stream(
    clients: &Clients,
    region: &RegionDeployment,
    tasks: &BTreeSet<String>,
) -> Result<Vec<StreamedEvent>, SnapshotError> {
    let publisher = PublisherEnvironment::from_lookup(variables(region, FunctionKind::Publisher))
        .map_err(failed(region, "the publisher's variables"))?;
    let name = publisher.event_stream_name;
    let arn = format!("arn:aws:kinesis:{}:{DEFAULT_ACCOUNT}:stream/{name}", region.region);
    let what = format!("stream {name}");
    let stream = Stream::from_arn(clients, &arn).ok_or_else(|| failed(region, &what)("not a Kinesis stream ARN"))?;
    let mut events = Vec::new();
    for shard in stream.shards().await.map_err(failed(region, &what))? {
        let mut cursor = ShardCursor::new(stream.clone(), shard.id.clone(), StartAt::TrimHorizon);
        for _ in 0..MAX_READS_PER_SHARD {
            let page = cursor.read(cursor.max_per_read()).await.map_err(failed(region, &what))?;
            if page.is_empty() {
                break;
            }
            for record in page {
                let RecordBody::Kinesis(kinesis) = &record.body else { continue };
                let Ok(event) = DomainEvent::parse(kinesis.data.as_ref()) else { continue };
                if tasks.contains(&event.aggregate_id) {
                    events.push(StreamedEvent {
                        task: event.aggregate_id,
                        sequence: event.sequence,
                        event_id: event.id,
                        origin: event.origin_region,
                        published_by: event.published_by,
                        shard: shard.id.clone(),
                        arrival: record.arrival,
                    });
                }
            }
        }
    }
    Ok(events)
}

async fn read_audit(
    clients: &Clients,
    region: &RegionDeployment,
    tasks: &BTreeSet<String>,
) -> Result<Vec<AuditObject>, SnapshotError> {
    let Ok(audit) = AuditProjectorEnvironment::from_lookup(variables(region, FunctionKind::ProjectorAudit)) else {
        return Ok(Vec::new());
    };
    let bucket = audit.audit_bucket;
    let pages = clients.s3(&region.region).list_objects_v2().bucket(&bucket).prefix("events/").into_paginator().send();
    let pages: Result<Vec<_>, _> = pages.collect::<Vec<_>>().await.into_iter().collect();
    let pages =
        pages.map_err(|e| failed(region, &format!("bucket {bucket}"))(aws_sdk_s3::error::DisplayErrorContext(&e)))?;
    let keys = pages.iter().flat_map(|page| page.contents()).filter_map(|object| object.key());
    Ok(keys.filter_map(parse_audit_key).filter(|object| tasks.contains(&object.task)).collect())
}

/// `events/<origin>/<type>/<id>/<sequence>.json` (the audit projector's `object_key`).
fn parse_audit_key(key: &str) -> Option<AuditObject> {
    let mut parts = key.strip_prefix("events/")?.strip_suffix(".json")?.split('/');
    let (origin, _type, task, sequence) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let sequence = sequence.parse().ok()?;
    parts.next().is_none().then(|| AuditObject { origin: origin.to_owned(), task: task.to_owned(), sequence })
}

async fn read_views(
    clients: &Clients,
    region: &RegionDeployment,
    tasks: &BTreeSet<String>,
) -> Result<BTreeMap<String, StoredView>, SnapshotError> {
    let Ok(environment) = ViewProjectorEnvironment::from_lookup(variables(region, FunctionKind::ProjectorView)) else {
        return Ok(BTreeMap::new());
    };
    let mut rows: BTreeMap<String, Vec<StoredView>> = BTreeMap::new();
    for item in scan(clients, region, &environment.view_table).await? {
        let Ok(stored) = StoredView::from_sdk(&item) else { continue };
        if tasks.contains(&stored.view.id) {
            rows.entry(stored.view.id.clone()).or_default().push(stored);
        }
    }
    // What the api reads: the newest of a task's rows, one per region that projected it.
    Ok(rows.into_iter().filter_map(|(task, rows)| Some((task, domain::view::newest(rows)?))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_keys_parse_as_the_projector_writes_them() {
        let object = parse_audit_key("events/eu-west-1/Task/0193-ab/12.json").expect("parsed");
        assert_eq!(object, AuditObject { origin: "eu-west-1".into(), task: "0193-ab".into(), sequence: 12 });
        assert_eq!(parse_audit_key("events/eu-west-1/Task/x/seven.json"), None);
        assert_eq!(parse_audit_key("other/eu-west-1/Task/x/1.json"), None);
    }
}
