//! A drill's report: the plan, a timeline with timestamps, the times to detect, fail over and
//! restore, how the answers were known, and pass or fail; as JSON (serialized) and Markdown.

use super::inject::Method;
use super::observe::Observation;
use super::probe::ProbeResult;
use serde::Serialize;
use std::fmt::Write;
use std::time::Instant;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// One moment of the drill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// UTC, RFC 3339.
    pub at: String,
    /// Milliseconds since the drill started.
    pub elapsed_ms: u64,
    /// What happened.
    pub what: String,
}

/// Everything a drill did and saw.
#[derive(Debug, Clone, Serialize)]
pub struct DrillReport {
    /// The region taken out.
    pub region: String,
    /// How.
    pub method: Method,
    /// Only the plan was printed.
    pub dry_run: bool,
    /// The steps, in order.
    pub plan: Vec<String>,
    /// How the answers of the shared name were known.
    pub observation: Observation,
    /// What happened when.
    pub timeline: Vec<Event>,
    /// From the injection to Route53 seeing the region unhealthy.
    pub time_to_detect_ms: Option<u64>,
    /// From the injection to the region leaving every answer.
    pub time_to_fail_over_ms: Option<u64>,
    /// From the restore to the region answering as before the drill.
    pub time_to_restore_ms: Option<u64>,
    /// The commands written through a surviving region and what its stream published.
    pub probe: Option<ProbeResult>,
    /// What the drill could not do here, and why.
    pub notes: Vec<String>,
    /// Whether the region failed over and came back.
    pub passed: bool,
    /// Why it did not pass.
    pub failure: Option<String>,
    #[serde(skip)]
    started: Option<Instant>,
}

impl DrillReport {
    /// An empty report for a drill of `region` by `method`.
    pub fn new(region: &str, method: Method, dry_run: bool, plan: Vec<String>, observation: Observation) -> Self {
        DrillReport {
            region: region.to_owned(),
            method,
            dry_run,
            plan,
            observation,
            timeline: Vec::new(),
            time_to_detect_ms: None,
            time_to_fail_over_ms: None,
            time_to_restore_ms: None,
            probe: None,
            notes: Vec::new(),
            passed: false,
            failure: None,
            started: None,
        }
    }

    /// Adds `what` to the timeline, now; returns the milliseconds since the first event.
    pub fn event(&mut self, what: impl Into<String>) -> u64 {
        let started = *self.started.get_or_insert_with(Instant::now);
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let at = OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default();
        self.timeline.push(Event { at, elapsed_ms, what: what.into() });
        elapsed_ms
    }

    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let verdict = match (self.dry_run, self.passed) {
            (true, _) => "dry run (nothing changed)",
            (false, true) => "PASSED",
            (false, false) => "FAILED",
        };
        let method = match self.method {
            Method::HealthCheck => "health-check",
            Method::AppFlag => "app-flag",
        };
        let _ = writeln!(out, "# Failover drill of {} ({method}): {verdict}\n", self.region);
        if let Some(failure) = &self.failure {
            let _ = writeln!(out, "**Failure:** {failure}\n");
        }
        let observation = match self.observation {
            Observation::Observed => "observed (Route53 TestDNSAnswer)",
            Observation::Evaluated => "evaluated, not observed (the kit's Route53 evaluator over the deployed records)",
            Observation::ObservedHealth => {
                "observed: every region's real /health requested over HTTP as a Route53 health checker would; the \
                 answers computed by the kit's Route53 evaluator from those observed statuses and the deployed records"
            }
        };
        let _ = writeln!(out, "Answers of the shared name: {observation}.\n\n## Plan\n");
        for (n, step) in self.plan.iter().enumerate() {
            let _ = writeln!(out, "{}. {step}", n + 1);
        }
        if !self.dry_run {
            let ms = |v: Option<u64>| v.map_or("-".to_owned(), |ms| format!("{:.1} s", ms as f64 / 1000.0));
            let _ = writeln!(out, "\n## Times\n\n| to detect | to fail over | to restore |\n|---|---|---|");
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                ms(self.time_to_detect_ms),
                ms(self.time_to_fail_over_ms),
                ms(self.time_to_restore_ms)
            );
            if let Some(probe) = &self.probe {
                let verdict = if probe.passed() { "each published exactly once" } else { "NOT each published once" };
                let _ = writeln!(out, "\n## Probe results (written / published / duplicates)\n");
                let _ = writeln!(out, "| region | written | published | duplicates | missing | verdict |");
                let _ = writeln!(out, "|---|---|---|---|---|---|");
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {verdict} |",
                    probe.region,
                    probe.written,
                    probe.published,
                    probe.duplicates,
                    probe.missing.len()
                );
                let _ = writeln!(out, "\nWritten through and published by: {}.", probe.ran_by);
            }
            let _ = writeln!(out, "\n## Timeline\n\n| at (UTC) | +ms | event |\n|---|---|---|");
            for event in &self.timeline {
                let _ = writeln!(out, "| {} | {} | {} |", event.at, event.elapsed_ms, event.what);
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out, "\n## Notes\n");
            for note in &self.notes {
                let _ = writeln!(out, "- {note}");
            }
        }
        out
    }
}
