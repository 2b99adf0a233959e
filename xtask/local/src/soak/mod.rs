//! The exactly-once soak on the local runtime: starts the runtime for a deployed app (with
//! publish failures injected in front of Kinesis if asked), drives commands through every
//! region's HTTP API ([`driver`]), takes a region down when a share of the commands has been
//! acknowledged (`--kill R@50%`, the runtime's own outage), waits until nothing moves any more
//! (after the takeover of the killed region's events), reads every replica of the log (what is
//! stranded in the killed region), brings the killed region back and waits until nothing moves
//! again, then reads every store back ([`snapshot`]) and audits the converged system against what
//! was acknowledged ([`audit`], where "lost", "stranded", "duplicated effect" and "order
//! violation" are defined), and reports it with the CPU time of each process ([`profile`],
//! [`report`]).
//!
//! ```text
//! run(clients, deployment, RunSettings, SoakSettings) -> Soak { driven, audit, phases, profile, faults }
//! ```

pub mod audit;
pub mod calls;
pub mod driver;
pub mod faults;
pub mod profile;
pub mod report;
pub mod snapshot;

use crate::clients::Clients;
use crate::mapping::MappingSettings;
use crate::replication::ReplicationSettings;
use crate::run::{Deployment, RunError, RunSettings, Runtime};
use audit::Audit;
use driver::{DriveSettings, Driven, Progress, Targets};
use faults::FaultProxy;
use profile::Profile;
use stacks::app::FunctionKind;
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `R@P%`: take region R down once P% of the commands are acknowledged.
#[derive(Debug, Clone, PartialEq)]
pub struct KillAt {
    /// The region.
    pub region: String,
    /// Share of the commands (0..=1).
    pub fraction: f64,
}

impl FromStr for KillAt {
    type Err = String;

    fn from_str(text: &str) -> Result<KillAt, String> {
        let (region, at) =
            text.split_once('@').ok_or_else(|| format!("{text:?}: expected REGION@PERCENT%, e.g. eu-west-1@50%"))?;
        let percent = at.strip_suffix('%').and_then(|p| p.parse::<f64>().ok()).filter(|p| (0.0..=100.0).contains(p));
        match (region.is_empty(), percent) {
            (true, _) => Err(format!("{text:?}: the region is missing before @")),
            (false, None) => Err(format!("{text:?}: expected a percentage from 0% to 100% after @, e.g. 50%")),
            (false, Some(p)) => Ok(KillAt { region: region.to_owned(), fraction: p / 100.0 }),
        }
    }
}

/// How the soak runs.
#[derive(Debug, Clone)]
pub struct SoakSettings {
    /// What the client sends.
    pub drive: DriveSettings,
    /// A region to take down part-way.
    pub kill: Option<KillAt>,
    /// Share of `PutRecords` entries of the publishers that fail (0: no proxy).
    pub publish_failure_rate: f64,
    /// Nothing read, delivered or replicated for this long, and no record waiting in a mapping:
    /// the runtime is quiet.
    pub quiet: Duration,
    /// Most time to wait for quiet after the last command; after a killed region's return, this
    /// and as long again as the region was down ([`after_return_limit`]).
    pub settle_limit: Duration,
    /// Print the acknowledged count this often while driving (`None`: silent).
    pub progress_every: Option<Duration>,
}

/// Wall time of each phase.
#[derive(Debug, Clone, Default)]
pub struct Phases {
    /// Starting the runtime.
    pub start: Duration,
    /// Sending the commands.
    pub drive: Duration,
    /// From the last answer until the runtime was quiet (includes the quiet window and, with a
    /// kill, the wait for the takeover).
    pub settle: Duration,
    /// With a kill: from the killed region's return until the runtime was quiet again.
    pub after_return: Duration,
    /// Reading every store back and auditing.
    pub audit: Duration,
}

/// A finished soak.
#[derive(Debug)]
pub struct Soak {
    /// The regions, in order.
    pub regions: Vec<String>,
    /// What the client saw.
    pub driven: Driven,
    /// What the stores hold against it.
    pub audit: Audit,
    /// Where the wall time went.
    pub phases: Phases,
    /// CPU time per process group.
    pub cpu: Vec<(String, Duration)>,
    /// `PutRecords` (calls, entries, entries failed on purpose) when failures were injected.
    pub faults: Option<(u64, u64, u64)>,
    /// Writes of the event log replication applied over a concurrent one (last writer wins).
    pub replication_conflicts: u64,
    /// Replication's counters over every table at the end.
    pub replication: Option<crate::replication::ReplicationSnapshot>,
    /// The region taken down, and after how many acknowledgements.
    pub killed: Option<(String, usize)>,
    /// How long the killed region was down before it was brought back.
    pub down_for: Option<Duration>,
    /// Whether the runtime went quiet before `settle_limit` (each time it was waited for).
    pub settled: bool,
    /// The runtime's takeover of the killed region's unpublished events, as it reported it.
    pub takeover: Option<String>,
    /// The emulator's calls, by caller and operation.
    pub calls: calls::CallCounts,
}

/// The soak cannot run.
#[derive(Debug, thiserror::Error)]
pub enum SoakError {
    /// The runtime does not start.
    #[error(transparent)]
    Run(#[from] RunError),
    /// The fault proxy or the call tap cannot listen.
    #[error("starting a proxy in front of the emulator on 127.0.0.1: {0}")]
    Proxy(std::io::Error),
    /// A store cannot be read back.
    #[error(transparent)]
    Snapshot(#[from] snapshot::SnapshotError),
    /// `--kill` names a region that is not running.
    #[error("--kill {0}: not one of the running regions ({1})")]
    UnknownRegion(String, String),
}

/// Pollers' timings for a soak: every poll of an idle shard is a call the emulator serves, so
/// polling more eagerly than Lambda takes the emulator's time from the commands (measured: at
/// 100 ms / 250 ms and shard lists every second, GetRecords, DescribeStream and ListShards were
/// 130 of the 207 emulator calls per command). The mappings poll an idle shard as Lambda does:
/// a DynamoDB stream's 4 times a second, a Kinesis shard's once a second, and keep reading
/// without waiting while records come (developer guide, "Using AWS Lambda with Amazon
/// DynamoDB" and "... with Amazon Kinesis", polling and batching streams:
/// <https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html>). The soak never reshards,
/// so the shard lists are read again every 10 s, not every second, by the mappings and by
/// replication. Replication reads a replica's stream every 100 ms while it has records and
/// backs off to 800 ms while it has none (see [`crate::replication`]); a replica's peers wake it
/// at once when they send it a write.
pub fn polling(lag: Duration) -> (MappingSettings, ReplicationSettings) {
    let mapping = MappingSettings {
        dynamodb_poll: Duration::from_millis(250),
        kinesis_poll: Duration::from_secs(1),
        shard_discovery: Duration::from_secs(10),
        retry_delay: Duration::from_millis(50),
    };
    let replication =
        ReplicationSettings { lag, poll: Duration::from_millis(100), shard_discovery: Duration::from_secs(10) };
    (mapping, replication)
}

/// Runs the soak against `deployment` (deployed to the emulator at `run.endpoint`).
pub async fn run(
    clients: &Clients,
    deployment: &Deployment,
    run: RunSettings,
    settings: &SoakSettings,
) -> Result<Soak, SoakError> {
    let regions: Vec<String> = deployment.regions.iter().map(|r| r.region.clone()).collect();
    if let Some(kill) = settings.kill.as_ref().filter(|k| !regions.contains(&k.region)) {
        return Err(SoakError::UnknownRegion(kill.region.clone(), regions.join(", ")));
    }
    let mut phases = Phases::default();
    let started = tokio::time::Instant::now();
    let emulator = run.endpoint.clone();
    let tap = calls::CallTap::start(&emulator, &["functions", "runtime"]).await.map_err(SoakError::Proxy)?;
    let mut run = run;
    run.endpoint = tap.url("functions").unwrap_or(&emulator).to_owned();
    let tapped = clients.with_endpoint(tap.url("runtime").unwrap_or(&emulator));
    let (deployment, proxy) = with_faults(deployment, &run.endpoint, settings.publish_failure_rate).await?;
    let runtime = Runtime::start(&tapped, &deployment, run.clone()).await?;
    phases.start = started.elapsed();
    let profile = Arc::new(Mutex::new(Profile::default()));
    let sampler = start_profile(&runtime, &emulator, &profile);

    let targets = Targets { regions: runtime.urls().into_iter().collect(), outages: runtime.outages().clone() };
    let progress = Arc::new(Progress::default());
    let conflicts = count_log_conflicts(&runtime, &deployment);
    let killer = settings.kill.clone().map(|kill| {
        let (progress, outages) = (progress.clone(), runtime.outages().clone());
        let threshold = (settings.drive.events as f64 * kill.fraction).ceil() as usize;
        tokio::spawn(async move {
            while progress.acknowledged.load(Ordering::Relaxed) < threshold {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            outages.kill(&kill.region);
            (kill.region, progress.acknowledged.load(Ordering::Relaxed))
        })
    });
    let driving = tokio::time::Instant::now();
    let ticker = settings.progress_every.map(|every| print_progress(progress.clone(), every));
    driver::drive(&settings.drive, &targets, &progress).await;
    phases.drive = driving.elapsed();
    ticker.iter().for_each(tokio::task::JoinHandle::abort);
    let killed = match killer {
        Some(task) if task.is_finished() => task.await.ok(),
        Some(task) => {
            task.abort();
            None
        }
        None => None,
    };

    let settling = tokio::time::Instant::now();
    let lost = killed.as_ref().map(|(region, _)| region.as_str());
    let taken_over = wait_for_takeover(&runtime, lost, settings.settle_limit).await;
    let mut settled = settle(&runtime, settings.quiet, settings.settle_limit).await;
    phases.settle = settling.elapsed();

    let driven = progress.driven();
    let tasks = audit::tasks(&driven);
    let mut before_return = BTreeMap::new();
    let mut down_for = None;
    if let Some(lost) = lost {
        for region in &deployment.regions {
            before_return.insert(region.region.clone(), snapshot::read_log(clients, region, &tasks).await?);
        }
        down_for = runtime.outages().last_outage(lost).and_then(|o| o.down.elapsed().ok());
        if settings.progress_every.is_some() {
            println!("{lost} comes back: its API serves again, its mappings and replication resume where they stopped");
        }
        let returning = tokio::time::Instant::now();
        runtime.outages().restore(lost);
        settled &= settle(&runtime, settings.quiet, after_return_limit(settings.settle_limit, down_for)).await;
        phases.after_return = returning.elapsed();
    }

    let auditing = tokio::time::Instant::now();
    let mut stores = BTreeMap::new();
    for region in &deployment.regions {
        stores.insert(region.region.clone(), snapshot::read_region(clients, region, &tasks).await?);
    }
    let killed_region = lost.map(|region| audit::Killed { region, before_return: &before_return });
    let audit = audit::audit(&driven, &stores, killed_region);
    phases.audit = auditing.elapsed();

    sampler.abort();
    let cpu = profile.lock().map(|mut p| {
        p.sample();
        p.by_group()
    });
    let replication_conflicts = conflicts.as_ref().map_or(0, |(count, _)| count.load(Ordering::Relaxed));
    conflicts.iter().for_each(|(_, task)| task.abort());
    let faults = proxy.as_ref().map(|p| {
        let counts = p.counts();
        let load = |n: &std::sync::atomic::AtomicU64| n.load(Ordering::Relaxed);
        (load(&counts.calls), load(&counts.entries), load(&counts.injected))
    });
    let replication = runtime.replication().map(crate::replication::Replication::stats);
    runtime.shutdown().await;
    Ok(Soak {
        replication,
        regions,
        driven,
        audit,
        phases,
        cpu: cpu.unwrap_or_default(),
        faults,
        replication_conflicts,
        killed,
        down_for,
        settled,
        takeover: taken_over,
        calls: tap.counts(),
    })
}

/// The deployment with its publishers' Kinesis calls sent through a fault proxy, when failures
/// are asked for. The AWS SDKs read a service's own endpoint from `AWS_ENDPOINT_URL_<SERVICE>`
/// before `AWS_ENDPOINT_URL` ("Service-specific endpoints", AWS SDKs and Tools reference guide:
/// <https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html>).
async fn with_faults(
    deployment: &Deployment,
    endpoint: &str,
    rate: f64,
) -> Result<(Deployment, Option<FaultProxy>), SoakError> {
    let mut deployment = deployment.clone();
    if rate <= 0.0 {
        return Ok((deployment, None));
    }
    let proxy = FaultProxy::start(endpoint, rate).await.map_err(SoakError::Proxy)?;
    for region in &mut deployment.regions {
        for function in region.functions.iter_mut().filter(|f| f.kind == FunctionKind::Publisher) {
            function.variables.insert("AWS_ENDPOINT_URL_KINESIS".to_owned(), proxy.url().to_owned());
        }
    }
    Ok((deployment, Some(proxy)))
}

/// Watches the emulator, this process and every function process the hosts start; samples
/// their CPU time twice a second.
fn start_profile(runtime: &Runtime, endpoint: &str, profile: &Arc<Mutex<Profile>>) -> tokio::task::JoinHandle<()> {
    let port = endpoint.rsplit(':').next().and_then(|p| p.trim_end_matches('/').parse().ok()).unwrap_or(0);
    if let Ok(mut profile) = profile.lock() {
        if let Some(pid) = profile::emulator_pid(port) {
            profile.watch(pid, "emulator (moto server)", true);
        }
        let own = "runtime (this process: host, mappings, replication, gateways, client)";
        profile.watch(std::process::id(), own, true);
    }
    let mut receivers = Vec::new();
    for region in runtime.regions() {
        let kinds: BTreeMap<String, FunctionKind> = region.functions.iter().map(|f| (f.name.clone(), f.kind)).collect();
        receivers.push((region.host().subscribe(), kinds));
    }
    let profile = profile.clone();
    tokio::spawn(async move {
        loop {
            for (receiver, kinds) in &mut receivers {
                while let Ok(event) = receiver.try_recv() {
                    if let crate::events::EventKind::Spawned { pid: Some(pid) } = event.kind {
                        let kind = kinds.get(event.environment.function.as_ref());
                        let group = format!("function {}", kind.map_or("?", |k| k.crate_name()));
                        if let Ok(mut profile) = profile.lock() {
                            profile.watch(pid, &group, false);
                        }
                    }
                }
            }
            if let Ok(mut profile) = profile.lock() {
                profile.sample();
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    })
}

/// Counts the writes replication applied over a concurrent write of the event log (last writer
/// wins), in a task that reads replication's events as they come.
fn count_log_conflicts(
    runtime: &Runtime,
    deployment: &Deployment,
) -> Option<(Arc<std::sync::atomic::AtomicU64>, tokio::task::JoinHandle<()>)> {
    let region = deployment.regions.first()?;
    let lookup = |name: &str| region.function(FunctionKind::Api).and_then(|f| f.variables.get(name).cloned());
    let table = contract::env::ApiEnvironment::from_lookup(lookup).ok()?.event_log_table;
    let mut events = runtime.replication()?.subscribe();
    let count = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = count.clone();
    let task = tokio::spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match events.recv().await {
                Ok(event) => {
                    let conflict =
                        matches!(event.kind, crate::replication::ReplicationEventKind::Applied { conflict: true, .. });
                    if conflict && event.table == table {
                        counted.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            }
        }
    });
    Some((count, task))
}

/// Waits (at most `limit`) for the runtime's takeover of `lost`'s unpublished events; what it
/// did, in words.
async fn wait_for_takeover(runtime: &Runtime, lost: Option<&str>, limit: Duration) -> Option<String> {
    let lost = lost?;
    let start = tokio::time::Instant::now();
    while start.elapsed() < limit {
        if let Some(done) = runtime.takeovers().done().into_iter().find(|t| t.from == lost) {
            return Some(match done.outcome {
                Ok(report) => format!(
                    "{} took {lost}'s unpublished events over: {} published ({} possible duplicates), {} left",
                    done.to, report.published, report.possible_duplicates, report.left
                ),
                Err(error) => format!("{} could not take {lost}'s events over: {error}", done.to),
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Some(format!("no takeover of {lost} finished within {limit:?}"))
}

/// Prints the acknowledged count every `every`.
fn print_progress(progress: Arc<Progress>, every: Duration) -> tokio::task::JoinHandle<()> {
    let start = tokio::time::Instant::now();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            let acknowledged = progress.acknowledged.load(Ordering::Relaxed);
            let driven = progress.driven();
            let last = driven.unacknowledged.last().map_or_else(String::new, |u| format!(" (last: {})", u.reason));
            println!(
                "t={:.0}s: {acknowledged} commands acknowledged, {} unacknowledged{last}, {} tries behind a replica",
                start.elapsed().as_secs_f64(),
                driven.unacknowledged.len(),
                driven.behind_retries
            );
        }
    })
}

/// How long to wait for quiet after a killed region's return: `limit`, and as long again as the
/// region was down: what it missed meanwhile (every other region's writes, to replicate into it)
/// grows with the outage, and the 100,000-command benchmark keeps a region down for half an hour.
fn after_return_limit(limit: Duration, down_for: Option<Duration>) -> Duration {
    limit + down_for.unwrap_or_default()
}

/// Waits until no mapping reads or delivers and replication applies nothing for `quiet`, no
/// mapping of a live region holds a record it read (an invocation slower than `quiet`, or a batch
/// waiting to be tried again, moves no counter while it lasts), and replication has no write left
/// to apply (an emulator call slower than `quiet` holds up every write queued behind it); whether
/// that happened within `limit`.
async fn settle(runtime: &Runtime, quiet: Duration, limit: Duration) -> bool {
    let start = tokio::time::Instant::now();
    let mut last = activity(runtime);
    let mut still_since = tokio::time::Instant::now();
    while start.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = activity(runtime);
        if now != last {
            last = now;
            still_since = tokio::time::Instant::now();
        } else if still_since.elapsed() >= quiet && waiting(runtime) == 0 {
            return true;
        }
    }
    false
}

/// Records the mappings of the live regions read and are not done with (a region that is down
/// holds its mappings' records until it returns), and writes replication has still to apply to
/// the replicas it reaches (a returning region's replicas catching up included).
fn waiting(runtime: &Runtime) -> u64 {
    let live = runtime.regions().iter().filter(|region| !runtime.outages().is_down(&region.region));
    let mappings: u64 = live.flat_map(|region| &region.mappings).map(|(handle, _)| handle.stats().waiting()).sum();
    mappings + runtime.replication().map_or(0, crate::replication::Replication::queued)
}

/// Counters that move while anything flows.
fn activity(runtime: &Runtime) -> Vec<u64> {
    let mut counters = Vec::new();
    for region in runtime.regions() {
        for (handle, _) in &region.mappings {
            let stats = handle.stats();
            counters.extend([stats.read, stats.delivered, stats.invocations, stats.function_errors]);
        }
    }
    if let Some(replication) = runtime.replication() {
        let stats = replication.stats();
        // A write tried again is not quiet: it is still on its way.
        counters.extend([stats.local_writes, stats.applied, stats.superseded, stats.retried]);
    }
    counters
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kills_at_a_share_parse_and_bad_ones_say_how_to_fix_them() {
        let kill: KillAt = "eu-west-1@50%".parse().expect("kill");
        assert_eq!(kill, KillAt { region: "eu-west-1".into(), fraction: 0.5 });
        assert!("eu-west-1".parse::<KillAt>().unwrap_err().contains("REGION@PERCENT%"));
        assert!("eu-west-1@150%".parse::<KillAt>().unwrap_err().contains("0% to 100%"));
        assert!("eu-west-1@30s".parse::<KillAt>().unwrap_err().contains("percentage"));
        assert!("@5%".parse::<KillAt>().unwrap_err().contains("region is missing"));
    }

    #[test]
    fn the_wait_after_a_return_grows_with_the_time_the_region_was_down() {
        let limit = Duration::from_secs(305);
        assert_eq!(after_return_limit(limit, None), limit);
        assert_eq!(after_return_limit(limit, Some(Duration::from_secs(1900))), Duration::from_secs(2205));
    }
}
