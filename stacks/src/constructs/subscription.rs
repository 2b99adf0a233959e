//! A stream → Lambda subscription (event source mapping) with the kit's safety settings:
//! batch item failures, bisection, bounded retries and record age, the region's failed-batches
//! bucket as the on-failure destination (so a batch given up on is kept whole) and
//! `TRIM_HORIZON`, so no record written before the mapping existed is skipped.

use super::failed_batches::FailedBatches;
use super::function::RustFunction;
use crate::cfn::lambda::{DestinationConfig, EventSourceMapping, Filter, FilterCriteria, OnFailure};
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
    /// Where a batch the mapping gives up on is written, whole (required: the CloudFormation
    /// reference, `AWS::Lambda::EventSourceMapping OnFailure`, allows an S3 bucket as the
    /// destination of Kinesis and DynamoDB mappings, and only S3 receives the records).
    pub failures: &'a FailedBatches,
}

/// The mapping.
#[derive(Debug, Clone)]
pub struct Subscription {
    mapping: Handle<EventSourceMapping>,
}

impl Subscription {
    /// Adds `<id>` (the mapping) and grants `function` what the mapping needs: read on the
    /// source and delivery to the failed-batches bucket.
    pub fn new(template: &mut Template, id: &str, function: &RustFunction, props: SubscriptionProps<'_>) -> Self {
        let (actions, resource) = props.source.read_grant();
        function.grant(template, &format!("{id}Read"), actions, vec![resource]);
        props.failures.grant_delivery(template, function, &format!("{id}OnFailure"));
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
                DestinationConfig: Some(DestinationConfig {
                    OnFailure: OnFailure { Destination: props.failures.arn() },
                }),
                FilterCriteria: filter_criteria,
                Enabled: Some(true),
            },
        );
        Subscription { mapping }
    }

    /// The mapping handle.
    pub fn handle(&self) -> &Handle<EventSourceMapping> {
        &self.mapping
    }
}
