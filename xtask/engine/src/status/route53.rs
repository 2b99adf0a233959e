//! The Route53 side of the status: each region's health check (its ID from the dns stack's output
//! `HealthCheck<Region>Id`, its status from `GetHealthCheckStatus` and its configuration from
//! `GetHealthCheck`) and the records under the shared name (`ListResourceRecordSets`).
//!
//! Route53 considers an endpoint healthy when more than 18% of its health checkers report it
//! healthy (Route 53 developer guide, "How Amazon Route 53 determines whether a health check is
//! healthy"); an inverted check is considered unhealthy when that status is healthy and vice
//! versa ("Inverting health checks"); a disabled check is considered healthy ("Values that you
//! specify when you create or update health checks", Disabled).

use crate::session::Session;
use anyhow::{Context, Result};
use aws_sdk_route53::types::{ResourceRecordSet, RrType};
use serde::Serialize;
use stacks::StackPart;
use stacks::app::{health_check_id, stack_name};
use std::collections::BTreeMap;

/// Share of health checkers above which Route53 considers an endpoint healthy.
const HEALTHY_SHARE: f64 = 0.18;

/// A region's health check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthCheck {
    /// The Route53 health check ID.
    pub id: String,
    /// What Route53 makes of it.
    pub verdict: HealthVerdict,
    /// Whether it is inverted (a drill does that).
    pub inverted: bool,
    /// Whether it is disabled (then Route53 considers it healthy).
    pub disabled: bool,
    /// Health checkers reporting success, and reporting at all.
    pub checkers_ok: usize,
    /// Health checkers reporting.
    pub checkers: usize,
}

/// Route53's view of a health check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HealthVerdict {
    /// Routable.
    Healthy,
    /// Taken out of the answers.
    Unhealthy,
    /// No health checker has reported yet.
    Unknown,
}

impl HealthVerdict {
    /// `healthy`, `unhealthy` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthVerdict::Healthy => "healthy",
            HealthVerdict::Unhealthy => "unhealthy",
            HealthVerdict::Unknown => "unknown",
        }
    }

    /// The verdict from the checkers' reports and the check's configuration.
    pub fn of(checkers_ok: usize, checkers: usize, inverted: bool, disabled: bool) -> HealthVerdict {
        if disabled {
            return HealthVerdict::Healthy;
        }
        if checkers == 0 {
            return HealthVerdict::Unknown;
        }
        let endpoint_healthy = checkers_ok as f64 / checkers as f64 > HEALTHY_SHARE;
        if endpoint_healthy != inverted { HealthVerdict::Healthy } else { HealthVerdict::Unhealthy }
    }
}

/// One record under the shared name (or a failover tier's name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    /// The record name, without the trailing dot.
    pub name: String,
    /// `CNAME`, `A`...
    pub record_type: String,
    /// The set identifier (the region, or `failover-<k>` for a chain's alias).
    pub set_identifier: String,
    /// How it is chosen.
    pub routing: RecordRouting,
    /// The values it answers with.
    pub values: Vec<String>,
    /// The alias target's name, for an alias.
    pub alias_target: Option<String>,
    /// Whether an alias evaluates its target's health.
    pub evaluate_target_health: bool,
    /// Its health check.
    pub health_check_id: Option<String>,
    /// Seconds resolvers keep it.
    pub ttl: Option<i64>,
}

/// A record's routing policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "policy")]
pub enum RecordRouting {
    /// Latency-based, in the given AWS region.
    Latency {
        /// The record's region.
        region: String,
    },
    /// Weighted.
    Weighted {
        /// 0-255.
        weight: i64,
    },
    /// One side of a failover pair.
    Failover {
        /// `PRIMARY` or `SECONDARY`.
        role: String,
    },
    /// A simple record.
    Simple,
}

/// The Route53 readings of every region.
#[derive(Debug, Default)]
pub(super) struct DnsReadings {
    /// Whether the dns stack is deployed (so every configured region needs a check and records).
    pub expected: bool,
    /// Health checks by region.
    pub health_checks: BTreeMap<String, HealthCheck>,
    /// Every record of the shared name and its failover tiers.
    pub records: Vec<Record>,
}

/// Reads the health checks of `regions` and the records of the shared name, when `[dns]` is set
/// and its stack deployed.
pub(super) async fn read(session: &Session, regions: &[String], notes: &mut Vec<String>) -> Result<DnsReadings> {
    let Some(dns) = &session.config.dns else { return Ok(DnsReadings::default()) };
    let stack = stack_name(&session.config, StackPart::Dns, &session.config.home);
    let cfn = session.aws.cloudformation(&session.config.home);
    let Some(ids) = health_check_ids(&cfn, &stack).await? else {
        notes.push(format!("{stack} is not deployed: no health check or record to read"));
        return Ok(DnsReadings::default());
    };
    let route53 = session.aws.route53(crate::route53::ROUTE53_REGION);
    let mut health_checks = BTreeMap::new();
    for region in regions {
        let key = format!("{}Id", health_check_id(region));
        if let Some(id) = ids.get(&key) {
            health_checks.insert(region.clone(), health_check(&route53, id).await?);
        }
    }
    let records = records(&route53, &dns.hosted_zone_id, &dns.domain).await?;
    Ok(DnsReadings { expected: true, health_checks, records })
}

/// The dns stack's `HealthCheck<Region>Id` outputs (against an emulator that shows no outputs
/// after a change set, the health checks' physical IDs), or `None` when it is not deployed.
async fn health_check_ids(
    cfn: &aws_sdk_cloudformation::Client,
    stack: &str,
) -> Result<Option<BTreeMap<String, String>>> {
    let described = match cfn.describe_stacks().stack_name(stack).send().await {
        Ok(described) => described,
        Err(error) if crate::aws::errors::is_not_found(&error) => return Ok(None),
        Err(error) => return Err(error).with_context(|| format!("describing {stack}")),
    };
    let Some(deployed) = described.stacks().first() else { return Ok(None) };
    let mut ids: BTreeMap<String, String> = deployed
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
        .collect();
    if ids.is_empty() {
        let resources = cfn.list_stack_resources().stack_name(stack).send().await;
        let resources = resources.with_context(|| format!("listing the resources of {stack}"))?;
        for resource in resources.stack_resource_summaries() {
            let is_check = resource.resource_type() == Some("AWS::Route53::HealthCheck");
            if let (true, Some(logical), Some(physical)) =
                (is_check, resource.logical_resource_id(), resource.physical_resource_id())
            {
                ids.insert(format!("{logical}Id"), physical.to_owned());
            }
        }
    }
    Ok(Some(ids))
}

/// One health check's status and configuration.
pub async fn health_check(route53: &aws_sdk_route53::Client, id: &str) -> Result<HealthCheck> {
    let status = route53
        .get_health_check_status()
        .health_check_id(id)
        .send()
        .await
        .with_context(|| format!("reading the status of health check {id} (GetHealthCheckStatus)"))?;
    let reports: Vec<&str> =
        status.health_check_observations().iter().filter_map(|o| o.status_report().and_then(|r| r.status())).collect();
    // Each checker's report starts with "Success" or "Failure" (GetHealthCheckStatus, StatusReport).
    let checkers_ok = reports.iter().filter(|r| r.starts_with("Success")).count();
    let described = route53
        .get_health_check()
        .health_check_id(id)
        .send()
        .await
        .with_context(|| format!("reading health check {id} (GetHealthCheck)"))?;
    let config = described.health_check().and_then(|c| c.health_check_config());
    let inverted = config.and_then(|c| c.inverted()).unwrap_or(false);
    let disabled = config.and_then(|c| c.disabled()).unwrap_or(false);
    Ok(HealthCheck {
        id: id.to_owned(),
        verdict: HealthVerdict::of(checkers_ok, reports.len(), inverted, disabled),
        inverted,
        disabled,
        checkers_ok,
        checkers: reports.len(),
    })
}

/// Every record named `domain` or `failover-<k>.<domain>` in the zone.
pub async fn records(route53: &aws_sdk_route53::Client, zone: &str, domain: &str) -> Result<Vec<Record>> {
    let domain = domain.trim_end_matches('.');
    let mut found = Vec::new();
    let mut next: Option<(String, Option<RrType>, Option<String>)> = None;
    // Bounded: a zone of 10,000 records is 34 pages of 300.
    for _ in 0..1_000 {
        let mut request = route53.list_resource_record_sets().hosted_zone_id(zone);
        if let Some((name, kind, identifier)) = next.take() {
            request =
                request.start_record_name(name).set_start_record_type(kind).set_start_record_identifier(identifier);
        }
        let page = request.send().await.with_context(|| format!("listing the records of zone {zone}"))?;
        found.extend(page.resource_record_sets().iter().filter_map(|set| record(set, domain)));
        if !page.is_truncated() {
            return Ok(found);
        }
        next = page.next_record_name().map(|name| {
            (name.to_owned(), page.next_record_type().cloned(), page.next_record_identifier().map(str::to_owned))
        });
    }
    Ok(found)
}

/// `set` as a [`Record`] when it is one of the shared name's.
fn record(set: &ResourceRecordSet, domain: &str) -> Option<Record> {
    let name = set.name().trim_end_matches('.');
    let is_tier = name
        .strip_suffix(domain)
        .and_then(|p| p.strip_prefix("failover-"))
        .is_some_and(|p| p.strip_suffix('.').is_some_and(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_digit())));
    if name != domain && !is_tier {
        return None;
    }
    let routing = if let Some(region) = set.region() {
        RecordRouting::Latency { region: region.as_str().to_owned() }
    } else if let Some(weight) = set.weight() {
        RecordRouting::Weighted { weight }
    } else if let Some(role) = set.failover() {
        RecordRouting::Failover { role: role.as_str().to_owned() }
    } else {
        RecordRouting::Simple
    };
    Some(Record {
        name: name.to_owned(),
        record_type: set.r#type().as_str().to_owned(),
        set_identifier: set.set_identifier().unwrap_or_default().to_owned(),
        routing,
        values: set.resource_records().iter().map(|r| r.value().to_owned()).collect(),
        alias_target: set.alias_target().map(|a| a.dns_name().trim_end_matches('.').to_owned()),
        evaluate_target_health: set.alias_target().is_some_and(|a| a.evaluate_target_health()),
        health_check_id: set.health_check_id().map(str::to_owned),
        ttl: set.ttl(),
    })
}

#[cfg(test)]
mod tests {
    use super::HealthVerdict;

    #[test]
    fn more_than_18_percent_of_checkers_make_an_endpoint_healthy_and_inversion_flips_it() {
        assert_eq!(HealthVerdict::of(2, 8, false, false), HealthVerdict::Healthy, "25% > 18%");
        assert_eq!(HealthVerdict::of(1, 8, false, false), HealthVerdict::Unhealthy, "12.5% <= 18%");
        assert_eq!(HealthVerdict::of(8, 8, true, false), HealthVerdict::Unhealthy, "inverted");
        assert_eq!(HealthVerdict::of(0, 8, true, false), HealthVerdict::Healthy, "inverted failure");
        assert_eq!(HealthVerdict::of(0, 8, false, true), HealthVerdict::Healthy, "disabled");
        assert_eq!(HealthVerdict::of(0, 0, false, false), HealthVerdict::Unknown);
    }
}
