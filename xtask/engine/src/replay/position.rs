//! Where an interrupted replay resumes: a small JSON file per region under `.regions-kit/`
//! (`replay-<region>.json`), holding the selection it belongs to and, after each chunk, the first
//! event not yet on the stream: the next sequence for one aggregate, otherwise the earliest
//! `RecordedAt` left (events at that time may go out twice; none is skipped). A file rather than
//! an item in the app's tables: a replay is one operator's run, its position means nothing to
//! another selection or machine, and writing it needs no permission on the app's data.

use super::Selection;
use anyhow::{Context, Result};
use domain::EventItem;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The directory of the kit's local state.
pub const STATE_DIR: &str = ".regions-kit";

/// How far a replay got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// [`Selection::describe`] of the replay it belongs to.
    pub selection: String,
    /// Every event was published.
    pub done: bool,
    /// One aggregate: the first sequence not yet published.
    pub from_sequence: Option<u64>,
    /// Otherwise: the earliest `RecordedAt` not yet published.
    pub since: Option<String>,
}

impl Position {
    /// The position once every event but `left` is on the stream.
    pub fn after(selection: &Selection, left: &[&EventItem]) -> Position {
        let one_aggregate = selection.aggregate_id.is_some();
        Position {
            selection: selection.describe(),
            done: left.is_empty(),
            from_sequence: if one_aggregate { left.iter().map(|e| e.sequence).min() } else { None },
            since: if one_aggregate { None } else { left.iter().map(|e| e.recorded_at.clone()).min() },
        }
    }
}

/// The position file of one region's replays.
#[derive(Debug, Clone)]
pub struct PositionFile {
    path: PathBuf,
}

impl PositionFile {
    /// `<root>/.regions-kit/replay-<region>.json`.
    pub fn new(root: &Path, region: &str) -> PositionFile {
        PositionFile { path: root.join(STATE_DIR).join(format!("replay-{region}.json")) }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved position of `selection`, if the last replay in the region was that selection.
    pub fn load(&self, selection: &Selection) -> Result<Option<Position>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error).with_context(|| format!("reading {}", self.path.display())),
        };
        let position: Position = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a replay position; delete it to start over", self.path.display()))?;
        Ok((position.selection == selection.describe()).then_some(position))
    }

    /// Saves `position` (written whole, then renamed into place).
    pub fn save(&self, position: &Position) -> Result<()> {
        let dir = self.path.parent().context("the position file's directory")?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let partial = self.path.with_extension("json.partial");
        std::fs::write(&partial, serde_json::to_vec_pretty(position)?)
            .with_context(|| format!("writing {}", partial.display()))?;
        std::fs::rename(&partial, &self.path).with_context(|| format!("writing {}", self.path.display()))
    }
}
