//! Event source mapping emulation for DynamoDB Streams and Kinesis: each mapping polls its
//! stream's shards (parents before children, one batch in flight per shard, as Lambda does with
//! `ParallelizationFactor` 1), filters records, batches them, invokes the function through an
//! [`Invoker`], and checkpoints, retries, bisects, ages out and records failures as Lambda does.
//!
//! ```text
//! EventSourceMappings::new(clients, invoker, outages, settings)
//!   .start(MappingConfig)  -> MappingHandle { stats(), stop() }
//!   .subscribe()           -> MappingEvent stream
//! ```
//!
//! A mapping stops when its handle is stopped or dropped, and pauses while its region is down in
//! the shared [`Outages`](crate::outage::Outages). Locally these mappings must be the only consumers
//! of their streams: moto runs its own mappings on table streams by invoking a function it
//! cannot run and then drops the records, so the deployer leaves such mappings out and the
//! runtime starts them from the template ([`MappingConfig::from_template`]). On a Kinesis stream
//! moto's mapping invokes nothing that runs and leaves the records in place, so the emulated
//! mapping, started from the Lambda API's configuration, is the only one that consumes them
//! ([`EMULATION_NOTES`]).

pub mod config;
pub mod destination;
pub mod filter;
pub mod invoker;
pub mod payload;
pub mod report;
pub mod response;
mod shard;

pub use config::{ConfigError, MappingConfig, StartingPosition, TemplateValues};
pub use invoker::{InvokeFailure, Invoked, Invoker};
pub use report::{InvocationOutcome, MappingEvent, MappingEventKind, MappingStats, StatsSnapshot};

use crate::clients::Clients;
use crate::outage::Outages;
use crate::streams::{Stream, StreamKind, order};
use filter::{FilterError, Filters};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast;
use tokio::task::{JoinHandle, JoinSet};

/// What the runtime says at start about the mappings it emulates.
pub const EMULATION_NOTES: &[&str] = &[
    "event source mappings are emulated by the kit (polling, filters, batching, retries, bisection, record age, \
     on-failure destinations) and are the only consumers of the streams: moto's own mappings cannot run code",
    "moto drops a table stream's records once a mapping exists on it, so table-stream mappings are left out of the \
     local deployment and started here from the synthesized template",
    "moto's Kinesis mappings try to invoke the function on every PutRecord and leave the records in place; the \
     kit's mapping, read from the Lambda API, consumes them",
];

/// Timings of the pollers.
#[derive(Debug, Clone)]
pub struct MappingSettings {
    /// Wait after an empty read of a DynamoDB stream shard (Lambda polls 4 times a second:
    /// developer guide, "Using AWS Lambda with Amazon DynamoDB", polling and batching).
    pub dynamodb_poll: Duration,
    /// Wait after an empty read of a Kinesis shard (Lambda polls once a second: "Using AWS
    /// Lambda with Amazon Kinesis", polling and batching).
    pub kinesis_poll: Duration,
    /// How often the shard list is read again for new shards.
    pub shard_discovery: Duration,
    /// Wait before retrying a failed batch or a function that could not be invoked.
    pub retry_delay: Duration,
}

impl Default for MappingSettings {
    fn default() -> Self {
        MappingSettings {
            dynamodb_poll: Duration::from_millis(250),
            kinesis_poll: Duration::from_secs(1),
            shard_discovery: Duration::from_secs(1),
            retry_delay: Duration::from_millis(100),
        }
    }
}

impl MappingSettings {
    /// Fast polling for tests and benchmarks against a local emulator.
    pub fn eager() -> MappingSettings {
        MappingSettings {
            dynamodb_poll: Duration::from_millis(20),
            kinesis_poll: Duration::from_millis(20),
            shard_discovery: Duration::from_millis(100),
            retry_delay: Duration::from_millis(10),
        }
    }
}

/// A mapping cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The source is not a DynamoDB or Kinesis stream ARN.
    #[error("mapping {mapping}: {arn} is not a DynamoDB or Kinesis stream ARN")]
    UnsupportedSource {
        /// The mapping's UUID.
        mapping: String,
        /// The ARN.
        arn: String,
    },
    /// A filter pattern is invalid.
    #[error("mapping {mapping}: {error}")]
    Filter {
        /// The mapping's UUID.
        mapping: String,
        /// Why.
        error: FilterError,
    },
}

/// Everything one mapping's tasks share.
pub(crate) struct Mapping<I> {
    pub(crate) config: MappingConfig,
    pub(crate) stream: Stream,
    pub(crate) filters: Filters,
    pub(crate) clients: Clients,
    pub(crate) invoker: Arc<I>,
    pub(crate) outages: Outages,
    pub(crate) settings: MappingSettings,
    pub(crate) stats: Arc<MappingStats>,
    pub(crate) events: broadcast::Sender<MappingEvent>,
}

impl<I> Mapping<I> {
    pub(crate) fn emit(&self, shard: &str, kind: MappingEventKind) {
        let event =
            MappingEvent { at: Instant::now(), mapping: self.config.uuid.clone(), shard: shard.to_owned(), kind };
        // Nobody listening is fine.
        let _ = self.events.send(event);
    }

    pub(crate) fn poll_interval(&self) -> Duration {
        match self.stream.kind() {
            StreamKind::DynamoDb => self.settings.dynamodb_poll,
            StreamKind::Kinesis => self.settings.kinesis_poll,
        }
    }
}

/// Starts and tracks emulated mappings.
pub struct EventSourceMappings<I> {
    clients: Clients,
    invoker: Arc<I>,
    outages: Outages,
    settings: MappingSettings,
    events: broadcast::Sender<MappingEvent>,
}

impl<I: Invoker> EventSourceMappings<I> {
    /// Mappings that read with `clients`, invoke through `invoker`, and stop with their region.
    pub fn new(clients: Clients, invoker: Arc<I>, outages: Outages, settings: MappingSettings) -> Self {
        EventSourceMappings { clients, invoker, outages, settings, events: broadcast::channel(4_096).0 }
    }

    /// Every event of every mapping from now on (a slow receiver misses the oldest).
    pub fn subscribe(&self) -> broadcast::Receiver<MappingEvent> {
        self.events.subscribe()
    }

    /// Starts `config` (a disabled mapping starts nothing and its handle reports no work).
    pub fn start(&self, config: MappingConfig) -> Result<MappingHandle, StartError> {
        let stream = Stream::from_arn(&self.clients, &config.event_source_arn).ok_or_else(|| {
            StartError::UnsupportedSource { mapping: config.uuid.clone(), arn: config.event_source_arn.clone() }
        })?;
        let data_key = match stream.kind() {
            StreamKind::DynamoDb => "dynamodb",
            StreamKind::Kinesis => "data",
        };
        let filters = Filters::new(&config.filters, data_key)
            .map_err(|error| StartError::Filter { mapping: config.uuid.clone(), error })?;
        let stats = Arc::new(MappingStats::default());
        let enabled = config.enabled;
        let mapping = Arc::new(Mapping {
            config,
            stream,
            filters,
            clients: self.clients.clone(),
            invoker: self.invoker.clone(),
            outages: self.outages.clone(),
            settings: self.settings.clone(),
            stats: stats.clone(),
            events: self.events.clone(),
        });
        let config = mapping.config.clone();
        let task = enabled.then(|| tokio::spawn(run(mapping)));
        Ok(MappingHandle { config, stats, task })
    }
}

/// A running mapping.
#[derive(Debug)]
pub struct MappingHandle {
    config: MappingConfig,
    stats: Arc<MappingStats>,
    task: Option<JoinHandle<()>>,
}

impl MappingHandle {
    /// The configuration it runs.
    pub fn config(&self) -> &MappingConfig {
        &self.config
    }

    /// Its counters now.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// Whether it is still polling.
    pub fn is_running(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Stops polling at once; a batch in flight is abandoned (its records were not checkpointed).
    pub fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Drop for MappingHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Reads the shard list until stopped; starts each shard once its parents are finished. While
/// the region is down nothing of the mapping runs; it resumes from where it stopped (each shard
/// from its last checkpoint, a batch in flight included) when the region is back.
async fn run<I: Invoker>(mapping: Arc<Mapping<I>>) {
    let region = mapping.config.region().to_owned();
    let outages = mapping.outages.clone();
    outages.while_up(&region, poll_shards(mapping)).await;
}

async fn poll_shards<I: Invoker>(mapping: Arc<Mapping<I>>) {
    let (mut started, mut finished) = (BTreeSet::new(), BTreeSet::new());
    let mut shards = JoinSet::new();
    let mut first_listing = true;
    loop {
        match mapping.stream.shards().await {
            Ok(listed) => {
                for shard in order::ready(&listed, &started, &finished) {
                    // Shards there at the start honour the starting position; later ones are
                    // children of a reshard and are read from their beginning.
                    let start = if first_listing {
                        mapping.config.starting_position.start_at()
                    } else {
                        crate::streams::StartAt::TrimHorizon
                    };
                    started.insert(shard.id.clone());
                    let worker = shard::run(mapping.clone(), shard.id.clone(), start);
                    shards.spawn(mapping.outages.while_up(mapping.config.region(), worker));
                }
                first_listing = false;
            }
            Err(error) => mapping.emit("", MappingEventKind::Error(error.to_string())),
        }
        let discovery = tokio::time::sleep(mapping.settings.shard_discovery);
        tokio::pin!(discovery);
        loop {
            tokio::select! {
                Some(Ok(done)) = shards.join_next() => { finished.insert(done); }
                () = &mut discovery => break,
            }
        }
    }
}
