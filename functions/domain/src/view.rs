//! The Task read model (`<app>-views-<projection>`, hash key `AggregateTypeAndId`, range key
//! `ProjectedBy`): each region's view projector writes its own row of a task with a version
//! condition, and readers take the newest row ([`contract::read_model`] says why no row has two
//! writers). Each row also stores the EventId of the event that made its version, so the
//! projector can tell a redelivery of that event (a duplicate) from another event with the same
//! sequence (a conflict that last-writer-wins settled in the log).

use crate::aggregate::{Aggregate, Folded};
use crate::error::DomainError;
use crate::idempotency::is_conditional_failure;
use crate::item::{AGGREGATE_KEY, AttributeMap, aggregate_key, required_number, required_string};
use crate::task::Task;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use contract::read_model::PROJECTED_BY;
use serde::Serialize;
use std::collections::HashMap;

/// A task as clients read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskView {
    /// The task id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Whether it is done.
    pub completed: bool,
    /// The sequence of the last applied event.
    pub version: u64,
    /// When it was created.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
}

impl TaskView {
    /// The view of a folded task.
    pub fn from_folded(id: &str, folded: &Folded<Task>) -> Self {
        TaskView {
            id: id.to_owned(),
            title: folded.state.title.clone(),
            completed: folded.state.completed,
            version: folded.version,
            created_at: folded.state.created_at.clone(),
            updated_at: folded.state.updated_at.clone(),
        }
    }

    /// The folded state this view stores, to apply further events to.
    pub fn to_folded(&self) -> Folded<Task> {
        Folded {
            state: Task {
                title: self.title.clone(),
                completed: self.completed,
                created_at: self.created_at.clone(),
                updated_at: self.updated_at.clone(),
            },
            version: self.version,
        }
    }

    /// The item PutItem writes.
    pub fn to_sdk(&self) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (AGGREGATE_KEY.to_owned(), AttributeValue::S(aggregate_key(Task::TYPE, &self.id))),
            ("Version".to_owned(), AttributeValue::N(self.version.to_string())),
            ("Title".to_owned(), AttributeValue::S(self.title.clone())),
            ("Completed".to_owned(), AttributeValue::Bool(self.completed)),
            ("CreatedAt".to_owned(), AttributeValue::S(self.created_at.clone())),
            ("UpdatedAt".to_owned(), AttributeValue::S(self.updated_at.clone())),
        ])
    }

    /// Reads a stored view.
    pub fn from_sdk(item: &HashMap<String, AttributeValue>) -> Result<Self, DomainError> {
        let key = required_string(item, AGGREGATE_KEY)?;
        let id =
            key.strip_prefix("Task#").ok_or_else(|| DomainError::malformed("task view", format!("key {key:?}")))?;
        let completed = match item.get("Completed") {
            Some(AttributeValue::Bool(b)) => *b,
            _ => return Err(DomainError::malformed("task view", "Completed is missing")),
        };
        Ok(TaskView {
            id: id.to_owned(),
            title: required_string(item, "Title")?.to_owned(),
            completed,
            version: required_number(item, "Version")?,
            created_at: item.string("CreatedAt").unwrap_or_default().to_owned(),
            updated_at: item.string("UpdatedAt").unwrap_or_default().to_owned(),
        })
    }
}

/// A view as stored: what clients read, and the EventId its version came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredView {
    /// The view.
    pub view: TaskView,
    /// EventId of the event at `view.version`; absent in views written before it was stored.
    pub last_event_id: Option<String>,
}

impl StoredView {
    /// The item PutItem writes.
    pub fn to_sdk(&self) -> HashMap<String, AttributeValue> {
        let mut item = self.view.to_sdk();
        if let Some(id) = &self.last_event_id {
            item.insert(LAST_EVENT_ID.to_owned(), AttributeValue::S(id.clone()));
        }
        item
    }

    /// Reads a stored view.
    pub fn from_sdk(item: &HashMap<String, AttributeValue>) -> Result<Self, DomainError> {
        Ok(StoredView { view: TaskView::from_sdk(item)?, last_event_id: item.string(LAST_EVENT_ID).map(str::to_owned) })
    }
}

/// Attribute holding [`StoredView::last_event_id`].
const LAST_EVENT_ID: &str = "LastEventId";

/// The view among a task's rows: the one with the highest version. Rows at that version that
/// name different events disagree (two regions each projected one side of a conflict before last
/// writer wins settled the log): then there is no view, and a reader folds the log instead.
pub fn newest(mut rows: Vec<StoredView>) -> Option<StoredView> {
    rows.sort_by_key(|row| std::cmp::Reverse(row.view.version));
    let mut rows = rows.into_iter();
    let first = rows.next()?;
    let disagree = rows
        .take_while(|row| row.view.version == first.view.version)
        .any(|row| row.last_event_id != first.last_event_id);
    (!disagree).then_some(first)
}

/// The read-model table as one region sees it: reads the newest row of a task, writes the
/// region's own.
#[derive(Debug, Clone)]
pub struct ViewStore {
    client: Client,
    table: String,
    region: String,
}

impl ViewStore {
    /// The store over `table`, writing the rows of `region`.
    pub fn new(client: Client, table: impl Into<String>, region: impl Into<String>) -> Self {
        ViewStore { client, table: table.into(), region: region.into() }
    }

    /// The view of task `id`: the newest of its rows ([`newest`]). One Query of the task's
    /// partition, which holds a row per region that projected it (far below a page).
    pub async fn get(&self, id: &str, consistent: bool) -> Result<Option<StoredView>, DomainError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(consistent)
            .key_condition_expression("#k = :k")
            .expression_attribute_names("#k", AGGREGATE_KEY)
            .expression_attribute_values(":k", AttributeValue::S(aggregate_key(Task::TYPE, id)))
            .send()
            .await
            .map_err(|e| DomainError::from_sdk("Query", &e))?;
        let rows = output.items().iter().map(StoredView::from_sdk).collect::<Result<Vec<_>, _>>()?;
        Ok(newest(rows))
    }

    /// This region's row of task `id`, read consistently: the projector builds on it.
    pub async fn own(&self, id: &str) -> Result<Option<StoredView>, DomainError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .consistent_read(true)
            .key(AGGREGATE_KEY, AttributeValue::S(aggregate_key(Task::TYPE, id)))
            .key(PROJECTED_BY, AttributeValue::S(self.region.clone()))
            .send()
            .await
            .map_err(|e| DomainError::from_sdk("GetItem", &e))?;
        output.item.as_ref().map(StoredView::from_sdk).transpose()
    }

    /// Writes `view` as this region's row only if that row is still at `previous` (absent for
    /// 0). Returns false when another writer got there first.
    pub async fn put_if_version(&self, view: &StoredView, previous: u64) -> Result<bool, DomainError> {
        let mut item = view.to_sdk();
        item.insert(PROJECTED_BY.to_owned(), AttributeValue::S(self.region.clone()));
        let request = self.client.put_item().table_name(&self.table).set_item(Some(item));
        let request = if previous == 0 {
            request.condition_expression("attribute_not_exists(#k)").expression_attribute_names("#k", AGGREGATE_KEY)
        } else {
            request
                .condition_expression("#v = :previous")
                .expression_attribute_names("#v", "Version")
                .expression_attribute_values(":previous", AttributeValue::N(previous.to_string()))
        };
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(DomainError::from_sdk("PutItem", &e)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_view_round_trips_through_its_item() {
        let view = TaskView {
            id: "t-1".into(),
            title: "Buy milk".into(),
            completed: true,
            version: 4,
            created_at: "2026-01-02T03:04:05.678Z".into(),
            updated_at: "2026-01-02T03:04:09.000Z".into(),
        };
        assert_eq!(TaskView::from_sdk(&view.to_sdk()).unwrap(), view);
        assert_eq!(TaskView::from_folded("t-1", &view.to_folded()), view);
        let stored = StoredView { view, last_event_id: Some("e4".into()) };
        assert_eq!(StoredView::from_sdk(&stored.to_sdk()).unwrap(), stored);
    }

    fn row(version: u64, event: Option<&str>) -> StoredView {
        let view = TaskView {
            id: "t-1".into(),
            title: format!("v{version}"),
            completed: false,
            version,
            created_at: String::new(),
            updated_at: String::new(),
        };
        StoredView { view, last_event_id: event.map(str::to_owned) }
    }

    #[test]
    fn the_newest_row_is_the_view() {
        let rows = vec![row(16, Some("e16")), row(18, Some("e18")), row(17, Some("e17"))];
        assert_eq!(newest(rows), Some(row(18, Some("e18"))));
        assert_eq!(newest(Vec::new()), None);
    }

    #[test]
    fn rows_at_one_version_agree_when_they_name_the_same_event() {
        let rows = vec![row(18, Some("e18")), row(18, Some("e18")), row(3, Some("x"))];
        assert_eq!(newest(rows), Some(row(18, Some("e18"))));
    }

    #[test]
    fn rows_at_the_newest_version_naming_different_events_are_no_view() {
        let rows = vec![row(16, Some("a16")), row(16, Some("b16")), row(15, Some("e15"))];
        assert_eq!(newest(rows), None);
        let settled = vec![row(16, Some("a16")), row(17, Some("a17")), row(16, Some("b16"))];
        assert_eq!(newest(settled), Some(row(17, Some("a17"))), "a later version settles it");
    }
}
