//! Region outages for the whole runtime: one switchboard that every engine watches, so a region
//! can be "lost" now or at a given time (`--kill R@T`) and everything touching it stops at once:
//! its event source mappings, replication to and from it, and whatever else subscribes.

use std::collections::BTreeSet;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The set of regions that are down, shared by every engine (cheap to clone).
#[derive(Debug, Clone)]
pub struct Outages {
    down: Arc<watch::Sender<BTreeSet<String>>>,
}

impl Default for Outages {
    fn default() -> Self {
        Outages { down: Arc::new(watch::channel(BTreeSet::new()).0) }
    }
}

impl Outages {
    /// No region down.
    pub fn new() -> Outages {
        Outages::default()
    }

    /// Takes `region` down now. Returns whether it was up.
    pub fn kill(&self, region: &str) -> bool {
        self.down.send_if_modified(|down| down.insert(region.to_owned()))
    }

    /// Takes `region` down at `at` (a task that sleeps until then; abort it to cancel).
    pub fn kill_at(&self, region: &str, at: tokio::time::Instant) -> JoinHandle<()> {
        let (outages, region) = (self.clone(), region.to_owned());
        tokio::spawn(async move {
            tokio::time::sleep_until(at).await;
            outages.kill(&region);
        })
    }

    /// Whether `region` is down.
    pub fn is_down(&self, region: &str) -> bool {
        self.down.borrow().contains(region)
    }

    /// Every region that is down.
    pub fn down(&self) -> BTreeSet<String> {
        self.down.borrow().clone()
    }

    /// Resolves when `region` is down (at once if it already is).
    pub async fn wait_down(&self, region: &str) {
        let mut receiver = self.down.subscribe();
        // The sender lives in `self`, so the channel cannot close while this waits.
        let _ = receiver.wait_for(|down| down.contains(region)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_scheduled_kill_takes_the_region_down_at_its_time_and_wakes_waiters() {
        let outages = Outages::new();
        let at = tokio::time::Instant::now() + Duration::from_millis(50);
        let _timer = outages.kill_at("eu-west-1", at);
        assert!(!outages.is_down("eu-west-1"));
        tokio::time::timeout(Duration::from_secs(2), outages.wait_down("eu-west-1")).await.expect("woken");
        assert!(tokio::time::Instant::now() >= at);
        assert!(outages.is_down("eu-west-1") && !outages.is_down("us-east-1"));
        assert!(!outages.kill("eu-west-1"), "already down");
    }
}
