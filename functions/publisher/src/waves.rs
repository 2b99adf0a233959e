//! Publisher ordering (DESIGN.md): records of one partition key form a lane, in stream order.
//! Each PutRecords call (a wave) takes at most the head of each lane, up to 500 records and
//! 5 MiB, so event n+1 of an aggregate is never sent before event n is stored: PutRecords can
//! store some entries of a call and fail others, so two entries of one key in a call could land
//! out of order. Failed entries stay at the head of their lane and are retried with jittered
//! exponential backoff while the invocation has time left.

use crate::sink::{EntryResult, OutgoingRecord, RecordSink};
use rand::Rng;
use rand::rngs::SmallRng;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;
use tokio::time::Instant;

/// Limits and timing of the publishing loop.
#[derive(Debug, Clone)]
pub struct WaveSettings {
    /// Records per PutRecords call (Kinesis: 500).
    pub max_records_per_call: usize,
    /// Bytes (data + partition keys) per call (Kinesis: 5 MiB).
    pub max_bytes_per_call: usize,
    /// First backoff ceiling; doubles per consecutive failed wave.
    pub backoff_base: Duration,
    /// Largest backoff ceiling.
    pub backoff_cap: Duration,
    /// Time kept in hand before the deadline to answer the invocation.
    pub safety_margin: Duration,
    /// Longest time one call may take.
    pub call_timeout: Duration,
}

impl Default for WaveSettings {
    fn default() -> Self {
        WaveSettings {
            max_records_per_call: 500,
            max_bytes_per_call: 5 * 1024 * 1024,
            backoff_base: Duration::from_millis(25),
            backoff_cap: Duration::from_secs(1),
            safety_margin: Duration::from_millis(1000),
            call_timeout: Duration::from_secs(5),
        }
    }
}

/// What the loop did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaveReport {
    /// `stored[i]`: record i is on the stream.
    pub stored: Vec<bool>,
    /// PutRecords calls made.
    pub calls: u32,
    /// Entries that failed and were (or would have been) retried.
    pub failed_entries: u32,
    /// Calls that failed as a whole.
    pub failed_calls: u32,
    /// The loop stopped with records left (deadline, or a non-retryable error).
    pub gave_up: bool,
}

/// Per-key queues of record indices, in order of each key's first record.
struct Lanes {
    lanes: Vec<VecDeque<usize>>,
}

impl Lanes {
    fn new(records: &[OutgoingRecord]) -> Self {
        let mut by_key: HashMap<&str, usize> = HashMap::with_capacity(records.len());
        let mut lanes: Vec<VecDeque<usize>> = Vec::new();
        for (index, record) in records.iter().enumerate() {
            let lane = *by_key.entry(&record.partition_key).or_insert_with(|| {
                lanes.push(VecDeque::new());
                lanes.len() - 1
            });
            lanes[lane].push_back(index);
        }
        Lanes { lanes }
    }

    /// The next wave: the head of each lane, earliest lanes first, within the call limits.
    fn wave(&self, records: &[OutgoingRecord], settings: &WaveSettings) -> Vec<usize> {
        let mut wave = Vec::new();
        let mut bytes = 0;
        for lane in &self.lanes {
            let Some(&head) = lane.front() else { continue };
            let size = records[head].size();
            if wave.len() == settings.max_records_per_call {
                break;
            }
            if bytes + size > settings.max_bytes_per_call {
                // A smaller head further on may still fit.
                continue;
            }
            bytes += size;
            wave.push(head);
        }
        wave
    }

    fn pop_stored(&mut self, stored: &[bool]) {
        for lane in &mut self.lanes {
            while lane.front().is_some_and(|&head| stored[head]) {
                lane.pop_front();
            }
        }
        self.lanes.retain(|lane| !lane.is_empty());
    }
}

/// Publishes `records` in per-key order until all are stored or `deadline` (minus the safety
/// margin) leaves no time for another attempt.
pub async fn publish<S: RecordSink>(
    sink: &S,
    records: &[OutgoingRecord],
    settings: &WaveSettings,
    deadline: Instant,
    rng: &mut SmallRng,
) -> WaveReport {
    let mut report = WaveReport { stored: vec![false; records.len()], ..WaveReport::default() };
    let mut lanes = Lanes::new(records);
    let mut consecutive_failures = 0u32;
    loop {
        let wave = lanes.wave(records, settings);
        if wave.is_empty() {
            return report;
        }
        let Some(time_left) = deadline.checked_duration_since(Instant::now() + settings.safety_margin) else {
            report.gave_up = true;
            return report;
        };
        let batch: Vec<&OutgoingRecord> = wave.iter().map(|&i| &records[i]).collect();
        report.calls += 1;
        let outcome = tokio::time::timeout(time_left.min(settings.call_timeout), sink.put_records(&batch)).await;
        let all_stored = match outcome {
            Ok(Ok(results)) => record_results(&wave, &results, &mut report),
            Ok(Err(error)) if !error.is_retryable() => {
                tracing::error!(%error, "PutRecords failed and will not succeed on retry");
                report.failed_calls += 1;
                report.gave_up = true;
                return report;
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, records = wave.len(), "PutRecords failed; retrying");
                report.failed_calls += 1;
                false
            }
            Err(_elapsed) => {
                // The call may or may not have stored the entries: retrying can only duplicate.
                tracing::warn!(records = wave.len(), "PutRecords timed out; retrying");
                report.failed_calls += 1;
                false
            }
        };
        lanes.pop_stored(&report.stored);
        if all_stored {
            consecutive_failures = 0;
            continue;
        }
        consecutive_failures += 1;
        let pause = backoff(settings, consecutive_failures, rng);
        if Instant::now() + pause + settings.safety_margin >= deadline {
            report.gave_up = true;
            return report;
        }
        tokio::time::sleep(pause).await;
    }
}

/// Marks stored entries; returns whether all were stored.
fn record_results(wave: &[usize], results: &[EntryResult], report: &mut WaveReport) -> bool {
    let mut all_stored = results.len() == wave.len();
    for (&index, result) in wave.iter().zip(results) {
        match result {
            EntryResult::Stored => report.stored[index] = true,
            EntryResult::Failed { .. } => {
                report.failed_entries += 1;
                all_stored = false;
            }
        }
    }
    all_stored
}

/// Full jitter: uniform in `[0, min(cap, base * 2^(attempt-1))]`, so concurrent publishers
/// throttled together do not retry together.
fn backoff(settings: &WaveSettings, attempt: u32, rng: &mut SmallRng) -> Duration {
    let ceiling =
        settings.backoff_base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16)).min(settings.backoff_cap);
    let micros = u64::try_from(ceiling.as_micros()).unwrap_or(u64::MAX);
    Duration::from_micros(rng.random_range(0..=micros))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rand::SeedableRng;

    fn record(key: &str, size: usize) -> OutgoingRecord {
        OutgoingRecord { partition_key: key.to_owned(), data: vec![b'x'; size] }
    }

    #[test]
    fn a_wave_holds_one_record_per_key_in_stream_order() {
        let records = [record("a", 1), record("a", 1), record("b", 1), record("a", 1), record("c", 1)];
        let mut lanes = Lanes::new(&records);
        let settings = WaveSettings::default();
        assert_eq!(lanes.wave(&records, &settings), [0, 2, 4]);
        lanes.pop_stored(&[true, false, true, false, true]);
        assert_eq!(lanes.wave(&records, &settings), [1]);
        lanes.pop_stored(&[true, true, true, false, true]);
        assert_eq!(lanes.wave(&records, &settings), [3]);
    }

    #[test]
    fn a_wave_respects_the_record_and_byte_limits() {
        let records: Vec<_> = (0..1200).map(|i| record(&format!("k{i}"), 10)).collect();
        let settings = WaveSettings::default();
        let lanes = Lanes::new(&records);
        assert_eq!(lanes.wave(&records, &settings).len(), 500);
        let big: Vec<_> = (0..8).map(|i| record(&format!("k{i}"), 1024 * 1024 - 3)).collect();
        let wave = Lanes::new(&big).wave(&big, &settings);
        assert_eq!(wave, [0, 1, 2, 3, 4]);
        assert!(wave.iter().map(|&i| big[i].size()).sum::<usize>() <= settings.max_bytes_per_call);
    }

    #[test]
    fn backoff_is_jittered_below_a_doubling_capped_ceiling() {
        let settings = WaveSettings::default();
        let mut rng = SmallRng::seed_from_u64(7);
        for attempt in 1..20 {
            let ceiling = (settings.backoff_base * 2u32.pow((attempt - 1).min(16))).min(settings.backoff_cap);
            for _ in 0..50 {
                assert!(backoff(&settings, attempt, &mut rng) <= ceiling);
            }
        }
        let samples: Vec<_> = (0..50).map(|_| backoff(&settings, 10, &mut rng)).collect();
        assert!(samples.iter().any(|d| *d != samples[0]), "jittered");
    }
}
