//! The approval gate: which changes need a yes, and where the yes comes from (`--yes` or a person
//! at a terminal). Without either, a change that needs approval is refused. Changes
//! CloudFormation would refuse are refused here outright: no yes executes them. The terminal
//! prompt is the kit's one way of asking a person anything.

use crate::review::StackReview;
use anyhow::{Context, Result};
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

/// `--require-approval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum RequireApproval {
    /// Execute every change set without asking.
    Never,
    /// Ask before any change.
    Any,
    /// Ask before dangerous changes (replacing or removing stateful resources, removing a
    /// replica, weakening data protection, moving traffic, broadening IAM).
    Dangerous,
}

/// Where answers come from.
pub trait Prompt: std::fmt::Debug + Send + Sync {
    /// Asks `question`; `None` when nobody can answer (no terminal).
    fn ask(&self, question: &str) -> Result<Option<String>>;
}

/// The process's terminal: asks on stdout, reads a line from stdin; nobody answers without one.
#[derive(Debug, Clone, Copy, Default)]
pub struct Terminal;

impl Prompt for Terminal {
    fn ask(&self, question: &str) -> Result<Option<String>> {
        if !std::io::stdin().is_terminal() {
            return Ok(None);
        }
        print!("{question} ");
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer).context("reading the answer")?;
        Ok(Some(answer.trim().to_owned()))
    }
}

/// Asks a yes/no question on `prompt`; no answer is no.
pub fn confirm(prompt: &dyn Prompt, question: &str) -> Result<bool> {
    match prompt.ask(&format!("{question} [y/N]"))? {
        Some(answer) => Ok(matches!(answer.as_str(), "y" | "Y" | "yes")),
        None => {
            println!("{question} No terminal to ask and no --yes: refused.");
            Ok(false)
        }
    }
}

/// The gate for one command run.
#[derive(Debug, Clone)]
pub struct Approval {
    policy: RequireApproval,
    yes: bool,
    prompt: Arc<dyn Prompt>,
}

impl Approval {
    /// A gate for `policy` asking at the terminal; `yes` approves everything that needs approval.
    pub fn new(policy: RequireApproval, yes: bool) -> Self {
        Approval::with_prompt(policy, yes, Arc::new(Terminal))
    }

    /// A gate asking `prompt`.
    pub fn with_prompt(policy: RequireApproval, yes: bool, prompt: Arc<dyn Prompt>) -> Self {
        Approval { policy, yes, prompt }
    }

    /// The policy.
    pub fn policy(&self) -> RequireApproval {
        self.policy
    }

    /// Whether `review`'s change set may execute. A change CloudFormation would refuse is never
    /// approved.
    pub fn approves(&self, review: &StackReview) -> Result<bool> {
        if review.is_refused() {
            return Ok(false);
        }
        let needs = match self.policy {
            RequireApproval::Never => false,
            RequireApproval::Any => review.has_changes(),
            RequireApproval::Dangerous => review.is_dangerous(),
        };
        if !needs || self.yes {
            return Ok(true);
        }
        let what = if review.is_dangerous() { "dangerous changes" } else { "changes" };
        confirm(self.prompt.as_ref(), &format!("{}: execute these {what}?", review.stack))
    }

    /// Whether a step outside any change set (deleting a failed stack, importing what it kept,
    /// lifting a stack policy) may go ahead: `--yes`, `--require-approval never`, or a person.
    pub fn approves_step(&self, question: &str) -> Result<bool> {
        if self.yes || self.policy == RequireApproval::Never {
            return Ok(true);
        }
        confirm(self.prompt.as_ref(), question)
    }
}
