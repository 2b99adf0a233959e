//! `status` against the local emulator: a fresh deployment is healthy, and the regions the emulator
//! does not serve are named in one line; a failed batch kept,
//! a missing stack, a stack of a region no longer configured and a template that differs from the
//! current synth each make it degraded.

use crate::support::{artifacts, config, deploy_all, never, session};
use engine::status::{Drift, QueueRole, StatusOptions, Verdict, gather};
use engine::testing::emulator;

#[tokio::test]
async fn a_fresh_deployment_is_healthy_until_the_failed_batches_bucket_holds_a_record() {
    let emulator = emulator();
    let app = "status1";
    let session = session(&emulator, config(app, &["eu-west-1", "us-west-2"], 24, &["task-view"])).await;
    deploy_all(&session, &artifacts(app), &never()).await;

    let status = gather(&session, &StatusOptions::default()).await.expect("status");
    assert_eq!(status.verdict(), Verdict::Healthy, "{}", engine::status::text(&status));
    assert_eq!(status.verdict().exit_code(), 0);
    assert_eq!(status.regions.iter().map(|r| r.region.as_str()).collect::<Vec<_>>(), ["eu-west-1", "us-west-2"]);
    // The emulator does not serve Account ListRegions, so every region of the built-in list is asked; the pinned
    // moto (5.2.5, botocore 1.35) does not know two of them, which are named in one line, not as notes.
    assert!(status.notes.is_empty(), "{:?}", status.notes);
    assert_eq!(status.not_served, ["ap-east-2", "ap-southeast-6"]);
    let text = engine::status::text(&status);
    assert!(text.contains("\nnot looked in (the endpoint does not serve them): ap-east-2, ap-southeast-6\n"), "{text}");
    assert!(!text.contains("note:"), "{text}");
    let eu = status.region("eu-west-1").expect("eu-west-1");
    assert_eq!(eu.stacks.len(), 3, "bootstrap, data and region stacks: {:?}", eu.stacks);
    assert!(eu.stacks.iter().all(|s| s.drift == Drift::InSync), "{:?}", eu.stacks);
    let functions: Vec<&str> = eu.consumers.iter().map(|c| c.function.as_str()).collect();
    assert_eq!(
        functions,
        [format!("{app}-projector-audit"), format!("{app}-projector-task-view"), format!("{app}-publisher")]
    );
    assert_eq!(eu.queues.len(), 2, "the failed-batches bucket and the conflicts queue: {:?}", eu.queues);

    let failed_batches = eu
        .queues
        .iter()
        .find(
            |q| matches!(&q.role, QueueRole::OnFailure { function } if function.contains(&format!("{app}-publisher"))),
        )
        .expect("the mappings' failed-batches bucket");
    let bucket = failed_batches.url.trim_start_matches("s3://").split('/').next().expect("bucket").to_owned();
    let s3 = session.aws.s3("eu-west-1");
    let key = "aws/lambda/mapping-uuid/shard-0/2026/11/30/record.json";
    s3.put_object().bucket(&bucket).key(key).body(b"{}".to_vec().into()).send().await.expect("put");
    let status = gather(&session, &StatusOptions::default()).await.expect("status");
    assert_eq!(status.verdict(), Verdict::Degraded);
    assert_eq!(status.verdict().exit_code(), 2);
    let findings = &status.region("eu-west-1").expect("eu-west-1").findings;
    assert!(findings.iter().any(|f| f.contains("FailedBatches holds 1 failed batch record")), "{findings:?}");
    assert!(status.region("us-west-2").expect("us-west-2").is_healthy());
}

#[tokio::test]
async fn a_missing_stack_an_unconfigured_regions_stacks_and_drift_are_degraded() {
    let emulator = emulator();
    let app = "status2";
    let deployed = session(&emulator, config(app, &["eu-central-1", "ap-northeast-1"], 24, &["task-view"])).await;
    deploy_all(&deployed, &artifacts(app), &never()).await;

    // The config now drops ap-northeast-1, adds sa-east-1 and changes the stream's retention.
    let now = session(&emulator, config(app, &["eu-central-1", "sa-east-1"], 48, &["task-view"])).await;
    let status = gather(&now, &StatusOptions::default()).await.expect("status");
    assert_eq!(status.verdict().exit_code(), 2, "{}", engine::status::text(&status));
    let names: Vec<&str> = status.regions.iter().map(|r| r.region.as_str()).collect();
    assert_eq!(names, ["eu-central-1", "sa-east-1", "ap-northeast-1"], "configured first, then deployed only");

    let home = status.region("eu-central-1").expect("home");
    let region_stack = home.stacks.iter().find(|s| s.name == format!("{app}-region-eu-central-1")).expect("stack");
    let Drift::Differs { differences } = &region_stack.drift else { panic!("drift expected: {region_stack:?}") };
    assert!(differences.contains(&"EventStream".to_owned()), "{differences:?}");
    assert!(home.findings.iter().any(|f| f.contains("differs from the current synth in")), "{:?}", home.findings);

    let added = status.region("sa-east-1").expect("sa-east-1");
    assert!(added.configured && added.stacks.iter().all(|s| s.state.is_none()), "{:?}", added.stacks);
    let missing = format!("{app}-region-sa-east-1 is not deployed");
    assert!(added.findings.iter().any(|f| f.contains(&missing)), "{:?}", added.findings);

    let removed = status.region("ap-northeast-1").expect("ap-northeast-1");
    assert!(!removed.configured);
    let parts: Vec<&str> = removed.stacks.iter().map(|s| s.part).collect();
    assert_eq!(parts, ["bootstrap", "region"], "{:?}", removed.stacks);
    assert!(
        removed.findings.iter().any(|f| f.contains("ap-northeast-1 is not in regions.toml")),
        "{:?}",
        removed.findings
    );
}
