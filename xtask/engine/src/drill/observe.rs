//! What the shared name answers, observed or evaluated. On AWS, Route53's `TestDNSAnswer` says
//! what its name servers answer (Route 53 API reference, "TestDNSAnswer"), mapped back to regions
//! through the records' values. Where Route53 cannot be asked (the emulator has no
//! `TestDNSAnswer`), the kit's evaluator computes the answer from the deployed records and the
//! health checks' statuses, for a resolver near each configured region, and the report says it
//! was evaluated, not observed.

use crate::route53::ROUTE53_REGION;
use crate::route53::evaluate::answer;
use crate::session::Session;
use crate::status::{HealthVerdict, Record, health_check, records};
use anyhow::{Context, Result};
use aws_sdk_route53::types::RrType;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// How the answers were obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Observation {
    /// Route53's `TestDNSAnswer`.
    Observed,
    /// The kit's evaluator over the deployed records and health statuses.
    Evaluated,
}

/// One look at Route53.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Look {
    /// Each health check's verdict, by region.
    pub health: BTreeMap<String, HealthVerdict>,
    /// Every region answered to some resolver.
    pub answered: BTreeSet<String>,
}

/// Reads the health checks of `checks` (region → ID) and the answers for the shared name.
pub async fn look(session: &Session, checks: &BTreeMap<String, String>, how: Observation) -> Result<Look> {
    let dns = session.config.dns.as_ref().context("drills need [dns] in regions.toml")?;
    let route53 = session.aws.route53(ROUTE53_REGION);
    let mut health = BTreeMap::new();
    let mut statuses = BTreeMap::new();
    for (region, id) in checks {
        let check = health_check(&route53, id).await?;
        statuses.insert(id.clone(), check.verdict == HealthVerdict::Healthy);
        health.insert(region.clone(), check.verdict);
    }
    let deployed = records(&route53, &dns.hosted_zone_id, &dns.domain).await?;
    let answered = match how {
        Observation::Evaluated => session
            .config
            .region_names()
            .flat_map(|client| answer(&deployed, &statuses, &dns.domain, client).regions)
            .collect(),
        Observation::Observed => observed(&route53, &dns.hosted_zone_id, &dns.domain, &deployed).await?,
    };
    Ok(Look { health, answered })
}

/// The regions whose record values `TestDNSAnswer` returns for the shared name.
async fn observed(
    route53: &aws_sdk_route53::Client,
    zone: &str,
    domain: &str,
    deployed: &[Record],
) -> Result<BTreeSet<String>> {
    let tested = route53
        .test_dns_answer()
        .hosted_zone_id(zone)
        .record_name(domain)
        .record_type(RrType::Cname)
        .send()
        .await
        .with_context(|| format!("asking Route53 what {domain} answers (TestDNSAnswer)"))?;
    let values: BTreeSet<String> =
        tested.record_data().iter().map(|v| v.trim_end_matches('.').to_ascii_lowercase()).collect();
    Ok(deployed
        .iter()
        .filter(|r| r.alias_target.is_none())
        .filter(|r| r.values.iter().any(|v| values.contains(&v.trim_end_matches('.').to_ascii_lowercase())))
        .map(|r| r.set_identifier.clone())
        .collect())
}
