//! `cargo xtask drill failover`: take one region out of the shared name and put it back, proving
//! that Route53 fails over and back. Preflight with [`crate::status`] (every region deployed
//! and healthy, another healthy region: Route53 fails open, so the last healthy region is never
//! taken out); inject ([`inject`]); observe until the region has left every answer
//! ([`observe`]); restore, always, also on an error or an interrupt, and wait until the shared
//! name answers as it did before; report ([`report`]). With `probe`, N commands are written
//! through a surviving region's API while the region is out and its stream is read back
//! ([`probe`]): over HTTPS at a deployed region's own endpoint ([`apis::deployed`]), or over HTTP
//! to the local runtime's gateway. Against regions served on this machine (the local runtime,
//! [`checker::RegionApis`]), the health is observed over HTTP ([`checker`]) instead of read from
//! Route53.

pub mod apis;
pub mod checker;
pub mod inject;
pub mod observe;
pub mod probe;
pub mod report;

use crate::route53::ROUTE53_REGION;
use crate::session::Session;
use crate::status::{HealthVerdict, Status, StatusOptions, gather};
use anyhow::{Context, Result, anyhow, bail};
use checker::{Checker, CheckerSettings, RegionApis};
use inject::{Injection, Method};
use observe::{HealthSource, Look, Observation, look};
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
    /// Between two looks at Route53 (the local checker uses the deployed check's interval, scaled).
    pub poll: Duration,
    /// Commands to write through a surviving region while the region is out.
    pub probe: Option<usize>,
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
    /// A probe needs a region's API, which the emulator's API Gateway does not run.
    #[error(
        "--probe writes through a surviving region's HTTP API, and the emulator's API Gateway does not run the api \
         function (it has no integrations): run the drill with --local (the local runtime serves every region's API \
         and runs the publisher)"
    )]
    ProbeNeedsLocal,
    /// The local checker requests /health itself; an inverted Route53 check changes nothing it sees.
    #[error(
        "--local observes each region's real /health, which an inverted Route53 health check does not change: use \
         --method app-flag"
    )]
    LocalNeedsAppFlag,
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
    /// The configured regions other than the drilled one that Route53 considers healthy.
    pub survivors: Vec<String>,
    /// The steps, in words.
    pub steps: Vec<String>,
}

/// Checks `status` for a drill of `options.region` (`local`: against regions served on this
/// machine); no AWS call.
pub fn plan(session: &Session, status: &Status, options: &DrillOptions, local: bool) -> Result<DrillPlan, Refusal> {
    let region = options.region.as_str();
    if session.config.dns.is_none() {
        return Err(Refusal::NoDns);
    }
    if options.probe.is_some() && !local && session.aws.is_emulated() {
        return Err(Refusal::ProbeNeedsLocal);
    }
    if local && options.method != Method::AppFlag {
        return Err(Refusal::LocalNeedsAppFlag);
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
    let survivors: Vec<String> = status
        .regions
        .iter()
        .filter(|r| r.configured && r.region != region && r.is_routable())
        .map(|r| r.region.clone())
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
    let watcher = if local { "request every region's /health" } else { "watch Route53" };
    let mut steps = vec![
        format!("preflight: every region deployed and healthy; {} would keep answering", survivors.join(", ")),
        inject,
        format!(
            "{watcher} until {region}'s check is unhealthy and {region} leaves every answer (up to {:?})",
            options.timeout
        ),
    ];
    if let Some(count) = options.probe {
        let api = if local { "API on this machine" } else { "API at its own endpoint over HTTPS" };
        steps.push(format!(
            "probe: write {count} command(s) through a surviving region's {api}; each event must be on its Kinesis \
             stream exactly once"
        ));
    }
    steps.push("restore what the injection replaced (also on an error or Ctrl-C)".to_owned());
    steps.push(format!(
        "{watcher} until {region}'s check is healthy and the answers are as before (up to {:?})",
        options.timeout
    ));
    Ok(DrillPlan { checks, flag, survivors, steps })
}

/// Runs a drill; the report says whether it passed. A refusal or a failed preflight is an error;
/// anything after the injection ends in the report, with the injection restored. `interrupt`
/// (Ctrl-C) stops the observation and restores. `apis`: the regions' APIs served on this
/// machine, whose `/health` is then observed and through which the probe writes; without them a
/// probe writes through the deployed APIs, resolved before anything is injected.
pub async fn failover(
    session: &Session,
    options: &DrillOptions,
    apis: Option<&dyn RegionApis>,
    interrupt: impl Future<Output = ()>,
) -> Result<DrillReport> {
    let status = gather(session, &StatusOptions::default()).await?;
    let plan = plan(session, &status, options, apis.is_some())?;
    let (observation, mut source, poll) = match apis {
        Some(apis) => {
            let settings = checker_settings(session, &plan.checks[&options.region]).await?;
            let source = HealthSource::Http { apis, checker: Checker::new(settings) };
            (Observation::ObservedHealth, source, settings.interval)
        }
        None if session.aws.is_emulated() => (Observation::Evaluated, HealthSource::Route53, options.poll),
        None => (Observation::Observed, HealthSource::Route53, options.poll),
    };
    let options = &DrillOptions { poll, ..options.clone() };
    let mut report =
        DrillReport::new(&options.region, options.method, options.dry_run, plan.steps.clone(), observation);
    report.notes.extend(notes(session, options.method, &source));
    if options.dry_run {
        return Ok(report);
    }
    let deployed = match (apis, options.probe) {
        (None, Some(_)) => Some(apis::deployed(&session.aws, &session.config, &plan.survivors).await?),
        _ => None,
    };
    let probe_apis = apis.or(deployed.as_ref().map(|d| d as &dyn RegionApis));
    let before = look(session, &plan.checks, observation, &mut source).await?;
    report.event(format!("preflight: answers {}", before.answered.iter().cloned().collect::<Vec<_>>().join(", ")));
    let injection = match options.method {
        Method::HealthCheck => inject::invert(&session.aws, &plan.checks[&options.region]).await?,
        Method::AppFlag => inject::raise_flag(&session.aws, &options.region, &plan.flag).await?,
    };
    report.event(format!("injected: {}", plan.steps[1]));
    let outcome = tokio::select! {
        outcome = fail_over_and_probe(session, &plan, options, observation, &mut source, probe_apis, &mut report) => outcome,
        () = interrupt => Err(anyhow!("interrupted")),
    };
    if let Err(error) = &outcome {
        report.event(format!("stopped: {error:#}"));
        report.failure = Some(format!("{error:#}"));
    }
    let restored = restore(session, &plan, options, observation, &mut source, &injection, &before, &mut report).await;
    if let Err(error) = &restored {
        report.failure.get_or_insert_with(|| format!("{error:#}"));
    }
    report.passed = outcome.is_ok() && restored.is_ok();
    Ok(report)
}

/// The deployed health check's interval and threshold, scaled for a local checker.
async fn checker_settings(session: &Session, id: &str) -> Result<CheckerSettings> {
    let route53 = session.aws.route53(ROUTE53_REGION);
    let described = route53.get_health_check().health_check_id(id).send().await;
    let described = described.with_context(|| format!("reading health check {id} (GetHealthCheck)"))?;
    let config = described.health_check().and_then(|c| c.health_check_config());
    // Route53's defaults when unset: 30 s and 3 (API reference, `HealthCheckConfig`).
    let interval = config.and_then(|c| c.request_interval()).unwrap_or(30);
    let threshold = config.and_then(|c| c.failure_threshold()).unwrap_or(3);
    Ok(CheckerSettings::scaled(interval, threshold))
}

/// Fails over, then probes through a survivor; a probe that does not find each event exactly
/// once fails the drill.
async fn fail_over_and_probe(
    session: &Session,
    plan: &DrillPlan,
    options: &DrillOptions,
    observation: Observation,
    source: &mut HealthSource<'_>,
    apis: Option<&dyn RegionApis>,
    report: &mut DrillReport,
) -> Result<()> {
    let survivors = fail_over(session, plan, options, observation, source, report).await?;
    let (Some(count), Some(apis)) = (options.probe, apis) else { return Ok(()) };
    let survivor = survivors.first().context("no surviving region answers")?;
    let stream = stacks::app::event_stream_name(&session.config.app);
    let kinesis = session.aws.kinesis(survivor);
    report.event(format!("probe: writing {count} command(s) through {survivor}'s API"));
    let result = probe::run(apis, &kinesis, survivor, &stream, count, options.timeout).await?;
    report.event(result.summary());
    let passed = result.passed();
    let summary = result.summary();
    report.probe = Some(result);
    if !passed {
        bail!("{summary}: not each probe event was published exactly once");
    }
    Ok(())
}

/// Looks until the region is unhealthy and out of every answer; the regions answering then.
async fn fail_over(
    session: &Session,
    plan: &DrillPlan,
    options: &DrillOptions,
    observation: Observation,
    source: &mut HealthSource<'_>,
    report: &mut DrillReport,
) -> Result<Vec<String>> {
    let region = &options.region;
    let started = Instant::now();
    let injected = report.timeline.last().map_or(0, |e| e.elapsed_ms);
    loop {
        let now = look(session, &plan.checks, observation, source).await?;
        if report.time_to_detect_ms.is_none() && now.health.get(region) != Some(&HealthVerdict::Healthy) {
            let at = report.event(format!("detected: {region}'s health check is unhealthy"));
            report.time_to_detect_ms = Some(at - injected);
        }
        if report.time_to_detect_ms.is_some() && !now.answered.contains(region) {
            let answered: Vec<String> = now.answered.iter().cloned().collect();
            let at = report.event(format!("failed over: the shared name answers {}", answered.join(", ")));
            report.time_to_fail_over_ms = Some(at - injected);
            return Ok(answered);
        }
        if started.elapsed() >= options.timeout {
            bail!("{region} did not leave the answers within {:?}: {}", options.timeout, describe(&now));
        }
        tokio::time::sleep(options.poll).await;
    }
}

/// Undoes the injection and looks until the answers are as before the drill.
#[allow(clippy::too_many_arguments)]
async fn restore(
    session: &Session,
    plan: &DrillPlan,
    options: &DrillOptions,
    observation: Observation,
    source: &mut HealthSource<'_>,
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
        let now = look(session, &plan.checks, observation, source).await?;
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

/// What the drill observed and ran, and what the emulator does not let it see.
fn notes(session: &Session, method: Method, source: &HealthSource<'_>) -> Vec<String> {
    if let HealthSource::Http { apis, checker } = source {
        let settings = checker.settings();
        return vec![
            format!(
                "observed, not evaluated: every {:?} (the health check's RequestInterval scaled down {}x) the drill \
                 requested each region's real /health over HTTP, and a region changed status after {} consecutive \
                 disagreeing results (its FailureThreshold); the kit's Route53 evaluator turned those statuses and \
                 the deployed records into the answers (for a resolver near each region)",
                settings.interval,
                checker::LOCAL_TIME_SCALE,
                settings.failure_threshold
            ),
            format!("served by: {}", apis.describe()),
        ];
    }
    if !session.aws.is_emulated() {
        return Vec::new();
    }
    let mut notes = vec![
        "evaluated, not observed: the emulator has no TestDNSAnswer, so the answers are computed by the kit's Route53 \
         evaluator from the deployed records and the health checks' statuses (for a resolver near each region)"
            .to_owned(),
        "probes not run: the emulator cannot run the api function; run the drill with --local to probe through the \
         local runtime"
            .to_owned(),
    ];
    if method == Method::AppFlag {
        notes.push(
            "app-flag: the emulator's health checkers never probe /health (every check reports success), so Route53 \
             cannot see the flag here; use --local (the drill then requests each region's real /health) or \
             --method health-check"
                .to_owned(),
        );
    }
    notes
}
