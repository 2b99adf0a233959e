//! One region's replica of one global table: it reads its own table's stream (every shard,
//! parents first), tells its local writes from the writes it applied for other regions (which
//! carry no marker: 2019.11.21 global tables add no `aws:rep:*` attributes, DynamoDB developer
//! guide, "Upgrading global tables"), sends each local write to every other replica, and applies
//! the writes it receives once their lag has passed, by last writer wins ([`super::stamp`]).
//!
//! While its region is down a replica does nothing: it neither reads its stream nor applies what
//! it receives, and its peers hold the writes it sent them that were still waiting out their lag.
//! When the region comes back, it reads its stream on from where it stopped (the writes made
//! before the outage that had not propagated go out now, stamped as of the outage so that last
//! writer wins judges them by when they were made), applies what the other regions wrote
//! meanwhile, and its peers apply what they held. This is what a global table does for an
//! offline Region (see [`crate::outage`]).

use super::stamp::{Stamp, Verdict, judge};
use super::{Replicated, ReplicationEventKind, Shared};
use crate::attributes::{StreamImage, canonical, table_item};
use crate::streams::{RecordBody, ShardCursor, StartAt, Stream, order};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodbstreams::types::AttributeValue as StreamValue;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

/// A write one replica sends the others.
#[derive(Debug, Clone)]
pub(super) struct Incoming {
    pub(super) origin: String,
    pub(super) key: String,
    pub(super) keys: StreamImage,
    /// The new item; `None` for a delete.
    pub(super) image: Option<StreamImage>,
    pub(super) stamp: Stamp,
    /// The version the write replaced in its own region.
    pub(super) replaced: Option<Stamp>,
    pub(super) seen: Instant,
    pub(super) due: tokio::time::Instant,
    /// Failed tries to apply it so far: a replica keeps trying while its region is up, as a
    /// global table does, so a failed write is delayed, never lost.
    pub(super) failures: u32,
}

/// Where a replica receives the writes of the others, with the count of those it has not applied
/// yet: sent, waiting out their lag, or being tried again. Writes held while their origin is down
/// are not counted; they are counted again when it is back.
#[derive(Debug, Clone)]
pub(super) struct Mailbox {
    pub(super) region: String,
    sender: mpsc::UnboundedSender<Incoming>,
    queued: Arc<AtomicU64>,
}

impl Mailbox {
    pub(super) fn new(region: String, sender: mpsc::UnboundedSender<Incoming>) -> Mailbox {
        Mailbox { region, sender, queued: Arc::default() }
    }

    /// Writes sent to this replica and not applied yet (nor found superseded).
    pub(super) fn queued(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }

    /// Counted before it is sent, so that the count is never short of what is on its way.
    fn send(&self, incoming: Incoming) -> Result<(), ()> {
        self.queued.fetch_add(1, Ordering::Relaxed);
        self.sender.send(incoming).map_err(|_| {
            self.queued.fetch_sub(1, Ordering::Relaxed);
        })
    }
}

/// The version a replica holds for a key.
#[derive(Debug, Clone)]
struct Version {
    stamp: Stamp,
    image: Option<StreamImage>,
}

pub(super) struct Replica {
    pub(super) shared: Arc<Shared>,
    pub(super) table: String,
    pub(super) region: String,
    pub(super) dynamodb: aws_sdk_dynamodb::Client,
    pub(super) stream: Stream,
    pub(super) inbox: mpsc::UnboundedReceiver<Incoming>,
    pub(super) peers: Vec<Mailbox>,
    /// This replica's own count of writes received and not applied yet ([`Mailbox::queued`]).
    queued: Arc<AtomicU64>,
    /// Fires when the region's API wrote: read the stream now.
    wrote: Arc<tokio::sync::Notify>,
    cursors: BTreeMap<String, ShardCursor>,
    started: BTreeSet<String>,
    finished: BTreeSet<String>,
    listed_at: Option<Instant>,
    versions: HashMap<String, Version>,
    /// Writes this replica applied and has not yet seen on its stream: (image, stamp).
    expected: HashMap<String, VecDeque<(Option<String>, Stamp)>>,
    waiting: VecDeque<Incoming>,
    /// Writes due while their origin was down: applied once it is back.
    held: Vec<Incoming>,
    /// Writes stamped as of an outage so far (keeps their stamps distinct and in stream order).
    backlog: u128,
    /// The outage (its start) whose return this replica reported caught up.
    reported_return: Option<SystemTime>,
    /// Reads of the stream in a row that found nothing (the poll backs off while it is idle).
    idle_reads: u32,
}

const CONDITION_RETRIES: usize = 3;
/// At most this many polls pass between two reads of an idle stream (a power of two).
const IDLE_BACKOFF: u32 = 8;
/// Wait before trying a failed write again, doubled per failure up to [`RETRY_CAP`].
const RETRY_BASE: std::time::Duration = std::time::Duration::from_millis(50);
const RETRY_CAP: std::time::Duration = std::time::Duration::from_secs(1);

impl Replica {
    pub(super) fn new(
        shared: Arc<Shared>,
        table: String,
        dynamodb: aws_sdk_dynamodb::Client,
        stream: Stream,
        mailbox: &Mailbox,
        inbox: mpsc::UnboundedReceiver<Incoming>,
        wrote: Arc<tokio::sync::Notify>,
    ) -> Replica {
        Replica {
            shared,
            table,
            region: mailbox.region.clone(),
            dynamodb,
            stream,
            inbox,
            peers: Vec::new(),
            queued: mailbox.queued.clone(),
            wrote,
            cursors: BTreeMap::new(),
            started: BTreeSet::new(),
            finished: BTreeSet::new(),
            listed_at: None,
            versions: HashMap::new(),
            expected: HashMap::new(),
            waiting: VecDeque::new(),
            held: Vec::new(),
            backlog: 0,
            reported_return: None,
            idle_reads: 0,
        }
    }

    /// Works while the region is up, paused while it is down, until the task is aborted.
    pub(super) async fn run(mut self) {
        let outages = self.shared.outages.clone();
        let region = self.region.clone();
        outages.while_connected(&region, self.work()).await;
    }

    async fn work(&mut self) {
        loop {
            self.release_held();
            let read = self.read_stream().await;
            self.idle_reads = if read > 0 { 0 } else { self.idle_reads.saturating_add(1) };
            self.apply_due().await;
            self.report_caught_up();
            let wake = self.waiting.front().map(|w| w.due);
            let poll = tokio::time::sleep(self.poll_wait());
            tokio::select! {
                () = poll => {}
                () = self.wrote.notified() => self.idle_reads = 0,
                Some(incoming) = self.inbox.recv() => self.waiting.push_back(incoming),
                () = tokio::time::sleep_until(wake.unwrap_or_else(tokio::time::Instant::now)), if wake.is_some() => {}
            }
            while let Ok(incoming) = self.inbox.try_recv() {
                self.waiting.push_back(incoming);
            }
        }
    }

    /// The wait before the next read of the stream: the poll while it has records, doubled per
    /// read in a row that found none, up to [`IDLE_BACKOFF`] times the poll. Every read of an idle
    /// stream is a call the endpoint serves; a write from a peer wakes the replica at once anyway.
    fn poll_wait(&self) -> Duration {
        self.shared.settings.poll.saturating_mul(1 << self.idle_reads.min(IDLE_BACKOFF.trailing_zeros()))
    }

    /// Reads every new record of the table's stream; how many it read.
    async fn read_stream(&mut self) -> usize {
        let mut read = 0;
        let relist = self.listed_at.is_none_or(|at| at.elapsed() >= self.shared.settings.shard_discovery);
        if relist {
            self.listed_at = Some(Instant::now());
            match self.stream.shards().await {
                Ok(listed) => {
                    for shard in order::ready(&listed, &self.started, &self.finished) {
                        let cursor = ShardCursor::new(self.stream.clone(), shard.id.clone(), StartAt::TrimHorizon);
                        self.started.insert(shard.id.clone());
                        self.cursors.insert(shard.id.clone(), cursor);
                    }
                }
                Err(error) => {
                    self.shared.emit(&self.table, &self.region, "", ReplicationEventKind::Error(error.to_string()))
                }
            }
        }
        let shards: Vec<String> = self.cursors.keys().cloned().collect();
        for shard in shards {
            while let Some(cursor) = self.cursors.get_mut(&shard) {
                let records = match cursor.read(1_000).await {
                    Ok(records) => records,
                    Err(error) => {
                        self.shared.emit(&self.table, &self.region, "", ReplicationEventKind::Error(error.to_string()));
                        break;
                    }
                };
                let finished = cursor.is_finished();
                let empty = records.is_empty();
                read += records.len();
                for record in records {
                    if let RecordBody::DynamoDb(change) = &record.body {
                        let stamp = self.stamp_of(record.arrival);
                        self.observe(change, stamp);
                    }
                }
                if finished {
                    self.cursors.remove(&shard);
                    self.finished.insert(shard.clone());
                }
                if empty || finished {
                    break;
                }
            }
        }
        read
    }

    /// The stamp of a local write read now, created at `created` (`ApproximateCreationDateTime`,
    /// rounded down to the second). A write read after its region came back that was created
    /// before the return was made before the outage (nothing writes to a region that is down):
    /// it gets a stamp as of the moment the region went down, so that a write another region
    /// made to the same item during the outage wins, as it does on AWS, where last writer wins
    /// compares the times the writes were made. Every other write is stamped when it is seen.
    fn stamp_of(&mut self, created: SystemTime) -> Stamp {
        let outage = self.shared.outages.last_outage(&self.region);
        let before_return =
            outage.and_then(|o| Some((o.down, o.up?))).filter(|(_, up)| created + Duration::from_secs(1) <= *up);
        match before_return {
            Some((down, _)) => {
                self.backlog += 1;
                let nanos = down.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos()) + self.backlog;
                Stamp { nanos, region: self.region.clone() }
            }
            None => Stamp::now(&self.region),
        }
    }

    /// Once its region is returning and this replica has read its stream to the end and applied
    /// every write that is due, it says so ([`super::Shared::caught_up`]).
    fn report_caught_up(&mut self) {
        let outages = &self.shared.outages;
        if !outages.is_returning(&self.region) {
            return;
        }
        let Some(outage) = outages.last_outage(&self.region) else { return };
        let now = tokio::time::Instant::now();
        // A write tried again goes to the back of the line with a later due time, so due writes
        // can wait behind one that is not due yet.
        let pending = !self.inbox.is_empty() || self.waiting.iter().any(|w| w.due <= now);
        if self.reported_return != Some(outage.down) && !pending {
            self.reported_return = Some(outage.down);
            self.shared.caught_up(&self.region);
        }
    }

    /// Writes held while their origin was down go back in line once it is up.
    fn release_held(&mut self) {
        if self.held.is_empty() {
            return;
        }
        let outages = &self.shared.outages;
        let (back, still): (Vec<Incoming>, Vec<Incoming>) =
            std::mem::take(&mut self.held).into_iter().partition(|w| !outages.is_cut_off(&w.origin));
        self.held = still;
        self.queued.fetch_add(back.len() as u64, Ordering::Relaxed);
        self.waiting.extend(back);
    }

    /// One record of this replica's stream: a write it applied, or a local write to send out.
    fn observe(&mut self, record: &aws_sdk_dynamodbstreams::types::Record, stamp: Stamp) {
        let Some(change) = &record.dynamodb else { return };
        let Some(keys) = change.keys.clone() else { return };
        let key = canonical(&keys);
        let image =
            change.new_image.clone().filter(|_| record.event_name.as_ref().is_none_or(|n| n.as_str() != "REMOVE"));
        let shape = image.as_ref().map(canonical);
        if let Some(expected) = self.expected.get_mut(&key) {
            if let Some(position) = expected.iter().position(|(written, _)| *written == shape) {
                let applied = expected.remove(position).map_or(stamp, |(_, applied)| applied);
                if expected.is_empty() {
                    self.expected.remove(&key);
                }
                self.versions.insert(key, Version { stamp: applied, image });
                return;
            }
        }
        let replaced = self.versions.get(&key).map(|v| v.stamp.clone());
        self.versions.insert(key.clone(), Version { stamp: stamp.clone(), image: image.clone() });
        Replicated::add(&self.shared.stats.local_writes, 1);
        let seen = Instant::now();
        let due = tokio::time::Instant::now() + self.shared.settings.lag;
        for peer in &self.peers {
            let incoming = Incoming {
                origin: self.region.clone(),
                key: key.clone(),
                keys: keys.clone(),
                image: image.clone(),
                stamp: stamp.clone(),
                replaced: replaced.clone(),
                seen,
                due,
                failures: 0,
            };
            // A peer that is down keeps its inbox and reads it when it is back; a closed inbox
            // means replication was stopped.
            if peer.send(incoming).is_err() {
                let kind = ReplicationEventKind::Error(format!("replication to {} has stopped", peer.region));
                self.shared.emit(&self.table, &self.region, &peer.region, kind);
            }
        }
    }

    /// Applies every received write whose lag has passed.
    async fn apply_due(&mut self) {
        let now = tokio::time::Instant::now();
        while self.waiting.front().is_some_and(|w| w.due <= now) {
            let Some(incoming) = self.waiting.pop_front() else { break };
            if self.shared.outages.is_cut_off(&incoming.origin) {
                // Still on its way out of a region that went down: it goes on when that region
                // is back, as a global table propagates an offline Region's writes on its return.
                Replicated::add(&self.shared.stats.held_by_outage, 1);
                self.shared.emit(&self.table, &incoming.origin, &self.region, ReplicationEventKind::HeldByOutage);
                self.held.push(incoming);
                self.queued.fetch_sub(1, Ordering::Relaxed);
                continue;
            }
            match self.apply(incoming).await {
                Ok(()) => {
                    self.queued.fetch_sub(1, Ordering::Relaxed);
                }
                Err(mut failed) => {
                    failed.failures += 1;
                    let wait = RETRY_BASE.saturating_mul(1 << failed.failures.min(5)).min(RETRY_CAP);
                    failed.due = tokio::time::Instant::now() + wait;
                    Replicated::add(&self.shared.stats.retried, 1);
                    // Later writes may pass it: last writer wins decides by stamp, not arrival.
                    self.waiting.push_back(failed);
                }
            }
        }
    }

    /// Applies one write; gives it back when it could not be applied yet (the write failed, or
    /// the item kept changing under it), to be tried again.
    async fn apply(&mut self, incoming: Incoming) -> Result<(), Incoming> {
        for _ in 0..CONDITION_RETRIES {
            let held = self.versions.get(&incoming.key).cloned();
            let conflict = match judge(&incoming.stamp, incoming.replaced.as_ref(), held.as_ref().map(|h| &h.stamp)) {
                Verdict::Superseded => {
                    Replicated::add(&self.shared.stats.superseded, 1);
                    self.shared.emit(&self.table, &incoming.origin, &self.region, ReplicationEventKind::Superseded);
                    return Ok(());
                }
                // Counted once, where the overwritten write was local: the loser's region.
                Verdict::Apply { conflict } => conflict && held.as_ref().is_some_and(|h| h.stamp.region == self.region),
            };
            let unchanged = held
                .as_ref()
                .is_some_and(|h| h.image.as_ref().map(canonical) == incoming.image.as_ref().map(canonical));
            if unchanged {
                // Same content: DynamoDB writes no stream record for a write that changes nothing.
                self.versions.insert(
                    incoming.key.clone(),
                    Version { stamp: incoming.stamp.clone(), image: incoming.image.clone() },
                );
                self.applied(&incoming, false);
                return Ok(());
            }
            match self.write(&incoming, held.as_ref()).await {
                Ok(()) => {
                    let shape = incoming.image.as_ref().map(canonical);
                    self.expected.entry(incoming.key.clone()).or_default().push_back((shape, incoming.stamp.clone()));
                    self.versions.insert(
                        incoming.key.clone(),
                        Version { stamp: incoming.stamp.clone(), image: incoming.image.clone() },
                    );
                    self.applied(&incoming, conflict);
                    return Ok(());
                }
                Err(WriteError::Changed) => {
                    self.read_stream().await;
                }
                Err(WriteError::Failed(message)) => {
                    if incoming.failures == 0 {
                        let kind = ReplicationEventKind::Error(format!("{message} (tried again until it is applied)"));
                        self.shared.emit(&self.table, &incoming.origin, &self.region, kind);
                    }
                    return Err(incoming);
                }
            }
        }
        Err(incoming)
    }

    fn applied(&self, incoming: &Incoming, conflict: bool) {
        let stats = &self.shared.stats;
        Replicated::add(&stats.applied, 1);
        if conflict {
            Replicated::add(&stats.conflicts, 1);
        }
        let latency = incoming.seen.elapsed();
        stats.record_pair(&incoming.origin, &self.region, latency);
        self.shared.emit(
            &self.table,
            &incoming.origin,
            &self.region,
            ReplicationEventKind::Applied { latency, conflict },
        );
    }

    /// Puts or deletes the item, on condition that the replica still holds `held`.
    async fn write(&self, incoming: &Incoming, held: Option<&Version>) -> Result<(), WriteError> {
        let condition = Condition::holding(&incoming.keys, held.and_then(|h| h.image.as_ref()));
        match &incoming.image {
            Some(image) => {
                let request = self.dynamodb.put_item().table_name(&self.table).set_item(Some(table_item(image)));
                match condition.apply_put(request).send().await {
                    Ok(_) => Ok(()),
                    Err(error)
                        if error.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) =>
                    {
                        Err(WriteError::Changed)
                    }
                    Err(error) => Err(WriteError::failed(&error)),
                }
            }
            None => {
                let request =
                    self.dynamodb.delete_item().table_name(&self.table).set_key(Some(table_item(&incoming.keys)));
                match condition.apply_delete(request).send().await {
                    Ok(_) => Ok(()),
                    Err(error)
                        if error.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) =>
                    {
                        Err(WriteError::Changed)
                    }
                    Err(error) => Err(WriteError::failed(&error)),
                }
            }
        }
    }
}

enum WriteError {
    /// The item is not what the replica last saw: read the stream and judge again.
    Changed,
    Failed(String),
}

impl WriteError {
    fn failed(error: &dyn std::error::Error) -> WriteError {
        WriteError::Failed(aws_sdk_dynamodb::error::DisplayErrorContext(error).to_string())
    }
}

/// "The item is still the version last seen": absent, or its scalar attributes unchanged.
struct Condition {
    expression: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Condition {
    fn holding(keys: &StreamImage, held: Option<&StreamImage>) -> Condition {
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        let Some(held) = held else {
            let key = keys.keys().min().cloned().unwrap_or_default();
            names.insert("#k".to_owned(), key);
            return Condition { expression: "attribute_not_exists(#k)".into(), names, values };
        };
        let mut clauses = Vec::new();
        let scalars =
            held.iter().filter(|(_, v)| matches!(v, StreamValue::S(_) | StreamValue::N(_) | StreamValue::Bool(_)));
        for (index, (name, value)) in scalars.enumerate() {
            names.insert(format!("#a{index}"), name.clone());
            let single: StreamImage = [(name.clone(), value.clone())].into();
            values.extend(table_item(&single).into_values().map(|v| (format!(":v{index}"), v)));
            clauses.push(format!("#a{index} = :v{index}"));
        }
        Condition { expression: clauses.join(" AND "), names, values }
    }

    fn apply_put(
        self,
        request: aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder,
    ) -> aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder {
        if self.expression.is_empty() {
            return request;
        }
        let request = request.condition_expression(self.expression).set_expression_attribute_names(Some(self.names));
        if self.values.is_empty() { request } else { request.set_expression_attribute_values(Some(self.values)) }
    }

    fn apply_delete(
        self,
        request: aws_sdk_dynamodb::operation::delete_item::builders::DeleteItemFluentBuilder,
    ) -> aws_sdk_dynamodb::operation::delete_item::builders::DeleteItemFluentBuilder {
        if self.expression.is_empty() {
            return request;
        }
        let request = request.condition_expression(self.expression).set_expression_attribute_names(Some(self.names));
        if self.values.is_empty() { request } else { request.set_expression_attribute_values(Some(self.values)) }
    }
}
