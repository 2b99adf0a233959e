//! Lambda entry point of the view projector: logs, the DynamoDB client built once, the runtime
//! loop.

use aws_lambda_events::kinesis::KinesisEvent;
use aws_lambda_events::streams::KinesisEventResponse;
use domain::ViewStore;
use domain::contract::env::ViewProjectorEnvironment;
use domain::runtime::{emit_metrics, init_tracing, load_sdk_config};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use projector_view::handle;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    init_tracing();
    let environment = ViewProjectorEnvironment::from_env()?;
    let config = load_sdk_config().await;
    let views = ViewStore::new(aws_sdk_dynamodb::Client::new(&config), environment.view_table);
    let (views, app) = (&views, environment.app_name.as_str());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<KinesisEvent>| async move {
        let (response, stats) = handle(views, &event.payload).await;
        tracing::info!(?stats, "batch done");
        emit_metrics(
            app,
            "projector-view",
            &[
                ("ViewApplied", stats.applied.into()),
                ("ViewDuplicates", stats.duplicates.into()),
                ("ViewGaps", stats.gaps.into()),
                ("ViewPoison", stats.poison.into()),
                ("ViewFailed", stats.failed.into()),
            ],
        );
        Ok::<KinesisEventResponse, Error>(response)
    }))
    .await
}
