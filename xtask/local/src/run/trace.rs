//! Where one aggregate's events went, region by region, read through the AWS APIs: its events in
//! each replica of the event log, on each region's Kinesis stream, in each region's read model,
//! and as objects in each region's audit bucket. The demo's smoke test prints it; the tests
//! assert on it. Names come from each function's deployed variables (read with the contract's
//! typed environments), so nothing here spells a resource name.

use super::{Deployment, discover::RegionDeployment};
use crate::clients::Clients;
use contract::env::{ApiEnvironment, AuditProjectorEnvironment, PublisherEnvironment, ViewProjectorEnvironment};
use domain::DomainEvent;
use domain::store::EventStore;
use domain::{ViewStore, item::aggregate_key};
use stacks::app::FunctionKind;
use std::collections::{BTreeMap, BTreeSet};

/// Reading a store failed.
#[derive(Debug, thiserror::Error)]
#[error("{region}: {what}: {message}")]
pub struct TraceError {
    /// The region.
    pub region: String,
    /// What was being read.
    pub what: String,
    /// Why it failed.
    pub message: String,
}

/// One region's view of the aggregate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegionTrace {
    /// Sequences of its events in this region's replica of the event log.
    pub in_log: Vec<u64>,
    /// Its events on this region's Kinesis stream, in stream order: (sequence, origin region).
    pub on_stream: Vec<(u64, String)>,
    /// The version of its view in this region's read model, if the app has one and it is there.
    pub view_version: Option<u64>,
    /// Audit objects of its events in this region's audit bucket.
    pub audit_objects: usize,
}

/// The aggregate in every region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    /// Per region.
    pub regions: BTreeMap<String, RegionTrace>,
}

impl Trace {
    /// How many times event `sequence` is on any region's stream.
    pub fn published(&self, sequence: u64) -> usize {
        self.regions.values().map(|r| r.on_stream.iter().filter(|(s, _)| *s == sequence).count()).sum()
    }
}

/// Traces task `id` through every region of `deployment`.
pub async fn trace_task(clients: &Clients, deployment: &Deployment, id: &str) -> Result<Trace, TraceError> {
    let mut trace = Trace::default();
    let mut events = Vec::new();
    for region in &deployment.regions {
        let (in_log, view_version) = log_and_view(clients, region, id).await?;
        let on_stream = stream_events(clients, region, id).await?;
        let seen = on_stream.iter().map(|e| (e.sequence, e.origin_region.clone())).collect();
        events.extend(on_stream);
        trace
            .regions
            .insert(region.region.clone(), RegionTrace { in_log, on_stream: seen, view_version, audit_objects: 0 });
    }
    let keys: BTreeSet<String> = events.iter().map(projector_audit::object_key).collect();
    for region in &deployment.regions {
        let count = audit_objects(clients, region, &keys).await?;
        if let Some(entry) = trace.regions.get_mut(&region.region) {
            entry.audit_objects = count;
        }
    }
    Ok(trace)
}

fn variables(region: &RegionDeployment, kind: FunctionKind) -> impl Fn(&str) -> Option<String> + '_ {
    move |name| region.function(kind).and_then(|f| f.variables.get(name).cloned())
}

fn failed(region: &RegionDeployment, what: &str) -> impl FnOnce(String) -> TraceError {
    let (region, what) = (region.region.clone(), what.to_owned());
    move |message| TraceError { region, what, message }
}

async fn log_and_view(
    clients: &Clients,
    region: &RegionDeployment,
    id: &str,
) -> Result<(Vec<u64>, Option<u64>), TraceError> {
    let api = ApiEnvironment::from_lookup(variables(region, FunctionKind::Api))
        .map_err(|e| failed(region, "the api's variables")(e.to_string()))?;
    let dynamodb = clients.dynamodb(&region.region);
    let log = EventStore::new(dynamodb.clone(), api.event_log_table);
    let loaded =
        log.load(&aggregate_key("Task", id)).await.map_err(|e| failed(region, "the event log")(e.to_string()))?;
    let view = match ViewProjectorEnvironment::from_lookup(variables(region, FunctionKind::ProjectorView)) {
        Ok(environment) => ViewStore::new(dynamodb, environment.view_table, &region.region)
            .get(id, true)
            .await
            .map_err(|e| failed(region, "the read model")(e.to_string()))?
            .map(|stored| stored.view.version),
        Err(_) => None,
    };
    Ok((loaded.iter().map(|e| e.sequence).collect(), view))
}

async fn stream_events(clients: &Clients, region: &RegionDeployment, id: &str) -> Result<Vec<DomainEvent>, TraceError> {
    let publisher = PublisherEnvironment::from_lookup(variables(region, FunctionKind::Publisher))
        .map_err(|e| failed(region, "the publisher's variables")(e.to_string()))?;
    let stream = publisher.event_stream_name;
    let records = publisher::replay::kinesis_records(&clients.kinesis(&region.region), &stream)
        .await
        .map_err(|e| failed(region, &format!("the stream {stream}"))(e.to_string()))?;
    let events = records.iter().filter_map(|record| DomainEvent::parse(&record.data).ok());
    Ok(events.filter(|event| event.aggregate_id == id).collect())
}

async fn audit_objects(
    clients: &Clients,
    region: &RegionDeployment,
    keys: &BTreeSet<String>,
) -> Result<usize, TraceError> {
    let Ok(audit) = AuditProjectorEnvironment::from_lookup(variables(region, FunctionKind::ProjectorAudit)) else {
        return Ok(0);
    };
    let s3 = clients.s3(&region.region);
    let mut found = 0;
    for key in keys {
        match s3.head_object().bucket(&audit.audit_bucket).key(key).send().await {
            Ok(_) => found += 1,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => {}
            Err(error) => {
                let message = aws_sdk_s3::error::DisplayErrorContext(&error).to_string();
                return Err(failed(region, &format!("the audit bucket {}", audit.audit_bucket))(message));
            }
        }
    }
    Ok(found)
}
