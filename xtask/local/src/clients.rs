//! SDK clients per region, made from one base configuration (credentials, endpoint, retries,
//! HTTP client) that the caller builds: the deployer's loopback-aware configuration in the CLI,
//! the test harness's in tests. Only the region changes between clients.

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
use std::time::Duration;

/// Makes a client of any service for any region from one base configuration.
#[derive(Debug, Clone)]
pub struct Clients {
    base: SdkConfig,
}

impl Clients {
    /// Clients from `base` (its region is replaced per client).
    pub fn new(base: SdkConfig) -> Clients {
        Clients { base }
    }

    /// Clients for the local emulator at `endpoint`, with dummy credentials: the runtime never
    /// signs a request with real ones. The caller checks that `endpoint` is on this machine.
    pub fn emulator(endpoint: &str) -> Clients {
        let credentials = Credentials::new("test", "test", None, None, "local-emulator");
        let base = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .http_client(domain::runtime::https_client())
            .timeout_config(Self::timeouts())
            .build();
        Clients { base }
    }

    /// The same clients calling `endpoint` instead (the soak's call tap in front of the emulator).
    pub fn with_endpoint(&self, endpoint: &str) -> Clients {
        Clients { base: self.base.to_builder().endpoint_url(endpoint).build() }
    }

    /// The same clients, each call attempt allowed `attempt` (reads of whole stores: moto walks
    /// every item of a table for each Scan page, so a page of a large table can take far longer
    /// than the runtime's own calls may).
    pub fn with_attempt_timeout(&self, attempt: Duration) -> Clients {
        let timeouts = self.base.timeout_config().cloned().unwrap_or_else(Self::timeouts);
        let timeouts = timeouts.to_builder().operation_attempt_timeout(attempt).build();
        Clients { base: self.base.to_builder().timeout_config(timeouts).build() }
    }

    /// A call the emulator never answers fails after a while and is retried, instead of holding
    /// a poller or a replica forever (the functions' own clients use the same limits:
    /// `domain::runtime`).
    fn timeouts() -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(2))
            .operation_attempt_timeout(Duration::from_secs(10))
            .build()
    }

    fn config(&self, region: &str) -> SdkConfig {
        self.base.to_builder().region(Region::new(region.to_owned())).build()
    }

    /// CloudFormation in `region` (the deployed stacks' resources and parameters).
    pub fn cloudformation(&self, region: &str) -> aws_sdk_cloudformation::Client {
        aws_sdk_cloudformation::Client::new(&self.config(region))
    }

    /// DynamoDB in `region`.
    pub fn dynamodb(&self, region: &str) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.config(region))
    }

    /// DynamoDB Streams in `region`.
    pub fn streams(&self, region: &str) -> aws_sdk_dynamodbstreams::Client {
        aws_sdk_dynamodbstreams::Client::new(&self.config(region))
    }

    /// Kinesis in `region`.
    pub fn kinesis(&self, region: &str) -> aws_sdk_kinesis::Client {
        aws_sdk_kinesis::Client::new(&self.config(region))
    }

    /// Lambda (control plane: mapping configurations) in `region`.
    pub fn lambda(&self, region: &str) -> aws_sdk_lambda::Client {
        aws_sdk_lambda::Client::new(&self.config(region))
    }

    /// SQS in `region`.
    pub fn sqs(&self, region: &str) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.config(region))
    }

    /// SNS in `region`.
    pub fn sns(&self, region: &str) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::new(&self.config(region))
    }

    /// S3 in `region`, path-style (an emulator has no per-bucket host names; AWS accepts it too).
    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.config(region)).force_path_style(true).build();
        aws_sdk_s3::Client::from_conf(config)
    }
}
