//! In-process Kinesis and SQS doubles: a Kinesis that fails a share of entries or whole calls
//! (seeded, so runs repeat) and checks every call against the publisher's rules.

use domain::{DomainError, DomainEvent};
use publisher::{ConflictSink, EntryResult, OutgoingRecord, RecordSink};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

struct KinesisState {
    stored: Vec<(String, Vec<u8>)>,
    calls: u32,
    entry_failure: f64,
    throttle: f64,
    denied: bool,
    rng: SmallRng,
}

/// A Kinesis stream in memory.
#[derive(Clone)]
pub struct FakeKinesis {
    state: Arc<Mutex<KinesisState>>,
}

impl FakeKinesis {
    /// Fails `entry_failure` of the entries of each call and throttles `throttle` of the calls.
    pub fn flaky(entry_failure: f64, throttle: f64, seed: u64) -> Self {
        FakeKinesis {
            state: Arc::new(Mutex::new(KinesisState {
                stored: Vec::new(),
                calls: 0,
                entry_failure,
                throttle,
                denied: false,
                rng: SmallRng::seed_from_u64(seed),
            })),
        }
    }

    /// Never fails.
    pub fn reliable() -> Self {
        Self::flaky(0.0, 0.0, 0)
    }

    /// Refuses every call (AccessDenied).
    pub fn denied() -> Self {
        let fake = Self::reliable();
        fake.state.lock().unwrap().denied = true;
        fake
    }

    /// `(partition key, data)` of every stored record, in stream order.
    pub fn stored(&self) -> Vec<(String, Vec<u8>)> {
        self.state.lock().unwrap().stored.clone()
    }

    /// PutRecords calls so far.
    pub fn calls(&self) -> u32 {
        self.state.lock().unwrap().calls
    }

    /// The event sequences stored under `key`, in stream order.
    pub fn sequences_of(&self, key: &str) -> Vec<u64> {
        self.stored()
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, data)| DomainEvent::parse(data).unwrap().sequence)
            .collect()
    }

    /// Panics unless every occurrence of event n > 1 of an aggregate comes after a stored n-1.
    pub fn assert_per_key_order(&self) {
        let mut seen: HashMap<String, HashSet<u64>> = HashMap::new();
        for (key, data) in self.stored() {
            let sequence = DomainEvent::parse(&data).unwrap().sequence;
            let earlier = seen.entry(key.clone()).or_default();
            assert!(
                sequence == 1 || earlier.contains(&(sequence - 1)),
                "{key}: event {sequence} before {}",
                sequence - 1
            );
            earlier.insert(sequence);
        }
    }
}

impl RecordSink for FakeKinesis {
    async fn put_records(&self, records: &[&OutgoingRecord]) -> Result<Vec<EntryResult>, DomainError> {
        let mut state = self.state.lock().unwrap();
        state.calls += 1;
        assert!(!records.is_empty() && records.len() <= 500, "{} records in one call", records.len());
        assert!(records.iter().map(|r| r.size()).sum::<usize>() <= 5 * 1024 * 1024);
        let keys: HashSet<&str> = records.iter().map(|r| r.partition_key.as_str()).collect();
        assert_eq!(keys.len(), records.len(), "a call holds at most one record per partition key");
        let error = |code: &str, retryable| DomainError::Aws {
            operation: "PutRecords".into(),
            code: code.into(),
            message: "injected".into(),
            retryable,
        };
        if state.denied {
            return Err(error("AccessDeniedException", false));
        }
        let throttle = state.throttle;
        if state.rng.random_bool(throttle) {
            return Err(error("ProvisionedThroughputExceededException", true));
        }
        let mut results = Vec::with_capacity(records.len());
        for record in records {
            let failure = state.entry_failure;
            if state.rng.random_bool(failure) {
                results.push(EntryResult::Failed { code: "ProvisionedThroughputExceededException".into() });
            } else {
                state.stored.push((record.partition_key.clone(), record.data.clone()));
                results.push(EntryResult::Stored);
            }
        }
        Ok(results)
    }
}

/// A conflicts queue in memory.
#[derive(Clone, Default)]
pub struct FakeConflicts {
    reports: Arc<Mutex<Vec<String>>>,
    failing: bool,
    hanging: bool,
}

impl FakeConflicts {
    /// A queue that refuses every message.
    pub fn failing() -> Self {
        FakeConflicts { failing: true, ..Self::default() }
    }

    /// A queue that never answers.
    pub fn hanging() -> Self {
        FakeConflicts { hanging: true, ..Self::default() }
    }

    /// Every report received.
    pub fn reports(&self) -> Vec<String> {
        self.reports.lock().unwrap().clone()
    }
}

impl ConflictSink for FakeConflicts {
    async fn report(&self, body: String) -> Result<(), DomainError> {
        if self.hanging {
            std::future::pending::<()>().await;
        }
        if self.failing {
            return Err(DomainError::Aws {
                operation: "SendMessage".into(),
                code: "ServiceUnavailable".into(),
                message: "injected".into(),
                retryable: true,
            });
        }
        self.reports.lock().unwrap().push(body);
        Ok(())
    }
}
