//! Conflicts: an INSERT overwritten within its batch is reported, not published, and a slow
//! conflicts queue costs at most the report budget, never the invocation.

use super::*;

fn overwritten_pair(id: &str, sequence: u64) -> (domain::EventItem, domain::EventItem) {
    let ours = task_event(id, sequence, REGION);
    let mut theirs = task_event(id, sequence, "eu-west-1");
    theirs.event_id = "0000ffff-0000-7000-8000-000000000000".into();
    (ours, theirs)
}

#[tokio::test]
async fn an_insert_overwritten_in_the_same_batch_is_reported_and_not_published() {
    let (ours, theirs) = overwritten_pair("w", 2);
    let records = vec![
        stream_record(Change::Insert(&task_event("w", 1, REGION)), 1),
        stream_record(Change::Insert(&ours), 2),
        stream_record(Change::Modify { old: &ours, new: &theirs }, 3),
    ];
    let (kinesis, conflicts) = (FakeKinesis::reliable(), FakeConflicts::default());
    let publisher = publisher(kinesis.clone(), conflicts.clone());
    let (failure, stats) = run(&publisher, &dynamodb_event(records)).await;
    assert_eq!(failure, None);
    assert_eq!((stats.published, stats.superseded, stats.conflicts), (1, 1, 1));
    assert_eq!(kinesis.sequences_of("Task#w"), [1], "the overwritten event 2 never reaches the stream");
    assert_eq!(conflicts.reports().len(), 1);
}

#[tokio::test]
async fn an_unchanged_rewrite_in_the_same_batch_does_not_stop_the_insert() {
    let ours = task_event("u", 1, REGION);
    let records =
        vec![stream_record(Change::Insert(&ours), 1), stream_record(Change::Modify { old: &ours, new: &ours }, 2)];
    let kinesis = FakeKinesis::reliable();
    let (failure, stats) = run(&publisher(kinesis.clone(), FakeConflicts::default()), &dynamodb_event(records)).await;
    assert_eq!((failure, stats.published, stats.superseded), (None, 1, 0));
}

#[tokio::test(start_paused = true)]
async fn a_slow_conflicts_queue_never_times_out_the_invocation() {
    let (ours, theirs) = overwritten_pair("s", 1);
    let records = vec![
        stream_record(Change::Insert(&task_event("t", 1, REGION)), 1),
        stream_record(Change::Modify { old: &ours, new: &theirs }, 2),
        stream_record(Change::Insert(&task_event("t", 2, REGION)), 3),
    ];
    let kinesis = FakeKinesis::reliable();
    let publisher = publisher(kinesis.clone(), FakeConflicts::hanging());
    let start = Instant::now();
    let deadline = start + Duration::from_secs(3);
    let handled = tokio::time::timeout(
        Duration::from_secs(30),
        publisher.handle(&dynamodb_event(records), deadline, &mut SmallRng::seed_from_u64(1)),
    )
    .await;
    let (response, stats) = handled.expect("the invocation answered although the queue never did");
    assert!(Instant::now() < deadline, "answered before the deadline");
    let failures: Vec<_> = response.batch_item_failures.iter().filter_map(|f| f.item_identifier.clone()).collect();
    assert_eq!(failures, ["000000000000000000002"], "the unreported conflict is retried");
    assert_eq!(stats.published, 2, "publishing still had its time");
}
