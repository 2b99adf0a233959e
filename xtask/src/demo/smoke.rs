//! The demo's smoke test, through the local runtime: a command is sent to each region's HTTP API,
//! and its event is followed through the AWS APIs (`local::run::trace`) until it is published
//! once on its region's Kinesis stream and by no other region, replicated into every region's
//! event log, projected into every region's read model and audited once in its region's bucket.

use anyhow::{Context, Result, bail};
use local::clients::Clients;
use local::gateway::client::call;
use local::run::trace::{Trace, trace_task};
use local::run::{Deployment, Runtime};
use stacks::app::FunctionKind;
use std::time::Duration;

/// How long an event may take to reach every store.
const PATIENCE: Duration = Duration::from_secs(60);
/// Time for one HTTP call.
const CALL: Duration = Duration::from_secs(15);

/// What one region's command became.
#[derive(Debug, Clone)]
pub struct RegionSmoke {
    /// The region whose API took the command.
    pub region: String,
    /// `/health` answered 200.
    pub healthy: bool,
    /// The task's id.
    pub task: String,
    /// Where its event went.
    pub trace: Trace,
    /// Whether the app has a read model and an audit bucket.
    views: bool,
    audits: bool,
    /// How long until every store had it.
    pub settled_in: Option<Duration>,
}

impl RegionSmoke {
    /// Published once (here, nowhere else), in every replica, every view, one audit object here.
    pub fn passed(&self) -> bool {
        let here = self.trace.regions.get(&self.region);
        self.healthy
            && self.trace.published(1) == 1
            && here.is_some_and(|r| r.on_stream == [(1, self.region.clone())])
            && here.is_some_and(|r| !self.audits || r.audit_objects == 1)
            && self.trace.regions.values().all(|r| r.in_log == [1])
            && self.trace.regions.values().all(|r| !self.views || r.view_version == Some(1))
    }

    /// Regions whose replica holds the event.
    pub fn replicas(&self) -> usize {
        self.trace.regions.values().filter(|r| r.in_log == [1]).count()
    }

    /// Regions whose read model shows the task at version 1.
    pub fn views(&self) -> usize {
        self.trace.regions.values().filter(|r| r.view_version == Some(1)).count()
    }

    /// Audit objects of the event in any region.
    pub fn audit_objects(&self) -> usize {
        self.trace.regions.values().map(|r| r.audit_objects).sum()
    }
}

/// Sends one command to `region`'s API and follows its event.
pub async fn run(runtime: &Runtime, deployment: &Deployment, clients: &Clients, region: &str) -> Result<RegionSmoke> {
    let url = runtime.urls().get(region).cloned().context("the region is not running")?;
    let health = call(&url, "GET", "/health", None, CALL).await?;
    let body = serde_json::json!({"title": format!("demo task in {region}")});
    let created = call(&url, "POST", "/tasks", Some(&body), CALL).await?;
    if created.status != 201 {
        bail!("POST {url}/tasks answered {}: {}", created.status, created.body);
    }
    let task = created.json()["id"].as_str().context("the answer has no task id")?.to_owned();
    let first = deployment.regions.first().context("no region")?;
    let views = first.function(FunctionKind::ProjectorView).is_some();
    let audits = first.function(FunctionKind::ProjectorAudit).is_some();
    let started = tokio::time::Instant::now();
    let mut smoke = RegionSmoke {
        region: region.to_owned(),
        healthy: health.status == 200,
        task,
        trace: Trace::default(),
        views,
        audits,
        settled_in: None,
    };
    while started.elapsed() < PATIENCE {
        smoke.trace = trace_task(clients, deployment, &smoke.task).await?;
        if smoke.passed() {
            smoke.settled_in = Some(started.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(smoke)
}
