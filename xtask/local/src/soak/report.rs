//! The soak's printed report: what was sent, what the audit found (with the definitions it
//! used), latencies, throughput and where the time went.

use super::Soak;
use super::audit::{Finding, quantile};
use std::time::Duration;

/// Findings printed per kind (the counts are always complete).
const SHOWN: usize = 5;

/// The report, line by line.
pub fn lines(soak: &Soak) -> Vec<String> {
    let (driven, audit) = (&soak.driven, &soak.audit);
    let mut lines = vec![format!(
        "soak: {} commands acknowledged, {} unacknowledged, over {} regions ({})",
        audit.acknowledged,
        driven.unacknowledged.len(),
        soak.regions.len(),
        soak.regions.join(", ")
    )];
    if let Some((region, after)) = &soak.killed {
        lines.push(format!("killed: {region} after {after} acknowledgements"));
    }
    if let Some(takeover) = &soak.takeover {
        lines.push(format!("takeover: {takeover}"));
    }
    if let (Some((region, _)), Some(down_for)) = (&soak.killed, soak.down_for) {
        lines.push(format!(
            "returned: {region} brought back after {:.1} s down, once the survivors were quiet and the takeover had \
             run; audited when everything was quiet again ({:.1} s later)",
            down_for.as_secs_f64(),
            soak.phases.after_return.as_secs_f64()
        ));
    }
    if let Some((calls, entries, injected)) = soak.faults {
        lines.push(format!(
            "publish failures injected: {injected} of {entries} PutRecords entries in {calls} calls answered \
             ProvisionedThroughputExceededException"
        ));
    }
    lines.push(format!("lost: {}", audit.lost.len()));
    lines.extend(shown(&audit.lost));
    lines.push(format!(
        "duplicated effects: {} (allowed and counted apart: duplicate deliveries on the streams {}, copies of one \
         audit object in more than one region's bucket {})",
        audit.duplicate_effects.len(),
        audit.duplicate_deliveries,
        audit.audit_copies
    ));
    lines.extend(shown(&audit.duplicate_effects));
    lines.push(format!("per-aggregate order violations: {}", audit.order_violations.len()));
    lines.extend(shown(&audit.order_violations));
    lines.push(format!(
        "conflicts: {} injected (concurrent pairs from two regions acknowledged at one version; {} pairs sent), \
         {} detected (event-log writes replication applied over a concurrent one, last writer wins), {} acknowledged events overwritten",
        audit.conflicts_injected, driven.pairs, soak.replication_conflicts, audit.conflicts_overwritten
    ));
    if soak.killed.is_some() {
        lines.push(format!(
            "stranded in the killed region's replica just before its return (acknowledged there, not replicated \
             out: asynchronous replication's window, propagated on the return): {}",
            audit.stranded.len()
        ));
        lines.push(format!(
            "stranded, then overwritten on the return by a write another region made at the same version while it \
             was down (last writer wins): {}",
            audit.stranded_overwritten.len()
        ));
        lines.extend(shown(&audit.stranded_overwritten));
    }
    lines.push(format!(
        "acknowledged, then overwritten by a concurrent write at the same version whose command was never \
         acknowledged (its answer lost; a conflict the loser's publisher reports): {}",
        audit.overwritten_by_unacknowledged.len()
    ));
    lines.extend(shown(&audit.overwritten_by_unacknowledged));
    if let Some(stats) = &soak.replication {
        lines.push(format!(
            "replication (every table): {} local writes, {} applied elsewhere, {} superseded (last writer wins), {} \
             held while their region was down, {} failed tries tried again",
            stats.local_writes, stats.applied, stats.superseded, stats.held_by_outage, stats.retried
        ));
    }
    lines.push(format!(
        "recorded without an acknowledgement (in flight when a region went down): {}",
        audit.recorded_unacknowledged
    ));
    lines.extend(latency_lines(soak));
    lines.extend(time_lines(soak));
    lines.extend(super::calls::lines(&soak.calls, audit.acknowledged, soak.phases.drive + soak.phases.settle));
    lines.push(format!(
        "result: {}",
        if audit.passed() { "PASS" } else { "FAIL (acknowledged events lost, out of order or applied twice)" }
    ));
    lines
}

fn shown(findings: &[Finding]) -> Vec<String> {
    let mut lines: Vec<String> =
        findings.iter().take(SHOWN).map(|f| format!("  task {} #{}: {}", f.task, f.sequence, f.what)).collect();
    if findings.len() > SHOWN {
        lines.push(format!("  ... and {} more", findings.len() - SHOWN));
    }
    lines
}

fn ms(duration: Option<Duration>) -> String {
    duration.map_or_else(|| "-".to_owned(), |d| format!("{:.0} ms", d.as_secs_f64() * 1e3))
}

fn latency_lines(soak: &Soak) -> Vec<String> {
    let mut acks: Vec<Duration> = soak.driven.acks.iter().map(|a| a.latency).collect();
    acks.sort_unstable();
    let published = &soak.audit.publish_latencies;
    vec![
        format!(
            "latency, command sent -> acknowledged: p50 {}, p99 {}",
            ms(quantile(&acks, 0.5)),
            ms(quantile(&acks, 0.99))
        ),
        format!(
            "latency end to end, command sent -> on a stream (ApproximateArrivalTimestamp): p50 {}, p99 {} ({} events)",
            ms(quantile(published, 0.5)),
            ms(quantile(published, 0.99)),
            published.len()
        ),
    ]
}

fn time_lines(soak: &Soak) -> Vec<String> {
    let phases = &soak.phases;
    let seconds = |d: Duration| d.as_secs_f64();
    let acknowledged = soak.audit.acknowledged as f64;
    let through = phases.drive + phases.settle;
    let mut lines = vec![
        format!(
            "throughput: {:.1} events/s acknowledged while driving ({:.1} s), {:.1} events/s through every store \
             (driving + settling, {:.1} s)",
            acknowledged / seconds(phases.drive).max(1e-3),
            seconds(phases.drive),
            acknowledged / seconds(through).max(1e-3),
            seconds(through)
        ),
        format!(
            "time: start {:.1} s, drive {:.1} s, settle {:.1} s{}{}, audit {:.1} s",
            seconds(phases.start),
            seconds(phases.drive),
            seconds(phases.settle),
            soak.down_for
                .map_or_else(String::new, |_| format!(", after the return {:.1} s", seconds(phases.after_return))),
            if soak.settled { "" } else { " (NOT quiet within the limit)" },
            seconds(phases.audit)
        ),
        "cpu time per process (user + system, /proc/<pid>/stat):".to_owned(),
    ];
    let total: f64 = soak.cpu.iter().map(|(_, d)| seconds(*d)).sum();
    for (group, cpu) in &soak.cpu {
        let share = 100.0 * seconds(*cpu) / total.max(1e-9);
        lines.push(format!("  {:>8.1} s  {share:>5.1}%  {group}", seconds(*cpu)));
    }
    lines
}
