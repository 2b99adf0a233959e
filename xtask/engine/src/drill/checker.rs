//! Health as a Route53 health checker observes it, for a drill against an app whose regions
//! answer over HTTP on this machine (the local runtime): every request interval, `GET /health`
//! on each region's API; a region changes status only after `failure_threshold` consecutive
//! results that disagree with its current status. Route 53 developer guide, "How Amazon Route 53
//! determines whether a health check is healthy"
//! (<https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html>):
//! an HTTP check passes on a 2xx or 3xx status within the timeout, and `FailureThreshold` is "the
//! number of consecutive health checks that an endpoint must pass or fail for Route 53 to change
//! the current status" (API reference, `HealthCheckConfig`). Route53 has many checkers and calls
//! an endpoint healthy when more than 18% of them report so; locally there is one checker.

use crate::status::HealthVerdict;
pub use futures::future::BoxFuture;
use std::collections::BTreeMap;
use std::time::Duration;

/// Route53's interval is scaled down by this much locally: a 30 s interval becomes 1 s, 10 s
/// becomes 333 ms; the failure threshold is kept, so detection takes as many requests as on AWS.
pub const LOCAL_TIME_SCALE: u32 = 30;

/// A region's HTTP API as a drill reaches it.
pub trait RegionApis: Send + Sync {
    /// The status code of `GET /health` on `region`'s API; an error when nothing answered in
    /// time (a health checker counts it as a failure).
    fn health<'a>(&'a self, region: &'a str) -> BoxFuture<'a, anyhow::Result<u16>>;
    /// `POST /tasks` on `region`'s API with `title`; the created task's id.
    fn create_task<'a>(&'a self, region: &'a str, title: &'a str) -> BoxFuture<'a, anyhow::Result<String>>;
    /// What serves the APIs and runs the publisher, for the report.
    fn describe(&self) -> String;
}

/// How the checker looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckerSettings {
    /// Between two rounds of requests.
    pub interval: Duration,
    /// Consecutive disagreeing results that change a status.
    pub failure_threshold: u32,
}

impl CheckerSettings {
    /// The deployed check's `RequestInterval` (seconds) scaled by [`LOCAL_TIME_SCALE`], and its
    /// `FailureThreshold` (Route53's default is 3).
    pub fn scaled(request_interval_seconds: i32, failure_threshold: i32) -> CheckerSettings {
        let seconds = u64::try_from(request_interval_seconds.max(1)).unwrap_or(30);
        CheckerSettings {
            interval: Duration::from_millis(seconds * 1000 / u64::from(LOCAL_TIME_SCALE)),
            failure_threshold: u32::try_from(failure_threshold.clamp(1, 10)).unwrap_or(3),
        }
    }
}

/// Whether a `/health` answer passes: 2xx or 3xx.
pub fn passes(answer: &anyhow::Result<u16>) -> bool {
    matches!(answer, Ok(status) if (200..400).contains(status))
}

/// One region's status and the run of results that disagree with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RegionState {
    verdict: HealthVerdict,
    disagreeing: u32,
}

/// The checker's statuses, by region.
#[derive(Debug, Clone)]
pub struct Checker {
    settings: CheckerSettings,
    states: BTreeMap<String, RegionState>,
}

impl Checker {
    /// A checker with no status yet.
    pub fn new(settings: CheckerSettings) -> Checker {
        Checker { settings, states: BTreeMap::new() }
    }

    /// The settings.
    pub fn settings(&self) -> CheckerSettings {
        self.settings
    }

    /// Takes one result for `region`; the first result sets the status directly.
    pub fn record(&mut self, region: &str, passed: bool) -> HealthVerdict {
        let seen = if passed { HealthVerdict::Healthy } else { HealthVerdict::Unhealthy };
        let state = self.states.entry(region.to_owned()).or_insert(RegionState { verdict: seen, disagreeing: 0 });
        if state.verdict == seen {
            state.disagreeing = 0;
        } else {
            state.disagreeing += 1;
            if state.disagreeing >= self.settings.failure_threshold {
                *state = RegionState { verdict: seen, disagreeing: 0 };
            }
        }
        state.verdict
    }

    /// One round: `GET /health` on every region of `regions`, each result recorded.
    pub async fn round(&mut self, apis: &dyn RegionApis, regions: &[String]) -> BTreeMap<String, HealthVerdict> {
        let mut verdicts = BTreeMap::new();
        for region in regions {
            let answer = apis.health(region).await;
            verdicts.insert(region.clone(), self.record(region, passes(&answer)));
        }
        verdicts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_changes_only_after_the_threshold_of_consecutive_disagreeing_results() {
        let mut checker = Checker::new(CheckerSettings::scaled(30, 3));
        assert_eq!(checker.settings().interval, Duration::from_secs(1));
        assert_eq!(checker.record("a", true), HealthVerdict::Healthy);
        assert_eq!(checker.record("a", false), HealthVerdict::Healthy);
        assert_eq!(checker.record("a", false), HealthVerdict::Healthy);
        assert_eq!(checker.record("a", true), HealthVerdict::Healthy, "a pass resets the run");
        for _ in 0..2 {
            assert_eq!(checker.record("a", false), HealthVerdict::Healthy);
        }
        assert_eq!(checker.record("a", false), HealthVerdict::Unhealthy, "the third failure in a row");
        assert_eq!(checker.record("a", true), HealthVerdict::Unhealthy);
        assert_eq!(checker.record("a", true), HealthVerdict::Unhealthy);
        assert_eq!(checker.record("a", true), HealthVerdict::Healthy, "and three passes bring it back");
    }

    #[test]
    fn only_2xx_and_3xx_pass_and_no_answer_fails() {
        assert!(passes(&Ok(200)) && passes(&Ok(302)));
        assert!(!passes(&Ok(503)) && !passes(&Ok(404)));
        assert!(!passes(&Err(anyhow::anyhow!("connection refused"))));
        assert_eq!(CheckerSettings::scaled(10, 0).failure_threshold, 1, "clamped to Route53's 1..=10");
    }
}
