//! `regions.toml` exactly as written: serde structs with `deny_unknown_fields` and the source
//! span of every value that validation may need to point at.

use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub app: Spanned<String>,
    pub account: Option<Spanned<String>>,
    pub home: Spanned<String>,
    #[serde(default, rename = "region")]
    pub regions: Vec<Spanned<RawRegion>>,
    pub dns: Option<Spanned<RawDns>>,
    #[serde(default)]
    pub functions: RawFunctions,
    #[serde(default)]
    pub stream: RawStream,
    #[serde(default, rename = "projection")]
    pub projections: Vec<Spanned<RawProjection>>,
    pub alerts: Option<Spanned<RawAlerts>>,
}

/// `[alerts]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlerts {
    #[serde(default)]
    pub email: Vec<Spanned<String>>,
    pub topic_arn: Option<Spanned<String>>,
}

/// One `[[region]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegion {
    pub name: Spanned<String>,
    pub certificate_arn: Option<Spanned<String>>,
    pub weight: Option<Spanned<i64>>,
    pub failover: Option<Spanned<FailoverRole>>,
    pub priority: Option<Spanned<i64>>,
}

/// `failover = "primary" | "secondary"`: the first and second places of the failover chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailoverRole {
    /// Served while healthy.
    Primary,
    /// Served when the primary is unhealthy.
    Secondary,
}

impl FailoverRole {
    /// The place in the chain the role names, as a `priority` would.
    pub const fn priority(self) -> u32 {
        match self {
            FailoverRole::Primary => 1,
            FailoverRole::Secondary => 2,
        }
    }
}

/// `[dns]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDns {
    pub domain: Spanned<String>,
    pub hosted_zone_id: Spanned<String>,
    #[serde(default)]
    pub routing: Routing,
    pub health_check_interval: Option<Spanned<i64>>,
    pub failure_threshold: Option<Spanned<i64>>,
    pub ttl: Option<Spanned<i64>>,
}

/// `routing = "latency" | "failover" | "weighted"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Routing {
    /// Each client goes to the region with the lowest latency that is healthy.
    #[default]
    Latency,
    /// An ordered chain: each region is served while every region before it is unhealthy.
    Failover,
    /// Traffic split by `weight`.
    Weighted,
}

/// `[functions]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFunctions {
    #[serde(default)]
    pub architecture: Architecture,
    pub memory_mb: Option<Spanned<i64>>,
    pub timeout_seconds: Option<Spanned<i64>>,
    pub log_retention_days: Option<Spanned<i64>>,
}

/// `architecture = "arm64" | "x86_64"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum Architecture {
    /// Graviton: cheaper per GB-second.
    #[default]
    #[serde(rename = "arm64")]
    Arm64,
    /// Intel/AMD.
    #[serde(rename = "x86_64")]
    X86_64,
}

/// `[stream]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStream {
    pub retention_hours: Option<Spanned<i64>>,
    pub batch_size: Option<Spanned<i64>>,
    pub batching_window_seconds: Option<Spanned<i64>>,
    pub max_retries: Option<Spanned<i64>>,
    pub max_record_age_seconds: Option<Spanned<i64>>,
}

/// One `[[projection]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProjection {
    pub name: Spanned<String>,
    pub kind: ProjectionKind,
}

/// `kind = "s3-audit" | "read-model"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProjectionKind {
    /// One JSON object per event in the region's audit bucket.
    S3Audit,
    /// A current-state view in a global table.
    ReadModel,
}
