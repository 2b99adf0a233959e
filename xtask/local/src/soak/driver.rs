//! The soak's client: drives commands through every region's HTTP API the way a careful client
//! does, and records what each region acknowledged.
//!
//! Each aggregate (a task) is created in one region, then renamed again and again with
//! `expected_version` = the last version acknowledged. A task's commands go to one live region,
//! as a user's requests go to the region latency routing picks for them, and every `hop_every`-th
//! command moves the task on to the next live region (a user who travels, or a failover): there
//! the replica may not have caught up yet, answers 409 with a lower `current_version`, and the
//! client retries the same command id after a short wait. Every `pair_every`-th
//! command is a concurrent pair: two renames at the same `expected_version`, sent at once to two
//! regions; when both are acknowledged at the same version they conflict in the global table
//! (last writer wins), which is the conflict the soak injects. A region that stops answering
//! (killed) leaves its in-flight command unacknowledged; the client moves on to a live region.

use crate::gateway::client::{Answer, call};
use crate::outage::Outages;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// Retries of one command in one region (409 behind the replica, 503, a timeout) before the
/// client gives up on it.
const TRIES: u32 = 200;
/// Wait after the first refused try; doubled after each further one up to [`RETRY_WAIT_CAP`].
/// A 409 from a replica behind costs the api five emulator calls, and the replica catches up
/// only after replication's poll and lag (100 ms each in the soak): retrying every 25 ms made
/// the api 68 of the emulator's 207 calls per acknowledged command.
const RETRY_WAIT: Duration = Duration::from_millis(50);
/// Longest wait between two tries.
const RETRY_WAIT_CAP: Duration = Duration::from_millis(400);

/// The wait before try `tries + 1`.
fn retry_wait(tries: u32) -> Duration {
    RETRY_WAIT.saturating_mul(1 << tries.min(4)).min(RETRY_WAIT_CAP)
}
/// Longest a client waits for a region's replica to reach the version it last saw when the
/// region that wrote that version is down (it may never replicate it); after that it decides
/// again from the version the live region has.
const BEHIND_LIMIT: Duration = Duration::from_secs(3);
/// Longest one command is tried for.
const COMMAND_LIMIT: Duration = Duration::from_secs(60);

/// What the client sends.
#[derive(Debug, Clone)]
pub struct DriveSettings {
    /// Commands in all (each acknowledged command appends one event).
    pub events: usize,
    /// Tasks they are spread over.
    pub aggregates: usize,
    /// Tasks driven at once.
    pub concurrency: usize,
    /// Every n-th command of a task is a concurrent pair from two regions (0: none).
    pub pair_every: usize,
    /// Every n-th command of a task goes to the next live region (1: every command does).
    pub hop_every: usize,
    /// One HTTP call's time limit.
    pub call_timeout: Duration,
}

/// A command a region acknowledged (2xx).
#[derive(Debug, Clone)]
pub struct Ack {
    /// The task.
    pub task: String,
    /// The region that acknowledged it.
    pub region: String,
    /// Its command id (the event's `CommandId`).
    pub command_id: String,
    /// The task's version after it: the event's sequence.
    pub version: u64,
    /// When the command was first sent.
    pub sent: SystemTime,
    /// Time from sending to the acknowledgement.
    pub latency: Duration,
    /// Sent as one of a concurrent pair.
    pub paired: bool,
}

/// A command sent and never acknowledged: its region went down, or it was refused for good.
#[derive(Debug, Clone)]
pub struct Unacknowledged {
    /// The task.
    pub task: String,
    /// The region it was sent to.
    pub region: String,
    /// Its command id.
    pub command_id: String,
    /// The last answer or error.
    pub reason: String,
}

/// Everything the client saw.
#[derive(Debug, Clone, Default)]
pub struct Driven {
    /// Acknowledged commands.
    pub acks: Vec<Ack>,
    /// Commands never acknowledged.
    pub unacknowledged: Vec<Unacknowledged>,
    /// Concurrent pairs sent.
    pub pairs: usize,
    /// Pairs both acknowledged at the same version: conflicts injected into the global table.
    pub conflicting_pairs: usize,
    /// Tries answered 409 by a region whose replica was behind, then retried.
    pub behind_retries: usize,
}

/// The regions a command can go to, and which are down.
#[derive(Debug, Clone)]
pub struct Targets {
    /// (region, API URL), in a fixed order.
    pub regions: Vec<(String, String)>,
    /// The runtime's outages.
    pub outages: Outages,
}

impl Targets {
    /// The live regions, starting at `turn` (round robin).
    fn live_from(&self, turn: usize) -> Vec<&(String, String)> {
        let count = self.regions.len().max(1);
        (0..self.regions.len())
            .map(|k| &self.regions[(turn + k) % count])
            .filter(|(region, _)| !self.outages.is_down(region))
            .collect()
    }
}

/// Shared by the workers: the acknowledged count (what `--kill R@50%` watches) and the record.
#[derive(Debug, Default)]
pub struct Progress {
    /// Commands acknowledged so far.
    pub acknowledged: AtomicUsize,
    driven: Mutex<Driven>,
}

impl Progress {
    fn record(&self, update: impl FnOnce(&mut Driven)) {
        if let Ok(mut driven) = self.driven.lock() {
            update(&mut driven);
        }
    }

    /// What was recorded.
    pub fn driven(&self) -> Driven {
        self.driven.lock().map(|d| d.clone()).unwrap_or_default()
    }
}

/// Drives `settings.events` commands over `settings.aggregates` tasks, `concurrency` at once.
pub async fn drive(settings: &DriveSettings, targets: &Targets, progress: &Arc<Progress>) {
    let aggregates = settings.aggregates.clamp(1, settings.events.max(1));
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..settings.concurrency.max(1) {
        let (settings, targets, progress, next) = (settings.clone(), targets.clone(), progress.clone(), next.clone());
        workers.spawn(async move {
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= aggregates {
                    break;
                }
                let commands = settings.events / aggregates + usize::from(index < settings.events % aggregates);
                drive_task(index, commands, &settings, &targets, &progress).await;
            }
        });
    }
    while workers.join_next().await.is_some() {}
}

/// One task: created, then `commands - 1` renames (pairs count as two).
async fn drive_task(index: usize, commands: usize, settings: &DriveSettings, targets: &Targets, progress: &Progress) {
    let client = Client { settings, progress, outages: &targets.outages };
    let Some((task, mut version, mut wrote)) = client.create(index, targets).await else { return };
    let mut sent = 1;
    while sent < commands {
        let turn = index + sent / settings.hop_every.max(1);
        let live = targets.live_from(turn);
        let Some(first) = live.first() else { return };
        let pair = settings.pair_every > 0 && sent % settings.pair_every == 0 && live.len() > 1 && sent + 1 < commands;
        if pair {
            let second = live[1];
            let (a, b) = tokio::join!(
                client.rename(&task, first, (version, &wrote), sent, true),
                client.rename(&task, second, (version, &wrote), sent + 1, true)
            );
            let (va, vb) = (a.unwrap_or(0), b.unwrap_or(0));
            progress.record(|d| {
                d.pairs += 1;
                d.conflicting_pairs += usize::from(va > 0 && va == vb);
            });
            if va.max(vb) > version {
                wrote = if va >= vb { first.0.clone() } else { second.0.clone() };
                version = va.max(vb);
            }
            sent += 2;
        } else {
            if let Some(acked) = client.rename(&task, first, (version, &wrote), sent, false).await {
                (version, wrote) = (acked, first.0.clone());
            }
            sent += 1;
        }
    }
}

struct Client<'a> {
    settings: &'a DriveSettings,
    progress: &'a Progress,
    outages: &'a Outages,
}

impl Client<'_> {
    /// Creates task `index` in a live region; its id, version 1 and the region.
    async fn create(&self, index: usize, targets: &Targets) -> Option<(String, u64, String)> {
        for target in targets.live_from(index) {
            let command_id = format!("soak-{index}-0-{}", uuid::Uuid::now_v7().simple());
            let body = json!({"title": format!("soak task {index}"), "command_id": command_id});
            let sent = SystemTime::now();
            let mut last = Refusal::Final("not sent".to_owned());
            for tries in 0..TRIES {
                if sent.elapsed().unwrap_or_default() > COMMAND_LIMIT {
                    break;
                }
                match self.send(target, "/tasks", &body).await {
                    Ok(answer) => {
                        let id = answer.json()["id"].as_str().unwrap_or_default().to_owned();
                        let latency = sent.elapsed().unwrap_or_default();
                        let (task, region) = (id.clone(), target.0.clone());
                        let paired = false;
                        self.acknowledge(Ack { task, region, command_id, version: 1, sent, latency, paired });
                        return Some((id, 1, target.0.clone()));
                    }
                    Err(refusal) if self.worth_retrying(&refusal, &target.0) => last = refusal,
                    Err(refusal) => {
                        last = refusal;
                        break;
                    }
                }
                tokio::time::sleep(retry_wait(tries)).await;
            }
            self.unacknowledged("(new)", target, command_id, last);
        }
        None
    }

    /// Renames `task` at `expected` (the version the client last saw, and the region that wrote
    /// it) in `target`, with the same command id on every try; the acknowledged version.
    async fn rename(
        &self,
        task: &str,
        target: &(String, String),
        (expected, wrote): (u64, &str),
        step: usize,
        paired: bool,
    ) -> Option<u64> {
        let command_id = format!("soak-{task}-{step}");
        let mut expected = expected;
        let sent = SystemTime::now();
        let path = format!("/tasks/{task}/commands");
        let mut last = Refusal::Final("not sent".to_owned());
        for tries in 0..TRIES {
            if sent.elapsed().unwrap_or_default() > COMMAND_LIMIT {
                break;
            }
            let body = json!({"type": "rename", "title": format!("{task} step {step}"),
                "expected_version": expected, "command_id": command_id});
            match self.send(target, &path, &body).await {
                Ok(answer) => {
                    let version = answer.json()["version"].as_u64().unwrap_or_default();
                    let latency = sent.elapsed().unwrap_or_default();
                    let (region, command_id) = (target.0.clone(), command_id.clone());
                    self.acknowledge(Ack { task: task.to_owned(), region, command_id, version, sent, latency, paired });
                    return Some(version);
                }
                Err(Refusal::Behind(current))
                    if current < expected
                        && self.outages.is_down(wrote)
                        && sent.elapsed().unwrap_or_default() > BEHIND_LIMIT =>
                {
                    expected = current;
                }
                // Another region is down: what this replica misses may be held there until it
                // returns (a global table's survivors do not repair each other), so the client
                // leaves this command and goes on.
                Err(refusal @ Refusal::Behind(current))
                    if current < expected
                        && !self.outages.down().is_empty()
                        && sent.elapsed().unwrap_or_default() > BEHIND_LIMIT =>
                {
                    self.unacknowledged(task, target, command_id, refusal);
                    return None;
                }
                Err(Refusal::Behind(current)) if current < expected => {
                    self.progress.record(|d| d.behind_retries += 1);
                }
                // The task moved on: a pair's other half won the race (this half gives up), or
                // a command whose answer was lost was recorded (the client decides again).
                Err(refusal @ Refusal::Behind(_)) if paired => {
                    self.unacknowledged(task, target, command_id, refusal);
                    return None;
                }
                Err(Refusal::Behind(current)) => expected = current,
                Err(refusal) if self.worth_retrying(&refusal, &target.0) => last = refusal,
                Err(refusal) => {
                    last = refusal;
                    break;
                }
            }
            tokio::time::sleep(retry_wait(tries)).await;
        }
        self.unacknowledged(task, target, command_id, last);
        None
    }

    /// One try.
    async fn send(&self, (_, url): &(String, String), path: &str, body: &Value) -> Result<Answer, Refusal> {
        match call(url, "POST", path, Some(body), self.settings.call_timeout).await {
            Ok(answer) if (200..300).contains(&answer.status) => Ok(answer),
            Ok(answer) => Err(refusal(&answer)),
            Err(error) => Err(Refusal::Down(error.to_string())),
        }
    }

    /// 5xx and 429 are tried again, and so is no answer while the region is up (a timeout).
    fn worth_retrying(&self, refusal: &Refusal, region: &str) -> bool {
        match refusal {
            Refusal::Retryable(_) => true,
            Refusal::Down(_) => !self.outages.is_down(region),
            Refusal::Behind(_) | Refusal::Final(_) => false,
        }
    }

    fn acknowledge(&self, ack: Ack) {
        self.progress.acknowledged.fetch_add(1, Ordering::Relaxed);
        self.progress.record(|d| d.acks.push(ack));
    }

    fn unacknowledged(&self, task: &str, target: &(String, String), command_id: String, reason: Refusal) {
        let entry =
            Unacknowledged { task: task.to_owned(), region: target.0.clone(), command_id, reason: reason.to_string() };
        self.progress.record(|d| d.unacknowledged.push(entry));
    }
}

/// Why a try did not end in an acknowledgement.
#[derive(Debug, Clone, thiserror::Error)]
enum Refusal {
    /// 409 `version_conflict`: the region's replica is at this version.
    #[error("409 version_conflict (the task is at version {0} there)")]
    Behind(u64),
    /// No answer: the region is down (or the connection broke).
    #[error("no answer: {0}")]
    Down(String),
    /// 5xx or 429: worth another try.
    #[error("{0}")]
    Retryable(String),
    /// Refused for good (4xx other than a version conflict).
    #[error("{0}")]
    Final(String),
}

fn refusal(answer: &Answer) -> Refusal {
    let body = answer.json();
    let text = format!("{} {}", answer.status, answer.body);
    match (answer.status, body["code"].as_str()) {
        // 503 `replicating` says the same as a 409 with a lower version: the replica is behind.
        (409, Some("version_conflict")) | (503, Some("replicating")) => {
            Refusal::Behind(body["current_version"].as_u64().unwrap_or_default())
        }
        (429 | 500..=599, _) => Refusal::Retryable(text),
        _ => Refusal::Final(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_sorted_into_behind_retryable_and_final() {
        let answer = |status, body: &str| Answer { status, body: body.to_owned() };
        let behind = refusal(&answer(409, r#"{"code":"version_conflict","current_version":3}"#));
        assert!(matches!(behind, Refusal::Behind(3)));
        let replicating = refusal(&answer(503, r#"{"code":"replicating","current_version":0}"#));
        assert!(matches!(replicating, Refusal::Behind(0)));
        assert!(matches!(refusal(&answer(503, "{}")), Refusal::Retryable(_)));
        assert!(matches!(refusal(&answer(409, r#"{"code":"rejected"}"#)), Refusal::Final(_)));
        assert!(matches!(refusal(&answer(422, "{}")), Refusal::Final(_)));
    }

    #[test]
    fn retries_wait_longer_each_time_up_to_the_cap() {
        let waits: Vec<u64> = (0..7).map(|tries| retry_wait(tries).as_millis() as u64).collect();
        assert_eq!(waits, [50, 100, 200, 400, 400, 400, 400]);
    }

    #[test]
    fn live_regions_go_round_robin_and_skip_the_ones_down() {
        let outages = Outages::new();
        let regions = ["a", "b", "c"].iter().map(|r| ((*r).to_owned(), format!("http://{r}"))).collect();
        let targets = Targets { regions, outages: outages.clone() };
        let names = |turn| targets.live_from(turn).iter().map(|(r, _)| r.clone()).collect::<Vec<_>>();
        assert_eq!(names(1), ["b", "c", "a"]);
        outages.kill("c");
        assert_eq!(names(2), ["a", "b"]);
    }
}
