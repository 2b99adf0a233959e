//! The smallest `lambda_runtime` function: echoes its event. The start-up benchmark
//! (`cargo xtask bench init`) compares every function's Init with this one's, built with the
//! same release profile.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move { Ok::<Value, Error>(event.payload) })).await
}
