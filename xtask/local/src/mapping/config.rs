//! One event source mapping's configuration, from either place it can come from: the Lambda API
//! (`GetEventSourceMapping` / `ListEventSourceMappings` against the emulator, where the
//! deployment created it) or the synthesized template's `AWS::Lambda::EventSourceMapping`
//! (for a mapping the local deployment leaves out). Both produce the same [`MappingConfig`].
//!
//! Defaults are Lambda's for stream sources (developer guide, "Lambda parameters for Amazon
//! DynamoDB event source mappings" and "... Kinesis Data Streams event source mappings"):
//! `BatchSize` 100, `MaximumBatchingWindowInSeconds` 0, `BisectBatchOnFunctionError` false,
//! `MaximumRetryAttempts` and `MaximumRecordAgeInSeconds` -1 (infinite), `ParallelizationFactor` 1.

use crate::streams::{StartAt, arn_parts};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Why a mapping cannot be emulated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required field is missing.
    #[error("mapping {mapping}: no {field}")]
    Missing {
        /// The mapping (UUID or logical ID).
        mapping: String,
        /// The field.
        field: &'static str,
    },
    /// A field has a value the runtime cannot use.
    #[error("mapping {mapping}: {field} = {value}: {reason}")]
    Invalid {
        /// The mapping.
        mapping: String,
        /// The field.
        field: &'static str,
        /// The value.
        value: String,
        /// Why.
        reason: &'static str,
    },
}

/// Where a mapping starts reading a shard it has never read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartingPosition {
    /// `TRIM_HORIZON`: every record still retained.
    TrimHorizon,
    /// `LATEST`: records written after the mapping starts.
    Latest,
    /// `AT_TIMESTAMP` (Kinesis only).
    AtTimestamp(SystemTime),
}

impl StartingPosition {
    /// The cursor start of a shard that existed when the mapping started. Shards created later
    /// (children of a reshard) are always read from their start.
    pub fn start_at(self) -> StartAt {
        match self {
            StartingPosition::TrimHorizon => StartAt::TrimHorizon,
            StartingPosition::Latest => StartAt::Latest,
            StartingPosition::AtTimestamp(at) => StartAt::AtTimestamp(at),
        }
    }
}

/// Everything the emulated mapping honours.
#[derive(Debug, Clone, PartialEq)]
pub struct MappingConfig {
    /// The mapping's UUID (used in S3 on-failure object keys).
    pub uuid: String,
    /// The function's name: what the invoker is asked to run.
    pub function_name: String,
    /// The function's ARN (in on-failure records).
    pub function_arn: String,
    /// The stream.
    pub event_source_arn: String,
    /// Where new shards start.
    pub starting_position: StartingPosition,
    /// Most records per invocation.
    pub batch_size: usize,
    /// How long to gather records before invoking.
    pub batching_window: Duration,
    /// `FilterCriteria` patterns, ORed; empty means every record.
    pub filters: Vec<String>,
    /// `FunctionResponseTypes` contains `ReportBatchItemFailures`.
    pub report_batch_item_failures: bool,
    /// `BisectBatchOnFunctionError`.
    pub bisect_on_error: bool,
    /// `MaximumRetryAttempts`; `None` is -1, retry until the records expire.
    pub maximum_retry_attempts: Option<u32>,
    /// `MaximumRecordAgeInSeconds`; `None` is -1, no limit.
    pub maximum_record_age: Option<Duration>,
    /// `DestinationConfig.OnFailure.Destination`: an SQS queue, SNS topic or S3 bucket ARN.
    pub on_failure: Option<String>,
    /// `Enabled`.
    pub enabled: bool,
}

/// The fields both sources give, before defaults and checks.
#[derive(Debug, Default)]
struct Raw {
    uuid: Option<String>,
    function: Option<String>,
    event_source_arn: Option<String>,
    starting_position: Option<String>,
    starting_position_timestamp: Option<f64>,
    batch_size: Option<i64>,
    batching_window: Option<i64>,
    filters: Vec<String>,
    response_types: Vec<String>,
    bisect: Option<bool>,
    retries: Option<i64>,
    record_age: Option<i64>,
    on_failure: Option<String>,
    enabled: Option<bool>,
}

impl MappingConfig {
    /// A mapping as the Lambda API describes it (`ListEventSourceMappings` items).
    pub fn from_lambda(
        mapping: &aws_sdk_lambda::types::EventSourceMappingConfiguration,
    ) -> Result<MappingConfig, ConfigError> {
        let filters =
            mapping.filter_criteria().map(|c| c.filters().iter().filter_map(|f| f.pattern().map(str::to_owned)));
        let raw = Raw {
            uuid: mapping.uuid().map(str::to_owned),
            function: mapping.function_arn().map(str::to_owned),
            event_source_arn: mapping.event_source_arn().map(str::to_owned),
            starting_position: mapping.starting_position().map(|p| p.as_str().to_owned()),
            starting_position_timestamp: mapping.starting_position_timestamp().map(|t| t.as_secs_f64()),
            batch_size: mapping.batch_size().map(i64::from),
            batching_window: mapping.maximum_batching_window_in_seconds().map(i64::from),
            filters: filters.into_iter().flatten().collect(),
            response_types: mapping.function_response_types().iter().map(|t| t.as_str().to_owned()).collect(),
            bisect: mapping.bisect_batch_on_function_error(),
            retries: mapping.maximum_retry_attempts().map(i64::from),
            record_age: mapping.maximum_record_age_in_seconds().map(i64::from),
            on_failure: mapping
                .destination_config()
                .and_then(|d| d.on_failure())
                .and_then(|f| f.destination())
                .map(str::to_owned),
            enabled: mapping.state().map(|s| s != "Disabled" && s != "Disabling"),
        };
        raw.resolve()
    }

    /// A template's `AWS::Lambda::EventSourceMapping` resource (`{"Type": ..., "Properties":
    /// ...}`), with `resolve` turning each property value (a literal, `Ref` or `Fn::GetAtt`)
    /// into the physical value it names; `uuid` is the UUID the emulated mapping goes by.
    pub fn from_template(
        logical_id: &str,
        resource: &Value,
        uuid: impl Into<String>,
        resolve: &dyn Fn(&Value) -> Option<String>,
    ) -> Result<MappingConfig, ConfigError> {
        let properties = &resource["Properties"];
        let text = |name: &str| properties.get(name).and_then(resolve);
        let int = |name: &str| properties.get(name).and_then(|v| v.as_i64().or_else(|| resolve(v)?.parse().ok()));
        let raw = Raw {
            uuid: Some(uuid.into()),
            function: text("FunctionName"),
            event_source_arn: text("EventSourceArn"),
            starting_position: text("StartingPosition"),
            starting_position_timestamp: properties.get("StartingPositionTimestamp").and_then(Value::as_f64),
            batch_size: int("BatchSize"),
            batching_window: int("MaximumBatchingWindowInSeconds"),
            filters: properties["FilterCriteria"]["Filters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f.get("Pattern").and_then(resolve))
                .collect(),
            response_types: properties["FunctionResponseTypes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(resolve)
                .collect(),
            bisect: properties.get("BisectBatchOnFunctionError").and_then(Value::as_bool),
            retries: int("MaximumRetryAttempts"),
            record_age: int("MaximumRecordAgeInSeconds"),
            on_failure: properties["DestinationConfig"]["OnFailure"].get("Destination").and_then(resolve),
            enabled: properties.get("Enabled").and_then(Value::as_bool),
        };
        raw.resolve().map_err(|error| match error {
            ConfigError::Missing { field, .. } => ConfigError::Missing { mapping: logical_id.to_owned(), field },
            ConfigError::Invalid { field, value, reason, .. } => {
                ConfigError::Invalid { mapping: logical_id.to_owned(), field, value, reason }
            }
        })
    }

    /// The region the mapping's stream (and so the mapping) is in.
    pub fn region(&self) -> &str {
        arn_parts(&self.event_source_arn).map_or("", |(_, region, _)| region)
    }
}

impl Raw {
    fn resolve(self) -> Result<MappingConfig, ConfigError> {
        let mapping = self.uuid.clone().unwrap_or_default();
        let missing = |field| ConfigError::Missing { mapping: mapping.clone(), field };
        let invalid =
            |field, value: String, reason| ConfigError::Invalid { mapping: mapping.clone(), field, value, reason };
        let function = self.function.ok_or_else(|| missing("FunctionName"))?;
        let event_source_arn = self.event_source_arn.ok_or_else(|| missing("EventSourceArn"))?;
        let (function_name, function_arn) = function_identity(&function, &event_source_arn);
        let starting_position = match self.starting_position.as_deref() {
            None | Some("TRIM_HORIZON") => StartingPosition::TrimHorizon,
            Some("LATEST") => StartingPosition::Latest,
            Some("AT_TIMESTAMP") => {
                let seconds = self.starting_position_timestamp.ok_or_else(|| missing("StartingPositionTimestamp"))?;
                StartingPosition::AtTimestamp(UNIX_EPOCH + Duration::from_secs_f64(seconds.max(0.0)))
            }
            Some(other) => return Err(invalid("StartingPosition", other.to_owned(), "not a stream position")),
        };
        let batch_size = match self.batch_size.unwrap_or(100) {
            size @ 1..=10_000 => usize::try_from(size).unwrap_or(100),
            size => return Err(invalid("BatchSize", size.to_string(), "must be 1 to 10,000")),
        };
        let window = self.batching_window.unwrap_or(0);
        if !(0..=300).contains(&window) {
            return Err(invalid("MaximumBatchingWindowInSeconds", window.to_string(), "must be 0 to 300"));
        }
        Ok(MappingConfig {
            uuid: mapping.clone(),
            function_name,
            function_arn,
            event_source_arn,
            starting_position,
            batch_size,
            batching_window: Duration::from_secs(window.unsigned_abs()),
            filters: self.filters,
            report_batch_item_failures: self.response_types.iter().any(|t| t == "ReportBatchItemFailures"),
            bisect_on_error: self.bisect.unwrap_or(false),
            maximum_retry_attempts: self.retries.filter(|r| *r >= 0).and_then(|r| u32::try_from(r).ok()),
            maximum_record_age: self.record_age.filter(|a| *a >= 0).map(|a| Duration::from_secs(a.unsigned_abs())),
            on_failure: self.on_failure.filter(|d| !d.is_empty()),
            enabled: self.enabled.unwrap_or(true),
        })
    }
}

/// The function's name and ARN from a name, ARN or partial ARN, in the stream's region and
/// account when the value does not say.
fn function_identity(function: &str, event_source_arn: &str) -> (String, String) {
    if let Some((_, _, resource)) = arn_parts(function) {
        let name = resource.strip_prefix("function:").unwrap_or(resource);
        let name = name.split(':').next().unwrap_or(name).to_owned();
        return (name, function.to_owned());
    }
    let (region, account) = arn_parts(event_source_arn)
        .and_then(|(_, region, _)| Some((region, event_source_arn.split(':').nth(4)?)))
        .unwrap_or(("us-east-1", crate::DEFAULT_ACCOUNT));
    (function.to_owned(), format!("arn:aws:lambda:{region}:{account}:function:{function}"))
}

/// Resolves template values from known parameter and resource values: a literal string, a
/// `Ref` to a parameter or a resource (its physical ID), or `Fn::GetAtt` of a resource.
#[derive(Debug, Clone, Default)]
pub struct TemplateValues {
    /// Parameter values by name.
    pub parameters: BTreeMap<String, String>,
    /// Physical IDs by logical ID (what `Ref` returns for a resource).
    pub physical_ids: BTreeMap<String, String>,
    /// Attribute values by `(logical ID, attribute)` (what `Fn::GetAtt` returns).
    pub attributes: BTreeMap<(String, String), String>,
}

impl TemplateValues {
    /// The physical value of `value`, or `None` when it names something unknown.
    pub fn resolve(&self, value: &Value) -> Option<String> {
        match value {
            Value::String(text) => Some(text.clone()),
            Value::Object(object) if object.len() == 1 => {
                if let Some(name) = object.get("Ref").and_then(Value::as_str) {
                    return self.parameters.get(name).or_else(|| self.physical_ids.get(name)).cloned();
                }
                let parts = object.get("Fn::GetAtt")?.as_array()?;
                let (resource, attribute) = (parts.first()?.as_str()?, parts.get(1)?.as_str()?);
                self.attributes.get(&(resource.to_owned(), attribute.to_owned())).cloned()
            }
            _ => None,
        }
    }
}
