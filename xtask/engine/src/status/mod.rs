//! What is deployed where and how healthy it is, for `cargo xtask status` and as the preflight
//! of drills and region changes: for every region, configured or only deployed, its stacks
//! (state, drift from the current synth), what the config asks for that is missing, stacks of
//! regions no longer configured, the region's Route53 health check and records under the shared
//! name, its stream consumers' iterator age and its queues' depths, its publisher watermark and
//! any takeover of its events. Gathering reads only; the
//! verdict is [`Status::verdict`].

mod consumers;
mod publishing;
mod regions;
mod render;
mod route53;
mod stacks;

pub use consumers::{ConsumerAge, QueueDepth, QueueRole};
pub use render::text;
pub use route53::{HealthCheck, HealthVerdict, Record, RecordRouting, health_check, records};
pub use stacks::{Drift, StackStatus};

use crate::session::Session;
use anyhow::Result;
use serde::Serialize;
use std::collections::BTreeSet;
use std::time::Duration;

/// How far back iterator ages are read, and what counts as lagging.
#[derive(Debug, Clone, Copy)]
pub struct StatusOptions {
    /// The window of the `IteratorAge` maximum.
    pub window: Duration,
    /// An iterator age above this is a finding (the consumer is behind its stream).
    pub max_iterator_age: Duration,
}

impl Default for StatusOptions {
    fn default() -> StatusOptions {
        StatusOptions { window: Duration::from_secs(15 * 60), max_iterator_age: Duration::from_secs(60) }
    }
}

/// Everything `status` found.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The app's name.
    pub app: String,
    /// The shared name, with `[dns]`.
    pub domain: Option<String>,
    /// Configured regions first (config order), then regions that only have stacks.
    pub regions: Vec<RegionStatus>,
    /// What could not be read, or was read differently against the emulator.
    pub notes: Vec<String>,
    /// Regions not looked in because the endpoint does not serve them (the emulator knows fewer
    /// regions than AWS; on AWS, opt-in regions not enabled when the account's cannot be read).
    pub not_served: Vec<String>,
}

/// One region.
#[derive(Debug, Clone, Serialize)]
pub struct RegionStatus {
    /// The region code.
    pub region: String,
    /// Whether `regions.toml` lists it.
    pub configured: bool,
    /// Its stacks: every synthesized one (deployed or missing) and any other of the app's.
    pub stacks: Vec<StackStatus>,
    /// Its Route53 health check (with `[dns]`, once the dns stack has it).
    pub health_check: Option<HealthCheck>,
    /// Its records under the shared name (and the failover tiers' names).
    pub records: Vec<Record>,
    /// The stream consumers' iterator ages.
    pub consumers: Vec<ConsumerAge>,
    /// The on-failure and conflicts queues.
    pub queues: Vec<QueueDepth>,
    /// `RecordedAt` of the latest event its publisher published with every earlier one.
    pub watermark: Option<String>,
    /// How far another region took its events over, once it was lost.
    pub taken_over: Option<crate::takeover::Position>,
    /// Why the region is not healthy; empty when it is.
    pub findings: Vec<String>,
}

impl RegionStatus {
    /// Whether nothing is wrong with the region.
    pub fn is_healthy(&self) -> bool {
        self.findings.is_empty()
    }

    /// Whether Route53 considers the region healthy (no health check: not known, so not).
    pub fn is_routable(&self) -> bool {
        self.health_check.as_ref().is_some_and(|check| check.verdict == HealthVerdict::Healthy)
    }
}

/// The overall result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every region deployed as configured and healthy.
    Healthy,
    /// At least one finding.
    Degraded,
}

impl Verdict {
    /// The exit code of `status`: 0 healthy, 2 degraded (1 is left to errors).
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Healthy => 0,
            Verdict::Degraded => 2,
        }
    }
}

impl Status {
    /// Healthy when no region has a finding.
    pub fn verdict(&self) -> Verdict {
        if self.regions.iter().all(RegionStatus::is_healthy) { Verdict::Healthy } else { Verdict::Degraded }
    }

    /// The region called `name`.
    pub fn region(&self, name: &str) -> Option<&RegionStatus> {
        self.regions.iter().find(|r| r.region == name)
    }
}

/// Reads the status of every region: the configured ones and every region enabled for the
/// account where a stack of the app exists.
pub async fn gather(session: &Session, options: &StatusOptions) -> Result<Status> {
    let mut notes = Vec::new();
    let (deployed, not_served) = stacks::list_everywhere(session, &mut notes).await;
    let configured: Vec<String> = session.config.region_names().map(str::to_owned).collect();
    let mut names: Vec<String> = configured.clone();
    let extra: BTreeSet<&String> = deployed.keys().filter(|r| !configured.contains(r)).collect();
    names.extend(extra.into_iter().cloned());
    let dns = route53::read(session, &names, &mut notes).await?;
    let mut regions = Vec::with_capacity(names.len());
    for region in names {
        let is_configured = configured.contains(&region);
        let listed = deployed.get(&region).cloned().unwrap_or_default();
        let stacks = stacks::region_stacks(session, &region, &listed).await?;
        let (consumers, queues) = if is_configured && stacks::is_deployed(&stacks, ::stacks::StackPart::Region) {
            consumers::read(session, &region, options).await?
        } else {
            (Vec::new(), Vec::new())
        };
        let progress = if is_configured {
            publishing::read(session, &region, &configured, &mut notes).await
        } else {
            publishing::Publishing::default()
        };
        let mut status = RegionStatus {
            configured: is_configured,
            watermark: progress.watermark,
            taken_over: progress.taken_over,
            health_check: dns.health_checks.get(&region).cloned(),
            records: dns.records.iter().filter(|r| r.set_identifier == region).cloned().collect(),
            region,
            stacks,
            consumers,
            queues,
            findings: Vec::new(),
        };
        status.findings = findings(&status, dns.expected, options);
        regions.push(status);
    }
    Ok(Status {
        app: session.config.app.clone(),
        domain: session.config.dns.as_ref().map(|d| d.domain.clone()),
        regions,
        notes,
        not_served,
    })
}

/// Why `region` is not healthy. `dns_expected`: the dns stack is deployed, so every configured
/// region must have a health check and records.
fn findings(region: &RegionStatus, dns_expected: bool, options: &StatusOptions) -> Vec<String> {
    let mut found: Vec<String> = region.stacks.iter().filter_map(StackStatus::finding).collect();
    if !region.configured && region.stacks.iter().any(|s| s.state.is_some()) {
        found.push(format!(
            "{} is not in regions.toml but has stacks: add it back, or remove it (`cargo xtask destroy --region {}`)",
            region.region, region.region
        ));
    }
    if region.configured && dns_expected {
        match &region.health_check {
            None => found.push("no Route53 health check in the dns stack: deploy it (`cargo xtask deploy`)".into()),
            Some(check) if check.verdict != HealthVerdict::Healthy => {
                found.push(format!("health check {} is {}", check.id, check.verdict.as_str()));
            }
            Some(_) => {}
        }
        if region.records.is_empty() {
            found.push("no record under the shared name: deploy the dns stack (`cargo xtask deploy`)".into());
        }
    }
    let limit = options.max_iterator_age.as_millis() as f64;
    for consumer in region.consumers.iter().filter(|c| c.iterator_age_ms.is_some_and(|age| age > limit)) {
        found.push(format!(
            "{} is {:.0} s behind its stream (IteratorAge over {} s)",
            consumer.function,
            consumer.iterator_age_ms.unwrap_or_default() / 1000.0,
            options.max_iterator_age.as_secs()
        ));
    }
    for queue in region.queues.iter().filter(|q| q.depth > 0) {
        let unit = match queue.role {
            QueueRole::OnFailure { .. } => "failed batch record(s)",
            QueueRole::Other => "message(s)",
        };
        found.push(format!("{} holds {} {unit}: {}", queue.logical_id, queue.depth, queue.role.advice()));
    }
    found
}
