//! Writes a region's API just made: its gateway says so after every command it answered with a
//! 2xx, and each replica of that region reads its table's stream at once instead of at its next
//! poll. The poll alone would leave the write waiting up to the replica's idle backoff before
//! replication even sees it, while AWS usually replicates within a second of the write (DynamoDB
//! developer guide, "How DynamoDB global tables work"); with the signal a replica can poll an
//! idle stream rarely (every poll is a call the emulator serves) and still send a command's
//! events on within the lag. Writes made by other callers (the functions, `cargo xtask`) are
//! seen at the next poll, as before.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::Notify;

/// Who waits for a region's writes (cheap to clone; every clone shares them).
#[derive(Debug, Clone, Default)]
pub struct Writes {
    waiting: Arc<Mutex<BTreeMap<String, Vec<Arc<Notify>>>>>,
}

impl Writes {
    /// Nobody waits yet.
    pub fn new() -> Writes {
        Writes::default()
    }

    /// A signal that fires after each write made in `region` (kept if nobody waits at that moment,
    /// so a write made while the waiter is busy wakes its next wait).
    pub fn subscribe(&self, region: &str) -> Arc<Notify> {
        let notify = Arc::new(Notify::new());
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        waiting.entry(region.to_owned()).or_default().push(notify.clone());
        notify
    }

    /// `region`'s API just made a write.
    pub fn wrote(&self, region: &str) {
        let waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        for notify in waiting.get(region).into_iter().flatten() {
            notify.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_write_wakes_every_waiter_of_its_region_only_and_is_kept_until_waited_for() {
        let writes = Writes::new();
        let (first, second, other) =
            (writes.subscribe("eu-west-1"), writes.subscribe("eu-west-1"), writes.subscribe("us-east-1"));
        writes.wrote("eu-west-1");
        let wait = Duration::from_millis(200);
        assert!(tokio::time::timeout(wait, first.notified()).await.is_ok(), "kept until waited for");
        assert!(tokio::time::timeout(wait, second.notified()).await.is_ok());
        assert!(tokio::time::timeout(wait, other.notified()).await.is_err(), "another region's waiter sleeps on");
        assert!(tokio::time::timeout(wait, first.notified()).await.is_err(), "one write, one wake-up");
    }
}
