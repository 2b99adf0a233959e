//! Tests of the Task aggregate: invariants, event payloads and folding.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::aggregate::{ApplyError, Folded, fold};
use crate::item::EventItem;

fn title(text: &str) -> Title {
    Title::parse(text).unwrap()
}

fn meta(sequence: u64) -> EventMeta<'static> {
    EventMeta { sequence, recorded_at: "2026-01-02T03:04:05.678Z" }
}

fn created() -> Task {
    let mut task = Task::default();
    task.apply(&TaskEvent::Created { title: title("a") }, meta(1));
    task
}

#[test]
fn titles_are_trimmed_and_bounded() {
    assert_eq!(title("  Buy milk ").as_str(), "Buy milk");
    for bad in ["", "   ", "a\u{7}b", &"x".repeat(MAX_TITLE_CHARS + 1)] {
        let error = Title::parse(bad).unwrap_err();
        assert!(matches!(&error, DomainError::Invalid { field, .. } if field == "title"), "{bad:?}: {error}");
    }
    assert!(Title::parse(&"é".repeat(MAX_TITLE_CHARS)).is_ok());
}

#[test]
fn a_task_is_created_once() {
    let create = TaskCommand::Create { title: title("a") };
    assert_eq!(Task::default().decide(&create).unwrap(), vec![TaskEvent::Created { title: title("a") }]);
    assert!(matches!(created().decide(&create), Err(DomainError::Rejected { .. })));
}

#[test]
fn commands_on_a_missing_task_are_not_found() {
    for command in [TaskCommand::Complete, TaskCommand::Reopen, TaskCommand::Rename { title: title("b") }] {
        assert!(matches!(Task::default().decide(&command), Err(DomainError::NotFound { .. })));
    }
}

#[test]
fn complete_reopen_and_rename_follow_the_lifecycle() {
    let mut task = created();
    let rejected =
        |task: &Task, command: TaskCommand| matches!(task.decide(&command), Err(DomainError::Rejected { .. }));
    assert!(rejected(&task, TaskCommand::Reopen));
    assert!(rejected(&task, TaskCommand::Rename { title: title("a") }));
    assert_eq!(task.decide(&TaskCommand::Complete).unwrap(), vec![TaskEvent::Completed]);
    task.apply(&TaskEvent::Completed, meta(2));
    assert!(task.completed);
    assert!(rejected(&task, TaskCommand::Complete));
    assert!(rejected(&task, TaskCommand::Rename { title: title("b") }));
    task.apply(&TaskEvent::Reopened, meta(3));
    assert_eq!(
        task.decide(&TaskCommand::Rename { title: title("b") }).unwrap(),
        vec![TaskEvent::Renamed { title: title("b") }]
    );
}

#[test]
fn events_round_trip_through_their_stored_parts() {
    for event in [
        TaskEvent::Created { title: title("x \"y\"") },
        TaskEvent::Renamed { title: title("z") },
        TaskEvent::Completed,
        TaskEvent::Reopened,
    ] {
        let parsed = TaskEvent::from_parts(event.event_type(), event.event_version(), &event.payload_json()).unwrap();
        assert_eq!(parsed, event);
    }
}

#[test]
fn unknown_types_versions_and_payloads_are_malformed() {
    for (kind, version, payload) in [
        ("TaskDeleted", 1, "{}"),
        ("TaskCreated", 2, r#"{"title":"a"}"#),
        ("TaskCreated", 1, r#"{"name":"a"}"#),
        ("TaskCreated", 1, r#"{"title":""}"#),
        ("TaskCompleted", 1, r#"{"extra":1}"#),
        ("TaskCompleted", 1, "not json"),
    ] {
        let error = TaskEvent::from_parts(kind, version, payload).unwrap_err();
        assert!(matches!(error, DomainError::Malformed { .. }), "{kind}");
    }
}

fn item(sequence: u64, event: &TaskEvent) -> EventItem {
    EventItem {
        aggregate_key: "Task#t".into(),
        sequence,
        event_id: format!("e{sequence}"),
        event_type: event.event_type().into(),
        event_version: 1,
        payload: event.payload_json(),
        origin_region: "us-east-1".into(),
        recorded_at: format!("2026-01-02T03:04:0{sequence}.000Z"),
        command_id: "c".into(),
    }
}

#[test]
fn fold_rebuilds_state_and_version_and_rejects_gaps() {
    let items = [
        item(1, &TaskEvent::Created { title: title("a") }),
        item(2, &TaskEvent::Renamed { title: title("b") }),
        item(3, &TaskEvent::Completed),
    ];
    let folded = fold::<Task>(&items).unwrap();
    assert_eq!(folded.version, 3);
    assert_eq!(folded.state.title, "b");
    assert!(folded.state.completed);
    assert_eq!(folded.state.created_at, "2026-01-02T03:04:01.000Z");
    assert_eq!(folded.state.updated_at, "2026-01-02T03:04:03.000Z");
    let gap = fold::<Task>(&[items[0].clone(), items[2].clone()]).unwrap_err();
    assert!(matches!(gap, DomainError::Replicating { have: 1, want: 2, .. }), "{gap}");
    assert!(gap.is_retryable(), "replication in flight, not corruption");
}

#[test]
fn applying_a_duplicate_is_a_no_op_and_a_gap_is_reported() {
    let mut folded = Folded::<Task>::default();
    let created = TaskEvent::Created { title: title("a") };
    let payload = created.payload_json();
    assert!(folded.apply_item("TaskCreated", 1, &payload, meta(1)).unwrap());
    assert!(!folded.apply_item("TaskCreated", 1, &payload, meta(1)).unwrap());
    assert_eq!(folded.apply_item("TaskCompleted", 1, "{}", meta(3)), Err(ApplyError::Gap { have: 1, got: 3 }));
    assert_eq!(folded.version, 1);
}
