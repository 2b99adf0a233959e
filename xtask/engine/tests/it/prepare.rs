//! What `cdk deploy` and `sam deploy` users expect, against the emulator: `--prepare` leaves the
//! reviewed change sets for a second person and `--execute` runs exactly those, refusing one whose
//! template no longer matches the reviewed one; the data stack's policy denies replacing or
//! deleting a table unless lifted with approval; stack outputs for `--outputs-file`.

use crate::support::{all, artifacts, assert_no_stray_change_sets, config, deploy_all, never, plan, session};
use engine::deploy::{StackOutcome, deploy, execute_prepared};
use engine::plan::DeployOptions;
use engine::session::Session;
use engine::testing::emulator;
use stacks::StackPart;

async fn retention(session: &Session) -> serde_json::Value {
    let name = session.stack(StackPart::Region, "eu-west-1").expect("stack").name.clone();
    let deployed = engine::stack::deployed(&session.aws.cloudformation("eu-west-1"), &name).await.expect("deployed");
    deployed.template.expect("template")["Resources"]["EventStream"]["Properties"]["RetentionPeriodHours"].clone()
}

/// Deploys `app` in eu-west-1, then prepares a retention change; returns the prepared ARN.
async fn prepared(emulator: &engine::testing::TestEmulator, app: &str) -> String {
    let zips = artifacts(app);
    deploy_all(&session(emulator, config(app, &["eu-west-1"], 24, &[])).await, &zips, &never()).await;
    let reviewer = session(emulator, config(app, &["eu-west-1"], 48, &[])).await;
    let prepare = plan(&reviewer, &all(), &DeployOptions { prepare: true, ..DeployOptions::default() });
    let report = deploy(&reviewer, &prepare, &zips, &never()).await.expect("prepared");
    let arns: Vec<String> = report
        .stacks
        .iter()
        .filter_map(|r| match &r.outcome {
            StackOutcome::Prepared { change_set } => Some(change_set.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(arns.len(), 1, "only the region stack changes: {:#?}", report.stacks);
    assert!(report.stacks.iter().all(|r| r.outcome.is_success()));
    assert_eq!(retention(&reviewer).await, 24, "nothing is executed when preparing");
    assert!(reviewer.guard.pending().is_empty(), "kept on purpose, not pending clean-up");
    arns[0].clone()
}

#[tokio::test]
async fn prepared_change_sets_are_left_for_a_second_person_and_execute_runs_exactly_those() {
    let emulator = emulator();
    let app = "prep1";
    let arn = prepared(&emulator, app).await;
    let executor = session(&emulator, config(app, &["eu-west-1"], 48, &[])).await;
    let described = executor.aws.cloudformation("eu-west-1").describe_change_set().change_set_name(&arn).send().await;
    assert!(described.is_ok(), "the prepared change set is there for the second person");

    let execute = plan(&executor, &all(), &DeployOptions::default());
    let report = execute_prepared(&executor, &execute, &never(), std::slice::from_ref(&arn)).await.expect("executed");
    let region = report.stacks.iter().find(|r| r.stack == format!("{app}-region-eu-west-1")).expect("reported");
    assert_eq!(region.outcome, StackOutcome::Updated, "{report:#?}");
    assert_eq!(report.stacks.len(), 1, "exactly the given change sets run");
    assert_eq!(retention(&executor).await, 48);
    assert_no_stray_change_sets(&executor).await;
}

#[tokio::test]
async fn a_prepared_change_set_whose_template_no_longer_matches_the_reviewed_one_is_refused() {
    let emulator = emulator();
    let app = "prep2";
    let arn = prepared(&emulator, app).await;
    // The checkout changed after the review: it would deploy 72 hours, the review saw 48.
    let executor = session(&emulator, config(app, &["eu-west-1"], 72, &[])).await;
    let execute = plan(&executor, &all(), &DeployOptions::default());
    let report = execute_prepared(&executor, &execute, &never(), std::slice::from_ref(&arn)).await.expect("ran");
    let StackOutcome::WouldBeRefused { reasons } = &report.stacks[0].outcome else { panic!("{report:#?}") };
    assert!(reasons[0].contains("no longer matches the reviewed one"), "{reasons:?}");
    assert_eq!(retention(&executor).await, 24, "nothing executed");
    let cfn = executor.aws.cloudformation("eu-west-1");
    assert!(cfn.describe_change_set().change_set_name(&arn).send().await.is_ok(), "someone else's change set is kept");

    // A change set the kit did not prepare carries no reviewed hash and is refused too.
    let stack = format!("{app}-region-eu-west-1");
    let body = executor.stack(StackPart::Region, "eu-west-1").expect("stack").body.clone();
    let deployed = engine::stack::deployed(&cfn, &stack).await.expect("deployed");
    let parameters: Vec<_> = deployed
        .parameters
        .iter()
        .map(|(k, v)| aws_sdk_cloudformation::types::Parameter::builder().parameter_key(k).parameter_value(v).build())
        .collect();
    let by_hand = cfn
        .create_change_set()
        .stack_name(&stack)
        .change_set_name("by-hand")
        .template_body(body)
        .set_parameters(Some(parameters))
        .send()
        .await
        .expect("created by hand");
    let by_hand = by_hand.id().expect("arn").to_owned();
    let report = execute_prepared(&executor, &execute, &never(), std::slice::from_ref(&by_hand)).await.expect("ran");
    let StackOutcome::WouldBeRefused { reasons } = &report.stacks[0].outcome else { panic!("{report:#?}") };
    assert!(reasons[0].contains("not prepared by `cargo xtask deploy --prepare`"), "{reasons:?}");
    for arn in [arn, by_hand] {
        let _ = cfn.delete_change_set().change_set_name(arn).send().await;
    }
}

fn statements(policy: &str) -> Vec<serde_json::Value> {
    let policy: serde_json::Value = serde_json::from_str(policy).expect("policy JSON");
    policy["Statement"].as_array().cloned().unwrap_or_default()
}

async fn data_policy(session: &Session) -> String {
    let data = session.stack(StackPart::Data, "eu-west-1").expect("data stack").name.clone();
    let policy = session.aws.cloudformation("eu-west-1").get_stack_policy().stack_name(data).send().await;
    policy.expect("policy").stack_policy_body().expect("a policy is set").to_owned()
}

#[tokio::test]
async fn replacing_a_table_is_refused_by_the_data_stacks_policy_unless_lifted_with_approval() {
    let emulator = emulator();
    let app = "policy1";
    let zips = artifacts(app);
    let mut session = session(&emulator, config(app, &["eu-west-1"], 24, &[])).await;
    deploy_all(&session, &zips, &never()).await;
    let deny: Vec<serde_json::Value> =
        statements(&data_policy(&session).await).into_iter().filter(|s| s["Effect"] == "Deny").collect();
    assert_eq!(deny.len(), 1);
    assert_eq!(deny[0]["Action"], serde_json::json!(["Update:Replace", "Update:Delete"]));
    let resources = deny[0]["Resource"].as_array().expect("resources");
    assert!(resources.contains(&serde_json::json!("LogicalResourceId/EventLog")), "{resources:?}");

    // Renaming the idempotency table replaces it: the policy denies that.
    let data = session.assembly.stacks.iter_mut().find(|s| s.part == StackPart::Data).expect("data stack");
    data.body = data.body.replace(&format!("\"{app}-idempotency\""), &format!("\"{app}-idempotency-v2\""));
    let refused =
        deploy(&session, &plan(&session, &all(), &DeployOptions::default()), &zips, &never()).await.expect("ran");
    let data_report = refused.stacks.iter().find(|r| r.stack == format!("{app}-data-eu-west-1")).expect("data report");
    let StackOutcome::WouldBeRefused { reasons } = &data_report.outcome else { panic!("{data_report:#?}") };
    assert!(reasons.iter().any(|r| r.contains("--override-stack-policy")), "{reasons:?}");
    assert_no_stray_change_sets(&session).await;

    let lifted = DeployOptions { override_stack_policy: true, ..DeployOptions::default() };
    let report = deploy(&session, &plan(&session, &all(), &lifted), &zips, &never()).await.expect("deployed");
    let data_report = report.stacks.iter().find(|r| r.stack == format!("{app}-data-eu-west-1")).expect("data report");
    assert_eq!(data_report.outcome, StackOutcome::Updated, "{data_report:#?}");
    let deny_after: Vec<serde_json::Value> =
        statements(&data_policy(&session).await).into_iter().filter(|s| s["Effect"] == "Deny").collect();
    assert_eq!(deny_after.len(), 1, "the protecting policy is back after the update");
}

#[tokio::test]
async fn stack_outputs_are_collected_for_the_outputs_file() {
    let emulator = emulator();
    let app = "outputs1";
    let session = session(&emulator, config(app, &["eu-west-1"], 24, &[])).await;
    deploy_all(&session, &artifacts(app), &never()).await;
    let names: Vec<String> = session.assembly.stacks.iter().map(|s| s.name.clone()).collect();
    let (outputs, notes) = engine::outputs::collect(&session, &names).await.expect("outputs");
    let region = &outputs[&format!("{app}-region-eu-west-1")];
    assert_eq!(region.get("EventStreamName").map(String::as_str), Some(format!("{app}-events").as_str()), "{notes:?}");
}
