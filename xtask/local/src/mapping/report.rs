//! What a mapping did, for the runtime's reports: counters (read at any time with
//! [`MappingStats::snapshot`]) and a stream of [`MappingEvent`]s for whoever subscribes.

use super::destination::Condition;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Counters of one mapping, updated as it works.
#[derive(Debug, Default)]
pub struct MappingStats {
    pub(crate) read: AtomicU64,
    pub(crate) filtered_out: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) invocations: AtomicU64,
    pub(crate) function_errors: AtomicU64,
    pub(crate) partial_failures: AtomicU64,
    pub(crate) bisections: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) discarded_retries: AtomicU64,
    pub(crate) discarded_age: AtomicU64,
    pub(crate) destination_sent: AtomicU64,
    pub(crate) destination_errors: AtomicU64,
    pub(crate) checkpoints: Mutex<BTreeMap<String, String>>,
    pub(crate) finished_shards: Mutex<Vec<String>>,
}

/// A copy of a mapping's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Records read from the stream.
    pub read: u64,
    /// Records no filter matched (dropped and checkpointed).
    pub filtered_out: u64,
    /// Records the function processed successfully.
    pub delivered: u64,
    /// Invocations made.
    pub invocations: u64,
    /// Invocations that ended in a function error.
    pub function_errors: u64,
    /// Answers that reported batch item failures.
    pub partial_failures: u64,
    /// Batches split in two after a function error.
    pub bisections: u64,
    /// Retries counted toward `MaximumRetryAttempts`.
    pub retries: u64,
    /// Records discarded after the last retry.
    pub discarded_retries: u64,
    /// Records discarded for their age.
    pub discarded_age: u64,
    /// Discarded batches recorded at the on-failure destination.
    pub destination_sent: u64,
    /// Discarded batches the destination did not take.
    pub destination_errors: u64,
    /// The last sequence number checkpointed per shard.
    pub checkpoints: BTreeMap<String, String>,
    /// Closed shards read to their end, in the order they finished.
    pub finished_shards: Vec<String>,
}

impl StatsSnapshot {
    /// Records read and not yet done with: buffered for a batch, in an invocation, or waiting to
    /// be tried again. Every record read ends filtered out, delivered or discarded, once.
    pub fn waiting(&self) -> u64 {
        let done = self.filtered_out + self.delivered + self.discarded_retries + self.discarded_age;
        self.read.saturating_sub(done)
    }
}

impl MappingStats {
    /// The counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        StatsSnapshot {
            read: get(&self.read),
            filtered_out: get(&self.filtered_out),
            delivered: get(&self.delivered),
            invocations: get(&self.invocations),
            function_errors: get(&self.function_errors),
            partial_failures: get(&self.partial_failures),
            bisections: get(&self.bisections),
            retries: get(&self.retries),
            discarded_retries: get(&self.discarded_retries),
            discarded_age: get(&self.discarded_age),
            destination_sent: get(&self.destination_sent),
            destination_errors: get(&self.destination_errors),
            checkpoints: self.checkpoints.lock().map(|c| c.clone()).unwrap_or_default(),
            finished_shards: self.finished_shards.lock().map(|f| f.clone()).unwrap_or_default(),
        }
    }

    pub(crate) fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    pub(crate) fn checkpoint(&self, shard: &str, sequence: &str) {
        if let Ok(mut checkpoints) = self.checkpoints.lock() {
            checkpoints.insert(shard.to_owned(), sequence.to_owned());
        }
    }
}

/// How one invocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvocationOutcome {
    /// Every record done.
    Success,
    /// Records before `first_failed` done.
    Partial {
        /// Index of the first record to retry.
        first_failed: usize,
    },
    /// The answer failed the whole batch.
    BatchFailure,
    /// The function failed (error, crash, timeout).
    FunctionError(String),
    /// The function could not be reached.
    NotInvoked(String),
}

/// Something a mapping did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappingEventKind {
    /// A shard's reading began.
    ShardStarted,
    /// A closed shard was read to its end.
    ShardFinished,
    /// A batch was delivered.
    Invoked {
        /// Records in the batch.
        records: usize,
        /// The first record's sequence number.
        first_sequence: String,
        /// How it ended.
        outcome: InvocationOutcome,
    },
    /// A failed batch was split in two.
    Bisected {
        /// Sizes of the halves.
        halves: (usize, usize),
    },
    /// Records were discarded.
    Discarded {
        /// How many.
        records: usize,
        /// Why.
        condition: Condition,
        /// Whether the destination took the failure record.
        recorded: bool,
    },
    /// A stream or destination call failed (the mapping keeps going).
    Error(String),
}

/// A time-stamped event of one mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingEvent {
    /// When.
    pub at: Instant,
    /// The mapping's UUID.
    pub mapping: String,
    /// The shard (empty for mapping-wide events).
    pub shard: String,
    /// What.
    pub kind: MappingEventKind,
}
