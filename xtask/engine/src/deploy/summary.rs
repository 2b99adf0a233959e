//! The closing table of a deployment: one line per stack of the plan (skipped ones too, with
//! why), the details of every failure below it, then each phase's and wave's time.

use super::DeployReport;
use std::time::Duration;

/// Prints the summary of `report`; `elapsed` is the whole command's time.
pub fn print_summary(report: &DeployReport, elapsed: Duration) {
    print!("{}", render(report, elapsed));
}

/// The summary as text.
pub fn render(report: &DeployReport, elapsed: Duration) -> String {
    let mut out = String::new();
    let width = report.stacks.iter().map(|r| r.stack.len()).max().unwrap_or(5).max(5);
    let phase_width = report.stacks.iter().map(|r| r.phase.len()).max().unwrap_or(5).max(5);
    out.push_str(&format!(
        "\n{:<width$}  {:<15}  {:<phase_width$}  {:>7}  {:>9}  {:>8}  result\n",
        "stack", "region", "phase", "changes", "dangerous", "seconds"
    ));
    for r in &report.stacks {
        let danger = if r.dangerous { "yes" } else { "" };
        out.push_str(&format!(
            "{:<width$}  {:<15}  {:<phase_width$}  {:>7}  {danger:>9}  {:>8.1}  {}\n",
            r.stack,
            r.region,
            r.phase,
            r.changes,
            r.elapsed.as_secs_f64(),
            r.outcome.label()
        ));
        for line in r.outcome.detail() {
            out.push_str(&format!("    {line}\n"));
        }
    }
    for note in &report.notes {
        out.push_str(&format!("{note}\n"));
    }
    let phases: Vec<String> = report
        .phases
        .iter()
        .map(|p| {
            format!(
                "{} {:.1} s ({} stack{})",
                p.label,
                p.elapsed.as_secs_f64(),
                p.stacks,
                if p.stacks == 1 { "" } else { "s" }
            )
        })
        .collect();
    if !phases.is_empty() {
        out.push_str(&format!("phases: {}\n", phases.join(", ")));
    }
    out.push_str(&format!("deployed in {:.1} s\n", elapsed.as_secs_f64()));
    out
}
