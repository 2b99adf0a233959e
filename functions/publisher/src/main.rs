//! Lambda entry point of the publisher: logs, SDK clients built once, then the runtime loop.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_lambda_events::dynamodb::Event as DynamoDbEvent;
use aws_lambda_events::streams::DynamoDbEventResponse;
use domain::Origin;
use domain::contract::env::PublisherEnvironment;
use domain::contract::metrics::{HELD_BACK_METRIC, PUBLISHER};
use domain::holds::HoldTable;
use domain::origin::format_recorded_at;
use domain::runtime::{emit_metrics, init_tracing, load_sdk_config};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use publisher::{KinesisSink, Publisher, SqsConflicts, WatermarkTable, WaveSettings, deadline_instant};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use std::time::Duration;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    init_tracing();
    let environment = PublisherEnvironment::from_env()?;
    let config = load_sdk_config().await;
    // The handler owns retries of PutRecords (per entry, within the deadline); SDK-level retries
    // would resend entries that were already stored and spend the time budget blindly.
    let kinesis_config = aws_sdk_kinesis::config::Builder::from(&config).retry_config(RetryConfig::disabled()).build();
    // Conflict reports share a deadline inside the invocation's time (the handler cuts them
    // off); two attempts of at most 2 s each fit it.
    let sqs_config = aws_sdk_sqs::config::Builder::from(&config)
        .retry_config(RetryConfig::standard().with_max_attempts(2))
        .timeout_config(TimeoutConfig::builder().operation_attempt_timeout(Duration::from_secs(2)).build())
        .build();
    let origin = Origin::from_env()?;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let watermark = WatermarkTable::new(dynamodb.clone(), environment.idempotency_table.clone(), origin.region());
    let watermark = &watermark;
    let publisher = Publisher {
        sink: KinesisSink::new(aws_sdk_kinesis::Client::from_conf(kinesis_config), environment.event_stream_name),
        conflicts: SqsConflicts::new(aws_sdk_sqs::Client::from_conf(sqs_config), environment.conflicts_queue_url),
        holds: HoldTable::new(dynamodb.clone(), environment.idempotency_table.clone(), origin.region()),
        origin,
        settings: WaveSettings::default(),
    };
    let publisher = &publisher;
    let app = environment.app_name.as_str();
    lambda_runtime::run(service_fn(move |event: LambdaEvent<DynamoDbEvent>| async move {
        let deadline = deadline_instant(event.context.deadline);
        let mut rng = SmallRng::from_os_rng();
        let (response, stats) = publisher.handle(&event.payload, deadline, &mut rng).await;
        // After PutRecords returned, and only as far as it stored everything: one write.
        if let Some(at) = &stats.watermark {
            let now = format_recorded_at(time::OffsetDateTime::now_utc());
            if let Err(error) = watermark.advance(at, &now).await {
                tracing::warn!(%error, "could not advance the publisher watermark; a takeover would republish more");
            }
        }
        // The stream range the batch covered, so that a record missing from every batch shows.
        let sequence = |record: Option<&aws_lambda_events::dynamodb::EventRecord>| {
            record.and_then(|r| r.change.sequence_number.clone()).unwrap_or_default()
        };
        tracing::info!(
            ?stats,
            failures = response.batch_item_failures.len(),
            records = event.payload.records.len(),
            first_sequence = sequence(event.payload.records.first()),
            last_sequence = sequence(event.payload.records.last()),
            "batch done"
        );
        emit_metrics(
            app,
            PUBLISHER,
            &[
                ("Published", stats.published.into()),
                ("SkippedForeign", stats.skipped_foreign.into()),
                ("Conflicts", stats.conflicts.into()),
                ("Superseded", stats.superseded.into()),
                (HELD_BACK_METRIC, stats.held_back.into()),
                ("Unpublishable", stats.unpublishable.into()),
                ("PutRecordsCalls", stats.calls.into()),
                ("FailedEntries", stats.failed_entries.into()),
                ("LeftForRetry", stats.left_for_retry.into()),
            ],
        );
        Ok::<DynamoDbEventResponse, Error>(response)
    }))
    .await
}
