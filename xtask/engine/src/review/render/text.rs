//! The terminal rendering: per stack a table (action, logical id, type, replacement, scope), each
//! change's property lines `path: before → after`, and `!! DANGER` lines. No color codes.

use super::{Summary, plural, replacement_text, value_text};
use crate::review::model::{ResourceChange, Source, StackReview};
use std::fmt::Write;

/// Longest value shown on a property line.
const VALUE_WIDTH: usize = 60;
const HEADERS: [&str; 5] = ["Action", "Logical ID", "Type", "Replacement", "Scope"];

/// Every stack's review and a closing summary line.
pub fn text(reviews: &[StackReview]) -> String {
    let mut out = String::new();
    for review in reviews {
        stack(&mut out, review);
        out.push('\n');
    }
    let summary = Summary::of(reviews);
    let _ = writeln!(out, "{}", summary.line());
    if summary.dangerous > 0 {
        let _ = writeln!(out, "!! {} need explicit approval", plural(summary.dangerous, "dangerous change"));
    }
    let refused: Vec<String> = reviews.iter().flat_map(StackReview::refusals).collect();
    if !refused.is_empty() {
        let _ = writeln!(
            out,
            "!! {} CloudFormation would refuse: no approval executes them",
            plural(refused.len(), "change")
        );
    }
    let unreviewed: Vec<&str> = reviews.iter().filter(|r| r.unreviewable.is_some()).map(|r| r.stack.as_str()).collect();
    if !unreviewed.is_empty() {
        let _ = writeln!(out, "!! not reviewed: {}", unreviewed.join(", "));
    }
    out
}

fn stack(out: &mut String, review: &StackReview) {
    // Writing to a String cannot fail; the results are ignored throughout.
    let dangerous = review.changes.iter().filter(|c| c.is_dangerous()).count();
    let _ = write!(out, "{} ({}): ", review.stack, review.region);
    if let Some(why) = &review.unreviewable {
        let _ = writeln!(out, "NOT REVIEWED: {why}");
        return;
    }
    if review.no_changes {
        let _ = writeln!(out, "no changes");
    } else {
        let _ = writeln!(
            out,
            "{}, {} dangerous",
            plural(review.changes.len() + review.other_changes.len(), "change"),
            dangerous
        );
    }
    if !review.changes.is_empty() {
        // In a review mixing the change set and the prediction, say which lines only the
        // prediction saw; offline everything is predicted, so saying it on each line is noise.
        let mixed = review.changes.iter().any(|c| c.source != Source::Predicted);
        let rows: Vec<[String; 5]> = review.changes.iter().map(row).collect();
        let widths = column_widths(&rows);
        let _ = writeln!(out, "   {}", cells(&HEADERS.map(str::to_string), &widths));
        for (change, row) in review.changes.iter().zip(&rows) {
            let marker = if change.is_dangerous() { "!!" } else { "  " };
            let predicted = if mixed && change.source == Source::Predicted { "  (predicted only)" } else { "" };
            let _ = writeln!(out, "{marker} {}{predicted}", cells(row, &widths));
            details(out, change, mixed);
        }
    }
    for other in &review.other_changes {
        let _ = writeln!(out, "   template: {other}");
    }
    for note in &review.notes {
        let _ = writeln!(out, "   note: {note}");
    }
}

fn row(change: &ResourceChange) -> [String; 5] {
    [
        change.action.as_str().to_string(),
        change.logical_id.clone(),
        change.resource_type.clone(),
        replacement_text(change.replacement).to_string(),
        change.scope.join(", "),
    ]
}

fn column_widths(rows: &[[String; 5]]) -> [usize; 5] {
    let mut widths = HEADERS.map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    widths
}

fn cells(row: &[String; 5], widths: &[usize; 5]) -> String {
    let padded: Vec<String> = row.iter().zip(widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
    padded.join("  ").trim_end().to_string()
}

fn details(out: &mut String, change: &ResourceChange, mixed: bool) {
    for property in &change.properties {
        let mut tags = Vec::new();
        if property.create_only {
            tags.push("create-only".to_string());
        }
        if let Some(cause) = &property.cause {
            tags.push(cause.clone());
        }
        if mixed && property.source == Source::Predicted {
            tags.push("predicted".to_string());
        }
        let tags = if tags.is_empty() { String::new() } else { format!("  [{}]", tags.join("; ")) };
        let _ = writeln!(
            out,
            "       {}: {} → {}{tags}",
            property.path,
            value_text(property.before.as_ref(), VALUE_WIDTH),
            value_text(property.after.as_ref(), VALUE_WIDTH)
        );
    }
    for danger in &change.dangers {
        let word = if danger.refuses() { "REFUSED" } else { "DANGER" };
        let _ = writeln!(out, "!!     {word} {}: {}", change.logical_id, danger.reason());
    }
}
