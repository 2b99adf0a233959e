//! AWS access shared by every command: the standard credential chain, a named profile, an
//! endpoint override (`--endpoint-url`, `AWS_ENDPOINT_URL`, a profile's `endpoint_url`, or a
//! service's own endpoint setting), adaptive retries for throttling, and one client per service
//! and region.
//!
//! Credentials are decided per client after the configuration is loaded, from the endpoint that
//! client will actually call ([`endpoint::effective`]): a loopback endpoint (an emulator on this
//! machine) gets dummy credentials, so real ones are never signed into a request sent there,
//! whichever way the endpoint was configured.

pub mod endpoint;
pub mod errors;

use anyhow::{Context, Result};
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_sdk_cloudformation::config::Credentials;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use std::path::PathBuf;

/// How to reach AWS: a named profile and an endpoint override (an emulator).
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    /// Named profile from the shared AWS config files.
    pub profile: Option<String>,
    /// Send every call to this endpoint. Without it the SDK reads `AWS_ENDPOINT_URL`,
    /// `AWS_ENDPOINT_URL_<SERVICE>` and the profile's endpoint settings as usual.
    pub endpoint_url: Option<String>,
    /// Read this shared config file instead of the default one (like `AWS_CONFIG_FILE`).
    pub config_file: Option<PathBuf>,
}

/// The credentials every request to a loopback endpoint is signed with.
pub fn emulator_credentials() -> Credentials {
    Credentials::new("test", "test", None, None, "kit-loopback-endpoint")
}

/// Loaded AWS configuration; clients are made per service and region from it.
#[derive(Debug, Clone)]
pub struct Aws {
    base: SdkConfig,
}

/// One client constructor per service: the region set, and dummy credentials when the client's
/// effective endpoint is loopback. `$service` is the SDK's service id (its endpoint settings key).
macro_rules! clients {
    ($($(#[$doc:meta])* $name:ident => $krate:ident, $service:literal;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(&self, region: &str) -> $krate::Client {
                let mut config = $krate::config::Builder::from(&self.base).region(Region::new(region.to_owned()));
                if self.is_loopback($service) {
                    config = config.credentials_provider(emulator_credentials());
                }
                $krate::Client::from_conf(config.build())
            }
        )*
    };
}

impl Aws {
    /// Loads the credential chain and settings once.
    pub async fn load(settings: &AwsSettings) -> Result<Aws> {
        let https =
            aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(CryptoMode::Ring)).build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(https)
            .retry_config(RetryConfig::adaptive().with_max_attempts(8))
            // Every client gets its region explicitly; this only satisfies the loader.
            .region(Region::from_static("us-east-1"));
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(endpoint) = &settings.endpoint_url {
            loader = loader.endpoint_url(endpoint);
        }
        if let Some(file) = &settings.config_file {
            let files = EnvConfigFiles::builder().with_file(EnvConfigFileKind::Config, file).build();
            loader = loader.profile_files(files);
        }
        Ok(Aws::from_sdk_config(loader.load().await))
    }

    /// Wraps an already loaded configuration (tools that build their own, and tests that answer
    /// requests in process).
    pub fn from_sdk_config(base: SdkConfig) -> Aws {
        Aws { base }
    }

    /// The loaded configuration.
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.base
    }

    /// Whether a client of `service` calls a loopback endpoint (see [`endpoint::is_loopback`]).
    pub fn is_loopback(&self, service: &str) -> bool {
        endpoint::effective(&self.base, service).is_some_and(|url| endpoint::is_loopback(&url))
    }

    /// Whether CloudFormation calls go to an endpoint override (an emulator) rather than AWS.
    pub fn is_emulated(&self) -> bool {
        endpoint::effective(&self.base, "CloudFormation").is_some()
    }

    clients! {
        /// Account Management (a global service: its endpoint is in `us-east-1` for the `aws`
        /// partition).
        account => aws_sdk_account, "Account";
        /// API Gateway (v2) in `region`.
        apigatewayv2 => aws_sdk_apigatewayv2, "ApiGatewayV2";
        /// CloudFormation in `region`.
        cloudformation => aws_sdk_cloudformation, "CloudFormation";
        /// CloudWatch in `region`.
        cloudwatch => aws_sdk_cloudwatch, "CloudWatch";
        /// DynamoDB in `region`.
        dynamodb => aws_sdk_dynamodb, "DynamoDB";
        /// DynamoDB Streams in `region`.
        dynamodb_streams => aws_sdk_dynamodbstreams, "DynamoDB Streams";
        /// Kinesis in `region`.
        kinesis => aws_sdk_kinesis, "Kinesis";
        /// Lambda in `region`.
        lambda => aws_sdk_lambda, "Lambda";
        /// Route53 (a global service, signed for `us-east-1`; `region` is kept for symmetry).
        route53 => aws_sdk_route53, "Route 53";
        /// SQS in `region`.
        sqs => aws_sdk_sqs, "SQS";
        /// Systems Manager (Parameter Store) in `region`.
        ssm => aws_sdk_ssm, "SSM";
        /// STS in `region`.
        sts => aws_sdk_sts, "STS";
    }

    /// S3 in `region` (path-style addressing when an endpoint override is set: emulators have no
    /// per-bucket host names).
    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let path_style = endpoint::effective(&self.base, "S3").is_some();
        let mut config = aws_sdk_s3::config::Builder::from(&self.base)
            .region(Region::new(region.to_owned()))
            .force_path_style(path_style);
        if self.is_loopback("S3") {
            config = config.credentials_provider(emulator_credentials());
        }
        aws_sdk_s3::Client::from_conf(config.build())
    }

    /// The account the credentials belong to.
    pub async fn account_id(&self) -> Result<String> {
        let identity = self
            .sts("us-east-1")
            .get_caller_identity()
            .send()
            .await
            .context("asking STS which account the credentials belong to")?;
        identity.account.context("STS returned no account ID")
    }
}
