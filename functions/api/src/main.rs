//! Lambda entry point of the api: logs, SDK clients built once, the runtime loop.

use api::{Api, Health};
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use domain::contract::env::ApiEnvironment;
use domain::idempotency::IdempotencyStore;
use domain::runtime::{init_tracing, load_sdk_config};
use domain::store::EventStore;
use domain::{CommandService, Origin, ViewStore};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use time::OffsetDateTime;
use tracing::Instrument;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    init_tracing();
    let environment = ApiEnvironment::from_env()?;
    let config = load_sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let store = EventStore::new(dynamodb.clone(), environment.event_log_table);
    let origin = Origin::from_env()?;
    let region = origin.region().to_owned();
    let api = Api {
        commands: CommandService::new(
            store.clone(),
            IdempotencyStore::new(dynamodb.clone(), environment.idempotency_table),
            origin,
        ),
        views: environment.read_model_table.map(|table| ViewStore::new(dynamodb, table, region)),
        health: Health {
            store,
            streams: aws_sdk_dynamodbstreams::Client::new(&config),
            stream_arn: environment.event_log_stream_arn,
            ssm: aws_sdk_ssm::Client::new(&config),
            drill_parameter: environment.drill_parameter,
            check_timeout: api::health::CHECK_TIMEOUT,
            cache: api::health::HealthCache::default(),
        },
    };
    let api = &api;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
        let span = tracing::info_span!("request", request_id = %event.context.request_id);
        let response = api.handle(&event.payload, OffsetDateTime::now_utc()).instrument(span).await;
        Ok::<ApiGatewayV2httpResponse, Error>(response)
    }))
    .await
}
