//! `drill failover --local` end to end: a two-region app with `[dns]` deployed to the emulator,
//! the local runtime running the real function binaries, the drill raising the real drill flag,
//! observing each region's real `/health`, probing through the survivor and restoring; then a
//! probe that finds a duplicate on the stream fails the drill.

#![allow(clippy::unwrap_used)]

use super::runtime_apis;
use engine::drill::apis::HttpApis;
use engine::drill::checker::{BoxFuture, RegionApis};
use engine::drill::inject::Method;
use engine::drill::observe::Observation;
use engine::drill::{DrillOptions, failover};
use engine::session::Session;
use local::clients::Clients;
use local::mapping::MappingSettings;
use local::replication::ReplicationSettings;
use local::run::{RunSettings, Runtime, build, discover};
use stacks::AppConfig;
use std::path::{Path, PathBuf};
use std::time::Duration;

const A: &str = "us-east-1";
const B: &str = "eu-west-1";

fn config(app: &str) -> AppConfig {
    let mut text = format!("app = \"{app}\"\nhome = \"{A}\"\n");
    for region in [A, B] {
        text.push_str(&format!(
            "\n[[region]]\nname = \"{region}\"\ncertificate_arn = \"arn:aws:acm:{region}:123456789012:certificate/{app}\"\n"
        ));
    }
    text.push_str(&format!(
        "\n[dns]\ndomain = \"api.{app}.example.com\"\nhosted_zone_id = \"Z0000000000000000000\"\nrouting = \"latency\"\n"
    ));
    text.push_str("\n[[projection]]\nname = \"audit\"\nkind = \"s3-audit\"\n");
    AppConfig::from_toml("drill-local.toml", &text).unwrap()
}

/// The function binaries next to this test's build (`cargo xtask test` builds them with the
/// workspace); built here only when they are missing.
fn binaries() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    if build::has_every_binary(&dir) {
        return dir;
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    build::build_functions(&cargo, &workspace).unwrap()
}

fn options(probe: usize) -> DrillOptions {
    DrillOptions {
        region: B.into(),
        method: Method::AppFlag,
        dry_run: false,
        timeout: Duration::from_secs(60),
        poll: Duration::from_secs(1),
        probe: Some(probe),
    }
}

async fn flag(session: &Session, app: &str) -> Option<String> {
    let name = contract::drill::parameter(app, B);
    let found = session.aws.ssm(B).get_parameter().name(name).send().await.ok()?;
    found.parameter().and_then(|p| p.value()).map(str::to_owned)
}

/// The runtime's APIs, but every probe event is put on the stream a second time, as a retried
/// PutRecords after a lost answer would.
struct Duplicating {
    apis: HttpApis,
    kinesis: aws_sdk_kinesis::Client,
    stream: String,
}

impl RegionApis for Duplicating {
    fn health<'a>(&'a self, region: &'a str) -> BoxFuture<'a, anyhow::Result<u16>> {
        self.apis.health(region)
    }

    fn create_task<'a>(&'a self, region: &'a str, title: &'a str) -> BoxFuture<'a, anyhow::Result<String>> {
        Box::pin(async move {
            let id = self.apis.create_task(region, title).await?;
            for _ in 0..200 {
                let records = publisher::replay::kinesis_records(&self.kinesis, &self.stream).await?;
                let copy = records.into_iter().find(|r| r.partition_key == format!("Task#{id}"));
                if let Some(copy) = copy {
                    let put = self.kinesis.put_record().stream_name(&self.stream).partition_key(copy.partition_key);
                    put.data(copy.data.into()).send().await?;
                    return Ok(id);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            anyhow::bail!("task {id} was never published")
        })
    }

    fn describe(&self) -> String {
        self.apis.describe()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_drill_observes_the_real_health_probes_through_the_survivor_and_a_duplicate_fails_it() {
    let emulator = engine::testing::emulator();
    let app = format!("dl{}", &uuid::Uuid::now_v7().simple().to_string()[24..]);
    let session = engine::testing::deployed(&emulator, config(&app)).await;

    let clients = Clients::emulator(&emulator.endpoint);
    let deployment = discover::discover(&clients, &session.config, &[]).await.unwrap();
    let settings = RunSettings {
        endpoint: emulator.endpoint.clone(),
        binaries: binaries(),
        api_concurrency: 2,
        base_port: 0,
        mapping: MappingSettings::eager(),
        replication: ReplicationSettings::default(),
        log_dir: None,
    };
    let runtime = Runtime::start(&clients, &deployment, settings).await.unwrap();
    let apis = runtime_apis(runtime.urls()).unwrap();

    let report = failover(&session, &options(3), Some(&apis as &dyn RegionApis), std::future::pending()).await.unwrap();
    let markdown = report.markdown();
    assert!(report.passed, "{markdown}");
    assert_eq!(report.observation, Observation::ObservedHealth);
    assert!(markdown.contains("observed, not evaluated"), "{markdown}");
    assert!(!markdown.contains("evaluated, not observed"), "{markdown}");
    let probe = report.probe.clone().unwrap();
    assert_eq!((probe.region.as_str(), probe.written, probe.published, probe.duplicates), (A, 3, 3, 0));
    assert!(markdown.contains("| us-east-1 | 3 | 3 | 0 | 0 | each published exactly once |"), "{markdown}");
    let events: Vec<&str> = report.timeline.iter().map(|e| e.what.as_str()).collect();
    assert!(events.iter().any(|e| e.starts_with("failed over: the shared name answers us-east-1")), "{events:?}");
    assert!(report.time_to_detect_ms.is_some() && report.time_to_restore_ms.is_some());
    assert_eq!(flag(&session, &app).await, None, "the flag is gone again");
    assert_eq!(apis.health(B).await.unwrap(), 200, "{B}'s real /health answers 200 after the restore");

    let duplicating = Duplicating {
        apis: apis.clone(),
        kinesis: session.aws.kinesis(A),
        stream: stacks::app::event_stream_name(&app),
    };
    let report =
        failover(&session, &options(2), Some(&duplicating as &dyn RegionApis), std::future::pending()).await.unwrap();
    assert!(!report.passed, "{}", report.markdown());
    let probe = report.probe.clone().unwrap();
    assert_eq!((probe.written, probe.published, probe.duplicates), (2, 2, 2), "{probe:?}");
    let failure = report.failure.clone().unwrap();
    assert!(failure.contains("not each probe event was published exactly once"), "{failure}");
    assert!(report.timeline.iter().any(|e| e.what.starts_with("back:")), "restored: {:?}", report.timeline);
    assert_eq!(flag(&session, &app).await, None, "the flag is restored after the failed probe");
    runtime.shutdown().await;
}
