//! Lambda entry point of the view projector: logs, the DynamoDB client built once, the runtime
//! loop.

use aws_lambda_events::kinesis::KinesisEvent;
use aws_lambda_events::streams::KinesisEventResponse;
use domain::ViewStore;
use domain::runtime::{emit_metrics, env_var, init_tracing, load_sdk_config};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use projector_view::handle;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    init_tracing();
    let config = load_sdk_config().await;
    let views = ViewStore::new(aws_sdk_dynamodb::Client::new(&config), env_var("VIEW_TABLE")?);
    let app = env_var("APP_NAME")?;
    let (views, app) = (&views, app.as_str());
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
