//! Credentials never go to a loopback endpoint, however it was configured: an endpoint on this
//! machine that records the `Authorization` header of every request it gets only ever sees the
//! dummy credentials, while real-looking ones are configured.

use engine::aws::{Aws, AwsSettings};
use engine::testing::RecordingEndpoint;
use std::path::PathBuf;

/// A real-looking access key that must never reach a loopback endpoint.
const REAL_KEY: &str = "AKIAKITREALLOOKING01";

/// A shared config file with `contents` (profile `real` holds real-looking credentials).
fn config_file(name: &str, extra: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("kit-config-{name}-{}", std::process::id()));
    let contents = format!(
        "[profile real]\naws_access_key_id = {REAL_KEY}\naws_secret_access_key = kitRealLookingSecretKey0123456789abcdefgh\n\
         region = eu-west-1\n{extra}"
    );
    std::fs::write(&path, contents).expect("write the shared config file");
    path
}

async fn load(name: &str, extra: &str, endpoint_url: Option<String>) -> Aws {
    let settings =
        AwsSettings { profile: Some("real".into()), endpoint_url, config_file: Some(config_file(name, extra)) };
    Aws::load(&settings).await.expect("load the configuration")
}

/// Every request arrived, signed with the dummy credentials and never with the real key.
fn assert_only_dummy_credentials(endpoint: &RecordingEndpoint, expected_requests: usize) {
    let requests = endpoint.requests();
    assert!(requests.len() >= expected_requests, "expected {expected_requests} requests, got {requests:#?}");
    for request in requests {
        let authorization = request.authorization.expect("every request is signed");
        assert!(!authorization.contains(REAL_KEY), "real credentials reached loopback: {authorization}");
        assert!(authorization.contains("Credential=test/"), "signed with the dummy key: {authorization}");
    }
}

#[tokio::test]
async fn a_profiles_endpoint_url_on_loopback_gets_dummy_credentials_not_the_profiles_keys() {
    let endpoint = RecordingEndpoint::start();
    let aws = load("profile", &format!("endpoint_url = {}\n", endpoint.endpoint), None).await;
    assert!(aws.account_id().await.is_err(), "the recording endpoint denies everything");
    let _ = aws.cloudformation("eu-west-1").describe_stacks().send().await;
    assert_only_dummy_credentials(&endpoint, 2);
}

#[tokio::test]
async fn an_endpoint_flag_spelled_localhost_in_capitals_gets_dummy_credentials() {
    let endpoint = RecordingEndpoint::start();
    let shouted = endpoint.endpoint.replace("127.0.0.1", "LOCALHOST");
    let aws = load("shouted", "", Some(shouted)).await;
    let _ = aws.dynamodb("eu-west-1").list_tables().send().await;
    let _ = aws.s3("eu-west-1").list_buckets().send().await;
    assert_only_dummy_credentials(&endpoint, 2);
}

#[tokio::test]
async fn a_service_specific_endpoint_on_loopback_gets_dummy_credentials() {
    let endpoint = RecordingEndpoint::start();
    let services =
        format!("services = local\n[services local]\ncloudformation =\n  endpoint_url = {}\n", endpoint.endpoint);
    let aws = load("service", &services, None).await;
    assert!(aws.is_loopback("CloudFormation") && aws.is_emulated());
    assert!(!aws.is_loopback("STS"), "only CloudFormation is redirected");
    let _ = aws.cloudformation("eu-west-1").list_stacks().send().await;
    assert_only_dummy_credentials(&endpoint, 1);
}

#[tokio::test]
async fn an_endpoint_elsewhere_is_not_treated_as_an_emulator_on_this_machine() {
    let aws = load("remote", "", Some("https://cloudformation.127.0.0.1.example.com".into())).await;
    assert!(!aws.is_loopback("CloudFormation"), "a look-alike host name is not loopback");
    assert!(aws.is_emulated(), "but it is still an endpoint override");
}
