//! The order of a region change and the data stack's template at each step, without AWS; and
//! where `--resume` starts for a given deployed state.

use super::{Direction, RegionPlan, Step};
use crate::region::edit::{NewRegion, add_regions, remove_region};
use crate::region::layout::{Layout, Replica, layout};
use crate::region::progress::{Deployed, start};
use stacks::{AppConfig, StackPart};

const EXAMPLE: &str = include_str!("../../../../regions.toml");

fn new(region: &str) -> NewRegion {
    let arn = format!("arn:aws:acm:{region}:123456789012:certificate/00000000-0000-4000-8000-000000000001");
    NewRegion { name: region.into(), certificate_arn: Some(arn) }
}

fn adding(regions: &[&str]) -> RegionPlan {
    let new: Vec<NewRegion> = regions.iter().map(|r| new(r)).collect();
    let edited = add_regions("regions.toml", EXAMPLE, &new).expect("edit");
    RegionPlan::add(&edited.before, &edited.after).expect("plan")
}

fn removing(region: &str) -> RegionPlan {
    let edited = remove_region("regions.toml", EXAMPLE, region, false).expect("edit");
    RegionPlan::remove(&edited.before, &edited.after).expect("plan")
}

/// Short labels: `bootstrap R`, `+table R`, `region R`, `dns`, `drain R`, `delete R`,
/// `unprotect R`, `-table R`.
fn labels(plan: &RegionPlan) -> Vec<String> {
    plan.steps
        .iter()
        .map(|step| match step {
            Step::Bootstrap { region } => format!("bootstrap {region}"),
            Step::AddReplica { table, region } => format!("+{} {region}", table.name),
            Step::RegionStack { region } => format!("region {region}"),
            Step::Dns { .. } => "dns".into(),
            Step::Drain { region } => format!("drain {region}"),
            Step::DeleteRegionStack { region } => format!("delete {region}"),
            Step::UnprotectReplicas { region } => format!("unprotect {region}"),
            Step::RemoveReplica { table, region } => format!("-{} {region}", table.name),
        })
        .collect()
}

/// `(table, region, protected)` triples that differ between two layouts.
fn difference(a: &Layout, b: &Layout) -> Vec<(String, Replica)> {
    let flat = |l: &Layout| -> Vec<(String, Replica)> {
        l.iter().flat_map(|(t, rs)| rs.iter().map(move |r| (t.clone(), r.clone()))).collect()
    };
    let (a, b) = (flat(a), flat(b));
    let mut out: Vec<_> = a.iter().filter(|x| !b.contains(x)).cloned().collect();
    out.extend(b.iter().filter(|x| !a.contains(x)).cloned());
    out
}

fn synthesized_data(config: &AppConfig) -> String {
    let name = stacks::app::stack_name(config, StackPart::Data, &config.home);
    stacks::synthesize(config).expect("synth").stack(&name).expect("data stack").body.clone()
}

#[test]
fn adding_two_regions_bootstraps_then_adds_one_replica_per_update_then_region_stacks_then_dns() {
    let plan = adding(&["eu-central-1", "sa-east-1"]);
    assert_eq!(plan.direction, Direction::Add);
    let tables = ["orders-events", "orders-idempotency", "orders-views-task-view"];
    let mut expected = vec!["bootstrap eu-central-1".to_owned(), "bootstrap sa-east-1".to_owned()];
    for region in ["eu-central-1", "sa-east-1"] {
        expected.extend(tables.iter().map(|t| format!("+{t} {region}")));
    }
    expected.extend(["region eu-central-1".into(), "region sa-east-1".into(), "dns".into()]);
    assert_eq!(labels(&plan), expected);
}

#[test]
fn every_data_step_changes_exactly_one_replica_and_the_last_is_the_new_configs_template() {
    let plan = adding(&["eu-central-1", "sa-east-1"]);
    let mut previous = plan.initial.clone();
    for (index, step) in plan.steps.iter().enumerate().filter(|(_, s)| s.is_data()) {
        let template: serde_json::Value =
            serde_json::from_str(&plan.data_template(index).expect("template").body).expect("json");
        let now = layout(&template);
        let changed = difference(&previous, &now);
        assert_eq!(changed.len(), 1, "step {step} changes {changed:?}");
        previous = now;
    }
    let last = plan.steps.iter().rposition(Step::is_data).expect("a data step");
    assert_eq!(plan.data_template(last).expect("template").body, synthesized_data(&plan.after));
}

#[test]
fn removing_a_region_goes_dns_drain_delete_unprotect_then_one_replica_per_update() {
    let plan = removing("eu-west-1");
    assert_eq!(
        labels(&plan),
        [
            "dns",
            "drain eu-west-1",
            "delete eu-west-1",
            "unprotect eu-west-1",
            "-orders-events eu-west-1",
            "-orders-idempotency eu-west-1",
            "-orders-views-task-view eu-west-1"
        ]
    );
    let unprotect = plan.steps.iter().position(|s| matches!(s, Step::UnprotectReplicas { .. })).expect("step");
    let changed = difference(&plan.initial, &plan.layouts[unprotect]);
    assert_eq!(changed.len(), 6, "each of the three eu-west-1 replicas, protected then not: {changed:?}");
    assert!(changed.iter().all(|(_, r)| r.region == "eu-west-1"));
    assert!(plan.layouts[unprotect].values().flatten().all(|r| r.protected || r.region == "eu-west-1"));
    let mut previous = plan.layouts[unprotect].clone();
    for index in unprotect + 1..plan.steps.len() {
        let changed = difference(&previous, &plan.layouts[index]);
        assert_eq!(changed.len(), 1, "{}: {changed:?}", plan.steps[index]);
        assert_eq!(changed[0].1.region, "eu-west-1");
        previous = plan.layouts[index].clone();
    }
    let last = plan.steps.len() - 1;
    assert_eq!(plan.data_template(last).expect("template").body, synthesized_data(&plan.after));
}

#[test]
fn plans_print_in_order_with_the_dangerous_step_said() {
    let text = removing("ap-southeast-2").to_string();
    assert!(text.starts_with("plan: remove ap-southeast-2 (7 steps)\n   1. dns stack"), "{text}");
    assert!(text.contains("7. data stack: remove the ap-southeast-2 replica of orders-views-task-view (dangerous"));
}

fn deployed(data: &Layout, region_stacks: &[&str]) -> Deployed {
    let region_stacks: std::collections::BTreeSet<String> = region_stacks.iter().map(|r| (*r).to_owned()).collect();
    Deployed { data: Some(data.clone()), region_stacks_present: region_stacks.clone(), region_stacks }
}

#[test]
fn resume_starts_after_the_last_step_the_deployed_state_shows() {
    let plan = removing("eu-west-1");
    let all = ["us-east-1", "eu-west-1", "ap-southeast-2"];
    let fresh = deployed(&plan.initial, &all);
    assert_eq!(start(&plan, &fresh, false).expect("fresh"), 0);
    assert_eq!(start(&plan, &fresh, true).expect("nothing done"), 0);
    // The region stack is gone and the events replica removed: resume at the idempotency table.
    let events_removed = plan.steps.iter().position(|s| labels_of(s) == "-orders-events").expect("step");
    let halfway = deployed(&plan.layouts[events_removed], &["us-east-1", "ap-southeast-2"]);
    assert_eq!(start(&plan, &halfway, true).expect("resume"), events_removed + 1);
    let refused = start(&plan, &halfway, false).expect_err("a fresh run would undo it");
    assert!(refused.to_string().contains("continue it with --resume"), "{refused}");
    // A data stack somewhere else than the plan expects is named, not overwritten.
    let elsewhere = deployed(&plan.layouts[plan.steps.len() - 1], &["us-east-1", "ap-southeast-2", "eu-west-1"]);
    assert_eq!(start(&plan, &elsewhere, true).expect("all replicas gone"), plan.steps.len());
    let odd = deployed(&Layout::new(), &all);
    assert!(start(&plan, &odd, true).expect_err("unknown layout").to_string().contains("are not where step"));
}

fn labels_of(step: &Step) -> String {
    match step {
        Step::RemoveReplica { table, .. } => format!("-{}", table.name),
        other => other.to_string(),
    }
}

#[test]
fn adding_or_removing_a_region_changes_no_other_regions_stacks_so_the_plan_leaves_them_alone() {
    let plan = adding(&["eu-central-1"]);
    let (before, after) =
        (stacks::synthesize(&plan.before).expect("synth"), stacks::synthesize(&plan.after).expect("synth"));
    for stack in before.stacks.iter().filter(|s| matches!(s.part, StackPart::Bootstrap | StackPart::Region)) {
        let same = after.stack(&stack.name).expect("still synthesized");
        assert_eq!(stack.body, same.body, "{} would need an update the plan does not make", stack.name);
    }
}

#[test]
fn an_addition_resumes_after_its_last_replica_and_a_failed_region_stack_is_deployed_again() {
    let plan = adding(&["eu-central-1"]);
    let configured = ["us-east-1", "eu-west-1", "ap-southeast-2"];
    assert_eq!(start(&plan, &deployed(&plan.initial, &configured), true).expect("start"), 0, "bootstraps re-run");
    let label = |s: &Step| matches!(s, Step::AddReplica { table, .. } if table.name == "orders-idempotency");
    let second = plan.steps.iter().position(label).expect("step");
    assert_eq!(start(&plan, &deployed(&plan.layouts[second], &configured), true).expect("resume"), second + 1);
    let region = plan.steps.iter().position(|s| matches!(s, Step::RegionStack { .. })).expect("step");
    let replicas = &plan.layouts[region];
    let with_region = deployed(replicas, &["us-east-1", "eu-west-1", "ap-southeast-2", "eu-central-1"]);
    assert_eq!(start(&plan, &with_region, true).expect("resume"), region + 1, "only the dns stack is left");
    let mut failed = deployed(replicas, &configured);
    failed.region_stacks_present.insert("eu-central-1".into());
    assert_eq!(start(&plan, &failed, true).expect("resume"), region, "a failed creation is not done");
}
