//! `AWS_ENDPOINT_URL` on loopback: the CLI, run with real-looking credentials in its
//! environment, signs every request it sends there with the dummy credentials.

use engine::testing::RecordingEndpoint;
use std::process::Command;

const REAL_KEY: &str = "AKIAKITREALLOOKING02";

#[test]
fn an_endpoint_from_aws_endpoint_url_on_loopback_never_receives_the_environments_credentials() {
    let endpoint = RecordingEndpoint::start();
    let root = engine::emulator::workspace_root();
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(&root)
        .args(["diff", "--all", "--config", "regions.toml"])
        .env("AWS_ENDPOINT_URL", &endpoint.endpoint)
        .env("AWS_ACCESS_KEY_ID", REAL_KEY)
        .env("AWS_SECRET_ACCESS_KEY", "kitRealLookingSecretKey0123456789abcdefgh")
        .env("AWS_SESSION_TOKEN", "kitRealLookingSessionToken")
        .env("AWS_CONFIG_FILE", root.join("target/no-such-aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", root.join("target/no-such-aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run cargo xtask diff");
    assert!(!output.status.success(), "the recording endpoint denies every call");
    let requests = endpoint.requests();
    assert!(!requests.is_empty(), "the CLI called the endpoint: {}", String::from_utf8_lossy(&output.stderr));
    for request in requests {
        let authorization = request.authorization.expect("every request is signed");
        assert!(!authorization.contains(REAL_KEY), "real credentials reached loopback: {authorization}");
        assert!(authorization.contains("Credential=test/"), "{authorization}");
    }
}
