//! Which regions Route53 answers the shared name with, computed from the deployed records and
//! the health checks' statuses: where Route53's answers cannot be observed (the emulator reports
//! every check healthy and has no `TestDNSAnswer`), and to state what a drill should see.
//!
//! The rules, from the Route 53 developer guide, "How Amazon Route 53 chooses records when health
//! checking is configured":
//! - a record without a health check is always healthy; a non-alias record with one is as healthy
//!   as its check;
//! - an alias with `EvaluateTargetHealth` inherits the health of the records it points to (Route 53
//!   API reference, `AliasTarget`: "an alias resource record set inherits the health of the
//!   referenced ... resource record set in the hosted zone"): healthy while one of them is;
//! - "If no record is healthy, all records are healthy": when every record of a name is unhealthy,
//!   Route53 answers as if all were healthy (fails open), by the routing policy;
//! - weighted records: "Route 53 initially considers only the nonzero weighted records, if any. If
//!   all the records that have a weight greater than 0 are unhealthy, then Route 53 considers the
//!   zero-weighted records"; with every weight 0, each record is equally likely ("Weighted routing");
//! - failover: the PRIMARY while it is healthy, else the SECONDARY ("Active-passive failover"); both
//!   unhealthy fails open to the PRIMARY;
//! - latency: the healthy record of the region with the lowest latency to the resolver, here
//!   approximated by distance ([`super::nearest`]).

use super::nearest::distance_km;
use crate::status::{Record, RecordRouting};
use serde::Serialize;
use std::collections::BTreeMap;

/// Aliases followed before the evaluator gives up (a failover chain over every commercial region
/// is shorter).
const MAX_ALIAS_DEPTH: usize = 40;

/// What a resolver is answered with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    /// The regions (set identifiers of the records answered): one for latency and failover,
    /// every candidate for weighted routing (each answered in proportion to its weight).
    pub regions: Vec<String>,
    /// Whether some name on the way had no healthy record and Route53 failed open.
    pub fail_open: bool,
}

/// Evaluates `name` for a resolver near `client_region`, from `records` (every record of the
/// shared name and its failover tiers) and `healthy` (health check ID → healthy). A health check
/// without a status counts as unhealthy: the evaluator never claims an answer on unknown health.
pub fn answer(records: &[Record], healthy: &BTreeMap<String, bool>, name: &str, client_region: &str) -> Answer {
    let zone = Zone { records, healthy, client_region };
    let mut fail_open = false;
    let regions = zone.resolve(name, 0, &mut fail_open).into_iter().map(|r| r.set_identifier.clone()).collect();
    Answer { regions, fail_open }
}

struct Zone<'a> {
    records: &'a [Record],
    healthy: &'a BTreeMap<String, bool>,
    client_region: &'a str,
}

impl<'a> Zone<'a> {
    fn named(&self, name: &str) -> Vec<&'a Record> {
        let name = name.trim_end_matches('.');
        self.records.iter().filter(|r| r.name == name).collect()
    }

    /// Whether `record` is healthy, following aliases that evaluate their target's health.
    fn is_healthy(&self, record: &Record, depth: usize) -> bool {
        match (&record.alias_target, &record.health_check_id) {
            (Some(target), _) if record.evaluate_target_health => {
                depth < MAX_ALIAS_DEPTH && self.named(target).iter().any(|r| self.is_healthy(r, depth + 1))
            }
            (_, Some(id)) => self.healthy.get(id).copied().unwrap_or(false),
            (_, None) => true,
        }
    }

    /// The non-alias records answered for `name`.
    fn resolve(&self, name: &str, depth: usize, fail_open: &mut bool) -> Vec<&'a Record> {
        let group = self.named(name);
        if group.is_empty() || depth > MAX_ALIAS_DEPTH {
            return Vec::new();
        }
        let healthy: Vec<&Record> = group.iter().copied().filter(|r| self.is_healthy(r, depth)).collect();
        let candidates = if healthy.is_empty() {
            *fail_open = true;
            group
        } else {
            healthy
        };
        let chosen = self.choose(&candidates);
        chosen
            .into_iter()
            .flat_map(|record| match &record.alias_target {
                Some(target) => self.resolve(target, depth + 1, fail_open),
                None => vec![record],
            })
            .collect()
    }

    /// The records the routing policy picks among `candidates` (all of one name and policy).
    fn choose(&self, candidates: &[&'a Record]) -> Vec<&'a Record> {
        let Some(first) = candidates.first() else { return Vec::new() };
        match &first.routing {
            RecordRouting::Latency { .. } => {
                let distance = |r: &Record| match &r.routing {
                    RecordRouting::Latency { region } => distance_km(self.client_region, region).unwrap_or(f64::MAX),
                    _ => f64::MAX,
                };
                let nearest = candidates.iter().copied().min_by(|a, b| distance(a).total_cmp(&distance(b)));
                nearest.into_iter().collect()
            }
            RecordRouting::Weighted { .. } => {
                let weight = |r: &Record| if let RecordRouting::Weighted { weight } = r.routing { weight } else { 0 };
                let nonzero: Vec<&Record> = candidates.iter().copied().filter(|r| weight(r) > 0).collect();
                if nonzero.is_empty() { candidates.to_vec() } else { nonzero }
            }
            RecordRouting::Failover { .. } => {
                let role = |wanted: &str| {
                    candidates
                        .iter()
                        .copied()
                        .find(|r| matches!(&r.routing, RecordRouting::Failover { role } if role == wanted))
                };
                role("PRIMARY").or_else(|| role("SECONDARY")).into_iter().collect()
            }
            RecordRouting::Simple => candidates.to_vec(),
        }
    }
}

#[cfg(test)]
#[path = "evaluate_tests.rs"]
mod tests;
