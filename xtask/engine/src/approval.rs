//! The approval gate: which changes need a yes, and where the yes comes from (`--yes` or a
//! person at a terminal). Without either, a change that needs approval is refused.

use crate::review::StackReview;
use anyhow::{Context, Result};
use std::io::{BufRead, IsTerminal, Write};

/// `--require-approval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum RequireApproval {
    /// Execute every change set without asking.
    Never,
    /// Ask before any change.
    Any,
    /// Ask before dangerous changes (replacing or removing stateful resources, removing a
    /// replica, broadening IAM).
    Dangerous,
}

/// The gate for one command run.
#[derive(Debug, Clone)]
pub struct Approval {
    policy: RequireApproval,
    yes: bool,
    interactive: bool,
}

impl Approval {
    /// A gate for `policy`; `yes` approves everything that needs approval.
    pub fn new(policy: RequireApproval, yes: bool) -> Self {
        Approval { policy, yes, interactive: std::io::stdin().is_terminal() }
    }

    /// Whether `review`'s change set may execute.
    pub fn approves(&self, review: &StackReview) -> Result<bool> {
        let needs = match self.policy {
            RequireApproval::Never => false,
            RequireApproval::Any => review.has_changes(),
            RequireApproval::Dangerous => review.is_dangerous(),
        };
        if !needs || self.yes {
            return Ok(true);
        }
        let what = if review.is_dangerous() { "dangerous changes" } else { "changes" };
        self.ask(&format!("{}: execute these {what}?", review.stack))
    }

    /// Whether a stack that failed creation may be deleted and recreated.
    pub fn approves_deletion(&self, stack: &str) -> Result<bool> {
        if self.policy == RequireApproval::Never || self.yes {
            return Ok(true);
        }
        self.ask(&format!("{stack}: delete the failed stack and create it again?"))
    }

    fn ask(&self, question: &str) -> Result<bool> {
        if !self.interactive {
            println!("{question} No terminal to ask and no --yes: refused.");
            return Ok(false);
        }
        print!("{question} [y/N] ");
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer).context("reading the answer")?;
        Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
    }
}
