//! Route53: a health check on the region-specific API hostname and the region's record under
//! the shared domain, with the configured routing policy.

use crate::cfn::route53::{HealthCheck, HealthCheckConfig, RecordSet};
use crate::cfn::{Expr, Handle, Tag, Template};
use crate::config::{DnsConfig, FailoverRole, RegionConfig, Routing};

/// The path every region serves for deep health checks.
pub const HEALTH_PATH: &str = "/health";

/// Adds an HTTPS health check of `hostname` + `/health`. It probes the regional hostname, never
/// the shared name, so it measures this region alone.
pub fn health_check(
    template: &mut Template,
    id: &str,
    name: String,
    hostname: Expr,
    dns: &DnsConfig,
) -> Handle<HealthCheck> {
    template.add(
        id,
        HealthCheck {
            HealthCheckConfig: HealthCheckConfig {
                Type: "HTTPS".into(),
                FullyQualifiedDomainName: Some(hostname),
                ResourcePath: Some(HEALTH_PATH.into()),
                Port: Some(443),
                RequestInterval: Some(dns.health_check_interval),
                FailureThreshold: Some(dns.failure_threshold),
                EnableSNI: Some(true),
                Inverted: Some(false),
            },
            HealthCheckTags: Some(vec![Tag { Key: "Name".into(), Value: Expr::Str(name) }]),
        },
    )
}

/// Adds this region's CNAME under the shared domain, answered only while `health` is healthy.
/// Returns `None` when the routing policy gives this region no record (failover without a role).
pub fn routing_record(
    template: &mut Template,
    id: &str,
    dns: &DnsConfig,
    region: &RegionConfig,
    target: Expr,
    health: &Handle<HealthCheck>,
) -> Option<Handle<RecordSet>> {
    let mut record = RecordSet {
        HostedZoneId: Some(dns.hosted_zone_id.clone()),
        Name: dns.domain.clone(),
        Type: "CNAME".into(),
        SetIdentifier: Some(region.name.clone()),
        HealthCheckId: Some(health.reference()),
        TTL: Some(dns.ttl.to_string()),
        ResourceRecords: Some(vec![target]),
        ..RecordSet::default()
    };
    match dns.routing {
        Routing::Latency => record.Region = Some(region.name.clone()),
        Routing::Weighted => record.Weight = Some(region.weight),
        Routing::Failover => {
            record.Failover = Some(
                match region.failover? {
                    FailoverRole::Primary => "PRIMARY",
                    FailoverRole::Secondary => "SECONDARY",
                }
                .into(),
            )
        }
    }
    Some(template.add(id, record))
}
