//! AWS access shared by every command: the standard credential chain, `--profile`, an endpoint
//! override (`--endpoint-url`, `AWS_ENDPOINT_URL`, or `--local` for the kit's emulator), adaptive
//! retries for throttling, and one client per service and region.

use anyhow::{Context, Result};
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudformation::config::Credentials;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

/// The emulator port `cargo xtask local up` uses unless told otherwise.
pub const DEFAULT_LOCAL_PORT: u16 = 4566;

/// How to reach AWS: a named profile and an endpoint override (an emulator).
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    /// Named profile from the shared AWS config files.
    pub profile: Option<String>,
    /// Send every call to this endpoint (an emulator); `AWS_ENDPOINT_URL` and a profile's
    /// `endpoint_url` are read by the SDK as usual.
    pub endpoint_url: Option<String>,
}

/// Whether `endpoint` points at this machine.
fn is_loopback(endpoint: &str) -> bool {
    let host = endpoint.split("://").nth(1).unwrap_or(endpoint);
    host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]")
}

/// Loaded AWS configuration; clients are made per region from it.
#[derive(Debug, Clone)]
pub struct Aws {
    base: SdkConfig,
    emulated: bool,
}

impl Aws {
    /// Loads the credential chain and settings once.
    pub async fn load(args: &AwsSettings) -> Result<Aws> {
        let https =
            aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(CryptoMode::Ring)).build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(https)
            .retry_config(RetryConfig::adaptive().with_max_attempts(8))
            // Every client gets its region explicitly; this only satisfies the loader.
            .region(Region::from_static("us-east-1"));
        if let Some(profile) = &args.profile {
            loader = loader.profile_name(profile);
        }
        let endpoint = args.endpoint_url.clone();
        if let Some(endpoint) = &endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        // Real credentials never travel to a local emulator.
        if endpoint.as_deref().is_some_and(is_loopback) {
            loader = loader.credentials_provider(Credentials::new("test", "test", None, None, "kit-local-emulator"));
        }
        let base = loader.load().await;
        let emulated = base.endpoint_url().is_some();
        Ok(Aws { base, emulated })
    }

    /// Whether calls go to an endpoint override (an emulator) rather than AWS itself.
    pub fn is_emulated(&self) -> bool {
        self.emulated
    }

    /// CloudFormation in `region`.
    pub fn cloudformation(&self, region: &str) -> aws_sdk_cloudformation::Client {
        let config = aws_sdk_cloudformation::config::Builder::from(&self.base).region(Region::new(region.to_owned()));
        aws_sdk_cloudformation::Client::from_conf(config.build())
    }

    /// S3 in `region` (path-style addressing when an endpoint override is set).
    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.base)
            .region(Region::new(region.to_owned()))
            .force_path_style(self.emulated);
        aws_sdk_s3::Client::from_conf(config.build())
    }

    /// DynamoDB in `region`.
    pub fn dynamodb(&self, region: &str) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::config::Builder::from(&self.base).region(Region::new(region.to_owned()));
        aws_sdk_dynamodb::Client::from_conf(config.build())
    }

    /// DynamoDB Streams in `region`.
    pub fn dynamodb_streams(&self, region: &str) -> aws_sdk_dynamodbstreams::Client {
        let config = aws_sdk_dynamodbstreams::config::Builder::from(&self.base).region(Region::new(region.to_owned()));
        aws_sdk_dynamodbstreams::Client::from_conf(config.build())
    }

    /// Kinesis in `region`.
    pub fn kinesis(&self, region: &str) -> aws_sdk_kinesis::Client {
        let config = aws_sdk_kinesis::config::Builder::from(&self.base).region(Region::new(region.to_owned()));
        aws_sdk_kinesis::Client::from_conf(config.build())
    }

    /// SQS in `region`.
    pub fn sqs(&self, region: &str) -> aws_sdk_sqs::Client {
        let config = aws_sdk_sqs::config::Builder::from(&self.base).region(Region::new(region.to_owned()));
        aws_sdk_sqs::Client::from_conf(config.build())
    }

    /// The account the credentials belong to.
    pub async fn account_id(&self) -> Result<String> {
        let config = aws_sdk_sts::config::Builder::from(&self.base).region(Region::from_static("us-east-1"));
        let identity = aws_sdk_sts::Client::from_conf(config.build())
            .get_caller_identity()
            .send()
            .await
            .context("asking STS which account the credentials belong to")?;
        identity.account.context("STS returned no account ID")
    }
}
