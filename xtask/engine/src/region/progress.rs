//! Where a region change stands, worked out from what is deployed: the data stack's replicas
//! (its layout, as `GetTemplate` returns it) and which regions have a region stack.
//! A step is done when what it leaves behind is deployed, or when a later step is done; `--resume`
//! starts after the last done step, and a run without it starts only from the beginning.

use super::layout::{self, Layout};
use super::plan::{RegionPlan, Step};
use crate::session::Session;
use crate::stack::{self, StackState};
use anyhow::{Result, bail};
use stacks::StackPart;
use std::collections::BTreeSet;

/// What is deployed, as far as a region change goes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deployed {
    /// The data stack's layout (`None`: no data stack).
    pub data: Option<Layout>,
    /// Regions whose region stack is deployed and usable.
    pub region_stacks: BTreeSet<String>,
    /// Regions with a region stack in any state (deployed, failed, being changed).
    pub region_stacks_present: BTreeSet<String>,
}

impl Deployed {
    /// Reads it for every region the plan touches (the configured ones and the changed ones).
    pub async fn read(session: &Session, plan: &RegionPlan) -> Result<Deployed> {
        let config = &plan.before;
        let cfn = session.aws.cloudformation(&config.home);
        let data = match stack::status(&cfn, &plan.data_stack).await? {
            None => None,
            Some(_) => stack::deployed(&cfn, &plan.data_stack).await?.template.map(|t| layout::layout(&t)),
        };
        let mut deployed = Deployed { data, ..Deployed::default() };
        let regions: BTreeSet<&str> = config.region_names().chain(plan.after.region_names()).collect();
        for region in regions {
            let cfn = session.aws.cloudformation(region);
            let name = stacks::app::stack_name(config, StackPart::Region, region);
            let state = StackState::of(stack::status(&cfn, &name).await?.as_ref());
            if matches!(state, StackState::Deployed(_)) {
                deployed.region_stacks.insert(region.to_owned());
            }
            if !matches!(state, StackState::Absent | StackState::InReview) {
                deployed.region_stacks_present.insert(region.to_owned());
            }
        }
        Ok(deployed)
    }
}

/// Whether step `index` alone shows as done.
fn done(plan: &RegionPlan, index: usize, deployed: &Deployed) -> bool {
    match &plan.steps[index] {
        // A bootstrap stack may exist before the change (`cargo xtask bootstrap`), and deploying it
        // or the dns stack again changes nothing once it is current: neither tells how far a run got.
        Step::Bootstrap { .. } | Step::Dns { .. } => false,
        Step::RegionStack { region } => deployed.region_stacks.contains(region),
        Step::Drain { region } | Step::DeleteRegionStack { region } => !deployed.region_stacks_present.contains(region),
        Step::AddReplica { .. } | Step::UnprotectReplicas { .. } | Step::RemoveReplica { .. } => {
            // Done when the data stack is where this step, or a later data step, leaves it.
            let data = deployed.data.as_ref();
            (index..plan.steps.len()).any(|later| plan.steps[later].is_data() && data == Some(&plan.layouts[later]))
        }
    }
}

/// The first step to run. With `resume`, the one after the last done step; without, 0, and only
/// when nothing shows that an earlier run got further. Either way the data stack must be where the
/// plan expects it at that point.
pub fn start(plan: &RegionPlan, deployed: &Deployed, resume: bool) -> Result<usize> {
    let Some(data) = &deployed.data else {
        bail!(
            "{} is not deployed in {}: deploy the app first (`cargo xtask deploy --all`)",
            plan.data_stack,
            plan.before.home
        );
    };
    let last_done = (0..plan.steps.len()).rev().find(|&i| done(plan, i, deployed));
    let start = match last_done {
        Some(last) if resume => last + 1,
        None if resume => 0,
        _ => {
            // Without --resume, a data step or the region stack's deletion already done means an
            // earlier run stopped half-way: going from the top would undo it.
            let stateful =
                |i: &usize| plan.steps[*i].is_data() || matches!(plan.steps[*i], Step::DeleteRegionStack { .. });
            if let (Some(last), true) =
                (last_done, (0..plan.steps.len()).filter(stateful).any(|i| done(plan, i, deployed)))
            {
                bail!(
                    "an earlier run got as far as step {} ({}); continue it with --resume",
                    last + 1,
                    plan.steps[last]
                );
            }
            0
        }
    };
    let expected = if start == 0 { &plan.initial } else { plan.layout_before(start.min(plan.steps.len())) };
    if start < plan.steps.len() && data != expected {
        bail!(
            "{}'s replicas are not where step {} expects them (deployed: {}; expected: {}); check it with `cargo \
             xtask diff --region {}` and bring it back before going on",
            plan.data_stack,
            start + 1,
            describe(data),
            describe(expected),
            plan.before.home
        );
    }
    Ok(start)
}

/// `events: eu-west-1, us-east-1 (unprotected)` per table.
pub fn describe(layout: &Layout) -> String {
    let tables: Vec<String> = layout
        .iter()
        .map(|(table, replicas)| {
            let regions: Vec<String> = replicas
                .iter()
                .map(|r| if r.protected { r.region.clone() } else { format!("{} (unprotected)", r.region) })
                .collect();
            format!("{table}: {}", regions.join(", "))
        })
        .collect();
    tables.join("; ")
}
