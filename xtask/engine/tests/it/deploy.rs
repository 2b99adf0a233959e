//! Deployments against the local emulator, asserted through the AWS APIs. Each test uses its own
//! app name so tests can share one emulator.

use crate::support::{all_are, artifacts, assert_no_stray_change_sets, config, deploy_all, never, results, session};
use engine::approval::{Approval, RequireApproval};
use engine::deploy::StackOutcome;
use engine::testing::emulator;

#[tokio::test]
async fn three_regions_deploy_from_scratch_and_a_redeploy_changes_nothing() {
    let emulator = emulator();
    let app = "fresh3";
    let session =
        session(&emulator, config(app, &["us-east-1", "eu-west-1", "ap-southeast-2"], 24, &["task-view"])).await;
    let artifacts = artifacts(app);
    let report = deploy_all(&session, &artifacts, &never()).await;
    assert_eq!(report.stacks.len(), 7, "{:#?}", results(&report));
    assert!(all_are(&report, &StackOutcome::Created), "{:#?}", results(&report));
    for stack in &session.assembly.stacks {
        let cfn = session.aws.cloudformation(&stack.region);
        let described = cfn.describe_stacks().stack_name(&stack.name).send().await.expect("stack exists");
        let deployed = &described.stacks()[0];
        assert_eq!(deployed.stack_status().map(|s| s.as_str()), Some("CREATE_COMPLETE"), "{}", stack.name);
    }
    for region in session.config.region_names() {
        let table = session.aws.dynamodb(region).describe_table().table_name(format!("{app}-events")).send().await;
        let table = table.expect("every region has an event log replica");
        assert!(table.table().and_then(|t| t.latest_stream_arn()).is_some(), "{region} replica has a stream");
        let zip =
            session.aws.s3(region).head_object().bucket(session.assets_bucket(region).name).key(&artifacts[0].key);
        zip.send().await.expect("function zips are uploaded to every region");
    }
    assert_no_stray_change_sets(&session).await;

    let again = deploy_all(&session, &artifacts, &never()).await;
    assert!(all_are(&again, &StackOutcome::NoChanges), "{:#?}", results(&again));
    assert_no_stray_change_sets(&session).await;
}

#[tokio::test]
async fn a_config_change_is_reviewed_as_a_modify_of_the_right_property() {
    let emulator = emulator();
    let app = "modify1";
    let artifacts = artifacts(app);
    let before = session(&emulator, config(app, &["eu-west-1"], 24, &["task-view"])).await;
    deploy_all(&before, &artifacts, &never()).await;
    let after = session(&emulator, config(app, &["eu-west-1"], 48, &["task-view"])).await;
    let reviews = engine::diff::review_stacks(&after, &["eu-west-1".to_owned()], 4).await.expect("diff");
    assert_eq!(engine::review::exit_code(&reviews), 2);
    let region = reviews.iter().find(|r| r.stack == format!("{app}-region-eu-west-1")).expect("region review");
    let stream = region.changes.iter().find(|c| c.logical_id == "EventStream").expect("EventStream changes");
    assert_eq!(format!("{:?}", stream.action), "Modify");
    assert!(!stream.is_dangerous(), "a retention change keeps the stream");
    let paths: Vec<String> = stream.properties.iter().map(|p| p.path.to_string()).collect();
    assert!(paths.iter().any(|p| p.contains("RetentionPeriodHours")), "{paths:?}");
    let others: Vec<_> = reviews.iter().filter(|r| r.stack != region.stack).filter(|r| r.has_changes()).collect();
    assert!(others.is_empty(), "only the region stack changes: {others:#?}");
    assert_no_stray_change_sets(&after).await;
}

#[tokio::test]
async fn replacing_the_kinesis_stream_is_dangerous_and_refused_without_approval() {
    let emulator = emulator();
    let app = "replace1";
    let artifacts = artifacts(app);
    let mut session = session(&emulator, config(app, &["eu-west-1"], 24, &["task-view"])).await;
    deploy_all(&session, &artifacts, &never()).await;
    let name = format!("{app}-region-eu-west-1");
    let cfn = session.aws.cloudformation("eu-west-1");
    let physical = |cfn: aws_sdk_cloudformation::Client, name: String| async move {
        let resources = cfn.list_stack_resources().stack_name(name).send().await.expect("stack resources");
        let summaries = resources.stack_resource_summaries();
        let stream = summaries.iter().find(|r| r.logical_resource_id() == Some("EventStream"));
        stream.and_then(|r| r.physical_resource_id().map(str::to_owned))
    };
    let stream_before = physical(cfn.clone(), name.clone()).await;
    // Renaming the stream is a create-only change: CloudFormation would replace it.
    let stack = session.assembly.stacks.iter_mut().find(|s| s.name == name).expect("region stack");
    stack.body = stack.body.replace(&format!("\"Name\": \"{app}-events\""), &format!("\"Name\": \"{app}-events-v2\""));

    let reviews = engine::diff::review_stacks(&session, &["eu-west-1".to_owned()], 4).await.expect("diff");
    assert_eq!(engine::review::exit_code(&reviews), 3, "a stream replacement is dangerous");
    let gate = Approval::new(RequireApproval::Dangerous, false);
    let report = deploy_all(&session, &artifacts, &gate).await;
    let report = report.stacks.iter().find(|r| r.stack == name).expect("region report");
    assert!(report.dangerous && report.outcome == StackOutcome::NeedsApproval, "{report:?}");
    assert_eq!(physical(cfn, name).await, stream_before, "the stream was not touched");
    assert_no_stray_change_sets(&session).await;
}

#[tokio::test]
async fn a_template_over_the_body_limit_is_uploaded_and_deployed_by_url() {
    let emulator = emulator();
    let app = "big1";
    let config = config(app, &["eu-west-1"], 24, &["view-a", "view-b", "view-c", "view-d"]);
    let session = session(&emulator, config).await;
    let name = format!("{app}-region-eu-west-1");
    let body = &session.assembly.stack(&name).expect("region stack").body;
    assert!(body.len() > 51_200, "the region stack must exceed TemplateBody's limit: {} bytes", body.len());
    let artifacts = artifacts(app);
    let report = deploy_all(&session, &artifacts, &never()).await;
    assert!(all_are(&report, &StackOutcome::Created), "{:#?}", results(&report));

    let cfn = session.aws.cloudformation("eu-west-1");
    let deployed = cfn.get_template().stack_name(&name).send().await.expect("deployed template");
    let deployed: serde_json::Value = serde_json::from_str(deployed.template_body().unwrap_or_default()).expect("JSON");
    assert_eq!(deployed, serde_json::from_str::<serde_json::Value>(body).expect("JSON"), "CloudFormation read it all");
    let listed = session.aws.s3("eu-west-1").list_objects_v2().bucket(session.assets_bucket("eu-west-1").name);
    let listed = listed.prefix(format!("templates/{name}/")).send().await.expect("list templates");
    assert_eq!(listed.contents().len(), 1, "the template is in the assets bucket");

    let again = deploy_all(&session, &artifacts, &never()).await;
    assert!(all_are(&again, &StackOutcome::NoChanges), "{:#?}", results(&again));
    assert_no_stray_change_sets(&session).await;
}
