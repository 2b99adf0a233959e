//! Region outages for the whole runtime: one switchboard that every engine watches, so a region
//! can be "lost" now or at a given time (`--kill R@T`) and everything touching it stops at once:
//! its event source mappings, replication to and from it, and whatever else subscribes. A lost
//! region can come back ([`Outages::restore`], `--kill R@T..T2`): the engines were paused, not
//! dropped ([`Outages::while_up`]), so each resumes where it stopped, as a region that comes back
//! online does. AWS, "Evacuating a Region with DynamoDB global tables" (developer guide,
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-global-table-design.prescriptive-guidance.evacuation.html>,
//! and <https://docs.aws.amazon.com/prescriptive-guidance/latest/dynamodb-global-tables/evacuation-processes.html>):
//! for an MREC table, writes of an offline Region that were not yet propagated are kept and
//! propagated when the Region comes back online; they are delayed, not lost.
//!
//! A region comes back in two steps when replication runs ([`Outages::gate_returns`]): first its
//! replication reconnects (its unpropagated writes go out, the others' writes come in), and only
//! once its replicas have caught up ([`Outages::rejoin`]) do its API and functions serve again,
//! as an operator returns a Region to service after replication has caught up. Otherwise its
//! functions would act on a stale replica, and their writes, later than the other regions',
//! would win last writer wins over newer data.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::SystemTime;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// One outage of one region: when it went down and, once it is back, when it returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outage {
    /// When the region went down.
    pub down: SystemTime,
    /// When it came back (`None` while it is down).
    pub up: Option<SystemTime>,
}

/// The regions that are down, and the last outage of every region that ever went down.
#[derive(Debug, Clone, Default)]
struct State {
    last: BTreeMap<String, Outage>,
    /// Back for replication, not yet serving.
    returning: std::collections::BTreeSet<String>,
}

impl State {
    fn is_cut_off(&self, region: &str) -> bool {
        self.last.get(region).is_some_and(|o| o.up.is_none())
    }

    fn is_down(&self, region: &str) -> bool {
        self.is_cut_off(region) || self.returning.contains(region)
    }
}

/// The set of regions that are down, shared by every engine (cheap to clone).
#[derive(Debug, Clone)]
pub struct Outages {
    state: Arc<watch::Sender<State>>,
    gated: Arc<std::sync::atomic::AtomicBool>,
}

impl Default for Outages {
    fn default() -> Self {
        Outages { state: Arc::new(watch::channel(State::default()).0), gated: Arc::default() }
    }
}

impl Outages {
    /// No region down.
    pub fn new() -> Outages {
        Outages::default()
    }

    /// Takes `region` down now. Returns whether it was up.
    pub fn kill(&self, region: &str) -> bool {
        self.state.send_if_modified(|state| {
            if state.is_down(region) {
                return false;
            }
            state.last.insert(region.to_owned(), Outage { down: SystemTime::now(), up: None });
            state.returning.remove(region);
            true
        })
    }

    /// Brings `region` back now: its replication at once, the rest once replication has caught
    /// up ([`Outages::rejoin`]) if returns are gated, else at once. Returns whether it was down.
    pub fn restore(&self, region: &str) -> bool {
        let gated = self.gated.load(std::sync::atomic::Ordering::Relaxed);
        self.state.send_if_modified(|state| match state.last.get_mut(region) {
            Some(outage) if outage.up.is_none() => {
                outage.up = Some(SystemTime::now());
                if gated {
                    state.returning.insert(region.to_owned());
                }
                true
            }
            _ => false,
        })
    }

    /// From now on a returning region serves again only when [`Outages::rejoin`] is called (by
    /// replication, once its replicas caught up).
    pub fn gate_returns(&self) {
        self.gated.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// A returning region's replicas caught up: it serves again. Returns whether it was returning.
    pub fn rejoin(&self, region: &str) -> bool {
        self.state.send_if_modified(|state| state.returning.remove(region))
    }

    /// Whether `region` is back for replication but does not serve yet.
    pub fn is_returning(&self, region: &str) -> bool {
        self.state.borrow().returning.contains(region)
    }

    /// Whether replication to and from `region` is cut (it is down and not returning).
    pub fn is_cut_off(&self, region: &str) -> bool {
        self.state.borrow().is_cut_off(region)
    }

    /// Takes `region` down at `at` (a task that sleeps until then; abort it to cancel).
    pub fn kill_at(&self, region: &str, at: tokio::time::Instant) -> JoinHandle<()> {
        let (outages, region) = (self.clone(), region.to_owned());
        tokio::spawn(async move {
            tokio::time::sleep_until(at).await;
            outages.kill(&region);
        })
    }

    /// Brings `region` back at `at` (a task that sleeps until then; abort it to cancel).
    pub fn restore_at(&self, region: &str, at: tokio::time::Instant) -> JoinHandle<()> {
        let (outages, region) = (self.clone(), region.to_owned());
        tokio::spawn(async move {
            tokio::time::sleep_until(at).await;
            outages.restore(&region);
        })
    }

    /// Whether `region` is down.
    pub fn is_down(&self, region: &str) -> bool {
        self.state.borrow().is_down(region)
    }

    /// Every region that is down (returning ones included).
    pub fn down(&self) -> Vec<String> {
        let state = self.state.borrow();
        state.last.keys().filter(|region| state.is_down(region)).cloned().collect()
    }

    /// The last outage of `region`, if it ever went down.
    pub fn last_outage(&self, region: &str) -> Option<Outage> {
        self.state.borrow().last.get(region).copied()
    }

    /// Resolves when `region` is down (at once if it already is).
    pub async fn wait_down(&self, region: &str) {
        self.wait_until(|state| state.is_down(region)).await;
    }

    /// Resolves when `region` is up (at once if it is).
    pub async fn wait_up(&self, region: &str) {
        self.wait_until(|state| !state.is_down(region)).await;
    }

    async fn wait_until(&self, condition: impl FnMut(&State) -> bool) {
        let mut receiver = self.state.subscribe();
        // The sender lives in `self`, so the channel cannot close while this waits.
        let _ = receiver.wait_for(condition).await.map(drop);
    }

    /// Runs `work` while `region` is up: while it is down `work` is not polled at all (it stays
    /// where it was, its state kept), and it goes on from there when the region returns. This is
    /// how an engine of a region stops with it and resumes from where it stopped.
    pub fn while_up<F: Future>(&self, region: &str, work: F) -> impl Future<Output = F::Output> + use<F> {
        self.pause_while(region, work, State::is_down)
    }

    /// [`Outages::while_up`] for replication: it runs again as soon as the region returns.
    pub fn while_connected<F: Future>(&self, region: &str, work: F) -> impl Future<Output = F::Output> + use<F> {
        self.pause_while(region, work, State::is_cut_off)
    }

    fn pause_while<F: Future>(
        &self,
        region: &str,
        work: F,
        paused: fn(&State, &str) -> bool,
    ) -> impl Future<Output = F::Output> + use<F> {
        let (outages, region) = (self.clone(), region.to_owned());
        async move {
            let mut work = std::pin::pin!(work);
            loop {
                tokio::select! {
                    // Checked first on every wake-up, so `work` never runs while paused.
                    biased;
                    () = outages.wait_until(|state| paused(state, &region)) => {
                        outages.wait_until(|state| !paused(state, &region)).await;
                    }
                    output = &mut work => return output,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
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
        assert_eq!(outages.down(), ["eu-west-1"]);
    }

    #[tokio::test]
    async fn a_restored_region_is_up_again_with_its_outage_on_record() {
        let outages = Outages::new();
        assert!(!outages.restore("eu-west-1"), "never down");
        outages.kill("eu-west-1");
        let at = tokio::time::Instant::now() + Duration::from_millis(50);
        let _timer = outages.restore_at("eu-west-1", at);
        tokio::time::timeout(Duration::from_secs(2), outages.wait_up("eu-west-1")).await.expect("woken");
        assert!(tokio::time::Instant::now() >= at && !outages.is_down("eu-west-1"));
        let outage = outages.last_outage("eu-west-1").expect("on record");
        assert!(outage.up.is_some_and(|up| up >= outage.down));
        assert!(outages.kill("eu-west-1"), "it can go down again");
        assert_eq!(outages.last_outage("eu-west-1").and_then(|o| o.up), None);
    }

    #[test]
    fn a_gated_return_reconnects_replication_first_and_serves_once_it_rejoins() {
        let outages = Outages::new();
        outages.gate_returns();
        outages.kill("eu-west-1");
        assert!(outages.is_cut_off("eu-west-1") && outages.is_down("eu-west-1"));
        outages.restore("eu-west-1");
        assert!(!outages.is_cut_off("eu-west-1"), "replication runs again");
        assert!(outages.is_down("eu-west-1") && outages.is_returning("eu-west-1"), "nothing else serves yet");
        assert!(outages.rejoin("eu-west-1"));
        assert!(!outages.is_down("eu-west-1") && !outages.is_returning("eu-west-1"));
    }

    #[tokio::test]
    async fn work_while_up_pauses_during_an_outage_and_resumes_where_it_stopped() {
        let (outages, ticks) = (Outages::new(), Arc::new(AtomicU32::new(0)));
        let counted = ticks.clone();
        let work = outages.while_up("eu-west-1", async move {
            loop {
                counted.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        let task = tokio::spawn(work);
        tokio::time::sleep(Duration::from_millis(50)).await;
        outages.kill("eu-west-1");
        tokio::time::sleep(Duration::from_millis(20)).await;
        let paused = ticks.load(Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(ticks.load(Ordering::Relaxed), paused, "nothing runs while the region is down");
        outages.restore("eu-west-1");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(ticks.load(Ordering::Relaxed) > paused, "it goes on after the return");
        task.abort();
    }
}
