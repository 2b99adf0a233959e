//! Every reason DynamoDB gives for cancelling a command's `TransactWriteItems` (API reference,
//! "Cancellation reason codes"), answered by the HTTP API with a mocked DynamoDB: a failed
//! condition or a persisting transaction conflict is 409 with `current_version`, persisting
//! throttling is 503 with `Retry-After`, contention that clears is retried to success, and only
//! a malformed request is 500.
#![allow(clippy::unwrap_used)]

use api::{Api, Health};
use aws_lambda_events::encodings::Body;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::transact_write_items::{TransactWriteItemsError, TransactWriteItemsOutput};
use aws_sdk_dynamodb::types::CancellationReason;
use aws_sdk_dynamodb::types::error::TransactionCanceledException;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use domain::idempotency::IdempotencyStore;
use domain::store::EventStore;
use domain::{CommandService, Origin};
use serde_json::Value;
use std::time::Duration;
use test_support::fixtures::{http_request, task_event};
use test_support::offline::{infallible_client_fn, sdk_config_with};
use time::OffsetDateTime;

fn cancelled(codes: &[&'static str]) -> TransactWriteItemsError {
    let reasons = codes.iter().map(|code| CancellationReason::builder().code(*code).build()).collect();
    TransactWriteItemsError::TransactionCanceledException(
        TransactionCanceledException::builder()
            .message("Transaction cancelled, please refer cancellation reasons for specific reasons")
            .set_cancellation_reasons(Some(reasons))
            .build(),
    )
}

/// An api whose DynamoDB holds task `t1` at version 1 and answers TransactWriteItems by `transact`.
fn api(transact: &Rule) -> Api {
    let no_record = mock!(Client::get_item).then_output(|| GetItemOutput::builder().build());
    let stored = mock!(Client::query)
        .then_output(|| QueryOutput::builder().items(task_event("t1", 1, "us-east-1").to_sdk()).count(1).build());
    let dynamodb = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&no_record, &stored, transact]);
    let unused = sdk_config_with(infallible_client_fn(|_| aws_lambda_events::http::Response::new("{}")));
    let store = EventStore::new(dynamodb.clone(), "orders-events");
    Api {
        commands: CommandService::new(
            store.clone(),
            IdempotencyStore::new(dynamodb, "orders-idempotency"),
            Origin::new("us-east-1").unwrap(),
        ),
        views: None,
        health: Health {
            store,
            streams: aws_sdk_dynamodbstreams::Client::new(&unused),
            stream_arn: "arn:aws:dynamodb:us-east-1:123456789012:table/orders-events/stream/x".into(),
            ssm: aws_sdk_ssm::Client::new(&unused),
            drill_parameter: "/orders/drill/us-east-1".into(),
            check_timeout: Duration::from_secs(1),
            cache: api::health::HealthCache::default(),
        },
    }
}

async fn rename(api: &Api) -> (i64, Value, Option<String>) {
    let request =
        http_request("POST /tasks/{id}/commands", "/tasks/t1/commands", Some(r#"{"type":"rename","title":"b"}"#));
    let response = api.handle(&request, OffsetDateTime::now_utc()).await;
    let Some(Body::Text(text)) = &response.body else { panic!("no body") };
    let retry_after = response.headers.get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (response.status_code, serde_json::from_str(text).unwrap(), retry_after)
}

#[tokio::test]
async fn every_cancellation_reason_has_a_defined_answer_and_conflicts_are_never_500() {
    // (reason codes, status, body code, TransactWriteItems attempts)
    let cases: [(&[&'static str], i64, &str, usize); 7] = [
        (&["ConditionalCheckFailed", "None"], 409, "version_conflict", 1),
        (&["TransactionConflict", "None"], 409, "version_conflict", 4),
        (&["None", "TransactionConflict"], 409, "version_conflict", 4),
        (&["ThrottlingError", "None"], 503, "unavailable", 4),
        (&["ProvisionedThroughputExceeded", "None"], 503, "unavailable", 4),
        (&["ValidationError", "None"], 500, "internal", 1),
        (&["ItemCollectionSizeLimitExceeded", "None"], 500, "internal", 1),
    ];
    for (codes, status, code, attempts) in cases {
        let transact = mock!(Client::transact_write_items).then_error(move || cancelled(codes));
        let api = api(&transact);
        let (got_status, body, retry_after) = rename(&api).await;
        assert_eq!((got_status, body["code"].as_str()), (status, Some(code)), "{codes:?}: {body}");
        assert_eq!(transact.num_calls(), attempts, "{codes:?}: attempts");
        match status {
            409 => assert_eq!(body["current_version"], 1, "{codes:?}"),
            503 => assert_eq!(retry_after.as_deref(), Some("1"), "{codes:?}"),
            _ => {}
        }
    }
}

#[tokio::test]
async fn contention_that_clears_is_retried_to_success() {
    for codes in [&["None", "TransactionConflict"][..], &["ThrottlingError", "None"][..]] {
        let transact = mock!(Client::transact_write_items)
            .sequence()
            .error(move || cancelled(codes))
            .times(2)
            .output(|| TransactWriteItemsOutput::builder().build())
            .build();
        let api = api(&transact);
        let (status, body, _) = rename(&api).await;
        assert_eq!((status, body["version"].as_u64()), (200, Some(2)), "{codes:?}: {body}");
        assert_eq!(transact.num_calls(), 3);
    }
}
