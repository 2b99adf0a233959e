//! `cargo xtask region add|remove` as an operator runs it: without --apply the file is left as it
//! was and the plan printed with no AWS call; refusals name the fix and write nothing.

use engine::testing::RecordingEndpoint;
use std::path::Path;
use std::process::Command;

/// Runs `cargo xtask region ARGS` on a copy of the shipped regions.toml; returns success, stdout,
/// stderr and the file afterwards.
fn region(endpoint: &RecordingEndpoint, name: &str, args: &[&str]) -> (bool, String, String, String) {
    let root = engine::emulator::workspace_root();
    let original = std::fs::read_to_string(root.join("regions.toml")).expect("regions.toml");
    let dir = std::env::temp_dir().join(format!("kit-region-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = dir.join("regions.toml");
    std::fs::write(&config, &original).expect("copy");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(&root)
        .arg("region")
        .args(args)
        .args(["--config", path(&config), "--endpoint-url", &endpoint.endpoint])
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("run cargo xtask region");
    let after = std::fs::read_to_string(&config).expect("config after");
    assert_eq!(after, original, "{args:?} must leave the file as it was");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.success(), text(&output.stdout), text(&output.stderr), after)
}

fn path(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

#[test]
fn without_apply_the_plan_is_printed_and_nothing_is_written_or_called() {
    let endpoint = RecordingEndpoint::start();
    let arn = "arn:aws:acm:eu-central-1:123456789012:certificate/9a8b7c6d-4444-4e5f-8a9b-0c1d2e3f4a5b";
    let (ok, stdout, stderr, _) = region(&endpoint, "plan", &["add", "eu-central-1", "--certificate-arn", arn]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("  + name = \"eu-central-1\""), "{stdout}");
    assert!(stdout.contains("plan: add eu-central-1 (6 steps)"), "{stdout}");
    assert!(stdout.contains("6. dns stack: eu-central-1 joins the answers"), "[dns] is deployed last: {stdout}");
    assert!(stdout.contains("nothing written or deployed; run again with --apply"), "{stdout}");
    assert!(endpoint.requests().is_empty(), "no AWS call: {:#?}", endpoint.requests());
}

#[test]
fn refusals_name_the_fix_and_write_nothing() {
    let endpoint = RecordingEndpoint::start();
    let cases: [(&[&str], &str); 4] = [
        (&["remove", "us-east-1", "--apply"], "us-east-1 is the home region"),
        (&["remove", "eu-central-1", "--apply"], "eu-central-1 is not a [[region]] of the app"),
        (&["add", "eu-west-1", "--apply"], "continue it with `cargo xtask region add eu-west-1 --resume`"),
        (
            &["add", "eu-central-1", "--certificate-arn", "arn:aws:acm:us-east-1:1:certificate/x"],
            "not in a region being added",
        ),
    ];
    for (i, (args, message)) in cases.into_iter().enumerate() {
        let (ok, _, stderr, _) = region(&endpoint, &format!("refusal{i}"), args);
        assert!(!ok, "{args:?} must fail");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    assert!(endpoint.requests().is_empty(), "no AWS call: {:#?}", endpoint.requests());
}
