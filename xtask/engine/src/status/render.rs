//! `status` as text: one block per region, its findings last; the JSON form is the serialized
//! [`super::Status`].

use super::{Drift, RecordRouting, RegionStatus, Status, Verdict};
use std::fmt::Write;

/// The status as text for a terminal.
pub fn text(status: &Status) -> String {
    let mut out = String::new();
    let domain = status.domain.as_deref().map_or(String::from("no [dns]"), |d| format!("shared name {d}"));
    let _ = writeln!(out, "{} ({domain})", status.app);
    for region in &status.regions {
        region_text(&mut out, region);
    }
    if !status.not_served.is_empty() {
        let _ = writeln!(out, "\nnot looked in (the endpoint does not serve them): {}", status.not_served.join(", "));
    }
    for note in &status.notes {
        let _ = writeln!(out, "note: {note}");
    }
    let verdict = match status.verdict() {
        Verdict::Healthy => "healthy".to_owned(),
        Verdict::Degraded => {
            let degraded: Vec<&str> =
                status.regions.iter().filter(|r| !r.is_healthy()).map(|r| r.region.as_str()).collect();
            format!("degraded ({})", degraded.join(", "))
        }
    };
    let _ = writeln!(out, "\nstatus: {verdict}");
    out
}

fn region_text(out: &mut String, region: &RegionStatus) {
    let configured = if region.configured { "" } else { " (not in regions.toml)" };
    let mark = if region.is_healthy() { "ok" } else { "DEGRADED" };
    let _ = writeln!(out, "\n{}{configured}: {mark}", region.region);
    for stack in &region.stacks {
        let state = stack.state.as_deref().unwrap_or("not deployed");
        let drift = match &stack.drift {
            Drift::InSync => ", template as synthesized".to_owned(),
            Drift::Differs { differences } => format!(", template differs in {}", differences.join(", ")),
            Drift::NotCompared => String::new(),
        };
        let _ = writeln!(out, "  stack {} {state}{drift}", stack.name);
    }
    if let Some(check) = &region.health_check {
        let inverted = if check.inverted { ", inverted" } else { "" };
        let _ = writeln!(
            out,
            "  health check {} {} ({}/{} checkers ok{inverted})",
            check.id,
            check.verdict.as_str(),
            check.checkers_ok,
            check.checkers
        );
    }
    for record in &region.records {
        let routing = match &record.routing {
            RecordRouting::Latency { region } => format!("latency {region}"),
            RecordRouting::Weighted { weight } => format!("weight {weight}"),
            RecordRouting::Failover { role } => format!("failover {role}"),
            RecordRouting::Simple => "simple".into(),
        };
        let answer = record.alias_target.clone().unwrap_or_else(|| record.values.join(" "));
        let _ = writeln!(out, "  record {} {} {routing} -> {answer}", record.name, record.record_type);
    }
    for consumer in &region.consumers {
        let age = consumer.iterator_age_ms.map_or("no data".to_owned(), |ms| format!("{:.1} s", ms / 1000.0));
        let _ = writeln!(out, "  iterator age {}: {age}", consumer.function);
    }
    for queue in &region.queues {
        let _ = writeln!(out, "  queue {}: {} message(s)", queue.logical_id, queue.depth);
    }
    if let Some(watermark) = &region.watermark {
        let _ = writeln!(out, "  publisher watermark {watermark}");
    }
    if let Some(taken) = &region.taken_over {
        let _ = writeln!(
            out,
            "  {} taken over by {} up to {} ({} event(s) published)",
            region.region, taken.by, taken.up_to, taken.published
        );
    }
    for finding in &region.findings {
        let _ = writeln!(out, "  ! {finding}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::takeover::Position;

    #[test]
    fn a_region_shows_its_publisher_watermark_and_who_took_its_events_over() {
        let region = RegionStatus {
            region: "eu-west-1".into(),
            configured: true,
            stacks: Vec::new(),
            health_check: None,
            records: Vec::new(),
            consumers: Vec::new(),
            queues: Vec::new(),
            watermark: Some("2026-03-04T05:06:07.000Z".into()),
            taken_over: Some(Position {
                up_to: "2026-03-04T05:09:00.000Z".into(),
                by: "us-east-1".into(),
                published: 12,
                updated_at: "2026-03-04T05:10:00.000Z".into(),
            }),
            findings: Vec::new(),
        };
        let mut out = String::new();
        region_text(&mut out, &region);
        assert!(out.contains("publisher watermark 2026-03-04T05:06:07.000Z"), "{out}");
        assert!(
            out.contains("eu-west-1 taken over by us-east-1 up to 2026-03-04T05:09:00.000Z (12 event(s) published)"),
            "{out}"
        );
    }
}
