//! A stream → Lambda subscription (event source mapping) with the kit's safety settings:
//! batch item failures, bisection, bounded retries and record age, an encrypted on-failure queue
//! and `TRIM_HORIZON`, so no record written before the mapping existed is skipped.

use super::function::RustFunction;
use super::queue::retained_queue;
use crate::cfn::lambda::{DestinationConfig, EventSourceMapping, Filter, FilterCriteria, OnFailure};
use crate::cfn::sqs::Queue;
use crate::cfn::{Expr, Handle, Template};
use crate::config::StreamConfig;

/// Lambda's limit on filters per event source mapping.
pub const MAX_FILTERS: usize = 5;
/// Lambda's limit on one filter pattern's length.
pub const MAX_FILTER_PATTERN_CHARS: usize = 4_096;

/// Where the records come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A DynamoDB stream; `stream_arn` is exact, `read_resource` may be a `…/stream/*` pattern.
    DynamoDb {
        /// The stream to map.
        stream_arn: Expr,
        /// The resource the read grant names.
        read_resource: Expr,
    },
    /// A Kinesis data stream.
    Kinesis {
        /// The stream ARN.
        stream_arn: Expr,
    },
}

impl Source {
    fn arn(&self) -> Expr {
        match self {
            Source::DynamoDb { stream_arn, .. } | Source::Kinesis { stream_arn } => stream_arn.clone(),
        }
    }

    /// What Lambda's poller needs to read this source on the function's behalf.
    fn read_grant(&self) -> (&'static [&'static str], Expr) {
        match self {
            Source::DynamoDb { read_resource, .. } => (
                &[
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                    "dynamodb:ListStreams",
                ],
                read_resource.clone(),
            ),
            Source::Kinesis { stream_arn } => (
                &[
                    "kinesis:DescribeStream",
                    "kinesis:DescribeStreamSummary",
                    "kinesis:GetRecords",
                    "kinesis:GetShardIterator",
                    "kinesis:ListShards",
                ],
                stream_arn.clone(),
            ),
        }
    }
}

/// Options of a [`Subscription`].
#[derive(Debug, Clone)]
pub struct SubscriptionProps<'a> {
    /// The stream.
    pub source: Source,
    /// Filter patterns (JSON strings), ORed; empty delivers every record.
    pub filters: Vec<String>,
    /// Batch size, retries and record age.
    pub settings: &'a StreamConfig,
}

/// The mapping and its on-failure queue.
#[derive(Debug, Clone)]
pub struct Subscription {
    mapping: Handle<EventSourceMapping>,
    dead_letters: Handle<Queue>,
}

impl Subscription {
    /// Adds `<id>` (the mapping) and `<id>DeadLetters`, and grants `function` what the mapping
    /// needs: read on the source and `sqs:SendMessage` on the queue.
    pub fn new(template: &mut Template, id: &str, function: &RustFunction, props: SubscriptionProps<'_>) -> Self {
        let dead_letters = retained_queue(template, &format!("{id}DeadLetters"));
        let (actions, resource) = props.source.read_grant();
        function.grant(template, &format!("{id}Read"), actions, vec![resource]);
        function.grant(template, &format!("{id}OnFailure"), &["sqs:SendMessage"], vec![dead_letters.arn()]);
        let settings = props.settings;
        let filter_criteria = (!props.filters.is_empty()).then(|| FilterCriteria {
            Filters: props.filters.into_iter().map(|pattern| Filter { Pattern: pattern }).collect(),
        });
        // The function references its role, so the role and its grants exist before Lambda
        // validates the mapping against them.
        let mapping = template.add(
            id,
            EventSourceMapping {
                FunctionName: function.name(),
                EventSourceArn: props.source.arn(),
                StartingPosition: Some("TRIM_HORIZON".into()),
                BatchSize: Some(settings.batch_size),
                MaximumBatchingWindowInSeconds: Some(settings.batching_window_seconds),
                BisectBatchOnFunctionError: Some(true),
                MaximumRetryAttempts: Some(i64::from(settings.max_retries)),
                MaximumRecordAgeInSeconds: Some(i64::from(settings.max_record_age_seconds)),
                ParallelizationFactor: Some(1),
                FunctionResponseTypes: Some(vec!["ReportBatchItemFailures".into()]),
                DestinationConfig: Some(DestinationConfig { OnFailure: OnFailure { Destination: dead_letters.arn() } }),
                FilterCriteria: filter_criteria,
                Enabled: Some(true),
            },
        );
        Subscription { mapping, dead_letters }
    }

    /// The mapping handle.
    pub fn handle(&self) -> &Handle<EventSourceMapping> {
        &self.mapping
    }

    /// The on-failure queue.
    pub fn dead_letters(&self) -> &Handle<Queue> {
        &self.dead_letters
    }
}
