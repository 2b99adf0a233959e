//! `AWS::Route53::*` resource types.

use super::{Expr, property, resource};

resource!(
    /// `AWS::Route53::HealthCheck`.
    HealthCheck, "AWS::Route53::HealthCheck", {
    /// What is checked and how.
    pub HealthCheckConfig: HealthCheckConfig,
    /// Tags (`Name` shows in the console).
    pub HealthCheckTags: Option<Vec<super::Tag>>,
});

property!(
    /// `HealthCheckConfig`.
    HealthCheckConfig, {
    /// `HTTPS` etc. (changing it replaces the check).
    pub Type: String,
    /// Host name sent in the request and SNI.
    pub FullyQualifiedDomainName: Option<Expr>,
    /// Path, e.g. `/health`.
    pub ResourcePath: Option<String>,
    /// Port.
    pub Port: Option<u32>,
    /// 10 or 30 seconds (changing it replaces the check).
    pub RequestInterval: Option<u32>,
    /// Consecutive results needed to change status (1 to 10).
    pub FailureThreshold: Option<u32>,
    /// Send the host name in the TLS client hello.
    pub EnableSNI: Option<bool>,
    /// Report the opposite status (used by failover drills).
    pub Inverted: Option<bool>,
});

resource!(
    /// `AWS::Route53::RecordSet`.
    RecordSet, "AWS::Route53::RecordSet", {
    /// The hosted zone.
    pub HostedZoneId: Option<String>,
    /// The record name.
    pub Name: String,
    /// `A`, `AAAA`, `CNAME`, ...
    pub Type: String,
    /// Distinguishes records of one name and type (required with a routing policy).
    pub SetIdentifier: Option<String>,
    /// Latency routing: the record's region.
    pub Region: Option<String>,
    /// Failover routing: `PRIMARY` or `SECONDARY`.
    pub Failover: Option<String>,
    /// Weighted routing: 0 to 255.
    pub Weight: Option<u32>,
    /// The health check deciding whether this record is served.
    pub HealthCheckId: Option<Expr>,
    /// Alias target (no TTL with an alias).
    pub AliasTarget: Option<AliasTarget>,
    /// Seconds resolvers cache a non-alias answer.
    pub TTL: Option<String>,
    /// Non-alias values.
    pub ResourceRecords: Option<Vec<Expr>>,
});

property!(
    /// `AliasTarget`.
    AliasTarget, {
    /// Target hostname.
    pub DNSName: Expr,
    /// Target's hosted zone (the record's own zone for an alias to another record).
    pub HostedZoneId: Expr,
    /// Also follow the target's health.
    pub EvaluateTargetHealth: bool,
});

resource!(
    /// `AWS::Route53::RecordSetGroup`: records sent to Route53 as one change batch, which Route53
    /// applies all or nothing (`ChangeResourceRecordSets`, "Change batches and transactional
    /// changes"), so a change of routing policy, TTL or weights never leaves a mixed set behind.
    RecordSetGroup, "AWS::Route53::RecordSetGroup", {
    /// The hosted zone (changing it replaces the group).
    pub HostedZoneId: Option<String>,
    /// What the batch is for.
    pub Comment: Option<String>,
    /// The records.
    pub RecordSets: Vec<GroupRecordSet>,
});

property!(
    /// `AWS::Route53::RecordSetGroup.RecordSet`: one record of a group.
    GroupRecordSet, {
    /// The record name.
    pub Name: String,
    /// `A`, `AAAA`, `CNAME`, ...
    pub Type: String,
    /// Distinguishes records of one name and type (required with a routing policy).
    pub SetIdentifier: Option<String>,
    /// Latency routing: the record's region.
    pub Region: Option<String>,
    /// Failover routing: `PRIMARY` or `SECONDARY`.
    pub Failover: Option<String>,
    /// Weighted routing: 0 to 255.
    pub Weight: Option<u32>,
    /// The health check deciding whether this record is served.
    pub HealthCheckId: Option<Expr>,
    /// Alias target (no TTL with an alias).
    pub AliasTarget: Option<AliasTarget>,
    /// Seconds resolvers cache a non-alias answer.
    pub TTL: Option<String>,
    /// Non-alias values.
    pub ResourceRecords: Option<Vec<Expr>>,
});
