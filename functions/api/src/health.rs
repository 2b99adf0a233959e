//! `GET /health`, the target of the region's Route53 health check: reads the local event-log
//! replica, describes its stream, and reads the drill flag (SSM `/<app>/drill/<region>`), each
//! within a short timeout. Unhealthy while the flag says `fail`, the replica does not answer,
//! or the stream is not ENABLED.
//!
//! The route is public, and DynamoDB Streams allows `DescribeStream` 10 times per second
//! (DynamoDB Streams API reference, AWS-FACTS 9.3): a deep check per request would let anyone
//! throttle the region out of DNS. So a container runs the checks at most once per
//! [`CACHE_FOR`], whatever the request rate: concurrent requests wait for the one check in
//! flight (single flight) and every request in the interval answers its result. A throttled
//! `DescribeStream` says the service is there and busy, so it does not fail the region either.

use aws_sdk_dynamodbstreams::types::StreamStatus;
use aws_sdk_ssm::operation::get_parameter::GetParameterError;
use domain::DomainError;
use domain::store::EventStore;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Each check must answer within this, well inside Route53's 4-second probe timeout.
pub const CHECK_TIMEOUT: Duration = Duration::from_millis(1500);

/// How long a container answers from its last check: Route53 probes each endpoint every 10 or
/// 30 s from about 15 locations, so 5 s still sees every change within one probe interval.
pub const CACHE_FOR: Duration = Duration::from_secs(5);

/// The stream check's status when DescribeStream was throttled.
const RATE_LIMITED: &str = "rate-limited; not failing the region for it";

/// Error codes of a throttled call: the service answered, it is only busy.
const THROTTLED: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "LimitExceededException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
];

/// The last report of a container and when it was made, shared by its requests.
#[derive(Debug, Clone)]
pub struct HealthCache {
    last: Arc<Mutex<Option<(Instant, HealthReport)>>>,
    fresh_for: Duration,
}

impl HealthCache {
    /// Reports stay fresh for `fresh_for`.
    pub fn new(fresh_for: Duration) -> Self {
        HealthCache { last: Arc::new(Mutex::new(None)), fresh_for }
    }
}

impl Default for HealthCache {
    fn default() -> Self {
        HealthCache::new(CACHE_FOR)
    }
}

/// What `/health` looks at.
#[derive(Debug, Clone)]
pub struct Health {
    /// The local replica of the event log.
    pub store: EventStore,
    /// DynamoDB Streams client.
    pub streams: aws_sdk_dynamodbstreams::Client,
    /// This region's replica stream.
    pub stream_arn: String,
    /// SSM client.
    pub ssm: aws_sdk_ssm::Client,
    /// `/<app>/drill/<region>`.
    pub drill_parameter: String,
    /// How long each check may take ([`CHECK_TIMEOUT`] in production; tests on a loaded
    /// emulator allow more).
    pub check_timeout: Duration,
    /// The container's last report.
    pub cache: HealthCache,
}

/// The outcome: healthy or not, and a JSON body describing each check.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthReport {
    /// Whether the region should receive traffic.
    pub healthy: bool,
    /// `{"status", "checks": {...}}`.
    pub body: Value,
}

async fn within<T>(limit: Duration, check: impl Future<Output = Result<T, DomainError>>) -> Result<T, String> {
    match tokio::time::timeout(limit, check).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err(format!("no answer within {limit:?}")),
    }
}

impl Health {
    /// The report of the last check if it is fresh; otherwise runs the checks, while
    /// concurrent callers wait for this one result instead of starting checks of their own.
    pub async fn check(&self) -> HealthReport {
        let mut last = self.cache.last.lock().await;
        if let Some((at, report)) = last.as_ref()
            && at.elapsed() < self.cache.fresh_for
        {
            return report.clone();
        }
        let report = self.run_checks().await;
        *last = Some((Instant::now(), report.clone()));
        report
    }

    /// Runs the three checks concurrently, each bounded by the check timeout.
    async fn run_checks(&self) -> HealthReport {
        let limit = self.check_timeout;
        let (drill, replica, stream) = tokio::join!(
            within(limit, self.drill_flag()),
            within(limit, self.store.probe()),
            within(limit, self.stream())
        );
        // The flag fails the region only when it says so: if SSM is unreachable the data path
        // still decides, so an SSM outage alone cannot take every region out.
        let drilled = matches!(&drill, Ok(Some(value)) if value == domain::contract::drill::FAIL);
        let stream_ok = matches!(&stream, Ok(status) if status == "ENABLED" || status == RATE_LIMITED);
        let healthy = !drilled && replica.is_ok() && stream_ok;
        let describe = |r: &Result<String, String>| match r {
            Ok(v) => json!({"ok": true, "status": v}),
            Err(e) => json!({"ok": false, "error": e}),
        };
        let drill_json = match &drill {
            Ok(value) => json!({"ok": !drilled, "value": value}),
            Err(e) => json!({"ok": true, "error": e, "note": "flag unreadable; not failing the region for it"}),
        };
        let body = json!({
            "status": if healthy { "ok" } else { "failing" },
            "checks": {
                "drill": drill_json,
                "replica": describe(&replica.map(|()| "readable".to_owned())),
                "stream": describe(&stream),
            },
        });
        HealthReport { healthy, body }
    }

    /// The flag's value; `None` when the parameter does not exist (the normal case).
    async fn drill_flag(&self) -> Result<Option<String>, DomainError> {
        match self.ssm.get_parameter().name(&self.drill_parameter).send().await {
            Ok(output) => Ok(output.parameter.and_then(|p| p.value).map(|v| v.trim().to_ascii_lowercase())),
            Err(e) if matches!(e.as_service_error(), Some(GetParameterError::ParameterNotFound(_))) => Ok(None),
            Err(e) => Err(DomainError::from_sdk("GetParameter", &e)),
        }
    }

    async fn stream(&self) -> Result<String, DomainError> {
        let output = match self.streams.describe_stream().stream_arn(&self.stream_arn).limit(1).send().await {
            Ok(output) => output,
            Err(e) => {
                return match DomainError::from_sdk("DescribeStream", &e) {
                    DomainError::Aws { code, .. } if THROTTLED.contains(&code.as_str()) => Ok(RATE_LIMITED.to_owned()),
                    other => Err(other),
                };
            }
        };
        let status = output.stream_description.and_then(|d| d.stream_status).unwrap_or(StreamStatus::Disabled);
        Ok(status.as_str().to_owned())
    }
}
