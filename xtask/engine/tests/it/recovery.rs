//! Stack states the local emulator cannot produce (moto never rolls back a failed operation: it
//! leaves the stack in progress), tested against CloudFormation's documented responses with a
//! mocked client: a failed creation is deleted and recreated only with approval, and a failing
//! resource is reported with CloudFormation's reason.

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::error::ErrorMetadata;
use aws_sdk_cloudformation::operation::delete_stack::DeleteStackOutput;
use aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsOutput;
use aws_sdk_cloudformation::operation::describe_stacks::{DescribeStacksError, DescribeStacksOutput};
use aws_sdk_cloudformation::primitives::DateTime;
use aws_sdk_cloudformation::types::{ResourceStatus, Stack, StackEvent, StackStatus};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use engine::approval::{Approval, RequireApproval};
use engine::deploy::recover_failed_creation;
use engine::events::follow;
use engine::stack::PATIENCE;
use std::time::{Duration, SystemTime};

const STACK: &str = "shop-region-eu-west-1";

fn stack(status: StackStatus) -> DescribeStacksOutput {
    let stack = Stack::builder()
        .stack_name(STACK)
        .stack_status(status)
        .creation_time(DateTime::from(SystemTime::now()))
        .build();
    DescribeStacksOutput::builder().stacks(stack).build()
}

fn gone() -> DescribeStacksError {
    let meta =
        ErrorMetadata::builder().code("ValidationError").message(format!("Stack with id {STACK} does not exist"));
    DescribeStacksError::generic(meta.build())
}

fn event(id: &str, logical_id: &str, kind: &str, status: ResourceStatus, reason: &str) -> StackEvent {
    StackEvent::builder()
        .event_id(id)
        .stack_name(STACK)
        .logical_resource_id(logical_id)
        .resource_type(kind)
        .resource_status(status)
        .resource_status_reason(reason)
        .timestamp(DateTime::from(SystemTime::now() + Duration::from_secs(1)))
        .build()
}

#[tokio::test]
async fn a_failed_creation_is_not_deleted_without_approval() {
    let describe = mock!(Client::describe_stacks).then_output(|| stack(StackStatus::RollbackComplete));
    let delete = mock!(Client::delete_stack).then_output(|| DeleteStackOutput::builder().build());
    let cfn = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, [&describe, &delete]);
    let refuse = Approval::new(RequireApproval::Dangerous, false);
    let error = recover_failed_creation(&cfn, STACK, &refuse, PATIENCE).await.expect_err("needs approval");
    assert!(error.to_string().contains("ROLLBACK_COMPLETE; re-run with --yes"), "{error}");
    assert_eq!(delete.num_calls(), 0, "nothing is deleted without approval");
}

#[tokio::test]
async fn a_failed_creation_is_deleted_with_approval_so_it_can_be_created_again() {
    let describe =
        mock!(Client::describe_stacks).sequence().output(|| stack(StackStatus::RollbackComplete)).error(gone).build();
    let delete = mock!(Client::delete_stack).then_output(|| DeleteStackOutput::builder().build());
    let events = mock!(Client::describe_stack_events).then_output(|| {
        let done = event("2", STACK, "AWS::CloudFormation::Stack", ResourceStatus::DeleteComplete, "");
        DescribeStackEventsOutput::builder().stack_events(done).build()
    });
    let cfn = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, [&describe, &delete, &events]);
    recover_failed_creation(&cfn, STACK, &Approval::new(RequireApproval::Dangerous, true), PATIENCE)
        .await
        .expect("recovered");
    assert_eq!(delete.num_calls(), 1, "the failed stack is deleted once");
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
    let outcome = follow(&cfn, STACK, SystemTime::now()).await.expect("followed");
    assert!(!outcome.succeeded());
    assert_eq!(outcome.status.as_deref(), Some("ROLLBACK_COMPLETE"));
    assert_eq!(outcome.failures.len(), 1);
    assert_eq!(outcome.failures[0].logical_id, "EventStream");
    assert_eq!(outcome.failures[0].reason, reason);
    assert!(outcome.failure_report().contains("EventStream (AWS::Kinesis::Stream): CREATE_FAILED: Resource handler"));
}
