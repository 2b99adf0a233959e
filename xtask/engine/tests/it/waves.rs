//! One region at a time: the home region's stack (the canary) alone first, then the others; the
//! first failure stops what has not started (`keep_going` goes on) and the report lists every
//! stack, skipped ones with why; each region stack's update carries the region's existing alarms
//! as rollback triggers (at most five). Against the emulator, and a mocked CloudFormation for the
//! request moto ignores.

use crate::support::{all, artifacts, assert_no_stray_change_sets, config, deploy_all, never, plan, results, session};
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::operation::create_change_set::CreateChangeSetOutput;
use aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput;
use aws_sdk_cloudformation::types::{ChangeSetStatus, Tag};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use engine::approval::{Approval, Prompt, RequireApproval};
use engine::deploy::{StackOutcome, deploy};
use engine::guard::Guard;
use engine::plan::DeployOptions;
use engine::stack::{ChangeSetSettings, RollbackAlarm, RollbackTriggers, StackState, StackTarget};
use engine::testing::{TestEmulator, emulator};
use std::sync::Arc;

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];

/// A person who refuses changes to `stack` and approves everything else.
#[derive(Debug)]
struct RefuseOnly(String);

impl Prompt for RefuseOnly {
    fn ask(&self, question: &str) -> anyhow::Result<Option<String>> {
        Ok(Some(if question.starts_with(&format!("{}:", self.0)) { "n" } else { "y" }.into()))
    }
}

#[tokio::test]
async fn the_home_region_deploys_alone_first_then_the_others_and_the_report_shows_the_waves() {
    let emulator = emulator();
    let app = "waves1";
    let session = session(&emulator, config(app, &REGIONS, 24, &[])).await;
    let report = deploy_all(&session, &artifacts(app), &never()).await;
    let labels: Vec<&str> = report.phases.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(labels, ["foundation", "wave 1 (canary)", "wave 2"], "{:#?}", report.phases);
    assert_eq!(report.phases[1].stacks, 1);
    assert_eq!(report.phases[2].stacks, 2);
    let phase_of = |stack: String| report.stacks.iter().find(|r| r.stack == stack).map(|r| r.phase.clone());
    assert_eq!(phase_of(format!("{app}-region-us-east-1")).as_deref(), Some("wave 1 (canary)"));
    assert_eq!(phase_of(format!("{app}-region-eu-west-1")).as_deref(), Some("wave 2"));
    assert!(report.stacks.iter().all(|r| r.outcome == StackOutcome::Created), "{:#?}", results(&report));
}

/// Deploys `app`, then changes every region stack and deploys again with the canary's change
/// refused; returns the emulator (kept alive), the second report and the session.
async fn second_deploy_with_refused_canary(
    app: &str,
    keep_going: bool,
) -> (TestEmulator, engine::deploy::DeployReport, engine::session::Session) {
    let emulator = emulator();
    let zips = artifacts(app);
    deploy_all(&session(&emulator, config(app, &REGIONS, 24, &[])).await, &zips, &never()).await;
    let changed = session(&emulator, config(app, &REGIONS, 48, &[])).await;
    let canary = format!("{app}-region-us-east-1");
    let person = Approval::with_prompt(RequireApproval::Any, false, Arc::new(RefuseOnly(canary)));
    let plan = plan(&changed, &all(), &DeployOptions { keep_going, ..DeployOptions::default() });
    let report = deploy(&changed, &plan, &zips, &person).await.expect("deploy");
    (emulator, report, changed)
}

async fn retention(session: &engine::session::Session, region: &str) -> serde_json::Value {
    let name = session.stack(stacks::StackPart::Region, region).expect("stack").name.clone();
    let deployed = engine::stack::deployed(&session.aws.cloudformation(region), &name).await.expect("deployed");
    deployed.template.expect("template")["Resources"]["EventStream"]["Properties"]["RetentionPeriodHours"].clone()
}

#[tokio::test]
async fn a_canary_that_does_not_deploy_stops_the_other_regions_which_are_reported_skipped() {
    let app = "waves2";
    let (_emulator, report, session) = second_deploy_with_refused_canary(app, false).await;
    let outcome = |region: &str| {
        report.stacks.iter().find(|r| r.stack == format!("{app}-region-{region}")).map(|r| r.outcome.clone())
    };
    assert_eq!(outcome("us-east-1"), Some(StackOutcome::NeedsApproval));
    for region in ["eu-west-1", "ap-southeast-2"] {
        let skipped = outcome(region).expect("every stack is in the report");
        let StackOutcome::Skipped { reason } = skipped else { panic!("{region}: {skipped:?}") };
        assert!(reason.contains(&format!("{app}-region-us-east-1 did not deploy")), "{reason}");
        assert_eq!(retention(&session, region).await, 24, "{region} was not changed");
    }
    assert_eq!(report.stacks.len(), 7, "the summary lists every stack of the plan: {:#?}", results(&report));
    assert_no_stray_change_sets(&session).await;
}

#[tokio::test]
async fn keep_going_deploys_the_other_regions_after_a_failure() {
    let app = "waves3";
    let (_emulator, report, session) = second_deploy_with_refused_canary(app, true).await;
    for region in ["eu-west-1", "ap-southeast-2"] {
        let stack = format!("{app}-region-{region}");
        let report = report.stacks.iter().find(|r| r.stack == stack).expect("reported");
        assert_eq!(report.outcome, StackOutcome::Updated, "{stack}");
        assert_eq!(retention(&session, region).await, 48, "{region} was updated");
    }
    assert_no_stray_change_sets(&session).await;
}

#[tokio::test]
async fn rollback_triggers_are_the_regions_existing_alarms_errors_first_at_most_five() {
    let emulator = emulator();
    let app = "waves4";
    let session = session(&emulator, config(app, &["eu-west-1"], 24, &["task-view"])).await;
    deploy_all(&session, &artifacts(app), &never()).await;
    let stack = session.stack(stacks::StackPart::Region, "eu-west-1").expect("region stack");
    let template: serde_json::Value = serde_json::from_str(&stack.body).expect("JSON");
    let declared = engine::rollback::declared_alarms(&template);
    assert!(declared.len() > 5, "{declared:?}");
    create_alarms_as_cloudformation_would(&session, &template).await;

    let (triggers, line) =
        engine::rollback::triggers(&session.aws, "eu-west-1", &template, 10).await.expect("triggers");
    let triggers = triggers.expect("the region's alarms exist");
    assert_eq!(triggers.alarms.len(), 5, "CloudFormation takes five: {line}");
    assert_eq!(triggers.monitoring_minutes, 10);
    assert!(triggers.alarms.iter().all(|a| a.arn.contains(":cloudwatch:eu-west-1:") && a.arn.contains(":alarm:")));
    assert!(triggers.alarms[0].arn.ends_with("-errors"), "function errors first: {:?}", triggers.alarms);
    assert!(line.contains("more left out (CloudFormation takes 5)"), "{line}");

    // An alarm that does not exist (yet) is never a trigger: CloudFormation would fail the update.
    let first = declared[0].name.clone();
    session.aws.cloudwatch("eu-west-1").delete_alarms().alarm_names(&first).send().await.expect("delete alarm");
    let (without, line) = engine::rollback::triggers(&session.aws, "eu-west-1", &template, 10).await.expect("triggers");
    assert!(without.expect("others exist").alarms.iter().all(|a| !a.arn.ends_with(&format!(":{first}"))), "{line}");
    assert!(line.contains("1 not created yet"), "{line}");
}

#[tokio::test]
async fn the_change_set_carries_the_role_tags_topics_and_rollback_triggers() {
    let alarm = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:shop-Api-errors";
    let topic = "arn:aws:sns:eu-west-1:123456789012:deploys";
    let role = "arn:aws:iam::123456789012:role/cfn-deployer";
    let create = mock!(Client::create_change_set)
        .match_requests(move |r| {
            let rollback = r.rollback_configuration();
            r.role_arn() == Some(role)
                && r.notification_arns() == [topic.to_owned()]
                && r.tags() == [Tag::builder().key("team").value("orders").build()]
                && rollback.is_some_and(|c| {
                    c.monitoring_time_in_minutes() == Some(10)
                        && c.rollback_triggers().len() == 1
                        && c.rollback_triggers()[0].arn() == Some(alarm)
                        && c.rollback_triggers()[0].r#type() == Some("AWS::CloudWatch::Alarm")
                })
                && r.description().is_some_and(|d| d.starts_with("cargo xtask deploy; template sha256 "))
        })
        .then_output(|| {
            CreateChangeSetOutput::builder().id("arn:aws:cloudformation:eu-west-1:1:changeSet/kit/1").build()
        });
    let ready = mock!(Client::describe_change_set)
        .then_output(|| DescribeChangeSetOutput::builder().status(ChangeSetStatus::CreateComplete).build());
    let cfn = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, [&create, &ready]);
    let settings = ChangeSetSettings {
        role_arn: Some(role.into()),
        tags: vec![("team".into(), "orders".into())],
        notification_arns: vec![topic.into()],
        rollback: Some(RollbackTriggers {
            alarms: vec![RollbackAlarm { arn: alarm.into(), composite: false }],
            monitoring_minutes: 10,
        }),
        import_existing: false,
    };
    let target = StackTarget {
        name: "shop-region-eu-west-1".into(),
        region: "eu-west-1".into(),
        body: r#"{"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}"#.into(),
        template_url: None,
        parameters: Default::default(),
        settings,
    };
    engine::stack::plan(&cfn, &Guard::default(), target, &StackState::Absent).await.expect("planned");
    assert_eq!(create.num_calls(), 1, "the request carried every setting");
}

/// moto's CloudFormation skips `AWS::CloudWatch::Alarm`; its CloudWatch keeps alarms, so the
/// alarms the stack declares are created there directly, as CloudFormation would on AWS.
async fn create_alarms_as_cloudformation_would(session: &engine::session::Session, template: &serde_json::Value) {
    let cloudwatch = session.aws.cloudwatch("eu-west-1");
    for resource in template["Resources"].as_object().expect("resources").values() {
        if resource["Type"] != "AWS::CloudWatch::Alarm" {
            continue;
        }
        let p = &resource["Properties"];
        cloudwatch
            .put_metric_alarm()
            .alarm_name(p["AlarmName"].as_str().expect("literal name"))
            .namespace(p["Namespace"].as_str().expect("namespace"))
            .metric_name(p["MetricName"].as_str().expect("metric"))
            .statistic(aws_sdk_cloudwatch::types::Statistic::from(p["Statistic"].as_str().expect("statistic")))
            .period(60)
            .evaluation_periods(1)
            .threshold(p["Threshold"].as_f64().expect("threshold"))
            .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanOrEqualToThreshold)
            .send()
            .await
            .expect("create the alarm");
    }
}

#[tokio::test]
async fn the_dns_stack_is_deferred_until_every_region_has_its_stack() {
    let emulator = emulator();
    let app = "waves5";
    let text = format!(
        "app = \"{app}\"\nhome = \"us-east-1\"\n\n[[region]]\nname = \"us-east-1\"\n\
         certificate_arn = \"arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000001\"\n\n\
         [[region]]\nname = \"eu-west-1\"\n\
         certificate_arn = \"arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-4000-8000-000000000002\"\n\n\
         [dns]\ndomain = \"api.{app}.example.com\"\nhosted_zone_id = \"Z0123456789ABCDEFGHIJ\"\n"
    );
    let config = stacks::AppConfig::from_toml("dns.toml", &text).expect("valid config");
    // The session keeps [dns], as on AWS (the emulator's session would leave it out).
    let aws = engine::testing::aws(&emulator).await;
    let session = engine::session::Session {
        account: aws.account_id().await.expect("account"),
        assembly: stacks::synthesize(&config).expect("synthesized"),
        aws,
        config,
        notes: Vec::new(),
        guard: Guard::default(),
    };
    let home_only = engine::plan::RegionSelection { regions: vec!["us-east-1".into()], all: false };
    let plan = plan(&session, &home_only, &DeployOptions::default());
    assert_eq!(plan.closing, [format!("{app}-dns-us-east-1")]);
    let report = deploy(&session, &plan, &artifacts(app), &never()).await.expect("deployed");
    let dns = report.stacks.iter().find(|r| r.stack == format!("{app}-dns-us-east-1")).expect("in the report");
    let StackOutcome::Deferred { reason } = &dns.outcome else { panic!("{dns:#?}") };
    assert!(reason.contains("eu-west-1 has no region stack yet"), "{reason}");
    assert!(report.unsuccessful().is_empty(), "deferring the dns stack is not a failure: {:#?}", results(&report));
    let status = engine::stack::status(&session.aws.cloudformation("us-east-1"), &dns.stack).await.expect("status");
    assert_eq!(status, None, "nothing of it was created");
}
