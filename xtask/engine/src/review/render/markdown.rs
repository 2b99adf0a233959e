//! The pull-request rendering: a summary line (and a bold warning when anything is dangerous), then
//! per stack a `### <stack> (<region>)` section with a table, the dangers, and the property
//! changes folded in a `<details>` block.

use super::{Summary, plural, replacement_text, truncate, value_text};
use crate::review::model::{Replacement, ResourceChange, Source, StackReview};
use std::fmt::Write;

/// Longest value shown in a table cell: PR tables get unreadable beyond this.
const VALUE_WIDTH: usize = 50;

/// Every stack's review as GitHub-flavoured markdown.
pub fn markdown(reviews: &[StackReview]) -> String {
    // Writing to a String cannot fail; the results are ignored throughout.
    let mut out = String::new();
    let summary = Summary::of(reviews);
    let _ = writeln!(out, "**Change review:** {}\n", summary.line());
    if summary.dangerous > 0 {
        let stacks = reviews.iter().filter(|r| r.is_dangerous()).count();
        let _ = writeln!(
            out,
            "> **⚠️ Warning: {} in {}. Review them before deploying; deploy refuses them without approval.**\n",
            plural(summary.dangerous, "dangerous change"),
            plural(stacks, "stack")
        );
    }
    let unreviewed: Vec<String> = reviews.iter().filter(|r| r.unreviewable.is_some()).map(|r| code(&r.stack)).collect();
    if !unreviewed.is_empty() {
        let _ = writeln!(out, "> **Not reviewed:** {}. Their changes are unknown.\n", unreviewed.join(", "));
    }
    for review in reviews {
        stack(&mut out, review);
    }
    out
}

fn stack(out: &mut String, review: &StackReview) {
    let _ = writeln!(out, "### {} ({})\n", review.stack, review.region);
    if let Some(why) = &review.unreviewable {
        let _ = writeln!(out, "> **Not reviewed:** {}\n", escape_inline(why));
        return;
    }
    if review.no_changes {
        let _ = writeln!(out, "No changes.\n");
    }
    if !review.changes.is_empty() {
        let _ = writeln!(out, "| | Action | Logical ID | Type | Replacement | Scope |\n|---|---|---|---|---|---|");
        for change in &review.changes {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                if change.is_dangerous() { "⚠️" } else { "" },
                change.action.as_str(),
                code(&change.logical_id),
                code(&change.resource_type),
                replacement_cell(change.replacement),
                cell(&change.scope.join(", "))
            );
        }
        out.push('\n');
    }
    dangers(out, review);
    if !review.other_changes.is_empty() {
        let items: Vec<String> = review.other_changes.iter().map(|c| code(c)).collect();
        let _ = writeln!(out, "Other template changes: {}\n", items.join(", "));
    }
    properties(out, review);
    for note in &review.notes {
        let _ = writeln!(out, "_Note: {}_\n", escape_inline(note));
    }
}

fn replacement_cell(replacement: Option<Replacement>) -> String {
    match replacement {
        Some(Replacement::True) => "**True**".to_string(),
        Some(Replacement::Conditional) => "_Conditional_".to_string(),
        other => replacement_text(other).to_string(),
    }
}

fn dangers(out: &mut String, review: &StackReview) {
    let dangerous: Vec<&ResourceChange> = review.changes.iter().filter(|c| c.is_dangerous()).collect();
    if dangerous.is_empty() {
        return;
    }
    let _ = writeln!(out, "**Dangerous changes**\n");
    for change in dangerous {
        for danger in &change.dangers {
            let refused = if danger.refuses() { "**Refused** " } else { "" };
            let _ = writeln!(out, "- {refused}{}: {}", code(&change.logical_id), escape_inline(&danger.reason()));
        }
    }
    out.push('\n');
}

fn properties(out: &mut String, review: &StackReview) {
    let count: usize = review.changes.iter().map(|c| c.properties.len()).sum();
    if count == 0 {
        return;
    }
    let mixed = review.changes.iter().any(|c| c.source != Source::Predicted);
    let _ = writeln!(out, "<details>\n<summary>Property changes ({count})</summary>\n");
    let _ = writeln!(out, "| Logical ID | Property | Before | After | Notes |\n|---|---|---|---|---|");
    for change in &review.changes {
        for property in &change.properties {
            let mut notes = Vec::new();
            if property.create_only {
                notes.push("create-only".to_string());
            }
            if let Some(cause) = &property.cause {
                notes.push(cause.clone());
            }
            if mixed && property.source == Source::Predicted {
                notes.push("predicted".to_string());
            }
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                code(&change.logical_id),
                code(&property.path),
                code(&value_text(property.before.as_ref(), VALUE_WIDTH)),
                code(&value_text(property.after.as_ref(), VALUE_WIDTH)),
                cell(&notes.join("; "))
            );
        }
    }
    let _ = writeln!(out, "\n</details>\n");
}

/// A code span that survives a table cell: pipes escaped (GFM honours `\|` inside code spans in
/// tables), backticks handled with a double-backtick fence.
fn code(text: &str) -> String {
    let text = truncate(&text.replace('\n', " "), 200).replace('|', "\\|");
    if text.contains('`') { format!("`` {text} ``") } else { format!("`{text}`") }
}

/// Plain text in a table cell (`escape_inline` covers the pipe).
fn cell(text: &str) -> String {
    escape_inline(text)
}

/// Text that must not be read as markup: the characters GitHub would interpret are escaped.
fn escape_inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.replace('\n', " ").chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '<' | '>' | '[' | ']' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
