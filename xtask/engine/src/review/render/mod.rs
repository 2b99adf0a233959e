//! The review rendered for humans at a terminal ([`text`]) and for pull requests ([`markdown`]),
//! with the counts both show ([`Summary`]). For machines, `StackReview` serializes with serde.

mod markdown;
mod text;

pub use markdown::markdown;
pub use text::text;

use super::model::{Action, Replacement, StackReview};
use serde::Serialize;
use serde_json::Value;

/// Counts over every reviewed stack.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Stacks reviewed.
    pub stacks: usize,
    /// Stacks with any change.
    pub stacks_changed: usize,
    /// Resource changes.
    pub changes: usize,
    /// Resources added.
    pub add: usize,
    /// Resources modified.
    pub modify: usize,
    /// Resources removed.
    pub remove: usize,
    /// Imports, dynamic and drift-revert changes.
    pub other: usize,
    /// Resources replaced (`Replacement: True`).
    pub replacements: usize,
    /// Resources that may be replaced (`Replacement: Conditional`).
    pub conditional_replacements: usize,
    /// Dangerous resource changes.
    pub dangerous: usize,
}

impl Summary {
    /// Counts `reviews`.
    pub fn of(reviews: &[StackReview]) -> Summary {
        let mut summary = Summary { stacks: reviews.len(), ..Summary::default() };
        for review in reviews {
            summary.stacks_changed += usize::from(review.has_changes());
            for change in &review.changes {
                summary.changes += 1;
                match change.action {
                    Action::Add => summary.add += 1,
                    Action::Modify => summary.modify += 1,
                    Action::Remove => summary.remove += 1,
                    Action::Import | Action::Dynamic | Action::SyncWithActual => summary.other += 1,
                }
                match change.replacement {
                    Some(Replacement::True) => summary.replacements += 1,
                    Some(Replacement::Conditional) => summary.conditional_replacements += 1,
                    _ => {}
                }
                summary.dangerous += usize::from(change.is_dangerous());
            }
        }
        summary
    }

    /// One line: `3 stacks (1 changed): 4 changes (1 add, 2 modify, 1 remove), 1 replacement, 1 dangerous`.
    pub fn line(&self) -> String {
        let mut parts =
            vec![format!("{} add", self.add), format!("{} modify", self.modify), format!("{} remove", self.remove)];
        if self.other > 0 {
            parts.push(format!("{} other", self.other));
        }
        let mut line = format!(
            "{} ({} changed): {} ({})",
            plural(self.stacks, "stack"),
            self.stacks_changed,
            plural(self.changes, "change"),
            parts.join(", ")
        );
        line.push_str(&format!(", {}", plural(self.replacements, "replacement")));
        if self.conditional_replacements > 0 {
            line.push_str(&format!(", {} conditional", self.conditional_replacements));
        }
        line.push_str(&format!(", {} dangerous", self.dangerous));
        line
    }
}

/// `1 stack`, `2 stacks`.
pub(crate) fn plural(count: usize, noun: &str) -> String {
    if count == 1 { format!("1 {noun}") } else { format!("{count} {noun}s") }
}

/// A value as reviewers read it: strings bare, the rest as compact JSON, `(none)` when absent;
/// cut to `max` characters.
pub(crate) fn value_text(value: Option<&Value>, max: usize) -> String {
    let text = match value {
        None => "(none)".to_string(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    };
    truncate(&text.replace('\n', "\\n"), max)
}

/// At most `max` characters, the cut marked with `…`.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// The replacement column: `True`, `Conditional`, `False`, or `-` when not applicable.
pub(crate) fn replacement_text(replacement: Option<Replacement>) -> &'static str {
    replacement.map_or("-", Replacement::as_str)
}
