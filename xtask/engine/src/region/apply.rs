//! Carrying out a [`RegionPlan`] through the deploy engine: every stack step is a [`Plan`] of its
//! own (one stack in its group), reviewed, gated and executed like any deployment, under the
//! run's guard; the first step that does not end as asked stops the run with how to resume.

use super::drain::{self, DrainSettings};
use super::plan::{RegionPlan, Step};
use super::progress::{self, Deployed};
use crate::approval::{Approval, Prompt};
use crate::aws::Aws;
use crate::deploy::{DeployReport, deploy};
use crate::guard::Guard;
use crate::interrupt::{ctrl_c, guarded};
use crate::params::{self, Artifact, REPLICA_TIMEOUT};
use crate::plan::{DeployOptions, Plan, RegionSelection, Wave, WaveKind};
use crate::session::Session;
use anyhow::{Context, Result, anyhow, bail};
use stacks::{AppConfig, StackPart};
use std::time::Duration;

/// How to run a region change.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// The deploy options every stack step runs with (approval, role, tags, ...).
    pub deploy: DeployOptions,
    /// Continue from what is deployed.
    pub resume: bool,
    /// The drain wait of a removal.
    pub drain: DrainSettings,
    /// The command that continues the change, for the message when a step fails.
    pub resume_command: String,
}

/// Runs the plan's steps from where the deployed state says to start. `account` is the target
/// account; `artifacts` the function zips for new region stacks; `approval` gates every change
/// set (as `deploy` does) and `prompt` answers the drain timeout's question.
pub async fn apply(
    aws: &Aws,
    account: &str,
    plan: &RegionPlan,
    options: &ApplyOptions,
    artifacts: &[Artifact],
    approval: &Approval,
    prompt: &dyn Prompt,
) -> Result<()> {
    let probe = step_session(aws, account, plan.before.clone())?;
    probe.notes.iter().for_each(|note| println!("{note}"));
    let deployed = Deployed::read(&probe, plan).await?;
    let start = progress::start(plan, &deployed, options.resume)?;
    for (index, step) in plan.steps.iter().enumerate() {
        let number = format!("step {}/{}", index + 1, plan.steps.len());
        if index < start {
            println!("{number}: {step}: done already");
            continue;
        }
        println!("\n{number}: {step}");
        let run = StepRun { aws, account, plan, options, approval, artifacts, prompt };
        if let Err(error) = run.step(index).await {
            bail!(
                "{number} ({step}) did not complete: {error:#}\nsteps 1-{index} are done; once the cause is fixed, \
                 continue with `{}`",
                options.resume_command
            );
        }
    }
    println!("\nregion change complete: {} steps", plan.steps.len());
    Ok(())
}

/// A session on `config` (as synthesized for where `aws` points), with its own guard.
fn step_session(aws: &Aws, account: &str, config: AppConfig) -> Result<Session> {
    let loaded = Session::synthesize(aws.clone(), config)?;
    Ok(Session {
        aws: loaded.aws,
        config: loaded.config,
        assembly: loaded.assembly,
        account: account.to_owned(),
        notes: loaded.notes,
        guard: Guard::default(),
    })
}

struct StepRun<'a> {
    aws: &'a Aws,
    account: &'a str,
    plan: &'a RegionPlan,
    options: &'a ApplyOptions,
    approval: &'a Approval,
    artifacts: &'a [Artifact],
    prompt: &'a dyn Prompt,
}

impl StepRun<'_> {
    async fn step(&self, index: usize) -> Result<()> {
        let mut session = step_session(self.aws, self.account, self.plan.config_for(index).clone())?;
        let config = session.config.clone();
        let home = config.home.clone();
        let name = |part: StackPart, region: &str| stacks::app::stack_name(&config, part, region);
        match &self.plan.steps[index] {
            Step::Bootstrap { region } => {
                let groups = Groups { foundation: vec![name(StackPart::Bootstrap, region)], ..Groups::default() };
                self.deploy(&session, region, groups, &[]).await
            }
            Step::AddReplica { table, region } => {
                self.deploy_data(&mut session, index).await?;
                println!("waiting for the {region} replica of {} to be ACTIVE", table.name);
                params::replica_stream_arn(self.aws, region, &table.name, &home, REPLICA_TIMEOUT).await.map(drop)
            }
            Step::UnprotectReplicas { .. } | Step::RemoveReplica { .. } => self.deploy_data(&mut session, index).await,
            Step::RegionStack { region } => {
                let wave = Wave { kind: WaveKind::Canary, stacks: vec![name(StackPart::Region, region)] };
                let groups = Groups { waves: vec![wave], ..Groups::default() };
                self.deploy(&session, region, groups, self.artifacts).await
            }
            Step::Dns { .. } => {
                let groups = Groups { closing: vec![name(StackPart::Dns, &home)], ..Groups::default() };
                self.deploy(&session, &home, groups, &[]).await
            }
            Step::Drain { region } => guarded(&session, self.drain(region), ctrl_c()).await,
            Step::DeleteRegionStack { region } => {
                let stack = name(StackPart::Region, region);
                guarded(&session, crate::destroy::delete_stack(&session, region, &stack), ctrl_c()).await
            }
        }
    }

    /// The data stack as this step shapes it, deployed from the home region.
    async fn deploy_data(&self, session: &mut Session, index: usize) -> Result<()> {
        let reshaped = self.plan.data_template(index)?;
        let name = reshaped.name.clone();
        let slot = session.assembly.stacks.iter_mut().find(|s| s.name == name);
        *slot.with_context(|| format!("no {name} synthesized"))? = reshaped;
        let home = session.config.home.clone();
        let groups = Groups { foundation: vec![self.plan.data_stack.clone()], ..Groups::default() };
        self.deploy(session, &home, groups, &[]).await
    }

    /// One plan of the deploy engine with `groups` in `region`; any stack not as asked fails it.
    async fn deploy(&self, session: &Session, region: &str, groups: Groups, artifacts: &[Artifact]) -> Result<()> {
        let selection = RegionSelection { regions: vec![region.to_owned()], all: false };
        let options = DeployOptions { canary: None, prepare: false, ..self.options.deploy.clone() };
        let mut plan = Plan::new(&session.config, &session.assembly, &selection, &options)?;
        plan.foundation = groups.foundation;
        plan.waves = groups.waves;
        plan.closing = groups.closing;
        let report = guarded(session, deploy(session, &plan, artifacts, self.approval), ctrl_c()).await?;
        outcome(&report)
    }

    async fn drain(&self, region: &str) -> Result<()> {
        let before = stacks::synthesize(&self.plan.before).context("synthesizing the stacks")?;
        let stack = stacks::app::stack_name(&self.plan.before, StackPart::Region, region);
        let template = before.stack(&stack).map(|s| s.template.to_value()).unwrap_or_default();
        let functions = drain::consumers(&template);
        let ttl = match &self.plan.after.dns {
            Some(dns) if has_dns_stack(self.aws, &self.plan.after)? => Duration::from_secs(u64::from(dns.ttl)),
            _ => Duration::ZERO,
        };
        let settings = DrainSettings { ttl, ..self.options.drain };
        drain::drain(self.aws, region, &functions, &settings, self.prompt).await
    }
}

/// Whether the dns stack is deployed where `aws` points (against an emulator `[dns]` is left out).
fn has_dns_stack(aws: &Aws, config: &AppConfig) -> Result<bool> {
    let loaded = Session::synthesize(aws.clone(), config.clone())?;
    let name = stacks::app::stack_name(&loaded.config, StackPart::Dns, &loaded.config.home);
    Ok(loaded.assembly.stack(&name).is_some())
}

/// A step's stacks by group.
#[derive(Debug, Default)]
struct Groups {
    foundation: Vec<String>,
    waves: Vec<Wave>,
    closing: Vec<String>,
}

/// Ok when every stack of the report is as asked, else which are not and why.
fn outcome(report: &DeployReport) -> Result<()> {
    let failed: Vec<String> = report
        .unsuccessful()
        .iter()
        .map(|r| {
            let detail = r.outcome.detail();
            let detail = if detail.is_empty() { String::new() } else { format!(": {}", detail.join("; ")) };
            format!("{} {}{detail}", r.stack, r.outcome.label())
        })
        .collect();
    if failed.is_empty() { Ok(()) } else { Err(anyhow!("{}", failed.join("\n"))) }
}
