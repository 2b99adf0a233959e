//! A poison event holds its aggregate across invocations: once the mapping has given up on it,
//! later events of that aggregate are kept back (counted, acknowledged) instead of being
//! published past the hole, while other aggregates flow; without its holds the publisher
//! publishes no local event.

use super::*;

fn poisoned(id: &str, sequence: u64) -> domain::EventItem {
    let mut broken = task_event(id, sequence, REGION);
    broken.payload = "{not json".into();
    broken
}

#[tokio::test]
async fn a_poison_event_holds_its_aggregate_across_invocations() {
    let kinesis = FakeKinesis::reliable();
    let holds = MemoryHolds::default();
    let publisher = with_holds(kinesis.clone(), FakeConflicts::default(), holds.clone());
    let first = vec![
        stream_record(Change::Insert(&task_event("x", 1, REGION)), 1),
        stream_record(Change::Insert(&poisoned("x", 2)), 2),
        stream_record(Change::Insert(&task_event("y", 1, REGION)), 3),
    ];
    let (failure, stats) = run(&publisher, &dynamodb_event(first)).await;
    assert_eq!((failure.as_deref(), stats.unpublishable), (Some("000000000000000000002"), 1));
    // The mapping's retries end in the dead-letter queue; the next batch starts after it.
    let next = vec![
        stream_record(Change::Insert(&task_event("x", 3, REGION)), 4),
        stream_record(Change::Insert(&task_event("y", 2, REGION)), 5),
        stream_record(Change::Insert(&task_event("x", 4, REGION)), 6),
    ];
    let (failure, stats) = run(&publisher, &dynamodb_event(next)).await;
    assert_eq!(failure, None, "held events are acknowledged, not retried forever");
    assert_eq!((stats.held_back, stats.published), (2, 1));
    assert_eq!(kinesis.sequences_of("Task#x"), [1], "nothing past the hole");
    assert_eq!(kinesis.sequences_of("Task#y"), [1, 2]);
    let hold = holds.load().await.unwrap()["Task#x"].clone();
    assert_eq!((hold.sequence, hold.kept_back, hold.stream_sequence_number.as_str()), (2, 2, "000000000000000000002"));
}

#[tokio::test]
async fn without_its_holds_the_publisher_publishes_no_local_event() {
    let kinesis = FakeKinesis::reliable();
    let holds = MemoryHolds::unreachable();
    let publisher = with_holds(kinesis.clone(), FakeConflicts::default(), holds);
    let records = vec![
        stream_record(Change::Insert(&task_event("f", 1, "eu-west-1")), 1),
        stream_record(Change::Insert(&task_event("l", 1, REGION)), 2),
    ];
    let (failure, stats) = run(&publisher, &dynamodb_event(records)).await;
    assert_eq!((failure.as_deref(), stats.published), (Some("000000000000000000002"), 0));
    assert!(kinesis.stored().is_empty());
}
