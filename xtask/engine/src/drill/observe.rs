//! What the shared name answers, observed or evaluated. On AWS, Route53's `TestDNSAnswer` says
//! what its name servers answer (Route 53 API reference, "TestDNSAnswer"), mapped back to regions
//! through the records' values. Where Route53 cannot be asked (the emulator has no
//! `TestDNSAnswer`), the kit's evaluator computes the answer from the deployed records and the
//! health checks' statuses, for a resolver near each configured region, and the report says it
//! was evaluated, not observed. Against regions whose APIs answer on this machine (the local
//! runtime), the health is observed instead, by requesting each region's real `/health` as a
//! Route53 checker would ([`super::checker`]), and the evaluator answers from those statuses.

use super::checker::{Checker, RegionApis};
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
    /// Each region's real `/health` requested over HTTP as a Route53 checker would; the kit's
    /// evaluator answers from those observed statuses.
    ObservedHealth,
}

/// Where the health of the regions comes from.
pub enum HealthSource<'a> {
    /// The Route53 health checks' statuses.
    Route53,
    /// `GET /health` on each region's API, through a local checker.
    Http {
        /// The regions' APIs.
        apis: &'a dyn RegionApis,
        /// The checker's statuses so far.
        checker: Checker,
    },
}

impl std::fmt::Debug for HealthSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HealthSource::Route53 => f.write_str("Route53"),
            HealthSource::Http { checker, .. } => write!(f, "Http({:?})", checker.settings()),
        }
    }
}

/// One look at Route53.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Look {
    /// Each health check's verdict, by region.
    pub health: BTreeMap<String, HealthVerdict>,
    /// Every region answered to some resolver.
    pub answered: BTreeSet<String>,
}

/// Reads the health of `checks` (region → health check ID) from `source` and the answers for
/// the shared name.
pub async fn look(
    session: &Session,
    checks: &BTreeMap<String, String>,
    how: Observation,
    source: &mut HealthSource<'_>,
) -> Result<Look> {
    let dns = session.config.dns.as_ref().context("drills need [dns] in regions.toml")?;
    let route53 = session.aws.route53(ROUTE53_REGION);
    let mut health = BTreeMap::new();
    match source {
        HealthSource::Route53 => {
            for (region, id) in checks {
                health.insert(region.clone(), health_check(&route53, id).await?.verdict);
            }
        }
        HealthSource::Http { apis, checker } => {
            let regions: Vec<String> = checks.keys().cloned().collect();
            health = checker.round(*apis, &regions).await;
        }
    }
    let statuses: BTreeMap<String, bool> =
        checks.iter().map(|(region, id)| (id.clone(), health.get(region) == Some(&HealthVerdict::Healthy))).collect();
    let deployed = records(&route53, &dns.hosted_zone_id, &dns.domain).await?;
    let answered = match how {
        Observation::Evaluated | Observation::ObservedHealth => session
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
