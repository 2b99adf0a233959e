//! `drill failover` against the local emulator, asserted through the Route53 and SSM APIs: the
//! injection is visible and undone, an undetected failure and an interrupt both restore, a dry
//! run changes nothing, and the last healthy region is refused.

use crate::dns::dns_config;
use crate::support::{artifacts, deploy_all, never, session};
use engine::drill::inject::{self, Method};
use engine::drill::observe::Observation;
use engine::drill::{DrillOptions, failover};
use engine::route53::ROUTE53_REGION;
use engine::session::Session;
use engine::testing::emulator;
use std::time::Duration;

const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

async fn deployed(emulator: &engine::testing::TestEmulator, app: &str) -> Session {
    let session = session(emulator, dns_config(app, &REGIONS, "latency")).await;
    deploy_all(&session, &artifacts(app), &never()).await;
    session
}

fn options(method: Method, dry_run: bool, timeout: Duration) -> DrillOptions {
    DrillOptions { region: "eu-west-1".into(), method, dry_run, timeout, poll: Duration::from_millis(200), probe: None }
}

async fn check_id(session: &Session, region: &str) -> String {
    let status = engine::status::gather(session, &Default::default()).await.expect("status");
    status.region(region).and_then(|r| r.health_check.clone()).expect("a health check").id
}

async fn inverted(session: &Session, id: &str) -> bool {
    let described = session.aws.route53(ROUTE53_REGION).get_health_check().health_check_id(id).send().await;
    let described = described.expect("GetHealthCheck");
    described.health_check().and_then(|c| c.health_check_config()).and_then(|c| c.inverted()).expect("Inverted")
}

async fn flag(session: &Session, app: &str) -> Option<String> {
    let name = contract::drill::parameter(app, "eu-west-1");
    let found = session.aws.ssm("eu-west-1").get_parameter().name(name).send().await.ok()?;
    found.parameter().and_then(|p| p.value()).map(str::to_owned)
}

#[tokio::test]
async fn a_health_check_drill_inverts_the_check_fails_over_and_restores_it() {
    let emulator = emulator();
    let app = "drill1";
    let session = deployed(&emulator, app).await;
    let id = check_id(&session, "eu-west-1").await;

    let injection = inject::invert(&session.aws, &id).await.expect("invert");
    assert!(inverted(&session, &id).await, "the injection is visible through Route53");
    inject::restore(&session.aws, &injection).await.expect("restore");
    assert!(!inverted(&session, &id).await, "and undone");

    let report =
        failover(&session, &options(Method::HealthCheck, false, Duration::from_secs(30)), None, std::future::pending())
            .await
            .expect("drill");
    assert!(report.passed, "{}", report.markdown());
    assert_eq!(report.observation, Observation::Evaluated);
    assert!(report.time_to_detect_ms.is_some() && report.time_to_fail_over_ms.is_some());
    assert!(report.time_to_restore_ms.is_some());
    let events: Vec<&str> = report.timeline.iter().map(|e| e.what.as_str()).collect();
    assert!(events.iter().any(|e| e.starts_with("failed over: the shared name answers us-east-1")), "{events:?}");
    assert!(report.markdown().contains("evaluated, not observed"));
    assert!(!inverted(&session, &id).await, "restored after the drill");
}

#[tokio::test]
async fn an_app_flag_drill_that_route53_never_detects_fails_and_restores_the_flag() {
    let emulator = emulator();
    let app = "drill2";
    let session = deployed(&emulator, app).await;
    let name = contract::drill::parameter(app, "eu-west-1");
    let injection = inject::raise_flag(&session.aws, "eu-west-1", &name).await.expect("raise");
    assert_eq!(flag(&session, app).await.as_deref(), Some(contract::drill::FAIL), "visible through SSM");
    inject::restore(&session.aws, &injection).await.expect("restore");
    assert_eq!(flag(&session, app).await, None, "a flag that did not exist is deleted again");

    // The emulator's checkers never probe /health: the failover is never seen, which is an error.
    let report =
        failover(&session, &options(Method::AppFlag, false, Duration::from_secs(2)), None, std::future::pending())
            .await
            .expect("a report, not an error");
    assert!(!report.passed);
    let failure = report.failure.clone().unwrap_or_default();
    assert!(failure.contains("eu-west-1 did not leave the answers"), "{failure}");
    assert!(report.timeline.iter().any(|e| e.what.starts_with("injected")), "{:?}", report.timeline);
    assert!(report.timeline.iter().any(|e| e.what.starts_with("restored")), "{:?}", report.timeline);
    assert_eq!(flag(&session, app).await, None, "the flag is restored after the error");
}

#[tokio::test]
async fn an_interrupted_drill_restores_the_health_check() {
    let emulator = emulator();
    let app = "drill3";
    let session = deployed(&emulator, app).await;
    let id = check_id(&session, "eu-west-1").await;
    let report = failover(&session, &options(Method::HealthCheck, false, Duration::from_secs(30)), None, async {})
        .await
        .expect("a report");
    assert!(!report.passed);
    assert_eq!(report.failure.as_deref(), Some("interrupted"));
    assert!(report.timeline.iter().any(|e| e.what.starts_with("injected")), "{:?}", report.timeline);
    assert!(!inverted(&session, &id).await, "restored after the interrupt");
}

#[tokio::test]
async fn a_dry_run_changes_nothing_and_the_last_healthy_region_is_refused() {
    let emulator = emulator();
    let app = "drill4";
    let session = deployed(&emulator, app).await;
    let id = check_id(&session, "eu-west-1").await;
    let dry = failover(&session, &options(Method::AppFlag, true, Duration::from_secs(5)), None, std::future::pending())
        .await
        .expect("dry run");
    assert!(dry.dry_run && dry.timeline.is_empty(), "{}", dry.markdown());
    assert_eq!(dry.plan.len(), 5);
    assert_eq!(flag(&session, app).await, None, "no flag set");
    assert!(!inverted(&session, &id).await, "no check inverted");

    // us-east-1 goes down: eu-west-1 is now the last healthy region.
    let other = check_id(&session, "us-east-1").await;
    let injection = inject::invert(&session.aws, &other).await.expect("invert us-east-1");
    let refused =
        failover(&session, &options(Method::HealthCheck, false, Duration::from_secs(5)), None, std::future::pending())
            .await
            .expect_err("refused");
    inject::restore(&session.aws, &injection).await.expect("restore us-east-1");
    assert!(refused.to_string().contains("eu-west-1 is the last healthy region"), "{refused}");
    assert!(!inverted(&session, &id).await, "nothing was injected");

    // A probe needs a region's API, which the emulator's API Gateway does not run: --local does.
    let probing = DrillOptions { probe: Some(3), ..options(Method::AppFlag, false, Duration::from_secs(5)) };
    let refused = failover(&session, &probing, None, std::future::pending()).await.expect_err("refused");
    let refused = refused.to_string();
    assert!(refused.contains("does not run the api function"), "{refused}");
    assert!(refused.contains("run the drill with --local"), "{refused}");
    assert_eq!(flag(&session, app).await, None, "no flag set");
}
