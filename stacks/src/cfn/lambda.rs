//! `AWS::Lambda::*` resource types.

use super::{Expr, attributes, property, resource};
use std::collections::BTreeMap;

resource!(
    /// `AWS::Lambda::Function`.
    Function, "AWS::Lambda::Function", {
    /// Function name.
    pub FunctionName: Option<Expr>,
    /// What it does.
    pub Description: Option<String>,
    /// `provided.al2023` for Rust.
    pub Runtime: Option<String>,
    /// `bootstrap` for custom runtimes.
    pub Handler: Option<String>,
    /// `arm64` or `x86_64`.
    pub Architectures: Option<Vec<String>>,
    /// MB.
    pub MemorySize: Option<u32>,
    /// Seconds.
    pub Timeout: Option<u32>,
    /// Execution role ARN.
    pub Role: Expr,
    /// Where the code is.
    pub Code: Code,
    /// Environment variables.
    pub Environment: Option<Environment>,
    /// Log format and group.
    pub LoggingConfig: Option<LoggingConfig>,
    /// Tags.
    pub Tags: Option<Vec<super::Tag>>,
});

attributes!(Function {
    /// The function ARN.
    arn => "Arn",
});

property!(
    /// `Code`.
    Code, {
    /// Bucket holding the zip.
    pub S3Bucket: Option<Expr>,
    /// Key of the zip.
    pub S3Key: Option<Expr>,
});

property!(
    /// `Environment`.
    Environment, {
    /// Variables by name.
    pub Variables: BTreeMap<String, Expr>,
});

property!(
    /// `LoggingConfig`.
    LoggingConfig, {
    /// `JSON` or `Text`.
    pub LogFormat: Option<String>,
    /// The log group name.
    pub LogGroup: Option<Expr>,
});

resource!(
    /// `AWS::Lambda::EventSourceMapping`.
    EventSourceMapping, "AWS::Lambda::EventSourceMapping", {
    /// The function.
    pub FunctionName: Expr,
    /// The stream (changing it replaces the mapping).
    pub EventSourceArn: Expr,
    /// `TRIM_HORIZON` or `LATEST` (changing it replaces the mapping).
    pub StartingPosition: Option<String>,
    /// Records per batch.
    pub BatchSize: Option<u32>,
    /// Seconds to gather a batch; at least 1 when BatchSize > 10.
    pub MaximumBatchingWindowInSeconds: Option<u32>,
    /// Split a failing batch in two and retry each half.
    pub BisectBatchOnFunctionError: Option<bool>,
    /// Retries before the batch goes to the on-failure destination.
    pub MaximumRetryAttempts: Option<i64>,
    /// Oldest record age processed, in seconds.
    pub MaximumRecordAgeInSeconds: Option<i64>,
    /// Concurrent batches per shard (1 keeps shard order).
    pub ParallelizationFactor: Option<u32>,
    /// `ReportBatchItemFailures`.
    pub FunctionResponseTypes: Option<Vec<String>>,
    /// Where failed batches are recorded.
    pub DestinationConfig: Option<DestinationConfig>,
    /// Event filters (OR).
    pub FilterCriteria: Option<FilterCriteria>,
    /// Whether the mapping polls.
    pub Enabled: Option<bool>,
});

attributes!(EventSourceMapping {
    /// The mapping's UUID.
    mapping_id => "Id",
});

property!(
    /// `DestinationConfig`.
    DestinationConfig, {
    /// The on-failure destination.
    pub OnFailure: OnFailure,
});

property!(
    /// `OnFailure`.
    OnFailure, {
    /// SQS queue, SNS topic or S3 bucket ARN.
    pub Destination: Expr,
});

property!(
    /// `FilterCriteria`.
    FilterCriteria, {
    /// At most 5 filters; a record passing any one is delivered.
    pub Filters: Vec<Filter>,
});

property!(
    /// `Filter`.
    Filter, {
    /// The pattern as a JSON string of at most 4,096 characters.
    pub Pattern: String,
});

resource!(
    /// `AWS::Lambda::Permission`.
    Permission, "AWS::Lambda::Permission", {
    /// `lambda:InvokeFunction`.
    pub Action: String,
    /// The function.
    pub FunctionName: Expr,
    /// The invoking service.
    pub Principal: String,
    /// The invoking resource.
    pub SourceArn: Option<Expr>,
    /// The invoking account.
    pub SourceAccount: Option<Expr>,
});
