//! A deployment's plan, built from the command's options and the config and validated before the
//! first AWS call (as ripgrep resolves its flags into a plan before any work): which regions,
//! which stacks in which order, and every option checked against CloudFormation's limits.
//!
//! Order: the foundation (every selected region's bootstrap stack and, with the home region, the
//! data stack), then the region stacks in waves (the canary, the home region unless `--canary`
//! names another, alone; then the rest, `--concurrency` at a time), then, with the home region and
//! `[dns]`, the dns stack, which takes every region's endpoints.

use crate::approval::RequireApproval;
use crate::stack::MAX_MONITORING_MINUTES;
use stacks::{AppConfig, Assembly, StackPart};
use std::collections::BTreeMap;

/// The most tags CloudFormation takes on a stack (`Tags`, API reference: max 50).
pub const MAX_TAGS: usize = 50;
/// The most SNS topics CloudFormation notifies per stack (`NotificationARNs`: max 5).
pub const MAX_NOTIFICATION_ARNS: usize = 5;

/// Which configured regions a command acts on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegionSelection {
    /// These regions (each must be in the config).
    pub regions: Vec<String>,
    /// Every region in the config (`regions` is then ignored).
    pub all: bool,
}

/// A deployment's options, as a command gathered them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployOptions {
    /// Which changes need a yes.
    pub require_approval: RequireApproval,
    /// Approve everything that needs approval.
    pub yes: bool,
    /// Stacks planned and executed at once within a wave.
    pub concurrency: usize,
    /// The region deployed alone first (default: the home region when selected).
    pub canary: Option<String>,
    /// Go on with later waves and stacks after a failure.
    pub keep_going: bool,
    /// Minutes CloudFormation watches a region stack's alarms after its update.
    pub monitoring_minutes: u32,
    /// CloudFormation service role for every change set.
    pub role_arn: Option<String>,
    /// `Key=Value` stack tags.
    pub tags: Vec<String>,
    /// SNS topic ARNs; each stack gets those of its own region.
    pub notification_arns: Vec<String>,
    /// Lift the data stack's policy for this run (needs approval).
    pub override_stack_policy: bool,
    /// Create and review the change sets, then leave them for `execute`.
    pub prepare: bool,
}

impl Default for DeployOptions {
    fn default() -> Self {
        DeployOptions {
            require_approval: RequireApproval::Dangerous,
            yes: false,
            concurrency: 4,
            canary: None,
            keep_going: false,
            monitoring_minutes: 0,
            role_arn: None,
            tags: Vec::new(),
            notification_arns: Vec::new(),
            override_stack_policy: false,
            prepare: false,
        }
    }
}

/// Why a plan is refused before anything is called.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A selected region is not in the config.
    #[error("{region} is not in the config's regions ({known}); add it to regions.toml first")]
    UnknownRegion {
        /// The region asked for.
        region: String,
        /// The configured regions.
        known: String,
    },
    /// Nothing selected.
    #[error("no region selected; pass --region R (repeatable) or --all")]
    NoRegion,
    /// The canary is not among the selected regions.
    #[error("--canary {canary} is not among the selected regions ({selected}); select it or pick one of them")]
    CanaryNotSelected {
        /// The canary asked for.
        canary: String,
        /// The selected regions.
        selected: String,
    },
    /// Zero concurrency.
    #[error("--concurrency must be at least 1")]
    NoConcurrency,
    /// A monitoring time over CloudFormation's limit.
    #[error("--monitoring-minutes {0} is over CloudFormation's limit of {MAX_MONITORING_MINUTES} minutes")]
    MonitoringTooLong(u32),
    /// A tag that is not `Key=Value` or breaks a tag rule.
    #[error("--tags {0:?}: {1}")]
    BadTag(String, &'static str),
    /// More tags than CloudFormation takes.
    #[error("{0} tags given; CloudFormation takes at most {MAX_TAGS} per stack")]
    TooManyTags(usize),
    /// Not an IAM role ARN.
    #[error("--role-arn {0:?} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)")]
    BadRoleArn(String),
    /// Not an SNS topic ARN of a configured region.
    #[error("--notification-arns {0:?}: {1}")]
    BadNotificationArn(String, String),
    /// More topics for one region than CloudFormation takes.
    #[error("{count} notification topics in {region}; CloudFormation takes at most {MAX_NOTIFICATION_ARNS} per stack")]
    TooManyNotificationArns {
        /// The region.
        region: String,
        /// How many.
        count: usize,
    },
    /// A stack the plan needs was not synthesized.
    #[error("no {0} was synthesized")]
    MissingStack(String),
}

/// Which wave a region's stack belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaveKind {
    /// Deployed alone, before the others.
    Canary,
    /// Deployed once the canary succeeded, `concurrency` at a time.
    Rest,
}

/// Region stacks deployed together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wave {
    /// Canary or the rest.
    pub kind: WaveKind,
    /// Stack names, in config order.
    pub stacks: Vec<String>,
}

/// A validated deployment plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The selected regions, in config order.
    pub regions: Vec<String>,
    /// Bootstrap stacks and (with the home region) the data stack.
    pub foundation: Vec<String>,
    /// Region stacks, wave by wave.
    pub waves: Vec<Wave>,
    /// Stacks deployed after every region stack, in order.
    pub closing: Vec<String>,
    /// Which changes need a yes.
    pub require_approval: RequireApproval,
    /// Approve everything that needs approval.
    pub yes: bool,
    /// Stacks at once within a phase or wave.
    pub concurrency: usize,
    /// Go on after a failure.
    pub keep_going: bool,
    /// Minutes of alarm monitoring after each region stack's update.
    pub monitoring_minutes: u32,
    /// Service role for every change set.
    pub role_arn: Option<String>,
    /// Stack tags.
    pub tags: Vec<(String, String)>,
    /// SNS topics per region.
    pub notification_arns: BTreeMap<String, Vec<String>>,
    /// Lift the data stack's policy for this run.
    pub override_stack_policy: bool,
    /// Leave the reviewed change sets for `execute`.
    pub prepare: bool,
}

impl Plan {
    /// Builds and validates the plan; no AWS call.
    pub fn new(
        config: &AppConfig,
        assembly: &Assembly,
        selection: &RegionSelection,
        options: &DeployOptions,
    ) -> Result<Plan, PlanError> {
        let regions = select(config, selection)?;
        if options.concurrency == 0 {
            return Err(PlanError::NoConcurrency);
        }
        if options.monitoring_minutes > MAX_MONITORING_MINUTES {
            return Err(PlanError::MonitoringTooLong(options.monitoring_minutes));
        }
        let stack = |part: StackPart, region: &str| -> Result<String, PlanError> {
            let name = stacks::app::stack_name(config, part, region);
            assembly.stack(&name).map(|s| s.name.clone()).ok_or(PlanError::MissingStack(name))
        };
        let mut foundation: Vec<String> =
            regions.iter().map(|r| stack(StackPart::Bootstrap, r)).collect::<Result<_, _>>()?;
        if regions.contains(&config.home) {
            foundation.push(stack(StackPart::Data, &config.home)?);
        }
        let canary = canary(config, &regions, options.canary.as_deref())?;
        let rest: Vec<String> = regions
            .iter()
            .filter(|r| Some(*r) != canary.as_ref())
            .map(|r| stack(StackPart::Region, r))
            .collect::<Result<_, _>>()?;
        let mut waves = Vec::new();
        if let Some(canary) = &canary {
            waves.push(Wave { kind: WaveKind::Canary, stacks: vec![stack(StackPart::Region, canary)?] });
        }
        if !rest.is_empty() {
            waves.push(Wave { kind: WaveKind::Rest, stacks: rest });
        }
        // The dns stack (with `[dns]`) takes every region's endpoints: it goes last, from home.
        let dns = stacks::app::stack_name(config, StackPart::Dns, &config.home);
        let closing = if regions.contains(&config.home) && assembly.stack(&dns).is_some() { vec![dns] } else { vec![] };
        Ok(Plan {
            foundation,
            waves,
            closing,
            require_approval: options.require_approval,
            yes: options.yes,
            concurrency: options.concurrency,
            keep_going: options.keep_going,
            monitoring_minutes: options.monitoring_minutes,
            role_arn: role_arn(options.role_arn.as_deref())?,
            tags: tags(&options.tags)?,
            notification_arns: notification_arns(config, &options.notification_arns)?,
            override_stack_policy: options.override_stack_policy,
            prepare: options.prepare,
            regions,
        })
    }

    /// The same plan reduced to the regions' bootstrap stacks (`cargo xtask bootstrap`).
    pub fn bootstrap_only(mut self, config: &AppConfig) -> Plan {
        let bootstrap: Vec<String> =
            self.regions.iter().map(|r| stacks::app::stack_name(config, StackPart::Bootstrap, r)).collect();
        self.foundation.retain(|name| bootstrap.contains(name));
        self.waves.clear();
        self.closing.clear();
        self
    }

    /// Every stack of the plan, in deployment order.
    pub fn stacks(&self) -> impl Iterator<Item = &String> {
        self.foundation.iter().chain(self.waves.iter().flat_map(|w| &w.stacks)).chain(&self.closing)
    }
}

/// The configured regions the selection names, in config order.
pub fn select(config: &AppConfig, selection: &RegionSelection) -> Result<Vec<String>, PlanError> {
    let known = || config.region_names().collect::<Vec<_>>().join(", ");
    if selection.all {
        return Ok(config.region_names().map(str::to_owned).collect());
    }
    if selection.regions.is_empty() {
        return Err(PlanError::NoRegion);
    }
    if let Some(region) = selection.regions.iter().find(|r| !config.region_names().any(|c| c == r.as_str())) {
        return Err(PlanError::UnknownRegion { region: region.clone(), known: known() });
    }
    Ok(config.region_names().filter(|r| selection.regions.iter().any(|s| s == r)).map(str::to_owned).collect())
}

fn canary(config: &AppConfig, regions: &[String], asked: Option<&str>) -> Result<Option<String>, PlanError> {
    match asked {
        Some(canary) if regions.iter().any(|r| r == canary) => Ok(Some(canary.to_owned())),
        Some(canary) => Err(PlanError::CanaryNotSelected { canary: canary.to_owned(), selected: regions.join(", ") }),
        // One region is its own canary; with several, the home region goes first when selected.
        None if regions.len() > 1 && regions.contains(&config.home) => Ok(Some(config.home.clone())),
        None if regions.len() > 1 => Ok(regions.first().cloned()),
        None => Ok(None),
    }
}

fn role_arn(arn: Option<&str>) -> Result<Option<String>, PlanError> {
    let Some(arn) = arn else { return Ok(None) };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let valid = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].strip_prefix("role/").is_some_and(|name| !name.is_empty());
    if valid { Ok(Some(arn.to_owned())) } else { Err(PlanError::BadRoleArn(arn.to_owned())) }
}

/// `Key=Value` pairs; CloudFormation's tag rules: key 1-128 characters, value up to 256, and the
/// `aws:` prefix reserved.
fn tags(given: &[String]) -> Result<Vec<(String, String)>, PlanError> {
    let mut tags: Vec<(String, String)> = Vec::new();
    for tag in given {
        let bad = |why| PlanError::BadTag(tag.clone(), why);
        let (key, value) = tag.split_once('=').ok_or_else(|| bad("write it as Key=Value"))?;
        if key.is_empty() || key.chars().count() > 128 {
            return Err(bad("a tag key has 1 to 128 characters"));
        }
        if value.chars().count() > 256 {
            return Err(bad("a tag value has at most 256 characters"));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(bad("the aws: prefix is reserved for AWS"));
        }
        if tags.iter().any(|(k, _)| k == key) {
            return Err(bad("the key is given twice"));
        }
        tags.push((key.to_owned(), value.to_owned()));
    }
    if tags.len() > MAX_TAGS {
        return Err(PlanError::TooManyTags(tags.len()));
    }
    Ok(tags)
}

/// Topic ARNs grouped by their region; each stack is given the topics of its own region.
fn notification_arns(config: &AppConfig, given: &[String]) -> Result<BTreeMap<String, Vec<String>>, PlanError> {
    let mut by_region: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for arn in given {
        let bad = |why: String| PlanError::BadNotificationArn(arn.clone(), why);
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if parts.len() != 6 || parts[0] != "arn" || parts[2] != "sns" || parts[5].is_empty() {
            return Err(bad("not an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)".into()));
        }
        let region = parts[3];
        if !config.region_names().any(|r| r == region) {
            return Err(bad(format!(
                "{region} is not one of the app's regions; give each region's stacks a topic there"
            )));
        }
        by_region.entry(region.to_owned()).or_default().push(arn.clone());
    }
    if let Some((region, arns)) = by_region.iter().find(|(_, arns)| arns.len() > MAX_NOTIFICATION_ARNS) {
        return Err(PlanError::TooManyNotificationArns { region: region.clone(), count: arns.len() });
    }
    Ok(by_region)
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
