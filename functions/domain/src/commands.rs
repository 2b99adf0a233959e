//! Command handling with optimistic concurrency and idempotent command ids: look up the command
//! record, load the aggregate with a Query, decide, and append the events together with the
//! command record in one conditional transaction. A transaction cancelled by contention or
//! throttling (not by a failed condition) is tried again a few times within ~150 ms, then
//! answered as a conflict (409) or as throttling (503), never as an internal error.

use crate::aggregate::{Aggregate, EventBody, fold};
use crate::cancellation::Cancellation;
use crate::error::DomainError;
use crate::idempotency::{COMMAND_TTL_SECONDS, CommandRecord, IdempotencyStore};
use crate::item::{EventItem, aggregate_key, split_aggregate_key};
use crate::origin::{Origin, format_recorded_at};
use crate::store::{AppendError, EventStore};
use aws_sdk_dynamodb::types::TransactWriteItem;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};
use std::time::Duration;
use time::OffsetDateTime;

/// Tries of a transaction cancelled by contention or throttling.
const APPEND_ATTEMPTS: u32 = 4;
/// Backoff ceiling before the first retry; doubles per retry (full jitter): at most
/// 20 + 40 + 80 ms in all.
const APPEND_BACKOFF: Duration = Duration::from_millis(20);

/// Which aggregate a command addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A new aggregate whose id the service generates (UUIDv7).
    New,
    /// An existing aggregate.
    Existing(String),
}

/// A validated command with its idempotency and concurrency controls.
#[derive(Debug, Clone)]
pub struct CommandRequest<C> {
    /// Client-supplied or generated; a retry with the same id returns the first result.
    pub command_id: String,
    /// When set, the command applies only if the aggregate is at this version.
    pub expected_version: Option<u64>,
    /// The command.
    pub command: C,
}

/// The result of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutcome {
    /// The aggregate's id.
    pub aggregate_id: String,
    /// Its version after the command.
    pub version: u64,
    /// True when the command id had already been processed and nothing was appended.
    pub replayed: bool,
}

/// Executes commands against the event log.
#[derive(Debug, Clone)]
pub struct CommandService {
    store: EventStore,
    idempotency: IdempotencyStore,
    origin: Origin,
}

impl CommandService {
    /// A service writing events tagged with `origin`.
    pub fn new(store: EventStore, idempotency: IdempotencyStore, origin: Origin) -> Self {
        CommandService { store, idempotency, origin }
    }

    /// The event log.
    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// Decides and appends `request` on `target` at time `now`.
    pub async fn execute<A: Aggregate>(
        &self,
        target: Target,
        request: &CommandRequest<A::Command>,
        now: OffsetDateTime,
    ) -> Result<CommandOutcome, DomainError> {
        let fingerprint = fingerprint::<A>(&target, &request.command);
        if let Some(record) = self.idempotency.command(&request.command_id).await? {
            return replay(&record, &request.command_id, &fingerprint);
        }
        let (id, items) = match &target {
            // A fresh UUIDv7 has no events; the conditional Put still guards the sequence.
            Target::New => (uuid::Uuid::now_v7().to_string(), Vec::new()),
            Target::Existing(id) => (id.clone(), self.store.load(&aggregate_key(A::TYPE, id)).await?),
        };
        let key = aggregate_key(A::TYPE, &id);
        let current = fold::<A>(&items)?;
        if let Some(expected) = request.expected_version.filter(|v| *v != current.version) {
            return Err(DomainError::VersionConflict { aggregate: key, expected, actual: current.version });
        }
        let events = current.state.decide(&request.command).map_err(|e| match e {
            DomainError::NotFound { .. } => DomainError::NotFound { aggregate: key.clone() },
            other => other,
        })?;
        let new_items = self.items(&key, current.version, &events, &request.command_id, now);
        let version = current.version + new_items.len() as u64;
        let record = CommandRecord {
            command_id: request.command_id.clone(),
            aggregate_key: key.clone(),
            version,
            fingerprint: fingerprint.clone(),
            expires_at: now.unix_timestamp() + COMMAND_TTL_SECONDS,
        };
        let mut writes = new_items.iter().map(|item| self.store.append_put(item)).collect::<Result<Vec<_>, _>>()?;
        writes.push(self.idempotency.command_put(&record)?);
        match self.append(writes).await {
            Ok(()) => Ok(CommandOutcome { aggregate_id: id, version, replayed: false }),
            Err(AppendError::Failed(error)) => Err(error),
            Err(AppendError::Cancelled(Cancellation::ConditionFailed | Cancellation::TransactionConflict)) => {
                self.explain_cancellation(&request.command_id, &fingerprint, &key, current.version).await
            }
            Err(AppendError::Cancelled(Cancellation::Throttled)) => Err(cancelled("throttled", true)),
            Err(AppendError::Cancelled(Cancellation::Invalid(reason))) => Err(cancelled(&reason, false)),
        }
    }

    /// Appends, trying again while the transaction is cancelled by contention or throttling.
    async fn append(&self, writes: Vec<TransactWriteItem>) -> Result<(), AppendError> {
        let mut rng = SmallRng::from_os_rng();
        let mut attempt = 1;
        loop {
            match self.store.append(writes.clone()).await {
                Err(AppendError::Cancelled(Cancellation::TransactionConflict | Cancellation::Throttled))
                    if attempt < APPEND_ATTEMPTS =>
                {
                    let ceiling = APPEND_BACKOFF * (1 << (attempt - 1));
                    tokio::time::sleep(ceiling.mul_f64(rng.random_range(0.0..=1.0))).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// The log items of `events`, numbered after `version` and tagged with this region.
    fn items<E: EventBody>(
        &self,
        key: &str,
        version: u64,
        events: &[E],
        command_id: &str,
        now: OffsetDateTime,
    ) -> Vec<EventItem> {
        let recorded_at = format_recorded_at(now);
        events
            .iter()
            .zip(version + 1..)
            .map(|(event, sequence)| EventItem {
                aggregate_key: key.to_owned(),
                sequence,
                event_id: uuid::Uuid::now_v7().to_string(),
                event_type: event.event_type().to_owned(),
                event_version: event.event_version(),
                payload: event.payload_json(),
                origin_region: self.origin.region().to_owned(),
                recorded_at: recorded_at.clone(),
                command_id: command_id.to_owned(),
            })
            .collect()
    }

    /// A cancelled append means either the same command id committed concurrently (answer as a
    /// replay) or another command appended first (a version conflict, never an overwrite).
    async fn explain_cancellation(
        &self,
        command_id: &str,
        fingerprint: &str,
        key: &str,
        expected: u64,
    ) -> Result<CommandOutcome, DomainError> {
        if let Some(record) = self.idempotency.command(command_id).await? {
            return replay(&record, command_id, fingerprint);
        }
        let actual = self.store.latest_sequence(key).await?;
        Err(DomainError::VersionConflict { aggregate: key.to_owned(), expected, actual })
    }
}

/// A cancelled transaction that is neither a conflict nor a replay.
fn cancelled(reason: &str, retryable: bool) -> DomainError {
    DomainError::Aws {
        operation: "TransactWriteItems".into(),
        code: "TransactionCanceledException".into(),
        message: format!("cancelled: {reason}"),
        retryable,
    }
}

fn replay(record: &CommandRecord, command_id: &str, fingerprint: &str) -> Result<CommandOutcome, DomainError> {
    if record.fingerprint != fingerprint {
        return Err(DomainError::CommandIdReused { command_id: command_id.to_owned() });
    }
    let (_, id) = split_aggregate_key(&record.aggregate_key)?;
    Ok(CommandOutcome { aggregate_id: id.to_owned(), version: record.version, replayed: true })
}

/// Hash of what the command asks for: the aggregate type, the addressed id (none for a new
/// aggregate, whose id is generated) and the command's canonical JSON.
pub fn fingerprint<A: Aggregate>(target: &Target, command: &A::Command) -> String {
    let mut hash = Sha256::new();
    hash.update(A::TYPE.as_bytes());
    hash.update(b"\n");
    if let Target::Existing(id) = target {
        hash.update(id.as_bytes());
    }
    hash.update(b"\n");
    // Commands are plain data; serializing them cannot fail.
    hash.update(serde_json::to_vec(command).unwrap_or_default());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::task::{Task, TaskCommand, Title};

    #[test]
    fn fingerprints_differ_by_target_and_command_only() {
        let rename = |t: &str| TaskCommand::Rename { title: Title::parse(t).unwrap() };
        let a = Target::Existing("a".into());
        assert_eq!(fingerprint::<Task>(&a, &rename("x")), fingerprint::<Task>(&a, &rename("x")));
        assert_ne!(fingerprint::<Task>(&a, &rename("x")), fingerprint::<Task>(&a, &rename("y")));
        assert_ne!(
            fingerprint::<Task>(&a, &rename("x")),
            fingerprint::<Task>(&Target::Existing("b".into()), &rename("x"))
        );
        assert_eq!(fingerprint::<Task>(&Target::New, &rename("x")).len(), 64);
    }
}
