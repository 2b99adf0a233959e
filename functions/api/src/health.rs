//! `GET /health`, the target of the region's Route53 health check: reads the local event-log
//! replica, describes its stream, and reads the drill flag (SSM `/<app>/drill/<region>`), each
//! within a short timeout. Unhealthy while the flag says `fail`, the replica does not answer,
//! or the stream is not ENABLED.

use aws_sdk_dynamodbstreams::types::StreamStatus;
use aws_sdk_ssm::operation::get_parameter::GetParameterError;
use domain::DomainError;
use domain::store::EventStore;
use serde_json::{Value, json};
use std::time::Duration;

/// Each check must answer within this, well inside Route53's 4-second probe timeout.
pub const CHECK_TIMEOUT: Duration = Duration::from_millis(1500);

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
    /// Runs the three checks concurrently.
    pub async fn check(&self) -> HealthReport {
        let limit = self.check_timeout;
        let (drill, replica, stream) = tokio::join!(
            within(limit, self.drill_flag()),
            within(limit, self.store.probe()),
            within(limit, self.stream())
        );
        // The flag fails the region only when it says so: if SSM is unreachable the data path
        // still decides, so an SSM outage alone cannot take every region out.
        let drilled = matches!(&drill, Ok(Some(value)) if value == "fail");
        let stream_ok = matches!(&stream, Ok(status) if status == "ENABLED");
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
        let output = self
            .streams
            .describe_stream()
            .stream_arn(&self.stream_arn)
            .limit(1)
            .send()
            .await
            .map_err(|e| DomainError::from_sdk("DescribeStream", &e))?;
        let status = output.stream_description.and_then(|d| d.stream_status).unwrap_or(StreamStatus::Disabled);
        Ok(status.as_str().to_owned())
    }
}
