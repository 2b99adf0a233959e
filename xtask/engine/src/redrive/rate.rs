//! The write rate of `redrive` and `replay`: records and bytes per second, kept under what one
//! Kinesis shard accepts. "A shard supports 1 MB/s and 1000 records per second for writes ... in
//! both on-demand and provisioned capacity modes" (Kinesis Data Streams developer guide, "Create
//! and manage Kinesis data streams"), and a new on-demand stream starts at 4 MB/s of write
//! throughput ("Quotas and limits"). One aggregate's events share a partition key, so they land
//! on one shard: the defaults keep even a single-aggregate redrive clear of throttling.

use std::time::Duration;
use tokio::time::Instant;

/// Records and bytes per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Records per second (at least 1).
    pub records_per_second: u32,
    /// Bytes per second (at least 1).
    pub bytes_per_second: u64,
}

impl Default for RateLimit {
    /// One shard's write limit: 1,000 records and 1 MiB per second.
    fn default() -> Self {
        RateLimit { records_per_second: 1_000, bytes_per_second: 1_048_576 }
    }
}

impl RateLimit {
    /// The time `records` records of `bytes` bytes take at this rate.
    pub fn cost(&self, records: usize, bytes: usize) -> Duration {
        let by_records = records as f64 / f64::from(self.records_per_second.max(1));
        let by_bytes = bytes as f64 / self.bytes_per_second.max(1) as f64;
        Duration::from_secs_f64(by_records.max(by_bytes))
    }
}

/// Spaces writes so that, over any run, they stay within the limit: each write is let through
/// once the writes before it have "paid" for their records and bytes.
#[derive(Debug)]
pub struct Limiter {
    limit: RateLimit,
    ready_at: Option<Instant>,
}

impl Limiter {
    /// A limiter whose first write goes at once.
    pub fn new(limit: RateLimit) -> Self {
        Limiter { limit, ready_at: None }
    }

    /// Waits until `records` records of `bytes` bytes may be written, and books them.
    pub async fn acquire(&mut self, records: usize, bytes: usize) {
        let now = Instant::now();
        let start = match self.ready_at {
            Some(ready) if ready > now => {
                tokio::time::sleep_until(ready).await;
                ready
            }
            _ => now,
        };
        self.ready_at = Some(start + self.limit.cost(records, bytes));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_is_set_by_the_tighter_of_records_and_bytes() {
        let limit = RateLimit { records_per_second: 1_000, bytes_per_second: 1_000_000 };
        assert_eq!(limit.cost(500, 1_000), Duration::from_millis(500));
        assert_eq!(limit.cost(10, 2_000_000), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn writes_over_the_limit_are_spaced_and_the_first_goes_at_once() {
        let mut limiter = Limiter::new(RateLimit { records_per_second: 100, bytes_per_second: u64::MAX });
        let start = Instant::now();
        limiter.acquire(100, 0).await;
        assert_eq!(start.elapsed(), Duration::ZERO);
        limiter.acquire(100, 0).await;
        limiter.acquire(100, 0).await;
        assert_eq!(start.elapsed(), Duration::from_secs(2), "300 records at 100/s: the third batch starts at 2 s");
    }
}
