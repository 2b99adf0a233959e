//! What every function does at start-up: JSON logs, the AWS SDK configuration (rustls + ring,
//! short timeouts, credentials and region from Lambda's variables, TLS set up on the first
//! request), required environment variables, and CloudWatch metrics as EMF log lines.
//!
//! Start-up is on every cold start's path (`cargo xtask bench init` measures it against a
//! hello-world function); README "Cold start" says what each choice here bought.

use crate::error::DomainError;
use aws_config::environment::{EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider};
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
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
/// without cmake (the SDK's default aws-lc needs it), with its TLS set-up deferred to the first
/// request ([`defer_tls_setup`]).
pub fn https_client() -> SharedHttpClient {
    defer_tls_setup(
        aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(CryptoMode::Ring)).build_https(),
    )
}

/// `client`, except that constructing an SDK client no longer builds its TLS connector.
///
/// The SDK's HTTPS client builds a connector (rustls configuration with the system's root
/// certificates, read and parsed from disk once per process, then parsed into trust anchors again
/// for every connector) in `validate_base_client_config`, that is when each SDK client is
/// constructed, "so that native certs load at client initialization time instead of upon first
/// request" (aws-smithy-http-client 1.5, `client.rs`; smithy-rs pull request 3262 discusses the
/// trade-off for Lambda). That was most of a function's Init. Skipping the eager validation
/// leaves the SDK's own per-settings connector cache to build the connector on the first request,
/// once, whichever client makes it.
pub fn defer_tls_setup(client: SharedHttpClient) -> SharedHttpClient {
    SharedHttpClient::new(DeferredTlsSetup(client))
}

/// See [`defer_tls_setup`]: delegates everything but the eager validation (the trait's default,
/// which accepts).
#[derive(Debug)]
struct DeferredTlsSetup(SharedHttpClient);

impl HttpClient for DeferredTlsSetup {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// The SDK configuration from Lambda's environment, with timeouts that fit a function: a slow
/// call fails in time for the handler to report it.
///
/// Credentials and region come from the variables Lambda sets for every function
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` from the execution role, and
/// `AWS_REGION`: Lambda developer guide, "Defined runtime environment variables"), read by the
/// SDK's own environment providers. The default chains would also build profile, web-identity,
/// container and instance-metadata providers (an IMDS client among them) that a function never
/// reaches. `AWS_ENDPOINT_URL` (the local emulator) and the other settings still come from the
/// SDK's defaults.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .credentials_provider(EnvironmentVariableCredentialsProvider::new())
        .region(EnvironmentVariableRegionProvider::new())
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

/// Reads a required environment variable set by the templates.
pub fn env_var(name: &str) -> Result<String, DomainError> {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => Ok(value),
        _ => Err(DomainError::Config(format!("{name} is not set; the region stack sets it on the function"))),
    }
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
                "Dimensions": [["Function"]],
                "Metrics": definitions,
            }],
        },
        "Function": function,
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
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

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

    /// An HTTP client that counts what the SDK asks of it and answers every call with `{}`.
    #[derive(Debug)]
    struct Counting {
        validations: Arc<AtomicUsize>,
        connectors: Arc<AtomicUsize>,
        canned: SharedHttpClient,
    }

    impl HttpClient for Counting {
        fn http_connector(
            &self,
            settings: &HttpConnectorSettings,
            components: &RuntimeComponents,
        ) -> SharedHttpConnector {
            self.connectors.fetch_add(1, Ordering::SeqCst);
            self.canned.http_connector(settings, components)
        }

        fn validate_base_client_config(
            &self,
            _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder,
            _: &aws_sdk_dynamodb::config::ConfigBag,
        ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
            // The SDK's HTTPS client builds its TLS connector here.
            self.validations.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    #[tokio::test]
    async fn constructing_clients_sets_up_no_tls_and_the_first_request_does() {
        let (validations, connectors) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let canned = test_support::offline::infallible_client_fn(|_| {
            aws_lambda_events::http::Response::builder().status(200).body("{}").expect("a canned response")
        });
        let counting = Counting { validations: validations.clone(), connectors: connectors.clone(), canned };
        let config = test_support::offline::sdk_config_with(defer_tls_setup(SharedHttpClient::new(counting)));
        let dynamodb = aws_sdk_dynamodb::Client::new(&config);
        let _other = aws_sdk_dynamodb::Client::new(&config);
        assert_eq!(validations.load(Ordering::SeqCst), 0, "no TLS set-up while clients are constructed");
        assert_eq!(connectors.load(Ordering::SeqCst), 0);
        dynamodb.list_tables().send().await.unwrap();
        assert_eq!(connectors.load(Ordering::SeqCst), 1, "the first request asks for the connector");
        assert_eq!(validations.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_missing_variable_says_who_sets_it() {
        let error = env_var("KIT_SURELY_UNSET_VARIABLE").unwrap_err();
        assert!(error.to_string().contains("region stack"), "{error}");
    }
}
