//! The bounded soak CI runs: a three-region app deployed to the emulator with the engine, the
//! real function binaries on the local runtime, 5,000 commands over 250 tasks through every
//! region's HTTP API (concurrent pairs on one task from two regions among them), 5% of the
//! publishers' PutRecords entries failed on purpose, one region killed half-way and brought back
//! once the survivors are quiet and the takeover ran, and the audit of every store of the
//! converged system. It runs on an emulator of its own, so that its load neither slows the other
//! tests' calls nor is slowed by them; `cargo xtask bench soak` runs it larger.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::{AUDIT_AND_TASKS, app_config, app_name, binaries, deploy_app};
use local::run::RunSettings;
use local::soak::driver::DriveSettings;
use local::soak::{KillAt, Soak, SoakSettings, report};
use std::time::Duration;

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];
const EVENTS: usize = 5_000;

fn run_settings(endpoint: &str) -> RunSettings {
    let (mapping, replication) = local::soak::polling(Duration::from_millis(100));
    RunSettings {
        endpoint: endpoint.to_owned(),
        binaries: binaries(),
        api_concurrency: 8,
        base_port: 0,
        mapping,
        replication,
        log_dir: None,
    }
}

fn soak_settings(kill: Option<KillAt>, publish_failure_rate: f64) -> SoakSettings {
    SoakSettings {
        drive: DriveSettings {
            events: EVENTS,
            aggregates: 250,
            concurrency: 8,
            pair_every: 8,
            hop_every: 4,
            call_timeout: Duration::from_secs(10),
        },
        kill,
        publish_failure_rate,
        quiet: Duration::from_secs(4),
        settle_limit: Duration::from_secs(90),
        progress_every: Some(Duration::from_secs(10)),
    }
}

fn print(soak: &Soak) -> String {
    let text = report::lines(soak).join("\n");
    println!("{text}");
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_killed_half_way_and_brought_back_loses_nothing_applies_nothing_twice_and_keeps_order() {
    let emulator = engine::testing::own_emulator();
    let config = app_config("soak-test.toml", &app_name("soak"), &REGIONS, AUDIT_AND_TASKS);
    let (clients, deployment) = deploy_app(&emulator, config).await;
    let kill = KillAt { region: REGIONS[2].to_owned(), fraction: 0.5 };
    let settings = soak_settings(Some(kill), 0.05);
    let soak = local::soak::run(&clients, &deployment, run_settings(&emulator.endpoint), &settings).await.unwrap();
    let text = print(&soak);
    let audit = &soak.audit;
    assert!(soak.settled, "the runtime never went quiet:\n{text}");
    let (killed, _) = soak.killed.clone().expect("a region was killed");
    assert_eq!(killed, REGIONS[2]);
    assert!(soak.down_for.is_some(), "the killed region came back:\n{text}");
    let takeover = soak.takeover.clone().unwrap_or_default();
    assert!(takeover.contains("took") && takeover.contains("0 left"), "the takeover ran to its end:\n{text}");
    assert!(audit.acknowledged >= EVENTS * 3 / 4, "most commands are acknowledged:\n{text}");
    assert_eq!(audit.lost, [], "nothing acknowledged is lost:\n{text}");
    assert_eq!(audit.order_violations, [], "no order violation:\n{text}");
    assert_eq!(audit.duplicate_effects, [], "idempotent projections apply nothing twice:\n{text}");
    assert!(audit.stranded_overwritten.len() <= audit.stranded.len(), "{text}");
    let (_, entries, injected) = soak.faults.unwrap();
    assert!(injected > 0 && entries > injected, "publish failures were injected and retried:\n{text}");
    let overwritten =
        audit.conflicts_overwritten + audit.stranded_overwritten.len() + audit.overwritten_by_unacknowledged.len();
    assert!(audit.publish_latencies.len() + overwritten >= audit.acknowledged, "{text}");
    assert!(audit.conflicts_injected > 0, "concurrent pairs conflicted:\n{text}");
    // A pair one half of which the killed region acknowledged just before it went down loses on
    // the return, as a stranded write overwritten.
    assert!(overwritten >= audit.conflicts_injected, "a loser per conflicting pair:\n{text}");
}
