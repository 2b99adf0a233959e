//! The drill's probe: N commands written through a surviving region's API while the drilled
//! region is out, then that region's Kinesis stream read back (the one reader,
//! `publisher::replay::kinesis_records`) and every probe event counted by its event id: each
//! must be published exactly once. Written through the real HTTP API only; the report names what
//! ran the api and the publisher.

use super::checker::RegionApis;
use anyhow::{Context, Result};
use domain::DomainEvent;
use publisher::replay::{PublishedRecord, kinesis_records};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// After every probe event has been seen once, the stream is read again this much later, so a
/// late duplicate (a retried batch) is counted too.
pub const LATE_DUPLICATES: Duration = Duration::from_secs(2);

/// What the probe found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeResult {
    /// The surviving region written through.
    pub region: String,
    /// Commands acknowledged by its API (one event each).
    pub written: usize,
    /// Distinct probe events on its stream.
    pub published: usize,
    /// Extra copies of probe events on its stream.
    pub duplicates: usize,
    /// Probe events never seen on its stream.
    pub missing: Vec<String>,
    /// What served the API and published.
    pub ran_by: String,
}

impl ProbeResult {
    /// Each command written, each event published exactly once.
    pub fn passed(&self) -> bool {
        self.written > 0 && self.published == self.written && self.duplicates == 0 && self.missing.is_empty()
    }

    /// `written / published / duplicates` and what is wrong.
    pub fn summary(&self) -> String {
        let mut text = format!(
            "probe through {}: {} written / {} published / {} duplicates",
            self.region, self.written, self.published, self.duplicates
        );
        if !self.missing.is_empty() {
            text.push_str(&format!("; never published: tasks {}", self.missing.join(", ")));
        }
        text
    }
}

/// Counts the events of the aggregates `written` (task ids) among `records`.
pub fn tally(region: &str, written: &[String], records: &[PublishedRecord], ran_by: &str) -> ProbeResult {
    let ids: BTreeSet<&str> = written.iter().map(String::as_str).collect();
    let mut copies: BTreeMap<String, usize> = BTreeMap::new();
    let mut seen_aggregates = BTreeSet::new();
    for record in records {
        let Ok(event) = DomainEvent::parse(&record.data) else { continue };
        if ids.contains(event.aggregate_id.as_str()) {
            seen_aggregates.insert(event.aggregate_id.clone());
            *copies.entry(event.id).or_default() += 1;
        }
    }
    ProbeResult {
        region: region.to_owned(),
        written: written.len(),
        published: copies.len(),
        duplicates: copies.values().map(|n| n - 1).sum(),
        missing: written.iter().filter(|id| !seen_aggregates.contains(id.as_str())).cloned().collect(),
        ran_by: ran_by.to_owned(),
    }
}

/// Writes `count` tasks through `region`'s API, then reads `stream` in `region` until every
/// probe event is there (or `timeout`), and once more [`LATE_DUPLICATES`] later.
pub async fn run(
    apis: &dyn RegionApis,
    kinesis: &aws_sdk_kinesis::Client,
    region: &str,
    stream: &str,
    count: usize,
    timeout: Duration,
) -> Result<ProbeResult> {
    let mut written = Vec::with_capacity(count);
    for n in 1..=count {
        let title = format!("drill probe {n} of {count}");
        let id =
            apis.create_task(region, &title).await.with_context(|| format!("probe command {n} through {region}"))?;
        written.push(id);
    }
    let ran_by = apis.describe();
    let started = Instant::now();
    loop {
        let records = kinesis_records(kinesis, stream).await?;
        let result = tally(region, &written, &records, &ran_by);
        if result.missing.is_empty() || started.elapsed() >= timeout {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tokio::time::sleep(LATE_DUPLICATES).await;
    Ok(tally(region, &written, &kinesis_records(kinesis, stream).await?, &ran_by))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(event: &str, aggregate: &str) -> PublishedRecord {
        let data = json!({
            "id": event, "type": "TaskCreated", "version": 1, "aggregate_type": "Task", "aggregate_id": aggregate,
            "sequence": 1, "origin_region": "us-east-1", "recorded_at": "2026-12-01T00:00:00.000Z",
            "published_by": "us-east-1", "replay": false, "payload": {"title": "t"}
        });
        PublishedRecord {
            partition_key: format!("Task#{aggregate}"),
            sequence_number: "1".into(),
            data: data.to_string().into_bytes(),
        }
    }

    #[test]
    fn each_probe_event_counts_once_a_copy_is_a_duplicate_and_an_absent_one_is_missing() {
        let written = vec!["t1".to_owned(), "t2".to_owned(), "t3".to_owned()];
        let records = [record("e1", "t1"), record("e2", "t2"), record("e1", "t1"), record("x", "other")];
        let result = tally("us-east-1", &written, &records, "test");
        assert_eq!((result.written, result.published, result.duplicates), (3, 2, 1));
        assert_eq!(result.missing, ["t3"]);
        assert!(!result.passed());
        assert!(result.summary().contains("3 written / 2 published / 1 duplicates"), "{}", result.summary());

        let clean = tally("us-east-1", &written[..2], &[record("e1", "t1"), record("e2", "t2")], "test");
        assert!(clean.passed(), "{clean:?}");
    }
}
