//! `cargo xtask drill failover`: take one region out of the shared name and put it back, proving
//! that Route53 fails over and back. Preflight with [`crate::status`] (every region deployed
//! and healthy, another healthy region: Route53 fails open, so the last healthy region is never
//! taken out); inject ([`inject`]); observe until the region has left every answer
//! ([`observe`]); restore, always, also on an error or an interrupt, and wait until the shared
//! name answers as it did before; report ([`report`]).

pub mod inject;
pub mod observe;
pub mod report;

use crate::session::Session;
use crate::status::{HealthVerdict, Status, StatusOptions, gather};
use anyhow::{Result, anyhow, bail};
use inject::{Injection, Method};
use observe::{Look, Observation, look};
use report::DrillReport;
use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

/// What to drill and how long to wait.
#[derive(Debug, Clone)]
pub struct DrillOptions {
    /// The region taken out.
    pub region: String,
    /// How.
    pub method: Method,
    /// Only build and print the plan.
    pub dry_run: bool,
    /// How long Route53 may take to fail over, and again to come back.
    pub timeout: Duration,
    /// Between two looks at Route53.
    pub poll: Duration,
}

/// Why a drill will not start.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// No `[dns]`: no shared name to fail over.
    #[error("drills need [dns] in regions.toml: without a shared name there is nothing to fail over")]
    NoDns,
    /// The region is not configured.
    #[error("{0} is not in regions.toml; drill one of its regions")]
    NotConfigured(String),
    /// The dns stack has no health check for the region.
    #[error("{0} has no Route53 health check: deploy the dns stack first (`cargo xtask deploy --all`)")]
    NoHealthCheck(String),
    /// No other region would answer.
    #[error(
        "{0} is the last healthy region: Route53 answers with every region when all are unhealthy (fail open), so \
         taking it out proves nothing and risks an outage; bring another region back first (`cargo xtask status`)"
    )]
    LastHealthy(String),
    /// Something is already wrong.
    #[error("not every region is deployed and healthy; fix these first (`cargo xtask status`):\n  {}", .0.join("\n  "))]
    Degraded(Vec<String>),
}

/// The checked plan of a drill.
#[derive(Debug, Clone)]
pub struct DrillPlan {
    /// Every configured region's health check ID.
    pub checks: BTreeMap<String, String>,
    /// The drill flag of the region.
    pub flag: String,
    /// The steps, in words.
    pub steps: Vec<String>,
}

/// Checks `status` for a drill of `options.region`; no AWS call.
pub fn plan(session: &Session, status: &Status, options: &DrillOptions) -> Result<DrillPlan, Refusal> {
    let region = options.region.as_str();
    if session.config.dns.is_none() {
        return Err(Refusal::NoDns);
    }
    if !session.config.region_names().any(|r| r == region) {
        return Err(Refusal::NotConfigured(region.to_owned()));
    }
    let checks: BTreeMap<String, String> = status
        .regions
        .iter()
        .filter(|r| r.configured)
        .filter_map(|r| Some((r.region.clone(), r.health_check.as_ref()?.id.clone())))
        .collect();
    let Some(check) = checks.get(region) else { return Err(Refusal::NoHealthCheck(region.to_owned())) };
    let survivors: Vec<&str> = status
        .regions
        .iter()
        .filter(|r| r.configured && r.region != region && r.is_routable())
        .map(|r| r.region.as_str())
        .collect();
    if survivors.is_empty() {
        return Err(Refusal::LastHealthy(region.to_owned()));
    }
    let findings: Vec<String> =
        status.regions.iter().flat_map(|r| r.findings.iter().map(move |f| format!("{}: {f}", r.region))).collect();
    if !findings.is_empty() {
        return Err(Refusal::Degraded(findings));
    }
    let flag = contract::drill::parameter(&session.config.app, region);
    let inject = match options.method {
        Method::HealthCheck => format!("invert {region}'s health check {check} (Route53 UpdateHealthCheck)"),
        Method::AppFlag => {
            format!("set {flag} to `{}` in {region} (SSM PutParameter): /health answers 503", contract::drill::FAIL)
        }
    };
    let steps = vec![
        format!("preflight: every region deployed and healthy; {} would keep answering", survivors.join(", ")),
        inject,
        format!(
            "watch Route53 until {region}'s check is unhealthy and {region} leaves every answer (up to {:?})",
            options.timeout
        ),
        "restore what the injection replaced (also on an error or Ctrl-C)".to_owned(),
        format!("watch until {region}'s check is healthy and the answers are as before (up to {:?})", options.timeout),
    ];
    Ok(DrillPlan { checks, flag, steps })
}

/// Runs a drill; the report says whether it passed. A refusal or a failed preflight is an error;
/// anything after the injection ends in the report, with the injection restored. `interrupt`
/// (Ctrl-C) stops the observation and restores.
pub async fn failover(
    session: &Session,
    options: &DrillOptions,
    interrupt: impl Future<Output = ()>,
) -> Result<DrillReport> {
    let status = gather(session, &StatusOptions::default()).await?;
    let plan = plan(session, &status, options)?;
    let observation = if session.aws.is_emulated() { Observation::Evaluated } else { Observation::Observed };
    let mut report =
        DrillReport::new(&options.region, options.method, options.dry_run, plan.steps.clone(), observation);
    report.notes.extend(emulator_notes(session, options.method));
    if options.dry_run {
        return Ok(report);
    }
    let before = look(session, &plan.checks, observation).await?;
    report.event(format!("preflight: answers {}", before.answered.iter().cloned().collect::<Vec<_>>().join(", ")));
    let injection = match options.method {
        Method::HealthCheck => inject::invert(&session.aws, &plan.checks[&options.region]).await?,
        Method::AppFlag => inject::raise_flag(&session.aws, &options.region, &plan.flag).await?,
    };
    report.event(format!("injected: {}", plan.steps[1]));
    let outcome = tokio::select! {
        outcome = fail_over(session, &plan, options, observation, &mut report) => outcome,
        () = interrupt => Err(anyhow!("interrupted")),
    };
    if let Err(error) = &outcome {
        report.event(format!("stopped: {error:#}"));
        report.failure = Some(format!("{error:#}"));
    }
    let restored = restore(session, &plan, options, observation, &injection, &before, &mut report).await;
    if let Err(error) = &restored {
        report.failure.get_or_insert_with(|| format!("{error:#}"));
    }
    report.passed = outcome.is_ok() && restored.is_ok();
    Ok(report)
}

/// Looks at Route53 until the region is unhealthy and out of every answer.
async fn fail_over(
    session: &Session,
    plan: &DrillPlan,
    options: &DrillOptions,
    observation: Observation,
    report: &mut DrillReport,
) -> Result<()> {
    let region = &options.region;
    let started = Instant::now();
    let injected = report.timeline.last().map_or(0, |e| e.elapsed_ms);
    loop {
        let now = look(session, &plan.checks, observation).await?;
        if report.time_to_detect_ms.is_none() && now.health.get(region) != Some(&HealthVerdict::Healthy) {
            let at = report.event(format!("detected: {region}'s health check is unhealthy"));
            report.time_to_detect_ms = Some(at - injected);
        }
        if report.time_to_detect_ms.is_some() && !now.answered.contains(region) {
            let answered: Vec<String> = now.answered.iter().cloned().collect();
            let at = report.event(format!("failed over: the shared name answers {}", answered.join(", ")));
            report.time_to_fail_over_ms = Some(at - injected);
            return Ok(());
        }
        if started.elapsed() >= options.timeout {
            bail!("{region} did not leave the answers within {:?}: {}", options.timeout, describe(&now));
        }
        tokio::time::sleep(options.poll).await;
    }
}

/// Undoes the injection and looks until the answers are as before the drill.
async fn restore(
    session: &Session,
    plan: &DrillPlan,
    options: &DrillOptions,
    observation: Observation,
    injection: &Injection,
    before: &Look,
    report: &mut DrillReport,
) -> Result<()> {
    if let Err(error) = inject::restore(&session.aws, injection).await {
        report.event(format!("restore failed: {error:#}"));
        bail!("could not restore {injection:?}: {error:#}; undo it by hand");
    }
    let restored_at = report.event("restored what the injection replaced");
    let started = Instant::now();
    loop {
        let now = look(session, &plan.checks, observation).await?;
        if now.health.get(&options.region) == Some(&HealthVerdict::Healthy) && now.answered == before.answered {
            let at = report.event(format!("back: {} answers as before the drill", options.region));
            report.time_to_restore_ms = Some(at - restored_at);
            return Ok(());
        }
        if started.elapsed() >= options.timeout {
            bail!(
                "{} was restored but not back in the answers within {:?}: {}",
                options.region,
                options.timeout,
                describe(&now)
            );
        }
        tokio::time::sleep(options.poll).await;
    }
}

fn describe(look: &Look) -> String {
    let health: Vec<String> = look.health.iter().map(|(r, v)| format!("{r} {}", v.as_str())).collect();
    let answered: Vec<String> = look.answered.iter().cloned().collect();
    format!("health checks {}; answers {}", health.join(", "), answered.join(", "))
}

/// What the emulator does not let a drill see.
fn emulator_notes(session: &Session, method: Method) -> Vec<String> {
    if !session.aws.is_emulated() {
        return Vec::new();
    }
    let mut notes = vec![
        "evaluated, not observed: the emulator has no TestDNSAnswer, so the answers are computed by the kit's Route53 \
         evaluator from the deployed records and the health checks' statuses (for a resolver near each region)"
            .to_owned(),
        "probes not run: the emulator cannot run the api function, so no command was written through a surviving \
         region"
            .to_owned(),
    ];
    if method == Method::AppFlag {
        notes.push(
            "app-flag: the emulator's health checkers never probe /health (every check reports success), so Route53 \
             cannot see the flag here; use --method health-check against the emulator"
                .to_owned(),
        );
    }
    notes
}
