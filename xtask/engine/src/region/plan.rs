//! The ordered plan of a region change, pure (no AWS call): the steps, the data stack's template
//! after each of its steps, and which steps the deployed state shows as done (`--resume`).
//!
//! Adding regions: each new region's bootstrap stack; then, one update each, the data stack with
//! one more replica (one table of one new region per update, waited for until `ACTIVE`); then each
//! new region's stack; the dns stack last, so a region takes traffic only once it can serve.
//! Removing a region: the dns stack first (the region out of the answers), the wait for the
//! record's TTL and the region's consumers to drain, its region stack deleted, deletion protection
//! off on its replicas (one update), then its replicas removed one table per update.

use super::layout::{self, GlobalTableRef, Keep, Layout};
use anyhow::{Context, Result, bail};
use stacks::{AppConfig, Assembly, Stack, StackPart};
use std::fmt;

/// Adding or removing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `region add`.
    Add,
    /// `region remove`.
    Remove,
}

/// One step of a region change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Deploy the region's bootstrap stack (its assets bucket).
    Bootstrap {
        /// The region.
        region: String,
    },
    /// Update the data stack so that `table` has a replica in `region`, then wait for it to be ACTIVE.
    AddReplica {
        /// The table.
        table: GlobalTableRef,
        /// The new replica's region.
        region: String,
    },
    /// Deploy the region's stack.
    RegionStack {
        /// The region.
        region: String,
    },
    /// Update the dns stack to the new set of regions.
    Dns {
        /// The regions that join the answers, or the one that leaves them.
        regions: String,
        /// Joining (an addition) rather than leaving.
        joins: bool,
    },
    /// Wait for resolvers to forget the region's record and for its consumers to drain.
    Drain {
        /// The region.
        region: String,
    },
    /// Delete the region's stack.
    DeleteRegionStack {
        /// The region.
        region: String,
    },
    /// Update the data stack to turn deletion protection off on every replica in the region.
    UnprotectReplicas {
        /// The region.
        region: String,
    },
    /// Update the data stack to remove `table`'s replica in `region` (its copy is deleted).
    RemoveReplica {
        /// The table.
        table: GlobalTableRef,
        /// The region.
        region: String,
    },
}

impl Step {
    /// Whether the step updates the data stack.
    pub fn is_data(&self) -> bool {
        matches!(self, Step::AddReplica { .. } | Step::UnprotectReplicas { .. } | Step::RemoveReplica { .. })
    }
}

/// A region change, ordered and checked, with the configs before and after.
#[derive(Debug, Clone)]
pub struct RegionPlan {
    /// Adding or removing.
    pub direction: Direction,
    /// The regions added, or the one removed.
    pub regions: Vec<String>,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The config as it is.
    pub before: AppConfig,
    /// The config once the change is complete.
    pub after: AppConfig,
    /// The data stack's name.
    pub data_stack: String,
    /// The data stack's layout before the first step.
    pub initial: Layout,
    /// The data stack's layout after each step (the one before, for steps that leave it alone).
    pub layouts: Vec<Layout>,
}

/// The synthesized stacks of `config`.
fn synthesize(config: &AppConfig) -> Result<Assembly> {
    stacks::synthesize(config).context("synthesizing the stacks")
}

fn data_stack(config: &AppConfig) -> Result<Stack> {
    let name = stacks::app::stack_name(config, StackPart::Data, &config.home);
    synthesize(config)?.stacks.into_iter().find(|s| s.name == name).with_context(|| format!("no {name} synthesized"))
}

fn has_dns(config: &AppConfig) -> Result<bool> {
    let name = stacks::app::stack_name(config, StackPart::Dns, &config.home);
    Ok(synthesize(config)?.stack(&name).is_some())
}

impl RegionPlan {
    /// The plan that takes the app from `before` to `after`, which adds regions.
    pub fn add(before: &AppConfig, after: &AppConfig) -> Result<RegionPlan> {
        let added: Vec<String> =
            after.region_names().filter(|r| !before.region_names().any(|b| b == *r)).map(str::to_owned).collect();
        if added.is_empty() || after.regions.len() != before.regions.len() + added.len() || after.home != before.home {
            bail!("the new config must keep every region and the home region, and add at least one region");
        }
        let tables = layout::global_tables(&serde_json::from_str(&data_stack(after)?.body)?);
        let mut steps: Vec<Step> = added.iter().map(|r| Step::Bootstrap { region: r.clone() }).collect();
        for region in &added {
            steps.extend(tables.iter().map(|t| Step::AddReplica { table: t.clone(), region: region.clone() }));
        }
        steps.extend(added.iter().map(|r| Step::RegionStack { region: r.clone() }));
        if has_dns(after)? {
            steps.push(Step::Dns { regions: added.join(", "), joins: true });
        }
        RegionPlan::with_layouts(Direction::Add, added, steps, before, after)
    }

    /// The plan that takes the app from `before` to `after`, which removes one region.
    pub fn remove(before: &AppConfig, after: &AppConfig) -> Result<RegionPlan> {
        let removed: Vec<String> =
            before.region_names().filter(|r| !after.region_names().any(|a| a == *r)).map(str::to_owned).collect();
        let [region] = removed.as_slice() else {
            bail!("the new config must remove exactly one region and keep the others");
        };
        if after.regions.len() + 1 != before.regions.len() || after.home != before.home {
            bail!("the new config must remove exactly one region and keep the home region");
        }
        let tables = layout::global_tables(&serde_json::from_str(&data_stack(before)?.body)?);
        let mut steps = Vec::new();
        if has_dns(before)? {
            steps.push(Step::Dns { regions: region.clone(), joins: false });
        }
        steps.push(Step::Drain { region: region.clone() });
        steps.push(Step::DeleteRegionStack { region: region.clone() });
        steps.push(Step::UnprotectReplicas { region: region.clone() });
        steps.extend(tables.into_iter().map(|table| Step::RemoveReplica { table, region: region.clone() }));
        RegionPlan::with_layouts(Direction::Remove, removed, steps, before, after)
    }

    fn with_layouts(
        direction: Direction,
        regions: Vec<String>,
        steps: Vec<Step>,
        before: &AppConfig,
        after: &AppConfig,
    ) -> Result<RegionPlan> {
        let initial = layout::layout(&serde_json::from_str(&data_stack(before)?.body)?);
        let data_stack = stacks::app::stack_name(before, StackPart::Data, &before.home);
        let mut plan = RegionPlan {
            direction,
            regions,
            steps,
            before: before.clone(),
            after: after.clone(),
            data_stack,
            initial: initial.clone(),
            layouts: Vec::new(),
        };
        let mut current = initial;
        for index in 0..plan.steps.len() {
            if plan.steps[index].is_data() {
                current = layout::layout(&serde_json::from_str(&plan.data_template(index)?.body)?);
            }
            plan.layouts.push(current.clone());
        }
        Ok(plan)
    }

    /// The config whose stacks step `index` deploys: the new one, except that a removal keeps the
    /// old one (with the region) until its last replica is gone.
    pub fn config_for(&self, index: usize) -> &AppConfig {
        match (self.direction, &self.steps[index]) {
            (Direction::Remove, Step::RemoveReplica { .. }) if index + 1 == self.steps.len() => &self.after,
            (Direction::Remove, Step::Dns { .. }) => &self.after,
            (Direction::Remove, _) => &self.before,
            (Direction::Add, _) => &self.after,
        }
    }

    /// The data stack as data step `index` deploys it.
    pub fn data_template(&self, index: usize) -> Result<Stack> {
        let mut stack = data_stack(self.config_for(index))?;
        let keep = self.keep(index);
        layout::reshape(&mut stack, keep);
        Ok(stack)
    }

    /// What each (table, region) replica is in data step `index`'s template.
    fn keep(&self, index: usize) -> impl Fn(&str, &str) -> Keep + '_ {
        let done = move |table: &str, region: &str| {
            // A replica step is done at `index` when it comes at or before it.
            self.steps[..=index].iter().any(|step| match step {
                Step::AddReplica { table: t, region: r } | Step::RemoveReplica { table: t, region: r } => {
                    t.id == table && r == region
                }
                _ => false,
            })
        };
        move |table: &str, region: &str| {
            if !self.regions.iter().any(|r| r == region) {
                return Keep::AsIs;
            }
            let done = done(table, region);
            match self.direction {
                Direction::Add if done => Keep::AsIs,
                Direction::Add => Keep::Dropped,
                Direction::Remove if done => Keep::Dropped,
                Direction::Remove => {
                    let unprotected = self.steps[..=index].iter().any(|s| matches!(s, Step::UnprotectReplicas { .. }));
                    if unprotected { Keep::Unprotected } else { Keep::AsIs }
                }
            }
        }
    }

    /// The data stack's layout expected before step `index` runs.
    pub fn layout_before(&self, index: usize) -> &Layout {
        if index == 0 { &self.initial } else { &self.layouts[index - 1] }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Bootstrap { region } => write!(f, "bootstrap {region}: its assets bucket (bootstrap stack)"),
            Step::AddReplica { table, region } => {
                write!(
                    f,
                    "data stack: add the {region} replica of {} (one replica per update), wait until ACTIVE",
                    table.name
                )
            }
            Step::RegionStack { region } => write!(f, "deploy {region}'s region stack"),
            Step::Dns { regions, joins: true } => {
                write!(f, "dns stack: {regions} joins the answers (health check and records), now that it can serve")
            }
            Step::Dns { regions, joins: false } => {
                write!(f, "dns stack: {regions} leaves the answers (its health check and records removed)")
            }
            Step::Drain { region } => write!(
                f,
                "wait for the record's TTL and for {region}'s publisher and projectors to drain (iterator age 0)"
            ),
            Step::DeleteRegionStack { region } => write!(f, "delete {region}'s region stack"),
            Step::UnprotectReplicas { region } => {
                write!(f, "data stack: deletion protection off on every {region} replica (its own reviewed update)")
            }
            Step::RemoveReplica { table, region } => write!(
                f,
                "data stack: remove the {region} replica of {} (dangerous: that region's copy is deleted)",
                table.name
            ),
        }
    }
}

impl fmt::Display for RegionPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = match self.direction {
            Direction::Add => "add",
            Direction::Remove => "remove",
        };
        writeln!(f, "plan: {verb} {} ({} steps)", self.regions.join(", "), self.steps.len())?;
        for (i, step) in self.steps.iter().enumerate() {
            writeln!(f, "  {:>2}. {step}", i + 1)?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
