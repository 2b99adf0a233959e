//! Following an operation is not the operation: polls back off (a ten-minute update is polled
//! tens of times, not a thousand), and a throttled or expired-credentials read while following
//! ends with "still running in CloudFormation" and how to follow it again, never "failed".
//! Against a mocked CloudFormation on Tokio's paused clock.

use crate::mocked::{STACK, expired, stack, throttled};
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsOutput;
use aws_sdk_cloudformation::types::StackStatus;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use engine::events::{Ending, StopReason, Verdict, follow};
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn a_ten_minute_update_is_polled_with_growing_waits_not_every_half_second() {
    let started = Instant::now();
    let describe = mock!(Client::describe_stacks).then_compute_output(move |_| {
        let done = started.elapsed() > Duration::from_secs(600);
        stack(if done { StackStatus::UpdateComplete } else { StackStatus::UpdateInProgress })
    });
    let events = mock!(Client::describe_stack_events).then_output(|| DescribeStackEventsOutput::builder().build());
    let cfn = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, [&describe, &events]);
    let outcome = follow(&cfn, STACK, "eu-west-1", SystemTime::now()).await.expect("followed");
    assert_eq!(outcome.verdict(), Verdict::Succeeded);
    let polls = describe.num_calls();
    assert!(polls < 100, "a constant half-second poll would make 1,200 calls; backoff made {polls}");
    assert!(polls > 20, "the waits are capped, so progress is still seen often: {polls} polls");
}

#[tokio::test(start_paused = true)]
async fn throttled_reads_while_following_say_the_operation_goes_on_and_how_to_follow_it() {
    let describe = mock!(Client::describe_stacks).then_output(|| stack(StackStatus::UpdateInProgress));
    let events = mock!(Client::describe_stack_events).then_error(throttled);
    let cfn = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, [&describe, &events]);
    let outcome = follow(&cfn, STACK, "eu-west-1", SystemTime::now()).await.expect("followed");
    assert_eq!(outcome.ending, Ending::StoppedFollowing(StopReason::Throttled));
    assert_eq!(outcome.verdict(), Verdict::StillRunning, "following stopped; the update did not fail");
    let summary = outcome.summary();
    assert!(summary.contains("still being changed by CloudFormation"), "{summary}");
    assert!(
        summary.contains(&format!("aws cloudformation describe-stack-events --stack-name {STACK} --region eu-west-1")),
        "{summary}"
    );
    assert!(events.num_calls() > 1, "throttling is waited out a few times before giving up");
}

#[tokio::test(start_paused = true)]
async fn expired_credentials_while_following_say_the_operation_goes_on() {
    let describe = mock!(Client::describe_stacks).then_output(|| stack(StackStatus::UpdateInProgress));
    let events = mock!(Client::describe_stack_events).then_error(expired);
    let cfn = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, [&describe, &events]);
    let outcome = follow(&cfn, STACK, "eu-west-1", SystemTime::now()).await.expect("followed");
    assert_eq!(outcome.ending, Ending::StoppedFollowing(StopReason::CredentialsExpired));
    assert!(outcome.summary().contains("credentials expired"), "{}", outcome.summary());
    assert_eq!(events.num_calls(), 1, "an expired session is not retried");
}
