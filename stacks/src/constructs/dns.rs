//! Route53: a health check on each region's own API hostname and the records under the shared
//! name, routed by latency, by weight, or down an ordered failover chain. The records of one name
//! are one `RecordSetGroup`, which Route53 applies as a single all-or-nothing change batch.
//!
//! Route53's rules these records follow (Route 53 developer guide, "Values for alias records",
//! "Values specific for failover alias records", "Values for weighted records"):
//! - records of one name and type share one routing policy ("You can't create non-weighted
//!   records that have the same values for Name and Type as weighted records"; the same for
//!   failover);
//! - failover is one PRIMARY and one SECONDARY per name ("you must create one primary and one
//!   secondary failover record"); a longer chain is built by making the SECONDARY an alias to
//!   another record in the same hosted zone, which must have the same type as that record, with
//!   `EvaluateTargetHealth` true (required for failover aliases) and health checks on the
//!   non-alias records it reaches;
//! - weighted records of one name share one TTL ("You must specify the same value for TTL for
//!   all of the records in this group of weighted records").

use crate::cfn::route53::{AliasTarget, GroupRecordSet, HealthCheck, HealthCheckConfig, RecordSetGroup};
use crate::cfn::{Expr, Handle, ResourceOptions, Tag, Template};

/// The path every region serves for deep health checks.
pub const HEALTH_PATH: &str = "/health";

/// The record type under the shared name: a CNAME to each region's custom-domain target, so the
/// TTL resolvers keep an answer is explicit (an alias takes its target's TTL).
const RECORD_TYPE: &str = "CNAME";

/// How a health check probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthCheckProps {
    /// Seconds between checks: 10 or 30 (Route53 cannot change it after creation).
    pub interval_seconds: u32,
    /// Consecutive results before the status changes.
    pub failure_threshold: u32,
}

/// Adds an HTTPS health check of `hostname` + `/health`. It probes a region-specific hostname,
/// never the shared name, so it measures that region alone.
pub fn health_check(
    template: &mut Template,
    id: &str,
    name: String,
    hostname: Expr,
    props: HealthCheckProps,
) -> Handle<HealthCheck> {
    template.add(
        id,
        HealthCheck {
            HealthCheckConfig: HealthCheckConfig {
                Type: "HTTPS".into(),
                FullyQualifiedDomainName: Some(hostname),
                ResourcePath: Some(HEALTH_PATH.into()),
                Port: Some(443),
                RequestInterval: Some(props.interval_seconds),
                FailureThreshold: Some(props.failure_threshold),
                EnableSNI: Some(true),
                Inverted: Some(false),
            },
            HealthCheckTags: Some(vec![Tag { Key: "Name".into(), Value: Expr::Str(name) }]),
        },
    )
}

/// One region's endpoint under the shared name.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The region.
    pub region: String,
    /// The host name the record answers with: the region's custom-domain target.
    pub target: Expr,
    /// The region's health check.
    pub health_check: Handle<HealthCheck>,
    /// Share of weighted routing (0-255); other policies ignore it.
    pub weight: u32,
}

/// How the shared name chooses a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoutingPolicy {
    /// The healthy region with the lowest latency to the client.
    Latency,
    /// Healthy regions in proportion to their weights.
    Weighted,
    /// The first healthy region of the endpoints, in the order given.
    FailoverChain,
}

/// Options of [`shared_name`].
#[derive(Debug, Clone)]
pub struct SharedNameProps<'a> {
    /// The hosted zone holding the name.
    pub zone_id: String,
    /// The shared name, e.g. `api.example.com`.
    pub name: String,
    /// Seconds resolvers keep an answer.
    pub ttl: u32,
    /// The routing policy.
    pub routing: RoutingPolicy,
    /// Every region; for a failover chain, in chain order.
    pub endpoints: &'a [Endpoint],
}

/// Adds the records of the shared name: `<id>` holds the records named `name`; a failover chain
/// adds `<id>Tier<k>` for the names `failover-<k>.<name>` its SECONDARY aliases point down to.
pub fn shared_name(template: &mut Template, id: &str, props: SharedNameProps<'_>) -> Vec<Handle<RecordSetGroup>> {
    let ttl = props.ttl.to_string();
    let region_record = |endpoint: &Endpoint, name: &str| GroupRecordSet {
        Name: name.to_owned(),
        Type: RECORD_TYPE.into(),
        SetIdentifier: Some(endpoint.region.clone()),
        HealthCheckId: Some(endpoint.health_check.reference()),
        TTL: Some(ttl.clone()),
        ResourceRecords: Some(vec![endpoint.target.clone()]),
        ..GroupRecordSet::default()
    };
    let regions: Vec<&str> = props.endpoints.iter().map(|e| e.region.as_str()).collect();
    let group = |records: Vec<GroupRecordSet>, comment: String| RecordSetGroup {
        HostedZoneId: Some(props.zone_id.clone()),
        Comment: Some(comment),
        RecordSets: records,
    };
    match props.routing {
        RoutingPolicy::Latency | RoutingPolicy::Weighted => {
            let latency = props.routing == RoutingPolicy::Latency;
            let records = props
                .endpoints
                .iter()
                .map(|endpoint| GroupRecordSet {
                    Region: latency.then(|| endpoint.region.clone()),
                    Weight: (!latency).then_some(endpoint.weight),
                    ..region_record(endpoint, &props.name)
                })
                .collect();
            let policy = if latency { "latency" } else { "weighted" };
            let comment = format!("{}: {policy} routing over {}", props.name, regions.join(", "));
            vec![template.add(id, group(records, comment))]
        }
        RoutingPolicy::FailoverChain => failover_chain(template, id, &props, &region_record, &group),
    }
}

/// The name of tier `k` of a failover chain under `name`: the shared name itself, then
/// `failover-<k>.<name>` in the same hosted zone.
pub fn tier_name(name: &str, k: usize) -> String {
    if k == 0 { name.to_owned() } else { format!("failover-{k}.{name}") }
}

/// The logical ID of tier `k`'s group.
fn tier_id(id: &str, k: usize) -> String {
    if k == 0 { id.to_owned() } else { format!("{id}Tier{k}") }
}

/// Tier `k` answers with region `k` while it is healthy, else with an alias to tier `k + 1`; the
/// last tier's SECONDARY is the last region. So every region serves as some tier.
fn failover_chain(
    template: &mut Template,
    id: &str,
    props: &SharedNameProps<'_>,
    region_record: &dyn Fn(&Endpoint, &str) -> GroupRecordSet,
    group: &dyn Fn(Vec<GroupRecordSet>, String) -> RecordSetGroup,
) -> Vec<Handle<RecordSetGroup>> {
    let endpoints = props.endpoints;
    let tiers = endpoints.len().saturating_sub(1).max(1);
    let mut handles = Vec::with_capacity(tiers);
    for k in 0..tiers {
        let name = tier_name(&props.name, k);
        let Some(first) = endpoints.get(k) else { break };
        let mut records = vec![GroupRecordSet { Failover: Some("PRIMARY".into()), ..region_record(first, &name) }];
        let mut depends_on = Vec::new();
        match endpoints.get(k + 1) {
            // The last tier: its SECONDARY is the last region.
            Some(last) if k + 2 == endpoints.len() => {
                records.push(GroupRecordSet { Failover: Some("SECONDARY".into()), ..region_record(last, &name) });
            }
            Some(_) => {
                // Route53 checks that an alias target exists, so the next tier is created first.
                depends_on.push(tier_id(id, k + 1));
                records.push(GroupRecordSet {
                    Name: name.clone(),
                    Type: RECORD_TYPE.into(),
                    SetIdentifier: Some(format!("failover-{}", k + 1)),
                    Failover: Some("SECONDARY".into()),
                    AliasTarget: Some(AliasTarget {
                        DNSName: Expr::Str(tier_name(&props.name, k + 1)),
                        HostedZoneId: Expr::Str(props.zone_id.clone()),
                        EvaluateTargetHealth: true,
                    }),
                    ..GroupRecordSet::default()
                });
            }
            // A single region: nothing to fail over to.
            None => {}
        }
        let rest: Vec<&str> = endpoints[k..].iter().map(|e| e.region.as_str()).collect();
        let comment = format!("{name}: failover tier {k} of the chain {}", rest.join(" > "));
        let options = ResourceOptions { depends_on, ..ResourceOptions::default() };
        handles.push(template.add_with(tier_id(id, k), group(records, comment), options));
    }
    handles
}
