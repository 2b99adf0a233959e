//! Stack states the local emulator cannot produce (moto never rolls back a failed operation: it
//! leaves the stack in progress), tested against CloudFormation's documented responses with a
//! mocked client: a failed creation is deleted and recreated only with approval, what the
//! rollback kept (`DELETE_SKIPPED`) is listed and imported into the new stack, and a failing
//! resource is reported with CloudFormation's reason.

use crate::mocked::{STACK, event, event_of, gone, stack};
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::operation::create_change_set::CreateChangeSetOutput;
use aws_sdk_cloudformation::operation::delete_stack::DeleteStackOutput;
use aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput;
use aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsOutput;
use aws_sdk_cloudformation::types::{
    Change, ChangeAction, ChangeSetStatus, ChangeType, ResourceChange, ResourceStatus, StackStatus,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use engine::approval::{Approval, RequireApproval};
use engine::events::{Verdict, follow};
use engine::guard::Guard;
use engine::recovery::{FailedStack, KeptResource, recover_failed_creation};
use engine::review::Action;
use engine::stack::{ChangeSetSettings, PATIENCE, StackState, StackTarget};
use serde_json::json;
use std::time::SystemTime;

const REGION: &str = "eu-west-1";

fn failed() -> FailedStack<'static> {
    FailedStack { name: STACK, region: REGION, role_arn: None }
}

/// The new template: the Kinesis stream named `orders-events` with `policy`.
fn template(policy: &str) -> serde_json::Value {
    json!({"Resources": {
        "EventStream": {"Type": "AWS::Kinesis::Stream", "DeletionPolicy": policy, "UpdateReplacePolicy": "Retain",
                        "Properties": {"Name": "orders-events", "StreamModeDetails": {"StreamMode": "ON_DEMAND"}}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}}
    }})
}

/// The failed creation's events, newest first: the stream was kept by the rollback.
fn rollback_events() -> DescribeStackEventsOutput {
    let kept = event_of("3", "EventStream", "AWS::Kinesis::Stream", ResourceStatus::DeleteSkipped, "", "orders-events");
    let failed = event("2", "Queue", "AWS::SQS::Queue", ResourceStatus::CreateFailed, "denied");
    DescribeStackEventsOutput::builder().stack_events(kept).stack_events(failed).build()
}

#[tokio::test]
async fn a_failed_creation_is_not_deleted_without_approval() {
    let describe = mock!(Client::describe_stacks).then_output(|| stack(StackStatus::RollbackComplete));
    let events = mock!(Client::describe_stack_events).then_output(rollback_events);
    let delete = mock!(Client::delete_stack).then_output(|| DeleteStackOutput::builder().build());
    let cfn = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, [&describe, &events, &delete]);
    let refuse = Approval::new(RequireApproval::Dangerous, false);
    let error = recover_failed_creation(&cfn, failed(), &template("Retain"), &refuse, PATIENCE)
        .await
        .expect_err("needs approval");
    assert!(error.to_string().contains("ROLLBACK_COMPLETE; re-run with --yes"), "{error}");
    assert!(error.to_string().contains("--region eu-west-1"), "the hint names the region: {error}");
    assert_eq!(delete.num_calls(), 0, "nothing is deleted without approval");
}

#[tokio::test]
async fn what_cloudformation_kept_is_listed_and_imported_when_the_stack_is_created_again() {
    let describe =
        mock!(Client::describe_stacks).sequence().output(|| stack(StackStatus::RollbackComplete)).error(gone).build();
    let events = mock!(Client::describe_stack_events).then_output(rollback_events);
    let delete = mock!(Client::delete_stack).then_output(|| DeleteStackOutput::builder().build());
    let cfn = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, [&describe, &events, &delete]);
    let approve = Approval::new(RequireApproval::Dangerous, true);
    let recovery = recover_failed_creation(&cfn, failed(), &template("RetainExceptOnCreate"), &approve, PATIENCE)
        .await
        .expect("recovered")
        .expect("the stack had failed creation");
    let stream = KeptResource {
        logical_id: "EventStream".into(),
        resource_type: "AWS::Kinesis::Stream".into(),
        physical_id: "orders-events".into(),
    };
    assert_eq!(recovery.kept, std::slice::from_ref(&stream), "DELETE_SKIPPED resources, with type and physical id");
    assert_eq!(recovery.import, [stream], "the new template names it the same way and retains it");
    assert_eq!(delete.num_calls(), 1, "the failed stack is deleted once");

    // The stack is created again with ImportExistingResources, and the review shows the import.
    let create = mock!(Client::create_change_set)
        .match_requests(|r| r.import_existing_resources() == Some(true) && r.stack_name() == Some(STACK))
        .then_output(|| {
            CreateChangeSetOutput::builder().id("arn:aws:cloudformation:eu-west-1:1:changeSet/kit/1").build()
        });
    let ready = mock!(Client::describe_change_set).then_output(|| {
        let import = ResourceChange::builder()
            .action(ChangeAction::Import)
            .logical_resource_id("EventStream")
            .resource_type("AWS::Kinesis::Stream")
            .build();
        let change = Change::builder().r#type(ChangeType::Resource).resource_change(import).build();
        DescribeChangeSetOutput::builder().status(ChangeSetStatus::CreateComplete).changes(change).build()
    });
    let cfn = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, [&create, &ready]);
    let settings = ChangeSetSettings { import_existing: !recovery.import.is_empty(), ..ChangeSetSettings::default() };
    let body = template("RetainExceptOnCreate").to_string();
    let target = StackTarget {
        name: STACK.into(),
        region: REGION.into(),
        body,
        template_url: None,
        parameters: Default::default(),
        settings,
    };
    let planned = engine::stack::plan(&cfn, &Guard::default(), target, &StackState::Absent).await.expect("planned");
    assert_eq!(create.num_calls(), 1, "the change set asks CloudFormation to import what exists");
    let change = planned.review.changes.iter().find(|c| c.logical_id == "EventStream").expect("stream change");
    assert_eq!(change.action, Action::Import);
}

#[tokio::test]
async fn a_kept_resource_the_new_template_does_not_retain_stops_before_anything_is_deleted() {
    let describe = mock!(Client::describe_stacks).then_output(|| stack(StackStatus::RollbackComplete));
    let events = mock!(Client::describe_stack_events).then_output(rollback_events);
    let delete = mock!(Client::delete_stack).then_output(|| DeleteStackOutput::builder().build());
    let cfn = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, [&describe, &events, &delete]);
    let approve = Approval::new(RequireApproval::Never, true);
    let error =
        recover_failed_creation(&cfn, failed(), &template("Delete"), &approve, PATIENCE).await.expect_err("stopped");
    assert!(error.to_string().contains("AWS::Kinesis::Stream orders-events"), "{error}");
    assert!(error.to_string().contains("nothing was deleted"), "{error}");
    assert_eq!(delete.num_calls(), 0);
}

#[tokio::test]
async fn a_failing_resource_is_reported_with_cloudformations_reason() {
    let reason =
        "Resource handler returned message: \"Stream orders-events under account 123456789012 already exists\"";
    let events = mock!(Client::describe_stack_events).then_output(move || {
        let newest_first = vec![
            event("3", STACK, "AWS::CloudFormation::Stack", ResourceStatus::RollbackComplete, ""),
            event("2", "EventStream", "AWS::Kinesis::Stream", ResourceStatus::CreateFailed, reason),
            event("1", "EventStream", "AWS::Kinesis::Stream", ResourceStatus::CreateInProgress, ""),
        ];
        DescribeStackEventsOutput::builder().set_stack_events(Some(newest_first)).build()
    });
    let describe = mock!(Client::describe_stacks).then_output(|| stack(StackStatus::RollbackComplete));
    let cfn = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, [&events, &describe]);
    let outcome = follow(&cfn, STACK, REGION, SystemTime::now()).await.expect("followed");
    assert_eq!(outcome.verdict(), Verdict::Failed);
    assert_eq!(outcome.summary(), format!("{STACK} ended ROLLBACK_COMPLETE"));
    assert_eq!(outcome.failures.len(), 1);
    assert_eq!(outcome.failures[0].logical_id, "EventStream");
    assert_eq!(outcome.failures[0].reason, reason);
    assert!(outcome.failure_report().contains("EventStream (AWS::Kinesis::Stream): CREATE_FAILED: Resource handler"));
}
