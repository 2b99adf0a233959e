//! Fixtures for tests against a mocked CloudFormation: a stack in a given status, a stack that
//! does not exist, stack events, and AWS's throttling and expired-token errors.

use aws_sdk_cloudformation::error::ErrorMetadata;
use aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsError;
use aws_sdk_cloudformation::operation::describe_stacks::{DescribeStacksError, DescribeStacksOutput};
use aws_sdk_cloudformation::primitives::DateTime;
use aws_sdk_cloudformation::types::{ResourceStatus, Stack, StackEvent, StackStatus};
use std::time::{Duration, SystemTime};

/// The stack every mocked test uses.
pub const STACK: &str = "shop-region-eu-west-1";

/// `DescribeStacks` answering `status`.
pub fn stack(status: StackStatus) -> DescribeStacksOutput {
    let stack = Stack::builder()
        .stack_name(STACK)
        .stack_status(status)
        .creation_time(DateTime::from(SystemTime::now()))
        .build();
    DescribeStacksOutput::builder().stacks(stack).build()
}

/// `DescribeStacks` for a stack that does not exist, as CloudFormation words it.
pub fn gone() -> DescribeStacksError {
    let meta =
        ErrorMetadata::builder().code("ValidationError").message(format!("Stack with id {STACK} does not exist"));
    DescribeStacksError::generic(meta.build())
}

/// CloudFormation's throttling error.
pub fn throttled() -> DescribeStackEventsError {
    DescribeStackEventsError::generic(ErrorMetadata::builder().code("Throttling").message("Rate exceeded").build())
}

/// The error of a call signed with an expired session.
pub fn expired() -> DescribeStackEventsError {
    let meta =
        ErrorMetadata::builder().code("ExpiredToken").message("The security token included in the request is expired");
    DescribeStackEventsError::generic(meta.build())
}

/// A stack event a second from now.
pub fn event(id: &str, logical_id: &str, kind: &str, status: ResourceStatus, reason: &str) -> StackEvent {
    event_of(id, logical_id, kind, status, reason, logical_id)
}

/// [`event`] about a resource with a physical id.
pub fn event_of(
    id: &str,
    logical_id: &str,
    kind: &str,
    status: ResourceStatus,
    reason: &str,
    physical: &str,
) -> StackEvent {
    StackEvent::builder()
        .physical_resource_id(physical)
        .event_id(id)
        .stack_name(STACK)
        .logical_resource_id(logical_id)
        .resource_type(kind)
        .resource_status(status)
        .resource_status_reason(reason)
        .timestamp(DateTime::from(SystemTime::now() + Duration::from_secs(1)))
        .build()
}
