//! The evaluator against the documented rules, one test per rule.

use super::answer;
use crate::status::{Record, RecordRouting};
use std::collections::BTreeMap;

const NAME: &str = "api.shop.example.com";

fn record(name: &str, region: &str, routing: RecordRouting) -> Record {
    Record {
        name: name.to_owned(),
        record_type: "CNAME".into(),
        set_identifier: region.to_owned(),
        routing,
        values: vec![format!("d-1.execute-api.{region}.amazonaws.com")],
        alias_target: None,
        evaluate_target_health: false,
        health_check_id: Some(format!("hc-{region}")),
        ttl: Some(60),
    }
}

fn latency(region: &str) -> Record {
    record(NAME, region, RecordRouting::Latency { region: region.to_owned() })
}

fn weighted(region: &str, weight: i64) -> Record {
    record(NAME, region, RecordRouting::Weighted { weight })
}

fn failover(name: &str, region: &str, role: &str) -> Record {
    record(name, region, RecordRouting::Failover { role: role.to_owned() })
}

fn alias(name: &str, identifier: &str, target: &str) -> Record {
    Record {
        alias_target: Some(target.to_owned()),
        evaluate_target_health: true,
        health_check_id: None,
        values: Vec::new(),
        ttl: None,
        ..record(name, identifier, RecordRouting::Failover { role: "SECONDARY".into() })
    }
}

fn health(unhealthy: &[&str], all: &[&str]) -> BTreeMap<String, bool> {
    all.iter().map(|r| (format!("hc-{r}"), !unhealthy.contains(r))).collect()
}

fn regions(records: &[Record], healthy: &BTreeMap<String, bool>, client: &str) -> (Vec<String>, bool) {
    let answer = answer(records, healthy, NAME, client);
    (answer.regions, answer.fail_open)
}

const THREE: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];

#[test]
fn latency_answers_the_nearest_healthy_region() {
    let records: Vec<Record> = THREE.iter().map(|r| latency(r)).collect();
    assert_eq!(regions(&records, &health(&[], &THREE), "eu-central-1"), (vec!["eu-west-1".into()], false));
    assert_eq!(regions(&records, &health(&[], &THREE), "ap-southeast-4"), (vec!["ap-southeast-2".into()], false));
    let without_europe = health(&["eu-west-1"], &THREE);
    assert_eq!(regions(&records, &without_europe, "eu-central-1"), (vec!["us-east-1".into()], false));
}

#[test]
fn a_record_without_a_health_check_is_always_healthy() {
    let mut records: Vec<Record> = THREE.iter().map(|r| latency(r)).collect();
    records[1].health_check_id = None;
    let all_down = health(&THREE, &THREE);
    assert_eq!(regions(&records, &all_down, "us-east-2"), (vec!["eu-west-1".into()], false));
}

#[test]
fn when_every_record_is_unhealthy_route53_fails_open_by_the_routing_policy() {
    let records: Vec<Record> = THREE.iter().map(|r| latency(r)).collect();
    let all_down = health(&THREE, &THREE);
    assert_eq!(regions(&records, &all_down, "eu-central-1"), (vec!["eu-west-1".into()], true));
}

#[test]
fn a_health_check_without_a_status_counts_as_unhealthy() {
    let records: Vec<Record> = THREE.iter().map(|r| latency(r)).collect();
    let mut statuses = health(&[], &THREE);
    statuses.remove("hc-eu-west-1");
    assert_eq!(regions(&records, &statuses, "eu-west-2").0, ["us-east-1"]);
}

#[test]
fn weighted_answers_every_healthy_nonzero_record_and_zero_weights_only_when_those_are_down() {
    let records = vec![weighted("us-east-1", 1), weighted("eu-west-1", 1), weighted("ap-southeast-2", 0)];
    assert_eq!(regions(&records, &health(&[], &THREE), "us-east-1").0, ["us-east-1", "eu-west-1"]);
    let one_down = health(&["us-east-1"], &THREE);
    assert_eq!(regions(&records, &one_down, "us-east-1").0, ["eu-west-1"]);
    // "If all the records that have a weight greater than 0 are unhealthy, then Route 53 considers
    // the zero-weighted records."
    let nonzero_down = health(&["us-east-1", "eu-west-1"], &THREE);
    assert_eq!(regions(&records, &nonzero_down, "us-east-1"), (vec!["ap-southeast-2".into()], false));
    // All unhealthy: all considered healthy, so the nonzero records again (the guide's table).
    let all_down = health(&THREE, &THREE);
    assert_eq!(regions(&records, &all_down, "us-east-1"), (vec!["us-east-1".into(), "eu-west-1".into()], true));
}

#[test]
fn weighted_with_every_weight_zero_answers_each_healthy_record_equally() {
    let records = vec![weighted("us-east-1", 0), weighted("eu-west-1", 0), weighted("ap-southeast-2", 0)];
    assert_eq!(regions(&records, &health(&["eu-west-1"], &THREE), "us-east-1").0, ["us-east-1", "ap-southeast-2"]);
}

/// The dns stack's chain over three regions: tier 0 (the shared name) is us-east-1 or an alias to
/// tier 1 (`failover-1.<name>`), which is eu-west-1 or ap-southeast-2.
fn chain() -> Vec<Record> {
    let tier1 = format!("failover-1.{NAME}");
    vec![
        failover(NAME, "us-east-1", "PRIMARY"),
        alias(NAME, "failover-1", &tier1),
        failover(&tier1, "eu-west-1", "PRIMARY"),
        failover(&tier1, "ap-southeast-2", "SECONDARY"),
    ]
}

#[test]
fn the_failover_chain_answers_its_first_healthy_tier() {
    assert_eq!(regions(&chain(), &health(&[], &THREE), "ap-southeast-2"), (vec!["us-east-1".into()], false));
    assert_eq!(regions(&chain(), &health(&["us-east-1"], &THREE), "us-east-1").0, ["eu-west-1"]);
    let two_down = health(&["us-east-1", "eu-west-1"], &THREE);
    assert_eq!(regions(&chain(), &two_down, "us-east-1"), (vec!["ap-southeast-2".into()], false));
}

#[test]
fn an_alias_evaluating_target_health_is_unhealthy_when_its_whole_target_is() {
    // Tier 1 entirely down: the alias is unhealthy, the primary healthy: the primary answers.
    let tier1_down = health(&["eu-west-1", "ap-southeast-2"], &THREE);
    assert_eq!(regions(&chain(), &tier1_down, "us-east-1"), (vec!["us-east-1".into()], false));
    // Everything down: both tier-0 records unhealthy, Route53 fails open to the PRIMARY.
    assert_eq!(regions(&chain(), &health(&THREE, &THREE), "us-east-1"), (vec!["us-east-1".into()], true));
}

#[test]
fn an_alias_without_evaluate_target_health_counts_as_healthy() {
    let mut records = chain();
    records[1].evaluate_target_health = false;
    let tier1_down = health(&["us-east-1", "eu-west-1", "ap-southeast-2"], &THREE);
    // The alias is healthy, the primary not: the alias is followed, and tier 1 fails open.
    assert_eq!(regions(&records, &tier1_down, "us-east-1"), (vec!["eu-west-1".into()], true));
}
