//! Lambda entry point of the view projector: logs, the DynamoDB client built once, the runtime
//! loop.

use aws_lambda_events::kinesis::KinesisEvent;
use aws_lambda_events::streams::KinesisEventResponse;
use domain::contract::env::ViewProjectorEnvironment;
use domain::contract::metrics::{VIEW_CONFLICTS_METRIC, VIEW_PROJECTOR};
use domain::runtime::{emit_metrics, init_tracing, load_sdk_config};
use domain::store::EventStore;
use domain::{Origin, ViewStore};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use projector_view::handle;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    init_tracing();
    let environment = ViewProjectorEnvironment::from_env()?;
    let config = load_sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    // The region's own rows of the read model (Lambda sets AWS_REGION).
    let region = Origin::from_env()?.region().to_owned();
    let views = ViewStore::new(dynamodb.clone(), environment.view_table, region);
    let log = EventStore::new(dynamodb, environment.event_log_table);
    let (views, log, app) = (&views, &log, environment.app_name.as_str());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<KinesisEvent>| async move {
        let (response, stats) = handle(views, log, &event.payload).await;
        tracing::info!(?stats, "batch done");
        emit_metrics(
            app,
            VIEW_PROJECTOR,
            &[
                ("ViewApplied", stats.applied.into()),
                ("ViewDuplicates", stats.duplicates.into()),
                ("ViewFilled", stats.filled.into()),
                ("ViewGaps", stats.gaps.into()),
                (VIEW_CONFLICTS_METRIC, stats.conflicts.into()),
                ("ViewPoison", stats.poison.into()),
                ("ViewFailed", stats.failed.into()),
            ],
        );
        Ok::<KinesisEventResponse, Error>(response)
    }))
    .await
}
