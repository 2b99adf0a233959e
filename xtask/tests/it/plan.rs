//! A deployment's plan is built and validated from the flags and the config before the first AWS
//! call: a bad option fails the command with a message naming the fix, and the endpoint it would
//! have called never hears from it.

use engine::testing::RecordingEndpoint;
use std::process::Command;

fn deploy(endpoint: &RecordingEndpoint, extra: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(engine::emulator::workspace_root())
        .args(["deploy", "--config", "regions.toml", "--endpoint-url", &endpoint.endpoint])
        .args(extra)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("run cargo xtask deploy");
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn bad_deploy_options_fail_before_any_aws_call() {
    let endpoint = RecordingEndpoint::start();
    let cases: [(&[&str], &str); 5] = [
        (&["--all", "--canary", "sa-east-1"], "--canary sa-east-1 is not among the selected regions"),
        (&["--all", "--monitoring-minutes", "500"], "over CloudFormation's limit of 180 minutes"),
        (&["--region", "eu-west-9"], "eu-west-9 is not in the config's regions"),
        (&["--all", "--tags", "aws:owner=me"], "the aws: prefix is reserved"),
        (&["--all", "--role-arn", "arn:aws:iam::1:user/x"], "is not an IAM role ARN"),
    ];
    for (flags, message) in cases {
        let (succeeded, stderr) = deploy(&endpoint, flags);
        assert!(!succeeded, "{flags:?} must fail");
        assert!(stderr.contains(message), "{flags:?}: {stderr}");
    }
    assert!(endpoint.requests().is_empty(), "no AWS call was made: {:#?}", endpoint.requests());
}
