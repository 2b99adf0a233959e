//! Global-table replication between the regions' tables, through their streams, for the local
//! emulator (which creates each region's replica as a plain table and replicates nothing):
//! every local write in one region reaches every other region after a configurable lag, deletes
//! included; concurrent writes of one item are resolved by last writer wins ([`stamp`]); a write
//! applied for another region is never sent on again. The replica that loses a concurrent write
//! shows on its stream what a real replica shows: a MODIFY whose OldImage is its own write and
//! whose NewImage is the winner (DynamoDB developer guide, "How DynamoDB global tables work":
//! each replica's stream carries every write, local or replicated).
//!
//! Replication to and from a region pauses while it is down in the shared
//! [`Outages`](crate::outage::Outages): its replica stops reading and applying, and the other
//! replicas hold the writes it sent that were still waiting out their lag. When the region comes
//! back, its writes that had not propagated go out (last writer wins against what the other
//! regions wrote to the same items meanwhile), and what they wrote reaches it: for an MREC global
//! table AWS keeps an offline Region's unpropagated writes and propagates them when it comes back
//! online (see [`crate::outage`] for the source). Nothing is dropped, and no surviving replica
//! sends another region's writes on: replicas never repair each other on AWS either. The returning
//! region serves again (its API, functions and mappings) only once each of its replicas has read
//! its stream to the end and applied what the others wrote meanwhile ([`Outages::rejoin`]).

mod replica;
pub mod stamp;

use crate::clients::Clients;
use crate::outage::Outages;
use crate::streams::Stream;
use crate::writes::Writes;
use replica::{Mailbox, Replica};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

/// What the runtime says at start about replication.
pub const EMULATION_NOTE: &str = "global-table replication is emulated by the kit between the regions' tables, through \
     their streams (last writer wins per item, a configurable lag, deletes included); moto replicates nothing";

/// A global table: one table name, a replica in each region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalTable {
    /// The table name (the same in every region).
    pub name: String,
    /// The replica regions.
    pub regions: Vec<String>,
}

/// How replication behaves.
#[derive(Debug, Clone)]
pub struct ReplicationSettings {
    /// Time from a write being seen on its region's stream to its application elsewhere.
    /// AWS: "usually within a second" (DynamoDB developer guide, "How DynamoDB global tables work").
    pub lag: Duration,
    /// Wait between reads of a replica's stream.
    pub poll: Duration,
    /// How often a replica's shard list is read again.
    pub shard_discovery: Duration,
}

impl Default for ReplicationSettings {
    fn default() -> Self {
        ReplicationSettings {
            lag: Duration::from_millis(500),
            poll: Duration::from_millis(50),
            shard_discovery: Duration::from_secs(1),
        }
    }
}

/// Replication cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ReplicationError {
    /// A replica table cannot be described.
    #[error("describing {table} in {region}: {message}")]
    Describe {
        /// The table.
        table: String,
        /// The region.
        region: String,
        /// What the service said.
        message: String,
    },
    /// A replica has no stream with new images.
    #[error("{table} in {region} has no stream with new images (global tables need NEW_AND_OLD_IMAGES)")]
    NoStream {
        /// The table.
        table: String,
        /// The region.
        region: String,
    },
}

/// Counters of the whole replication.
#[derive(Debug, Default)]
pub struct Replicated {
    local_writes: AtomicU64,
    applied: AtomicU64,
    conflicts: AtomicU64,
    superseded: AtomicU64,
    held_by_outage: AtomicU64,
    retried: AtomicU64,
    pairs: Mutex<BTreeMap<(String, String), PairStats>>,
}

/// Writes applied from one region to another.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PairStats {
    /// How many.
    pub applied: u64,
    /// Their total time from being seen at the origin to being applied.
    pub total_latency: Duration,
    /// The longest.
    pub max_latency: Duration,
}

/// A copy of the counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicationSnapshot {
    /// Local writes seen on the replicas' streams.
    pub local_writes: u64,
    /// Writes applied to another replica.
    pub applied: u64,
    /// Of those, writes that overwrote a concurrent local write (a MODIFY on the loser's stream).
    pub conflicts: u64,
    /// Writes not applied because the replica held a later one.
    pub superseded: u64,
    /// Writes that were due while their origin was down, held until it came back.
    pub held_by_outage: u64,
    /// Tries to apply a write that failed and were scheduled again (a write is never dropped
    /// while both regions are up).
    pub retried: u64,
    /// Per (origin, target).
    pub pairs: BTreeMap<(String, String), PairStats>,
}

impl Replicated {
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    fn record_pair(&self, from: &str, to: &str, latency: Duration) {
        if let Ok(mut pairs) = self.pairs.lock() {
            let pair = pairs.entry((from.to_owned(), to.to_owned())).or_default();
            pair.applied += 1;
            pair.total_latency += latency;
            pair.max_latency = pair.max_latency.max(latency);
        }
    }

    /// The counters now.
    pub fn snapshot(&self) -> ReplicationSnapshot {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        ReplicationSnapshot {
            local_writes: get(&self.local_writes),
            applied: get(&self.applied),
            conflicts: get(&self.conflicts),
            superseded: get(&self.superseded),
            held_by_outage: get(&self.held_by_outage),
            retried: get(&self.retried),
            pairs: self.pairs.lock().map(|p| p.clone()).unwrap_or_default(),
        }
    }
}

/// What happened to one replicated write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplicationEventKind {
    /// Applied to the target.
    Applied {
        /// From being seen at the origin to being applied.
        latency: Duration,
        /// It overwrote a concurrent local write.
        conflict: bool,
    },
    /// Not applied: the target holds a later write.
    Superseded,
    /// Not applied yet: its origin is down; held until it is back.
    HeldByOutage,
    /// A call failed.
    Error(String),
}

/// A time-stamped replication event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicationEvent {
    /// When.
    pub at: Instant,
    /// The table.
    pub table: String,
    /// The write's region.
    pub from: String,
    /// The replica it was for (empty for errors of the origin's own stream).
    pub to: String,
    /// What.
    pub kind: ReplicationEventKind,
}

/// What every replica task shares.
struct Shared {
    settings: ReplicationSettings,
    outages: Outages,
    stats: Replicated,
    events: broadcast::Sender<ReplicationEvent>,
    /// Per region: its replicas (one per table), and how many caught up since it returned.
    returns: Mutex<BTreeMap<String, (usize, usize)>>,
}

impl Shared {
    /// One replica of `region` caught up after its return; when all have, the region serves again.
    fn caught_up(&self, region: &str) {
        let Ok(mut returns) = self.returns.lock() else { return };
        let Some((replicas, caught_up)) = returns.get_mut(region) else { return };
        *caught_up += 1;
        if *caught_up >= *replicas {
            *caught_up = 0;
            self.outages.rejoin(region);
        }
    }

    fn emit(&self, table: &str, from: &str, to: &str, kind: ReplicationEventKind) {
        let event = ReplicationEvent {
            at: Instant::now(),
            table: table.to_owned(),
            from: from.to_owned(),
            to: to.to_owned(),
            kind,
        };
        let _ = self.events.send(event);
    }
}

/// Running replication; stops when dropped.
pub struct Replication {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
    /// Every replica's mailbox.
    mailboxes: Vec<Mailbox>,
}

impl std::fmt::Debug for Replication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replication").field("replicas", &self.tasks.len()).finish()
    }
}

impl Replication {
    /// Describes every replica (its stream), then starts replicating `tables`; a replica reads its
    /// stream at once when `writes` says its region's API wrote.
    pub async fn start(
        clients: &Clients,
        tables: &[GlobalTable],
        outages: Outages,
        writes: &Writes,
        settings: ReplicationSettings,
    ) -> Result<Replication, ReplicationError> {
        let mut returns: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for region in tables.iter().flat_map(|t| &t.regions) {
            returns.entry(region.clone()).or_default().0 += 1;
        }
        // A returning region serves again once its replicas caught up.
        outages.gate_returns();
        let returns = Mutex::new(returns);
        let shared = Arc::new(Shared {
            settings,
            outages,
            stats: Replicated::default(),
            events: broadcast::channel(4_096).0,
            returns,
        });
        let (mut tasks, mut mailboxes) = (Vec::new(), Vec::new());
        for table in tables {
            let mut replicas = Vec::new();
            let mut table_mailboxes = Vec::new();
            for region in &table.regions {
                let stream = replica_stream(clients, &table.name, region).await?;
                let (sender, inbox) = mpsc::unbounded_channel();
                let mailbox = Mailbox::new(region.clone(), sender);
                let replica = Replica::new(
                    shared.clone(),
                    table.name.clone(),
                    clients.dynamodb(region),
                    stream,
                    &mailbox,
                    inbox,
                    writes.subscribe(region),
                );
                replicas.push(replica);
                table_mailboxes.push(mailbox);
            }
            for mut replica in replicas {
                replica.peers = table_mailboxes.iter().filter(|m| m.region != replica.region).cloned().collect();
                tasks.push(tokio::spawn(replica.run()));
            }
            mailboxes.extend(table_mailboxes);
        }
        Ok(Replication { shared, tasks, mailboxes })
    }

    /// Writes on their way to the replicas of regions replication reaches (not cut off by an
    /// outage): sent and not yet applied or found superseded, whether still waiting out their lag,
    /// being tried again, or queued behind others. Zero when replication has nothing left to do.
    /// A count of applied writes that stops moving is not that: one slow call holds up every write
    /// queued behind it.
    pub fn queued(&self) -> u64 {
        let outages = &self.shared.outages;
        self.mailboxes.iter().filter(|m| !outages.is_cut_off(&m.region)).map(Mailbox::queued).sum()
    }

    /// The counters now.
    pub fn stats(&self) -> ReplicationSnapshot {
        self.shared.stats.snapshot()
    }

    /// Every replication event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ReplicationEvent> {
        self.shared.events.subscribe()
    }

    /// Stops every replica.
    pub fn stop(&mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
        }
    }
}

impl Drop for Replication {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn replica_stream(clients: &Clients, table: &str, region: &str) -> Result<Stream, ReplicationError> {
    let described = clients.dynamodb(region).describe_table().table_name(table).send().await.map_err(|e| {
        ReplicationError::Describe {
            table: table.to_owned(),
            region: region.to_owned(),
            message: aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string(),
        }
    })?;
    let description = described.table;
    let no_stream = || ReplicationError::NoStream { table: table.to_owned(), region: region.to_owned() };
    let view = description.as_ref().and_then(|t| t.stream_specification()).and_then(|s| s.stream_view_type().cloned());
    let with_new_images = view.is_some_and(|v| {
        matches!(
            v,
            aws_sdk_dynamodb::types::StreamViewType::NewAndOldImages
                | aws_sdk_dynamodb::types::StreamViewType::NewImage
        )
    });
    let arn = description.and_then(|t| t.latest_stream_arn).filter(|_| with_new_images).ok_or_else(no_stream)?;
    Stream::from_arn(clients, &arn).ok_or_else(no_stream)
}
