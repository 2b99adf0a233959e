//! The sample aggregate: a task that can be created, renamed, completed and reopened.
//!
//! Invariants: a title is 1-200 characters after trimming, without control characters; a task
//! is created once; only an open task can be renamed (to a different title) or completed; only
//! a completed task can be reopened.

use crate::aggregate::{Aggregate, EventBody, EventMeta};
use crate::error::DomainError;
use serde::{Deserialize, Serialize};

/// The longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;

/// A validated task title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Title(String);

impl Title {
    /// Trims and checks a title; errors name the `title` field.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let title = raw.trim();
        if title.is_empty() {
            return Err(DomainError::invalid("title", "must not be empty"));
        }
        if title.chars().count() > MAX_TITLE_CHARS {
            return Err(DomainError::invalid("title", format!("must be at most {MAX_TITLE_CHARS} characters")));
        }
        if title.chars().any(char::is_control) {
            return Err(DomainError::invalid("title", "must not contain control characters"));
        }
        Ok(Title(title.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a client can ask of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TaskCommand {
    /// Create the task.
    Create {
        /// Its title.
        title: Title,
    },
    /// Change the title of an open task.
    Rename {
        /// The new title.
        title: Title,
    },
    /// Mark an open task done.
    Complete,
    /// Open a completed task again.
    Reopen,
}

/// What happened to a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskEvent {
    /// `TaskCreated {title}`.
    Created {
        /// The title.
        title: Title,
    },
    /// `TaskRenamed {title}`.
    Renamed {
        /// The new title.
        title: Title,
    },
    /// `TaskCompleted {}`.
    Completed,
    /// `TaskReopened {}`.
    Reopened,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TitlePayload {
    title: Title,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmptyPayload {}

impl EventBody for TaskEvent {
    fn event_type(&self) -> &'static str {
        match self {
            TaskEvent::Created { .. } => "TaskCreated",
            TaskEvent::Renamed { .. } => "TaskRenamed",
            TaskEvent::Completed => "TaskCompleted",
            TaskEvent::Reopened => "TaskReopened",
        }
    }

    fn payload_json(&self) -> String {
        match self {
            TaskEvent::Created { title } | TaskEvent::Renamed { title } => {
                serde_json::json!({ "title": title }).to_string()
            }
            TaskEvent::Completed | TaskEvent::Reopened => "{}".to_owned(),
        }
    }

    fn from_parts(event_type: &str, version: u32, payload: &str) -> Result<Self, DomainError> {
        let bad = |message: String| DomainError::malformed(format!("{event_type} event"), message);
        if version != 1 {
            return Err(bad(format!("version {version} is unknown (known: 1)")));
        }
        let title = || -> Result<Title, DomainError> {
            let body: TitlePayload = serde_json::from_str(payload).map_err(|e| bad(e.to_string()))?;
            // Stored titles were validated when decided; check again so a forged event cannot
            // put an invalid title into a read model.
            Title::parse(body.title.as_str()).map_err(|e| bad(e.to_string()))
        };
        let empty = || -> Result<(), DomainError> {
            serde_json::from_str::<EmptyPayload>(payload).map(drop).map_err(|e| bad(e.to_string()))
        };
        match event_type {
            "TaskCreated" => Ok(TaskEvent::Created { title: title()? }),
            "TaskRenamed" => Ok(TaskEvent::Renamed { title: title()? }),
            "TaskCompleted" => empty().map(|()| TaskEvent::Completed),
            "TaskReopened" => empty().map(|()| TaskEvent::Reopened),
            other => Err(bad(format!("event type {other:?} is unknown"))),
        }
    }
}

/// The state of a task.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Task {
    /// The title (empty until created).
    pub title: String,
    /// Whether it is done.
    pub completed: bool,
    /// When it was created.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
}

impl Aggregate for Task {
    const TYPE: &'static str = "Task";
    type Command = TaskCommand;
    type Event = TaskEvent;

    fn exists(&self) -> bool {
        !self.created_at.is_empty()
    }

    fn decide(&self, command: &TaskCommand) -> Result<Vec<TaskEvent>, DomainError> {
        let reject = |reason: &str| Err(DomainError::Rejected { reason: reason.to_owned() });
        match command {
            TaskCommand::Create { .. } if self.exists() => reject("the task already exists"),
            TaskCommand::Create { title } => Ok(vec![TaskEvent::Created { title: title.clone() }]),
            _ if !self.exists() => Err(DomainError::NotFound { aggregate: Task::TYPE.to_owned() }),
            TaskCommand::Rename { .. } if self.completed => {
                reject("a completed task cannot be renamed; reopen it first")
            }
            TaskCommand::Rename { title } if title.as_str() == self.title => reject("the task already has this title"),
            TaskCommand::Rename { title } => Ok(vec![TaskEvent::Renamed { title: title.clone() }]),
            TaskCommand::Complete if self.completed => reject("the task is already completed"),
            TaskCommand::Complete => Ok(vec![TaskEvent::Completed]),
            TaskCommand::Reopen if !self.completed => reject("the task is not completed"),
            TaskCommand::Reopen => Ok(vec![TaskEvent::Reopened]),
        }
    }

    fn apply(&mut self, event: &TaskEvent, meta: EventMeta<'_>) {
        match event {
            TaskEvent::Created { title } => {
                self.title = title.as_str().to_owned();
                self.created_at = meta.recorded_at.to_owned();
            }
            TaskEvent::Renamed { title } => self.title = title.as_str().to_owned(),
            TaskEvent::Completed => self.completed = true,
            TaskEvent::Reopened => self.completed = false,
        }
        self.updated_at = meta.recorded_at.to_owned();
    }
}

#[cfg(test)]
#[path = "task_tests.rs"]
mod tests;
