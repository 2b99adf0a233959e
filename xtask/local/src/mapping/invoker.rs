//! What the mappings invoke: anything that runs a function by name and answers synchronously,
//! as Lambda invokes a function for a stream batch. The Runtime API [`Host`] is one; tests use
//! fake functions.

use crate::host::{Host, InvokeError};
use bytes::Bytes;
use std::future::Future;
use std::sync::Arc;

/// A completed invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoked {
    /// The request id (on-failure records name the last one).
    pub request_id: String,
    /// The function's response.
    pub response: Bytes,
}

/// An invocation that produced no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeFailure {
    /// The function ran and failed (error, crash, timeout, failed init): a function error,
    /// which counts toward `MaximumRetryAttempts` and triggers bisection.
    #[error("function error {error_type}: {message}")]
    Function {
        /// The request id, when one was assigned.
        request_id: Option<String>,
        /// The error type the runtime reported (or how the environment was lost).
        error_type: String,
        /// The message.
        message: String,
    },
    /// The function could not be reached (unknown to the invoker): retried until the records
    /// age out, without counting as a retry, as Lambda treats throttles and service errors.
    #[error("the function could not be invoked: {0}")]
    NotInvoked(String),
}

/// Runs a function by name with a JSON payload and waits for its answer.
pub trait Invoker: Send + Sync + 'static {
    /// Invokes `function` with `payload`.
    fn invoke(&self, function: &str, payload: Bytes) -> impl Future<Output = Result<Invoked, InvokeFailure>> + Send;
}

impl<T: Invoker> Invoker for Arc<T> {
    fn invoke(&self, function: &str, payload: Bytes) -> impl Future<Output = Result<Invoked, InvokeFailure>> + Send {
        self.as_ref().invoke(function, payload)
    }
}

impl Invoker for Host {
    async fn invoke(&self, function: &str, payload: Bytes) -> Result<Invoked, InvokeFailure> {
        match Host::invoke(self, function, payload).await {
            Ok(invocation) => Ok(Invoked { request_id: invocation.request_id, response: invocation.response }),
            Err(InvokeError::UnknownFunction(error)) => Err(InvokeFailure::NotInvoked(error.to_string())),
            Err(InvokeError::Handler { request_id, error, .. }) => Err(InvokeFailure::Function {
                request_id: Some(request_id),
                error_type: error.error_type,
                message: error.error_message,
            }),
            Err(error @ InvokeError::Init { .. }) => Err(InvokeFailure::Function {
                request_id: None,
                error_type: "Runtime.InitError".into(),
                message: error.to_string(),
            }),
            Err(InvokeError::Crashed { request_id, status, .. }) => Err(InvokeFailure::Function {
                request_id: Some(request_id),
                error_type: "Runtime.ExitError".into(),
                message: format!("the process exited ({status})"),
            }),
            Err(InvokeError::TimedOut { request_id, timeout, .. }) => Err(InvokeFailure::Function {
                request_id: Some(request_id),
                error_type: "Sandbox.Timedout".into(),
                message: format!("timed out after {timeout:?}"),
            }),
        }
    }
}
