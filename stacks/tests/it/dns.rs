//! The `dns` stack: every health check and record in one home-region stack, after the region
//! stacks, following Route53's rules for records that share a name.

use crate::support::{EXAMPLE, TWELVE, assembly, config, json, resources_of};
use serde_json::{Value, json};
use stacks::StackPart;
use std::collections::{BTreeMap, BTreeSet};

/// Every record of every `RecordSetGroup` in a template, with its group's hosted zone and
/// logical ID.
fn records(template: &Value) -> Vec<(String, &str, &Value)> {
    resources_of(template, "AWS::Route53::RecordSetGroup")
        .into_iter()
        .flat_map(|(id, group)| {
            let zone = group["HostedZoneId"].as_str().unwrap_or_default().to_owned();
            group["RecordSets"].as_array().into_iter().flatten().map(move |record| (zone.clone(), id, record))
        })
        .collect()
}

fn routing_policy(record: &Value) -> &'static str {
    if record.get("Failover").is_some() {
        "failover"
    } else if record.get("Weight").is_some() {
        "weighted"
    } else if record.get("Region").is_some() {
        "latency"
    } else {
        "simple"
    }
}

/// What a dns stack does against Route53's documented rules for records that share a name
/// (Route 53 developer guide, "Values for alias records", "Values specific for failover alias
/// records", "Values for weighted records"); empty when it follows them all.
pub fn route53_violations(template: &Value) -> Vec<String> {
    let mut violations = Vec::new();
    let all = records(template);
    let mut by_name: BTreeMap<(&str, &str), Vec<&Value>> = BTreeMap::new();
    for (_, _, record) in &all {
        by_name.entry((record["Name"].as_str().unwrap(), record["Type"].as_str().unwrap())).or_default().push(record);
    }
    for ((name, kind), group) in &by_name {
        let policies: BTreeSet<&str> = group.iter().map(|r| routing_policy(r)).collect();
        if policies.len() > 1 {
            violations.push(format!("{name} {kind}: mixed routing policies {policies:?}"));
        }
        let ids: BTreeSet<&str> = group.iter().filter_map(|r| r["SetIdentifier"].as_str()).collect();
        if ids.len() != group.len() {
            violations.push(format!("{name} {kind}: SetIdentifiers are not unique"));
        }
        for role in ["PRIMARY", "SECONDARY"] {
            if group.iter().filter(|r| r["Failover"] == role).count() > 1 {
                violations.push(format!("{name} {kind}: more than one {role}"));
            }
        }
        if policies.contains("weighted") {
            let ttls: BTreeSet<String> = group.iter().map(|r| r["TTL"].to_string()).collect();
            if ttls.len() > 1 {
                violations.push(format!("{name} {kind}: weighted records with TTLs {ttls:?}"));
            }
        }
    }
    for (zone, id, record) in &all {
        let name = record["Name"].as_str().unwrap();
        match record.get("AliasTarget") {
            Some(alias) => {
                let target = alias["DNSName"].as_str().unwrap_or_default();
                if !by_name.contains_key(&(target, record["Type"].as_str().unwrap())) {
                    violations.push(format!("{name}: alias to {target}, which has no record of the same type here"));
                }
                if alias["HostedZoneId"] != zone.as_str() || alias["EvaluateTargetHealth"] != true {
                    violations.push(format!("{name}: alias must stay in zone {zone} and evaluate target health"));
                }
                if record.get("TTL").is_some() {
                    violations.push(format!("{name}: an alias takes its target's TTL"));
                }
                let target_group = all.iter().find(|(_, _, r)| r["Name"] == target).map(|(_, group, _)| *group);
                let depends: Vec<&Value> =
                    template["Resources"][*id]["DependsOn"].as_array().into_iter().flatten().collect();
                if let Some(group) = target_group.filter(|group| group != id) {
                    if !depends.iter().any(|d| *d == group) {
                        violations.push(format!("{id}: aliases into {group} without depending on it"));
                    }
                }
            }
            None => {
                if record.get("HealthCheckId").is_none() || record.get("TTL").is_none() {
                    violations.push(format!("{name} {}: needs a health check and a TTL", record["SetIdentifier"]));
                }
            }
        }
    }
    violations
}

/// The regions whose domain target some non-alias record answers with, each once.
fn served_regions(template: &Value) -> Vec<String> {
    let mut served: Vec<String> = records(template)
        .into_iter()
        .filter_map(|(_, _, r)| r["ResourceRecords"][0]["Ref"].as_str().map(str::to_owned))
        .collect();
    served.sort();
    served
}

fn with_routing(text: &str, routing: &str) -> String {
    text.replace("routing = \"latency\"", &format!("routing = \"{routing}\""))
}

fn dns_template(text: &str) -> Value {
    let assembly = assembly(text);
    let dns: Vec<_> = assembly.stacks.iter().filter(|s| s.part == StackPart::Dns).collect();
    assert_eq!(dns.len(), 1, "one dns stack");
    json(dns[0])
}

/// `(failover, set identifier or alias target)` of the group `id`.
fn tier(template: &Value, id: &str) -> Vec<(String, String)> {
    template["Resources"][id]["Properties"]["RecordSets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let to = r["AliasTarget"]["DNSName"].as_str().or(r["SetIdentifier"].as_str()).unwrap();
            (r["Failover"].as_str().unwrap().to_owned(), to.to_owned())
        })
        .collect()
}

#[test]
fn no_region_stack_declares_a_health_check_or_record() {
    for text in [EXAMPLE, TWELVE] {
        for stack in assembly(text).stacks.iter().filter(|s| s.part != StackPart::Dns) {
            let template = json(stack);
            for (id, resource) in template["Resources"].as_object().unwrap() {
                let kind = resource["Type"].as_str().unwrap();
                assert!(!kind.starts_with("AWS::Route53::"), "{} declares {id} ({kind})", stack.name);
            }
        }
    }
}

#[test]
fn the_dns_stack_is_in_the_home_region_after_every_region_stack() {
    for text in [EXAMPLE, TWELVE] {
        let config = config(text);
        let assembly = assembly(text);
        let last = assembly.stacks.last().unwrap();
        assert_eq!(last.part, StackPart::Dns);
        assert_eq!(last.name, format!("{}-dns-{}", config.app, config.home));
        assert_eq!(last.region, config.home);
        let regions: Vec<String> = config.region_names().map(|r| format!("{}-region-{r}", config.app)).collect();
        assert_eq!(last.dependencies, regions);
        assert!(route53_violations(&json(last)).is_empty(), "{:?}", route53_violations(&json(last)));
    }
    let without_dns = EXAMPLE.split("[dns]").next().unwrap().to_owned()
        + "[functions]"
        + EXAMPLE.split("[functions]").nth(1).unwrap();
    assert!(assembly(&without_dns).stacks.iter().all(|s| s.part != StackPart::Dns), "no [dns], no dns stack");
}

#[test]
fn health_checks_probe_each_regions_own_api_hostname() {
    let config = config(TWELVE);
    let template = dns_template(TWELVE);
    for region in config.region_names() {
        let pascal = stacks::constructs::pascal_case(region);
        let check = &template["Resources"][format!("HealthCheck{pascal}")]["Properties"]["HealthCheckConfig"];
        assert_eq!(check["FullyQualifiedDomainName"], json!({"Ref": format!("{pascal}ApiHostname")}));
        assert_eq!(check["ResourcePath"], "/health");
        assert_eq!(check["Type"], "HTTPS");
        assert_eq!(check["RequestInterval"], 30);
        assert_eq!(check["FailureThreshold"], 2);
        let pattern = template["Parameters"][format!("{pascal}ApiHostname")]["AllowedPattern"].as_str().unwrap();
        assert!(pattern.contains(&format!("execute-api\\.{region}\\.")), "{pattern}");
    }
}

#[test]
fn weighted_records_are_one_batch_with_one_ttl_and_each_regions_weight() {
    let config = config(TWELVE);
    let template = dns_template(TWELVE);
    let groups = resources_of(&template, "AWS::Route53::RecordSetGroup");
    assert_eq!(groups.len(), 1, "one name, one change batch");
    let records = groups[0].1["RecordSets"].as_array().unwrap();
    assert_eq!(records.len(), config.regions.len());
    for (record, region) in records.iter().zip(&config.regions) {
        assert_eq!(record["Name"], "api.ledger.example.com");
        assert_eq!(record["SetIdentifier"], region.name.as_str());
        assert_eq!(record["Weight"], region.weight);
        assert_eq!(record["TTL"], "30");
    }
    assert_eq!(served_regions(&template).len(), config.regions.len());
}

#[test]
fn a_failover_chain_serves_every_region_in_file_order() {
    let template = dns_template(&with_routing(EXAMPLE, "failover"));
    assert_eq!(
        tier(&template, "ApiRecords"),
        [("PRIMARY".into(), "us-east-1".into()), ("SECONDARY".into(), "failover-1.api.orders.example.com".into())]
    );
    assert_eq!(
        tier(&template, "ApiRecordsTier1"),
        [("PRIMARY".into(), "eu-west-1".into()), ("SECONDARY".into(), "ap-southeast-2".into())]
    );
    assert_eq!(template["Resources"]["ApiRecords"]["DependsOn"], json!(["ApiRecordsTier1"]));
    let served = served_regions(&template);
    assert_eq!(served, ["ApSoutheast2DomainTarget", "EuWest1DomainTarget", "UsEast1DomainTarget"]);
    assert!(route53_violations(&template).is_empty(), "{:?}", route53_violations(&template));
}

#[test]
fn failover_roles_and_priorities_order_the_chain() {
    let roles = with_routing(EXAMPLE, "failover")
        .replacen("name = \"ap-southeast-2\"\n", "name = \"ap-southeast-2\"\nfailover = \"primary\"\n", 1)
        .replacen("name = \"us-east-1\"\n", "name = \"us-east-1\"\nfailover = \"secondary\"\n", 1);
    let template = dns_template(&roles);
    assert_eq!(tier(&template, "ApiRecords")[0], ("PRIMARY".into(), "ap-southeast-2".into()));
    assert_eq!(
        tier(&template, "ApiRecordsTier1"),
        [("PRIMARY".into(), "us-east-1".into()), ("SECONDARY".into(), "eu-west-1".into())]
    );
    let priorities = with_routing(EXAMPLE, "failover")
        .replacen("name = \"eu-west-1\"\n", "name = \"eu-west-1\"\npriority = 1\n", 1)
        .replacen("name = \"ap-southeast-2\"\n", "name = \"ap-southeast-2\"\npriority = 7\n", 1);
    let template = dns_template(&priorities);
    assert_eq!(tier(&template, "ApiRecords")[0], ("PRIMARY".into(), "eu-west-1".into()));
    assert_eq!(
        tier(&template, "ApiRecordsTier1"),
        [("PRIMARY".into(), "ap-southeast-2".into()), ("SECONDARY".into(), "us-east-1".into())]
    );
}

#[test]
fn two_regions_fail_over_with_one_primary_secondary_pair() {
    let two = with_routing(EXAMPLE, "failover").replace(
        "[[region]]\nname = \"ap-southeast-2\"\ncertificate_arn = \"arn:aws:acm:ap-southeast-2:123456789012:certificate/3e4f5a6b-3333-4d2e-9c8b-7a6f5e4d3c2b\"\n",
        "",
    );
    let template = dns_template(&two);
    assert_eq!(resources_of(&template, "AWS::Route53::RecordSetGroup").len(), 1);
    assert_eq!(
        tier(&template, "ApiRecords"),
        [("PRIMARY".into(), "us-east-1".into()), ("SECONDARY".into(), "eu-west-1".into())]
    );
}

#[test]
fn latency_records_name_their_region() {
    let template = dns_template(EXAMPLE);
    for (_, _, record) in records(&template) {
        assert_eq!(record["Region"], record["SetIdentifier"]);
        assert_eq!(record["TTL"], "60");
    }
    assert_eq!(served_regions(&template).len(), 3);
}
