//! Domain behaviour against DynamoDB in the moto emulator: command handling with optimistic
//! concurrency, idempotent command ids, origin tagging, the side-effect guard, the read model and
//! the publisher's poison holds.
#![allow(clippy::unwrap_used)]

use domain::cancellation::Cancellation;
use domain::holds::{Hold, HoldStore, HoldTable};
use domain::idempotency::{GuardTiming, IdempotencyStore, Once};
use domain::store::{AppendError, EventStore};
use domain::{
    CommandRequest, CommandService, DomainError, EventItem, Origin, StoredView, Target, Task, TaskCommand, TaskView,
    Title, ViewStore, fold,
};
use test_support::aws::{create_event_log, create_idempotency_table, create_view_table, dynamodb};
use time::OffsetDateTime;

async fn service(region: &str) -> (CommandService, EventStore, IdempotencyStore) {
    let client = dynamodb();
    let (log, _) = create_event_log(&client).await;
    let idempotency = create_idempotency_table(&client).await;
    let store = EventStore::new(client.clone(), log);
    let ids = IdempotencyStore::new(client, idempotency);
    let service = CommandService::new(store.clone(), ids.clone(), Origin::new(region).unwrap());
    (service, store, ids)
}

fn request(command_id: &str, command: TaskCommand) -> CommandRequest<TaskCommand> {
    CommandRequest { command_id: command_id.to_owned(), expected_version: None, command }
}

fn title(text: &str) -> Title {
    Title::parse(text).unwrap()
}

fn create(text: &str) -> TaskCommand {
    TaskCommand::Create { title: title(text) }
}

#[tokio::test]
async fn commands_append_numbered_events_tagged_with_the_origin_region() {
    let (service, store, _) = service("eu-west-1").await;
    let now = OffsetDateTime::now_utc();
    let created = service.execute::<Task>(Target::New, &request("c1", create("Buy milk")), now).await.unwrap();
    assert_eq!((created.version, created.replayed), (1, false));
    let id = created.aggregate_id.clone();
    let target = Target::Existing(id.clone());
    let renamed = service
        .execute::<Task>(target.clone(), &request("c2", TaskCommand::Rename { title: title("Buy oat milk") }), now)
        .await
        .unwrap();
    assert_eq!(renamed.version, 2);
    service.execute::<Task>(target, &request("c3", TaskCommand::Complete), now).await.unwrap();
    let items = store.load(&format!("Task#{id}")).await.unwrap();
    let sequences: Vec<u64> = items.iter().map(|i| i.sequence).collect();
    assert_eq!(sequences, [1, 2, 3]);
    assert!(items.iter().all(|i| i.origin_region == "eu-west-1"));
    assert_eq!(items[1].command_id, "c2");
    assert_eq!(items[0].recorded_at.len(), "2026-01-02T03:04:05.678Z".len());
    assert!(items[0].event_id < items[1].event_id, "UUIDv7 ids are time-ordered");
    let folded = fold::<Task>(&items).unwrap();
    assert_eq!(folded.state.title, "Buy oat milk");
    assert!(folded.state.completed);
}

#[tokio::test]
async fn a_retried_command_id_returns_the_first_result_and_appends_nothing() {
    let (service, store, _) = service("us-east-1").await;
    let now = OffsetDateTime::now_utc();
    let first = service.execute::<Task>(Target::New, &request("retry-1", create("a")), now).await.unwrap();
    let second = service.execute::<Task>(Target::New, &request("retry-1", create("a")), now).await.unwrap();
    assert_eq!(second.aggregate_id, first.aggregate_id);
    assert_eq!(second.version, 1);
    assert!(second.replayed);
    let items = store.load(&format!("Task#{}", first.aggregate_id)).await.unwrap();
    assert_eq!(items.len(), 1);
}

#[tokio::test]
async fn a_command_id_reused_for_another_command_is_refused() {
    let (service, _, _) = service("us-east-1").await;
    let now = OffsetDateTime::now_utc();
    service.execute::<Task>(Target::New, &request("same", create("a")), now).await.unwrap();
    let error = service.execute::<Task>(Target::New, &request("same", create("b")), now).await.unwrap_err();
    assert!(matches!(error, DomainError::CommandIdReused { .. }), "{error}");
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn an_expected_version_that_moved_on_is_a_conflict() {
    let (service, _, _) = service("us-east-1").await;
    let now = OffsetDateTime::now_utc();
    let created = service.execute::<Task>(Target::New, &request("v1", create("a")), now).await.unwrap();
    let mut stale = request("v2", TaskCommand::Complete);
    stale.expected_version = Some(0);
    let error = service.execute::<Task>(Target::Existing(created.aggregate_id), &stale, now).await.unwrap_err();
    assert!(matches!(error, DomainError::VersionConflict { expected: 0, actual: 1, .. }), "{error}");
}

fn item(key: &str, sequence: u64, event_id: &str, origin: &str) -> EventItem {
    EventItem {
        aggregate_key: key.to_owned(),
        sequence,
        event_id: event_id.to_owned(),
        event_type: "TaskCreated".into(),
        event_version: 1,
        payload: r#"{"title":"a"}"#.into(),
        origin_region: origin.to_owned(),
        recorded_at: "2026-01-02T03:04:05.678Z".into(),
        command_id: event_id.to_owned(),
    }
}

#[tokio::test]
async fn appending_a_taken_sequence_is_cancelled_and_never_overwrites() {
    let (_, store, _) = service("us-east-1").await;
    let first = item("Task#x", 1, "first", "us-east-1");
    store.append(vec![store.append_put(&first).unwrap()]).await.unwrap();
    let rival = item("Task#x", 1, "rival", "eu-west-1");
    let result = store.append(vec![store.append_put(&rival).unwrap()]).await;
    assert!(matches!(result, Err(AppendError::Cancelled(Cancellation::ConditionFailed))), "{result:?}");
    assert_eq!(store.load("Task#x").await.unwrap(), vec![first]);
}

#[tokio::test]
async fn concurrent_commands_conflict_instead_of_overwriting() {
    let (service, store, _) = service("us-east-1").await;
    let now = OffsetDateTime::now_utc();
    let created = service.execute::<Task>(Target::New, &request("base", create("start")), now).await.unwrap();
    let target = Target::Existing(created.aggregate_id.clone());
    let requests: Vec<_> =
        (0..8).map(|i| request(&format!("r{i}"), TaskCommand::Rename { title: title(&format!("t{i}")) })).collect();
    let outcomes = futures_join(&service, &target, &requests, now).await;
    let mut versions = Vec::new();
    for outcome in &outcomes {
        match outcome {
            Ok(o) => versions.push(o.version),
            Err(DomainError::VersionConflict { .. }) => {}
            // A transaction that lost a race may also be refused as a whole (DynamoDB's
            // TransactionConflictException, or the emulator's 500): retryable, nothing written.
            Err(error) if error.is_retryable() => {}
            Err(other) => panic!("unexpected error {other}"),
        }
    }
    let items = store.load(&format!("Task#{}", created.aggregate_id)).await.unwrap();
    assert_eq!(items.len(), 1 + versions.len(), "one event per successful command");
    versions.sort_unstable();
    versions.dedup();
    assert_eq!(versions.len(), items.len() - 1, "no two commands got the same version");
    for (item, command) in items.iter().skip(1).zip(versions.iter()) {
        assert_eq!(item.sequence, *command);
    }
}

async fn futures_join(
    service: &CommandService,
    target: &Target,
    requests: &[CommandRequest<TaskCommand>],
    now: OffsetDateTime,
) -> Vec<Result<domain::CommandOutcome, DomainError>> {
    let mut handles = tokio::task::JoinSet::new();
    for request in requests {
        let (service, target, request) = (service.clone(), target.clone(), request.clone());
        handles.spawn(async move { service.execute::<Task>(target, &request, now).await });
    }
    let mut outcomes = Vec::new();
    while let Some(outcome) = handles.join_next().await {
        outcomes.push(outcome.unwrap());
    }
    outcomes
}

fn timing(now: i64) -> GuardTiming {
    GuardTiming { now, lease: 30, ttl: 86_400 }
}

#[tokio::test]
async fn the_guard_runs_a_side_effect_once_per_consumer_and_event() {
    let (_, _, ids) = service("us-east-1").await;
    let first = ids.run_once("mailer", "e1", timing(1_000), || async { Ok(1) }).await.unwrap();
    assert_eq!(first, Once::Ran(1));
    let again = ids.run_once("mailer", "e1", timing(1_001), || async { Ok(2) }).await.unwrap();
    assert_eq!(again, Once::AlreadyDone);
    let other_consumer = ids.run_once("billing", "e1", timing(1_001), || async { Ok(3) }).await.unwrap();
    assert_eq!(other_consumer, Once::Ran(3));
}

#[tokio::test]
async fn a_failed_side_effect_releases_the_guard_for_a_retry() {
    let (_, _, ids) = service("us-east-1").await;
    let failed = ids
        .run_once("mailer", "e2", timing(1_000), || async { Err::<(), _>(DomainError::Config("smtp down".into())) })
        .await;
    assert!(failed.is_err());
    let retried = ids.run_once("mailer", "e2", timing(1_001), || async { Ok(()) }).await.unwrap();
    assert_eq!(retried, Once::Ran(()));
}

#[tokio::test]
async fn a_live_claim_is_in_progress_and_an_expired_one_is_taken_over() {
    let (_, _, ids) = service("us-east-1").await;
    let holder = ids.clone();
    // The holder's effect checks, while it still holds the claim, that a rival is refused.
    let rival_saw = holder
        .run_once("mailer", "e3", timing(1_000), || async {
            let rival = ids.run_once("mailer", "e3", timing(1_010), || async { Ok(()) }).await;
            let taken_over = ids.run_once("mailer", "e3", timing(1_031), || async { Ok(()) }).await;
            Ok((rival, taken_over))
        })
        .await
        .unwrap();
    let Once::Ran((rival, taken_over)) = rival_saw else { panic!("the holder ran") };
    let error = rival.unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert_eq!(taken_over.unwrap(), Once::Ran(()));
}

#[tokio::test]
async fn the_read_model_applies_only_on_the_expected_version() {
    let client = dynamodb();
    let views = ViewStore::new(client.clone(), create_view_table(&client).await, "us-east-1");
    let view = TaskView {
        id: "t1".into(),
        title: "a".into(),
        completed: false,
        version: 1,
        created_at: "2026-01-02T03:04:05.678Z".into(),
        updated_at: "2026-01-02T03:04:05.678Z".into(),
    };
    let mut stored = StoredView { view, last_event_id: Some("e1".into()) };
    assert!(views.put_if_version(&stored, 0).await.unwrap());
    assert!(!views.put_if_version(&stored, 0).await.unwrap(), "already created");
    stored.view.version = 2;
    stored.view.completed = true;
    stored.last_event_id = Some("e2".into());
    assert!(!views.put_if_version(&stored, 5).await.unwrap(), "wrong previous version");
    assert!(views.put_if_version(&stored, 1).await.unwrap());
    assert_eq!(views.get("t1", true).await.unwrap(), Some(stored));
    assert_eq!(views.get("missing", true).await.unwrap(), None);
}

/// Global tables settle concurrent writes to one item by last writer wins, so a view written
/// from two regions could end at the older version (`contract::read_model`). Each region writes
/// its own row, and the newest row is the view whichever region wrote last.
#[tokio::test]
async fn a_region_writing_an_older_version_last_does_not_move_the_view_back() {
    let client = dynamodb();
    let table = create_view_table(&client).await;
    let (ireland, sydney) =
        (ViewStore::new(client.clone(), &table, "eu-west-1"), ViewStore::new(client.clone(), &table, "ap-southeast-2"));
    let at = |version: u64| StoredView {
        view: TaskView {
            id: "t1".into(),
            title: format!("v{version}"),
            completed: false,
            version,
            created_at: "2026-01-02T03:04:05.678Z".into(),
            updated_at: "2026-01-02T03:04:05.678Z".into(),
        },
        last_event_id: Some(format!("e{version}")),
    };
    assert!(ireland.put_if_version(&at(18), 0).await.unwrap());
    assert!(sydney.put_if_version(&at(16), 0).await.unwrap(), "each region creates its own row");
    for store in [&ireland, &sydney] {
        assert_eq!(store.get("t1", true).await.unwrap(), Some(at(18)), "the newest row is the view");
    }
    assert_eq!(sydney.own("t1").await.unwrap(), Some(at(16)));
    assert_eq!(ireland.own("t1").await.unwrap(), Some(at(18)));
    assert!(!sydney.put_if_version(&at(17), 18).await.unwrap(), "the condition is on the region's own row");
    assert!(sydney.put_if_version(&at(18), 16).await.unwrap());
    assert_eq!(ireland.get("t1", false).await.unwrap(), Some(at(18)), "rows naming the same event agree");
}

fn hold(key: &str, sequence: u64) -> Hold {
    Hold {
        aggregate_key: key.to_owned(),
        sequence,
        event_id: format!("e{sequence}"),
        stream_sequence_number: "000000000000000000002".into(),
        reason: "payload is not JSON".into(),
        held_at: "2026-01-02T03:04:05.678Z".into(),
        kept_back: 0,
    }
}

#[tokio::test]
async fn holds_keep_the_first_hold_count_events_and_settle_only_when_nothing_moved() {
    let client = dynamodb();
    let table = create_idempotency_table(&client).await;
    let holds = HoldTable::new(client.clone(), &table, "eu-west-1");
    assert!(holds.load().await.unwrap().is_empty());
    assert!(!holds.keep_back("Task#a").await.unwrap(), "nothing held: publish");
    holds.hold(&hold("Task#a", 2)).await.unwrap();
    holds.hold(&hold("Task#a", 7)).await.unwrap();
    holds.hold(&hold("Task#b", 1)).await.unwrap();
    assert!(holds.keep_back("Task#a").await.unwrap());
    let loaded = holds.load().await.unwrap();
    assert_eq!((loaded["Task#a"].sequence, loaded["Task#a"].kept_back), (2, 1), "the first hold stays");
    assert!(!holds.settle("Task#a", 0, None).await.unwrap(), "an event was kept back since");
    let moved = Hold { kept_back: 0, ..hold("Task#a", 4) };
    assert!(holds.settle("Task#a", 1, Some(&moved)).await.unwrap());
    assert!(holds.settle("Task#a", 0, None).await.unwrap());
    assert_eq!(holds.load().await.unwrap().keys().collect::<Vec<_>>(), ["Task#b"]);
    let other_region = HoldTable::new(client, &table, "us-east-1");
    assert!(other_region.load().await.unwrap().is_empty(), "holds are per region");
}
