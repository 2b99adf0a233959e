//! The local multi-region runtime: the app as deployed to the emulator in every selected region,
//! run on this machine. Per region, a [`Host`] runs the real function binaries as processes with
//! the variables of their deployed configuration and the emulator's endpoint; the deployed event
//! source mappings (and, from the template, those the local deployment left out) feed them; a
//! [`Gateway`] serves the api over HTTP on loopback. Replication runs between the regions'
//! tables. A region killed in the shared [`Outages`] (now, or at a time: `--kill R@T`) stops its
//! mappings and replication (they watch the outages), its API and its function processes; after a
//! grace period the first region still up takes the lost region's unpublished events over
//! ([`crate::takeover`], the engine's takeover; [`Runtime::takeovers`]). A killed region can come
//! back (`--kill R@T..T2`, [`Outages::restore`]): its API serves again on the same port and its
//! mappings and replication resume from where they stopped.
//!
//! ```text
//! discover(clients, config, regions) -> Deployment            (what is deployed, read back)
//! Runtime::start(clients, &deployment, RunSettings) -> Runtime { urls(), report(), kill_at(), shutdown() }
//! ```

pub mod build;
pub mod discover;
mod report;
pub mod trace;

pub use discover::{DeployedFunction, Deployment, DiscoverError, DiscoveredMapping, MappingSource, discover};

use crate::clients::Clients;
use crate::gateway::{Gateway, GatewayConfig};
use crate::mapping::{EventSourceMappings, MappingHandle, MappingSettings, StartError};
use crate::outage::Outages;
use crate::replication::{Replication, ReplicationError, ReplicationSettings};
use crate::streams::{ShardInfo, Stream};
use crate::takeover::Takeovers;
use crate::writes::Writes;
use crate::{AwsAccess, DEFAULT_ACCOUNT, FunctionSpec, Host, HostError, HostSettings};
use stacks::app::{FunctionKind, ROUTES};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How the runtime runs.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// The emulator's endpoint, given to every function process (`AWS_ENDPOINT_URL`).
    pub endpoint: String,
    /// The directory holding the function binaries built for this machine (`api`, `publisher`, ...).
    pub binaries: PathBuf,
    /// Most concurrent api invocations per region (Lambda scales a synchronous function with its
    /// requests; locally a small pool is plenty).
    pub api_concurrency: usize,
    /// The first region's API port; the others take the next ones (0: any free port).
    pub base_port: u16,
    /// Pollers' timings.
    pub mapping: MappingSettings,
    /// Replication's lag and polling.
    pub replication: ReplicationSettings,
    /// Where each function environment's output is appended (`<region>/<function>-<n>.log`).
    pub log_dir: Option<PathBuf>,
}

/// `R@T`: take region R down T after the start (`eu-west-1@30s`, `@1m`, `@500ms`, `@45`);
/// `R@T..T2`: and bring it back T2 after the start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kill {
    /// The region.
    pub region: String,
    /// Time after the start.
    pub after: Duration,
    /// Time after the start when it comes back (`None`: it stays down).
    pub back: Option<Duration>,
}

impl FromStr for Kill {
    type Err = String;

    fn from_str(text: &str) -> Result<Kill, String> {
        let (region, at) = text
            .split_once('@')
            .ok_or_else(|| format!("{text:?}: expected REGION@TIME or REGION@TIME..RETURN, e.g. eu-west-1@30s"))?;
        if region.is_empty() {
            return Err(format!("{text:?}: the region is missing before @"));
        }
        let (after, back) = match at.split_once("..") {
            Some((down, up)) => (parse_duration(down)?, Some(parse_duration(up)?)),
            None => (parse_duration(at)?, None),
        };
        if back.is_some_and(|back| back <= after) {
            return Err(format!("{text:?}: the return must come after the kill, e.g. eu-west-1@30s..90s"));
        }
        Ok(Kill { region: region.to_owned(), after, back })
    }
}

/// A duration as `500ms`, `30s`, `2m`, `1h` or plain seconds (`45`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: u64 = number.parse().map_err(|_| format!("{text:?}: expected a duration such as 30s, 2m or 500ms"))?;
    let seconds = |n: u64| Duration::from_secs(n);
    match unit {
        "ms" => Ok(Duration::from_millis(value)),
        "" | "s" => Ok(seconds(value)),
        "m" => Ok(seconds(value.saturating_mul(60))),
        "h" => Ok(seconds(value.saturating_mul(3600))),
        _ => Err(format!("{text:?}: unknown unit {unit:?}; use ms, s, m or h")),
    }
}

/// The runtime cannot start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A function cannot be hosted (its binary is missing, ...).
    #[error(transparent)]
    Host(#[from] HostError),
    /// A mapping cannot start.
    #[error(transparent)]
    Mapping(#[from] StartError),
    /// Replication cannot start.
    #[error(transparent)]
    Replication(#[from] ReplicationError),
    /// A gateway port cannot be opened.
    #[error("opening the HTTP API of {region} on 127.0.0.1:{port}: {error}")]
    Gateway {
        /// The region.
        region: String,
        /// The port asked for.
        port: u16,
        /// Why.
        error: std::io::Error,
    },
    /// A kill names a region that is not running.
    #[error("--kill {0}: the region is not one of the running regions ({1})")]
    UnknownRegion(String, String),
}

/// A function as the runtime hosts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostedFunction {
    /// Its name.
    pub name: String,
    /// Its binary.
    pub kind: FunctionKind,
    /// Most environments at once.
    pub concurrency: usize,
}

/// One running region.
#[derive(Debug)]
pub struct RegionRun {
    /// The region.
    pub region: String,
    /// `http://127.0.0.1:<port>` of its HTTP API.
    pub url: String,
    /// Its functions.
    pub functions: Vec<HostedFunction>,
    /// Its mappings and where each configuration came from.
    pub mappings: Vec<(MappingHandle, MappingSource)>,
    host: Arc<Host>,
    watcher: JoinHandle<()>,
}

impl RegionRun {
    /// The host running the region's functions.
    pub fn host(&self) -> &Arc<Host> {
        &self.host
    }
}

/// The running runtime; everything stops when it is shut down or dropped.
#[derive(Debug)]
pub struct Runtime {
    started: tokio::time::Instant,
    outages: Outages,
    regions: Vec<RegionRun>,
    replication: Option<Replication>,
    kills: Vec<JoinHandle<()>>,
    takeovers: Takeovers,
    takeover_watchers: Vec<JoinHandle<()>>,
    settings: RunSettings,
}

impl Runtime {
    /// Starts every region of `deployment`: hosts, mappings, gateways; then replication.
    pub async fn start(clients: &Clients, deployment: &Deployment, settings: RunSettings) -> Result<Runtime, RunError> {
        let mut settings = settings;
        // Each process starts in its binary's directory, so a relative path would not find it.
        settings.binaries = std::path::absolute(&settings.binaries).unwrap_or(settings.binaries);
        let outages = Outages::new();
        let writes = Writes::new();
        let mut regions = Vec::new();
        for (index, region) in deployment.regions.iter().enumerate() {
            regions.push(start_region(clients, region, index, &settings, (&outages, &writes)).await?);
        }
        let replication = if deployment.global_tables.is_empty() {
            None
        } else {
            let settings = settings.replication.clone();
            Some(Replication::start(clients, &deployment.global_tables, outages.clone(), &writes, settings).await?)
        };
        let takeovers = Takeovers::default();
        let names: Vec<String> = deployment.regions.iter().map(|r| r.region.clone()).collect();
        let takeover_watchers = takeovers.watch(clients, &deployment.app, &names, &outages);
        let started = tokio::time::Instant::now();
        Ok(Runtime {
            started,
            outages,
            regions,
            replication,
            kills: Vec::new(),
            takeovers,
            takeover_watchers,
            settings,
        })
    }

    /// The running regions.
    pub fn regions(&self) -> &[RegionRun] {
        &self.regions
    }

    /// Each region's API URL.
    pub fn urls(&self) -> BTreeMap<String, String> {
        self.regions.iter().map(|r| (r.region.clone(), r.url.clone())).collect()
    }

    /// The switchboard every engine watches.
    pub fn outages(&self) -> &Outages {
        &self.outages
    }

    /// The takeovers a region's loss triggers: their settings, output and results.
    pub fn takeovers(&self) -> &Takeovers {
        &self.takeovers
    }

    /// Replication's counters, when there is replication.
    pub fn replication(&self) -> Option<&Replication> {
        self.replication.as_ref()
    }

    /// Takes `kill.region` down `kill.after` the start (at once if that time has passed), and
    /// brings it back at `kill.back`, if given.
    pub fn schedule(&mut self, kill: &Kill) -> Result<(), RunError> {
        if !self.regions.iter().any(|r| r.region == kill.region) {
            let running: Vec<&str> = self.regions.iter().map(|r| r.region.as_str()).collect();
            return Err(RunError::UnknownRegion(kill.region.clone(), running.join(", ")));
        }
        self.kills.push(self.outages.kill_at(&kill.region, self.started + kill.after));
        if let Some(back) = kill.back {
            self.kills.push(self.outages.restore_at(&kill.region, self.started + back));
        }
        Ok(())
    }

    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// What runs where, what is emulated and what is real: the start-up report.
    pub fn report(&self, deployment: &Deployment, kills: &[Kill]) -> Vec<String> {
        report::lines(self, deployment, kills)
    }

    /// Stops everything: kills' timers, gateways, mappings, replication, function processes.
    pub async fn shutdown(mut self) {
        self.kills.drain(..).for_each(|k| k.abort());
        self.takeover_watchers.drain(..).for_each(|w| w.abort());
        if let Some(mut replication) = self.replication.take() {
            replication.stop();
        }
        for region in self.regions.drain(..) {
            region.watcher.abort();
            drop(region.mappings);
            region.host.shutdown().await;
        }
    }
}

async fn start_region(
    clients: &Clients,
    deployed: &discover::RegionDeployment,
    index: usize,
    settings: &RunSettings,
    (outages, writes): (&Outages, &Writes),
) -> Result<RegionRun, RunError> {
    let region = deployed.region.clone();
    let log_dir = settings.log_dir.as_ref().map(|dir| dir.join(&region));
    if let Some(dir) = &log_dir {
        // A missing log directory only loses the logs; the host writes nothing then.
        let _ = std::fs::create_dir_all(dir);
    }
    let host = Arc::new(Host::new(HostSettings { log_dir, ..HostSettings::default() }));
    let mut functions = Vec::new();
    for function in &deployed.functions {
        let concurrency = match function.kind {
            FunctionKind::Api => settings.api_concurrency.max(1),
            _ => shards_of(clients, deployed, &function.name).await.max(1),
        };
        let mut spec = FunctionSpec::new(
            &function.name,
            settings.binaries.join(function.kind.crate_name()),
            &region,
            AwsAccess::emulator(&settings.endpoint),
        );
        spec.memory_mb = function.memory_mb;
        spec.timeout = function.timeout;
        spec.max_concurrency = concurrency;
        spec.variables = function.variables.clone();
        host.add_function(spec)?;
        functions.push(HostedFunction { name: function.name.clone(), kind: function.kind, concurrency });
    }
    let engine = EventSourceMappings::new(clients.clone(), host.clone(), outages.clone(), settings.mapping.clone());
    let mut mappings = Vec::new();
    for mapping in &deployed.mappings {
        mappings.push((engine.start(mapping.config.clone())?, mapping.source.clone()));
    }
    let port = if settings.base_port == 0 { 0 } else { settings.base_port.saturating_add(index_port(index)) };
    let api = deployed.function(FunctionKind::Api).map(|f| f.name.clone()).unwrap_or_default();
    let gateway = GatewayConfig {
        region: region.clone(),
        api_id: format!("local-{region}"),
        account_id: DEFAULT_ACCOUNT.to_owned(),
        routes: ROUTES.iter().map(|r| (*r).to_owned()).collect(),
        function: api,
        port,
        writes: writes.clone(),
    };
    let mut config = gateway;
    let gateway = Gateway::start(config.clone(), host.clone()).await.map_err(|error| RunError::Gateway {
        region: region.clone(),
        port,
        error,
    })?;
    let url = gateway.url();
    // It comes back on the port it had, so its URL stays the same.
    config.port = url.rsplit(':').next().and_then(|port| port.parse().ok()).unwrap_or(port);
    let watcher = tokio::spawn(follow_outages(config, gateway, host.clone(), outages.clone()));
    Ok(RegionRun { region, url, functions, mappings, host, watcher })
}

fn index_port(index: usize) -> u16 {
    u16::try_from(index).unwrap_or(u16::MAX)
}

/// When the gateway's region goes down: its API stops answering and its idle function processes
/// stop (its mappings and replication watch the same outages and pause themselves); when it comes
/// back, its API serves again on the same port (its functions start again on demand).
async fn follow_outages(config: GatewayConfig, mut gateway: Gateway, host: Arc<Host>, outages: Outages) {
    let region = config.region.clone();
    loop {
        outages.wait_down(&region).await;
        gateway.stop();
        host.shutdown().await;
        outages.wait_up(&region).await;
        // The port was just released; binding it again can race the old listener's close.
        for _ in 0..50 {
            match Gateway::start(config.clone(), host.clone()).await {
                Ok(started) => {
                    gateway = started;
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }
}

/// How many invocations Lambda runs at once for `function`'s mappings: one per open shard of
/// each mapped stream, as with `ParallelizationFactor` 1 (what the kit's mappings set and what
/// the emulated mappings do). Lambda API reference, `EventSourceMappingConfiguration`:
/// "ParallelizationFactor: (Kinesis and DynamoDB Streams only) The number of batches to process
/// concurrently from each shard. The default value is 1."
async fn shards_of(clients: &Clients, deployed: &discover::RegionDeployment, function: &str) -> usize {
    let mut total = 0;
    for mapping in deployed.mappings.iter().filter(|m| m.config.function_name == function) {
        let Some(stream) = Stream::from_arn(clients, &mapping.config.event_source_arn) else { continue };
        total += stream.shards().await.map(|shards| open_shards(&shards)).unwrap_or(1);
    }
    total
}

/// Shards no other shard names as a parent: the ones still written to.
fn open_shards(shards: &[ShardInfo]) -> usize {
    let parents: BTreeSet<&str> = shards.iter().flat_map(|s| s.parents.iter().map(String::as_str)).collect();
    shards.iter().filter(|s| !parents.contains(s.id.as_str())).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kills_and_durations_parse_with_their_units_and_bad_ones_say_how_to_fix_them() {
        let kill: Kill = "eu-west-1@30s".parse().expect("kill");
        assert_eq!(kill, Kill { region: "eu-west-1".into(), after: Duration::from_secs(30), back: None });
        let back: Kill = "eu-west-1@30s..2m".parse().expect("kill and return");
        assert_eq!(back.back, Some(Duration::from_secs(120)));
        assert!("eu-west-1@30s..10s".parse::<Kill>().unwrap_err().contains("return must come after"));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert!("eu-west-1".parse::<Kill>().unwrap_err().contains("REGION@TIME"));
        assert!("@3s".parse::<Kill>().unwrap_err().contains("region is missing"));
        assert!(parse_duration("3d").unwrap_err().contains("unknown unit"));
    }

    #[test]
    fn open_shards_are_those_without_children() {
        let shard = |id: &str, parents: &[&str]| ShardInfo {
            id: id.into(),
            parents: parents.iter().map(|p| (*p).to_owned()).collect(),
        };
        let shards = [shard("a", &[]), shard("b", &["a"]), shard("c", &["a"]), shard("d", &[])];
        assert_eq!(open_shards(&shards), 3);
    }
}
