//! `regions.toml` → validated [`AppConfig`]. Every error names file:line:column, the field, and
//! the fix; parsing does no I/O (the caller reads the file).

mod aws_regions;
mod raw;
mod sample;
mod validate;

pub use aws_regions::{COMMERCIAL_REGIONS, closest_region, is_commercial_region};
pub use raw::{Architecture, FailoverRole, OriginIndex, ProjectionKind, Routing};
pub use sample::sample_toml;

use std::fmt;

/// The validated configuration of one app.
#[derive(Debug, Clone, PartialEq)]
pub struct AppConfig {
    /// Name prefix of every stack and resource.
    pub app: String,
    /// The AWS account, when pinned; synth writes `unknown-account` otherwise.
    pub account: Option<String>,
    /// The region whose `data` stack owns the global tables.
    pub home: String,
    /// Every region the app runs in, in file order.
    pub regions: Vec<RegionConfig>,
    /// Shared domain, health checks and routing; absent means regional endpoints only.
    pub dns: Option<DnsConfig>,
    /// Settings of every function.
    pub functions: FunctionsConfig,
    /// Kinesis and event-source-mapping settings.
    pub stream: StreamConfig,
    /// The projections (Kinesis consumers).
    pub projections: Vec<ProjectionConfig>,
    /// Which origin index the event log has.
    pub origin_index: OriginIndex,
    /// Where alarms are sent.
    pub alerts: AlertsConfig,
    /// Things that are allowed but probably not meant.
    pub warnings: Vec<ConfigDiagnostic>,
}

/// One region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionConfig {
    /// Region code, e.g. `eu-west-1`.
    pub name: String,
    /// ACM certificate for the shared domain in this region.
    pub certificate_arn: Option<String>,
    /// Weighted routing share (0-255).
    pub weight: u32,
    /// Place in the failover chain: `priority`, or 1 for `failover = "primary"` and 2 for
    /// `"secondary"`; `None` follows the ranked regions in file order.
    pub priority: Option<u32>,
}

/// `[dns]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsConfig {
    /// The shared API hostname, e.g. `api.example.com`.
    pub domain: String,
    /// The Route53 hosted zone holding it.
    pub hosted_zone_id: String,
    /// The routing policy of the shared record.
    pub routing: Routing,
    /// Health-check request interval: 10 or 30 s (fixed once created).
    pub health_check_interval: u32,
    /// Consecutive results before a health check changes status.
    pub failure_threshold: u32,
    /// Seconds resolvers may cache the shared record.
    pub ttl: u32,
}

/// `[alerts]`: every alarm notifies one SNS topic per region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertsConfig {
    /// Addresses subscribed to the kit's topic in every region.
    pub emails: Vec<String>,
    /// An existing topic to use instead of the kit's, with [`REGION_PLACEHOLDER`] standing for
    /// each region (CloudWatch notifies only a topic in the alarm's region).
    pub topic_arn: Option<String>,
}

/// Written in `[alerts] topic_arn` where each region's code goes.
pub const REGION_PLACEHOLDER: &str = "{region}";

impl AlertsConfig {
    /// The existing topic the alarms of `region` notify, if one is configured.
    pub fn topic_arn_in(&self, region: &str) -> Option<String> {
        self.topic_arn.as_ref().map(|arn| arn.replace(REGION_PLACEHOLDER, region))
    }
}

/// `[functions]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionsConfig {
    /// CPU architecture.
    pub architecture: Architecture,
    /// Memory in MB.
    pub memory_mb: u32,
    /// Timeout in seconds.
    pub timeout_seconds: u32,
    /// Log retention in days.
    pub log_retention_days: u32,
}

/// `[stream]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamConfig {
    /// Kinesis retention in hours.
    pub retention_hours: u32,
    /// Records per Lambda batch.
    pub batch_size: u32,
    /// Seconds to gather a batch.
    pub batching_window_seconds: u32,
    /// Retries before a batch goes to the failed-batches bucket.
    pub max_retries: u32,
    /// Oldest record processed before it goes to the failed-batches bucket.
    pub max_record_age_seconds: u32,
}

/// One projection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectionConfig {
    /// Name, used in resource names.
    pub name: String,
    /// What it builds.
    pub kind: ProjectionKind,
}

impl AppConfig {
    /// Parses and validates `source`, the text of `file`.
    pub fn from_toml(file: &str, source: &str) -> Result<AppConfig, ConfigErrors> {
        validate::parse(file, source)
    }

    /// The region names in file order.
    pub fn region_names(&self) -> impl Iterator<Item = &str> {
        self.regions.iter().map(|r| r.name.as_str())
    }

    /// The regions in failover order: ranked regions by priority, then the others in file
    /// order. Validation guarantees no two regions share a priority.
    pub fn failover_chain(&self) -> Vec<&RegionConfig> {
        let mut chain: Vec<(usize, &RegionConfig)> = self.regions.iter().enumerate().collect();
        chain.sort_by_key(|(index, region)| (region.priority.unwrap_or(u32::MAX), *index));
        chain.into_iter().map(|(_, region)| region).collect()
    }
}

/// A problem at one place in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigDiagnostic {
    /// The file name as given.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The field path, e.g. `region[2].name`.
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for ConfigDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}: {}", self.file, self.line, self.column, self.field, self.message)
    }
}

/// Every error found in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigDiagnostic>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}
