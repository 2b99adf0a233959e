//! SDK configuration for benchmarks: a canned in-process HTTP client instead of any server, so
//! what is measured is the CPU of our code plus the SDK's serialization, signing and parsing.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider, SharedHttpClient};
pub use aws_smithy_http_client::test_util::infallible_client_fn;

/// SDK configuration whose every call is answered by `http` (never leaves the process).
pub fn sdk_config_with(http: SharedHttpClient) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(crate::aws::REGION))
        // Never contacted: the canned client answers; loopback all the same.
        .endpoint_url("http://127.0.0.1:9")
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new("test", "test", None, None, "kit-bench")))
        .http_client(http)
        .build()
}
