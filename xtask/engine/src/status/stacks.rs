//! The app's stacks in each region: listed (`ListStacks`) in every configured region and every
//! region enabled for the account, matched to what the current config synthesizes, and each deployed template
//! compared with the synthesized one (`GetTemplate`, stage `Original`).

use crate::session::Session;
use anyhow::{Context, Result};
use aws_sdk_cloudformation::types::StackStatus as CfnStatus;
use serde::Serialize;
use serde_json::Value;
use stacks::StackPart;
use std::collections::{BTreeMap, BTreeSet};

/// One stack of a region.
#[derive(Debug, Clone, Serialize)]
pub struct StackStatus {
    /// `<app>-<part>-<region>`.
    pub name: String,
    /// `bootstrap`, `data`, `region` or `dns`.
    pub part: &'static str,
    /// Whether the current config synthesizes it.
    pub expected: bool,
    /// Its CloudFormation status; `None`: not deployed.
    pub state: Option<String>,
    /// The deployed template against the synthesized one.
    pub drift: Drift,
}

/// How a deployed template compares with the current synth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Drift {
    /// Identical (as JSON values).
    InSync,
    /// Different: the resources (logical IDs) and other sections that differ.
    Differs {
        /// Logical IDs, then `Outputs`, `Parameters`... for the other sections.
        differences: Vec<String>,
    },
    /// Not compared: the stack is not deployed, or not synthesized by the current config.
    NotCompared,
}

impl StackStatus {
    /// What is wrong with the stack, if anything.
    pub fn finding(&self) -> Option<String> {
        let name = &self.name;
        match (&self.state, self.expected) {
            (None, true) => Some(format!("{name} is not deployed: `cargo xtask deploy`")),
            (None, false) => None,
            (Some(_), false) => Some(format!(
                "{name} exists but the current config does not synthesize it: restore the config, or delete it \
                 (`cargo xtask destroy`)"
            )),
            (Some(state), true) if !is_settled(state) => {
                Some(format!("{name} is {state}: see its events, then `cargo xtask deploy`"))
            }
            (Some(_), true) => match &self.drift {
                Drift::Differs { differences } => Some(format!(
                    "{name} differs from the current synth in {}: review with `cargo xtask diff`, then deploy",
                    differences.join(", ")
                )),
                Drift::InSync | Drift::NotCompared => None,
            },
        }
    }
}

/// Statuses of a stack whose last operation succeeded.
fn is_settled(state: &str) -> bool {
    [CfnStatus::CreateComplete, CfnStatus::UpdateComplete, CfnStatus::ImportComplete]
        .iter()
        .any(|s| s.as_str() == state)
}

/// Whether the stack of `part` is deployed.
pub(super) fn is_deployed(stacks: &[StackStatus], part: StackPart) -> bool {
    stacks.iter().any(|s| s.part == part.as_str() && s.state.is_some())
}

/// The app's stacks by region: `(name, status)` in every configured region and every region the
/// account has enabled ([`super::regions`]); notes on what could not be read, and the regions
/// the endpoint does not serve.
pub(super) async fn list_everywhere(
    session: &Session,
    notes: &mut Vec<String>,
) -> (BTreeMap<String, Vec<(String, String)>>, Vec<String>) {
    let configured: Vec<String> = session.config.region_names().map(str::to_owned).collect();
    let (regions, source) = super::regions::to_look_in(&session.aws, &configured).await;
    let listings = regions.into_iter().map(|region| async move {
        let listed = list(session, &region).await;
        (region, listed)
    });
    let listings = futures::future::join_all(listings).await;
    let (found, read_notes, not_served) =
        super::regions::sort_out(listings, &configured, &source, session.aws.is_emulated());
    notes.extend(read_notes);
    (found, not_served)
}

/// The app's stacks (named `<app>-<part>-<region>`) in `region` that are not deleted.
async fn list(session: &Session, region: &str) -> Result<Vec<(String, String)>> {
    let names: BTreeMap<String, ()> = [StackPart::Bootstrap, StackPart::Data, StackPart::Region, StackPart::Dns]
        .into_iter()
        .map(|part| (stacks::app::stack_name(&session.config, part, region), ()))
        .collect();
    let cfn = session.aws.cloudformation(region);
    let mut pages = cfn.list_stacks().into_paginator().send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.with_context(|| format!("listing the stacks in {region} (ListStacks)"))?;
        for summary in page.stack_summaries() {
            let (Some(name), Some(status)) = (summary.stack_name(), summary.stack_status()) else { continue };
            if names.contains_key(name) && *status != CfnStatus::DeleteComplete {
                found.push((name.to_owned(), status.as_str().to_owned()));
            }
        }
    }
    Ok(found)
}

/// Every synthesized stack of `region` (deployed or not) and every other listed one.
pub(super) async fn region_stacks(
    session: &Session,
    region: &str,
    listed: &[(String, String)],
) -> Result<Vec<StackStatus>> {
    let cfn = session.aws.cloudformation(region);
    let mut statuses = Vec::new();
    for stack in session.assembly.stacks.iter().filter(|s| s.region == region) {
        let state = listed.iter().find(|(name, _)| *name == stack.name).map(|(_, status)| status.clone());
        let drift = match &state {
            Some(_) => drift(&cfn, &stack.name, &stack.body).await?,
            None => Drift::NotCompared,
        };
        statuses.push(StackStatus {
            name: stack.name.clone(),
            part: stack.part.as_str(),
            expected: true,
            state,
            drift,
        });
    }
    let synthesized: BTreeSet<String> = statuses.iter().map(|s| s.name.clone()).collect();
    for (name, status) in listed.iter().filter(|(name, _)| !synthesized.contains(name)) {
        statuses.push(StackStatus {
            name: name.clone(),
            part: part_of(name, &session.config.app, region),
            expected: false,
            state: Some(status.clone()),
            drift: Drift::NotCompared,
        });
    }
    Ok(statuses)
}

/// The part named in `<app>-<part>-<region>`.
fn part_of(name: &str, app: &str, region: &str) -> &'static str {
    let part = name.strip_prefix(app).and_then(|rest| rest.strip_suffix(region)).unwrap_or_default();
    [StackPart::Bootstrap, StackPart::Data, StackPart::Region, StackPart::Dns]
        .into_iter()
        .map(StackPart::as_str)
        .find(|p| part.trim_matches('-') == *p)
        .unwrap_or("unknown")
}

/// The deployed template of `name` against `body`.
async fn drift(cfn: &aws_sdk_cloudformation::Client, name: &str, body: &str) -> Result<Drift> {
    let deployed = crate::stack::deployed(cfn, name).await?;
    let synthesized: Value = serde_json::from_str(body).with_context(|| format!("parsing the synthesized {name}"))?;
    Ok(compare(deployed.template.as_ref().unwrap_or(&Value::Null), &synthesized))
}

/// Which resources and sections differ between two templates.
pub fn compare(deployed: &Value, synthesized: &Value) -> Drift {
    if deployed == synthesized {
        return Drift::InSync;
    }
    let empty = serde_json::Map::new();
    let resources = |t: &Value| t["Resources"].as_object().cloned().unwrap_or_else(|| empty.clone());
    let (before, after) = (resources(deployed), resources(synthesized));
    let ids: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let mut differences: Vec<String> =
        ids.into_iter().filter(|id| before.get(*id) != after.get(*id)).cloned().collect();
    let sections: BTreeSet<&String> = deployed
        .as_object()
        .unwrap_or(&empty)
        .keys()
        .chain(synthesized.as_object().unwrap_or(&empty).keys())
        .filter(|k| *k != "Resources")
        .collect();
    differences.extend(sections.into_iter().filter(|k| deployed.get(*k) != synthesized.get(*k)).cloned());
    Drift::Differs { differences }
}

#[cfg(test)]
mod tests {
    use super::{Drift, compare, part_of};
    use serde_json::json;

    #[test]
    fn identical_templates_are_in_sync_and_a_changed_resource_is_named() {
        let deployed = json!({"Resources": {"A": {"Type": "X"}, "B": {"Type": "Y"}}, "Outputs": {"O": 1}});
        assert_eq!(compare(&deployed, &deployed.clone()), Drift::InSync);
        let synthesized = json!({"Resources": {"A": {"Type": "X2"}, "C": {"Type": "Z"}}, "Outputs": {"O": 2}});
        let Drift::Differs { differences } = compare(&deployed, &synthesized) else { panic!("differs") };
        assert_eq!(differences, ["A", "B", "C", "Outputs"]);
    }

    #[test]
    fn the_part_is_read_from_the_stack_name() {
        assert_eq!(part_of("shop-region-eu-west-1", "shop", "eu-west-1"), "region");
        assert_eq!(part_of("shop-dns-us-east-1", "shop", "us-east-1"), "dns");
        assert_eq!(part_of("shop-other-us-east-1", "shop", "us-east-1"), "unknown");
    }
}
