//! What every function does at start-up: JSON logs, the AWS SDK configuration (rustls + ring,
//! short timeouts), and CloudWatch metrics as EMF log lines. Each function reads its
//! environment with its struct in `contract::env`.

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use contract::metrics::FUNCTION_DIMENSION;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tracing_subscriber::filter::LevelFilter;

/// Installs a JSON `tracing` subscriber on stdout, one object per line with the event's fields
/// flattened, at the level in `AWS_LAMBDA_LOG_LEVEL` (Lambda's advanced logging) or `RUST_LOG`,
/// INFO by default.
pub fn init_tracing() {
    let level = ["AWS_LAMBDA_LOG_LEVEL", "RUST_LOG"]
        .iter()
        .find_map(|name| std::env::var(name).ok())
        .and_then(|value| value.to_ascii_lowercase().parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        // The current span carries the request id of the api's requests.
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_max_level(level)
        .init();
}

/// The HTTPS client of every SDK client: rustls with ring, which cross-compiles with zig
/// without cmake (the SDK's default aws-lc needs it).
pub fn https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(CryptoMode::Ring)).build_https()
}

/// The SDK configuration from Lambda's environment (credentials, region, and
/// `AWS_ENDPOINT_URL` when running against an emulator), with timeouts that fit a function:
/// a slow call fails in time for the handler to report it.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(Duration::from_secs(5))
                .build(),
        )
        .load()
        .await
}

/// Prints one CloudWatch Embedded Metric Format line: CloudWatch turns it into metrics in
/// namespace `<app>` with a `Function` dimension, at no API cost.
pub fn emit_metrics(app: &str, function: &str, metrics: &[(&str, u64)]) {
    let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    println!("{}", metrics_line(app, function, metrics, timestamp));
}

fn metrics_line(app: &str, function: &str, metrics: &[(&str, u64)], timestamp: u128) -> String {
    let definitions: Vec<_> =
        metrics.iter().map(|(name, _)| serde_json::json!({"Name": name, "Unit": "Count"})).collect();
    let mut line = serde_json::json!({
        "_aws": {
            "Timestamp": timestamp,
            "CloudWatchMetrics": [{
                "Namespace": app,
                "Dimensions": [[FUNCTION_DIMENSION]],
                "Metrics": definitions,
            }],
        },
        FUNCTION_DIMENSION: function,
    });
    for (name, value) in metrics {
        line[*name] = serde_json::json!(value);
    }
    line.to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn metrics_lines_follow_the_embedded_metric_format() {
        let line = metrics_line("orders", "publisher", &[("Published", 3), ("Conflicts", 1)], 7);
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["_aws"]["Timestamp"], 7);
        assert_eq!(value["_aws"]["CloudWatchMetrics"][0]["Namespace"], "orders");
        assert_eq!(value["_aws"]["CloudWatchMetrics"][0]["Metrics"][1]["Name"], "Conflicts");
        assert_eq!(value["Published"], 3);
        assert_eq!(value["Function"], "publisher");
    }
}
