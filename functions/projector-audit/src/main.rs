//! Lambda entry point of the audit projector: logs, the S3 client built once, the runtime loop.

use aws_lambda_events::kinesis::KinesisEvent;
use aws_lambda_events::streams::KinesisEventResponse;
use domain::contract::env::AuditProjectorEnvironment;
use domain::contract::metrics::AUDIT_PROJECTOR;
use domain::runtime::{emit_metrics, init_tracing, load_sdk_config};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use projector_audit::{S3Store, handle};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    init_tracing();
    let environment = AuditProjectorEnvironment::from_env()?;
    let config = load_sdk_config().await;
    let store = S3Store::new(aws_sdk_s3::Client::new(&config), environment.audit_bucket);
    let (store, app) = (&store, environment.app_name.as_str());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<KinesisEvent>| async move {
        let (response, stats) = handle(store, &event.payload).await;
        tracing::info!(?stats, "batch done");
        emit_metrics(
            app,
            AUDIT_PROJECTOR,
            &[
                ("AuditWritten", stats.written.into()),
                ("AuditDuplicates", stats.duplicates.into()),
                ("AuditPoison", stats.poison.into()),
                ("AuditFailed", stats.failed.into()),
            ],
        );
        Ok::<KinesisEventResponse, Error>(response)
    }))
    .await
}
