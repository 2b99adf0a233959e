//! The Lambda Runtime API (version 2018-06-01) of one execution environment, served on a loopback
//! port: the function's runtime long-polls `GET /runtime/invocation/next` for work and answers on
//! `POST /runtime/invocation/{id}/response` or `.../error`; `POST /runtime/init/error` reports a
//! failed start.
//!
//! Paths, headers and status codes follow the AWS Lambda developer guide, "Using the Lambda
//! runtime API for custom runtimes" (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>)
//! and its OpenAPI description (`runtime-api.zip` on that page): `/next` answers the event as the
//! body with `Lambda-Runtime-Aws-Request-Id`, `Lambda-Runtime-Deadline-Ms` (Unix time in
//! milliseconds), `Lambda-Runtime-Invoked-Function-Arn` and `Lambda-Runtime-Trace-Id`; the
//! reports answer `202 Accepted`, an unknown request id `400`, a payload over the limit `413`.
//! Errors are JSON `{"errorMessage", "errorType"}`, with `Lambda-Runtime-Function-Error-Type`
//! naming the type when the body does not.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};

/// Every path of the API starts with its version.
pub const PATH_PREFIX: &str = "/2018-06-01/runtime/";
/// Header carrying the request id on `/next`.
pub const REQUEST_ID_HEADER: &str = "Lambda-Runtime-Aws-Request-Id";
/// Header carrying the deadline (Unix time, milliseconds) on `/next`.
pub const DEADLINE_HEADER: &str = "Lambda-Runtime-Deadline-Ms";
/// Header carrying the ARN the caller invoked on `/next`.
pub const FUNCTION_ARN_HEADER: &str = "Lambda-Runtime-Invoked-Function-Arn";
/// Header carrying the X-Ray trace header on `/next`.
pub const TRACE_ID_HEADER: &str = "Lambda-Runtime-Trace-Id";
/// Header a runtime may set on error reports to name the error type.
pub const ERROR_TYPE_HEADER: &str = "Lambda-Runtime-Function-Error-Type";
/// Largest response a synchronous invocation may return: 6 MB (Lambda quotas, "Invocation
/// payload (request and response)", <https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html>).
pub const RESPONSE_LIMIT: usize = 6 * 1024 * 1024;

/// An error as a runtime reports it (`errorType`, `errorMessage`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError {
    /// e.g. `&alloc::boxed::Box<dyn core::error::Error + Send + Sync>` from `lambda_runtime`.
    pub error_type: String,
    /// The error's message.
    pub error_message: String,
}

impl std::fmt::Display for FunctionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error_type, self.error_message)
    }
}

/// How the runtime ended an invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// `POST .../response`: the function's result.
    Response(Bytes),
    /// `POST .../error`, or a response over [`RESPONSE_LIMIT`].
    Error(FunctionError),
}

/// One invocation handed to the runtime on its next `/next`.
#[derive(Debug)]
pub struct Delivery {
    /// `Lambda-Runtime-Aws-Request-Id`.
    pub request_id: String,
    /// The event, sent as the body.
    pub payload: Bytes,
    /// When the invocation times out (sent as Unix milliseconds).
    pub deadline: SystemTime,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub function_arn: String,
    /// `Lambda-Runtime-Trace-Id`.
    pub trace_id: String,
    /// Where the runtime's answer goes.
    pub completion: oneshot::Sender<Completion>,
}

/// What the runtime did, in the order it did it, for the environment that owns this API.
#[derive(Debug)]
pub enum Signal {
    /// The runtime asked for work: its first `/next` ends the Init phase.
    Next {
        /// When the request arrived.
        at: Instant,
    },
    /// An invocation was handed out on `/next`.
    Delivered {
        /// Its request id.
        request_id: String,
        /// When the response headers were built.
        at: Instant,
    },
    /// `POST /runtime/init/error`.
    InitError {
        /// What the runtime reported.
        error: FunctionError,
        /// When it arrived.
        at: Instant,
    },
}

/// The environment's side of a running API: hand out invocations, hear what the runtime did.
#[derive(Debug)]
pub struct Channels {
    /// Invocations for `/next`, one at a time.
    pub deliveries: mpsc::Sender<Delivery>,
    /// What the runtime did.
    pub signals: mpsc::UnboundedReceiver<Signal>,
}

/// A Runtime API server on 127.0.0.1; stops serving (and drops every connection) when dropped.
#[derive(Debug)]
pub struct RuntimeApi {
    address: SocketAddr,
    server: JoinHandle<()>,
}

impl RuntimeApi {
    /// Binds a free loopback port and starts serving.
    pub async fn start() -> std::io::Result<(RuntimeApi, Channels)> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let address = listener.local_addr()?;
        let (deliveries, receiver) = mpsc::channel(1);
        let (signal_sender, signals) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            deliveries: tokio::sync::Mutex::new(receiver),
            in_flight: Mutex::new(HashMap::new()),
            signals: signal_sender,
        });
        let server = tokio::spawn(serve(listener, state));
        Ok((RuntimeApi { address, server }, Channels { deliveries, signals }))
    }

    /// `127.0.0.1:<port>`: the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

struct State {
    deliveries: tokio::sync::Mutex<mpsc::Receiver<Delivery>>,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Completion>>>,
    signals: mpsc::UnboundedSender<Signal>,
}

impl State {
    fn signal(&self, signal: Signal) {
        // The environment may be gone already; nobody is left to tell.
        let _ = self.signals.send(signal);
    }

    fn take_in_flight(&self, request_id: &str) -> Option<oneshot::Sender<Completion>> {
        self.in_flight.lock().unwrap_or_else(PoisonError::into_inner).remove(request_id)
    }
}

/// Accepts connections until aborted; aborting drops the set, which aborts every connection.
async fn serve(listener: TcpListener, state: Arc<State>) {
    let mut connections = JoinSet::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of file descriptors or the like: back off instead of spinning.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let state = state.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |request| route(state.clone(), request));
            // A runtime that hangs up (or dies) mid-request ends only its own connection.
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
        while connections.try_join_next().is_some() {}
    }
}

type Reply = Response<Full<Bytes>>;

async fn route(state: Arc<State>, request: Request<Incoming>) -> Result<Reply, Infallible> {
    let path = request.uri().path().to_owned();
    let Some(resource) = path.strip_prefix(PATH_PREFIX) else {
        return Ok(error_reply(StatusCode::NOT_FOUND, "UnknownPath", &format!("no resource at {path}")));
    };
    let segments: Vec<&str> = resource.split('/').collect();
    let reply = match (request.method(), segments.as_slice()) {
        (&Method::GET, ["invocation", "next"]) => next(&state).await,
        (&Method::POST, ["invocation", id, "response"]) => respond(&state, id, request.into_body()).await,
        (&Method::POST, ["invocation", id, "error"]) => {
            let header = error_type_header(request.headers());
            match read_body(request.into_body()).await {
                Ok(body) => report_error(&state, id, &body, header),
                Err(reply) => reply,
            }
        }
        (&Method::POST, ["init", "error"]) => {
            let header = error_type_header(request.headers());
            match read_body(request.into_body()).await {
                Ok(body) => {
                    state.signal(Signal::InitError { error: parse_error(&body, header), at: Instant::now() });
                    accepted()
                }
                Err(reply) => reply,
            }
        }
        (method, _) => error_reply(StatusCode::NOT_FOUND, "UnknownPath", &format!("no resource at {method} {path}")),
    };
    Ok(reply)
}

/// Blocks until the environment hands out an invocation (the runtime's long poll).
async fn next(state: &State) -> Reply {
    state.signal(Signal::Next { at: Instant::now() });
    let delivery = state.deliveries.lock().await.recv().await;
    let Some(delivery) = delivery else {
        // The OpenAPI description: a 500 means "non-recoverable state; runtime should exit".
        return error_reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            "EnvironmentShutDown",
            "the environment is shutting down",
        );
    };
    let deadline_ms = delivery.deadline.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let mut reply = Response::new(Full::new(delivery.payload));
    let headers = reply.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (name, value) in [
        (REQUEST_ID_HEADER, delivery.request_id.clone()),
        (DEADLINE_HEADER, deadline_ms.to_string()),
        (FUNCTION_ARN_HEADER, delivery.function_arn),
        (TRACE_ID_HEADER, delivery.trace_id),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    state
        .in_flight
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(delivery.request_id.clone(), delivery.completion);
    state.signal(Signal::Delivered { request_id: delivery.request_id, at: Instant::now() });
    reply
}

async fn respond(state: &State, request_id: &str, body: Incoming) -> Reply {
    let Some(completion) = state.take_in_flight(request_id) else { return unknown_request(request_id) };
    match read_body(body).await {
        Ok(body) => {
            let _ = completion.send(Completion::Response(body));
            accepted()
        }
        Err(reply) => {
            let error = FunctionError {
                error_type: "Function.ResponseSizeTooLarge".into(),
                error_message: format!(
                    "Response payload size exceeded maximum allowed payload size ({RESPONSE_LIMIT} bytes)."
                ),
            };
            let _ = completion.send(Completion::Error(error));
            reply
        }
    }
}

fn report_error(state: &State, request_id: &str, body: &[u8], header: Option<String>) -> Reply {
    let Some(completion) = state.take_in_flight(request_id) else { return unknown_request(request_id) };
    let _ = completion.send(Completion::Error(parse_error(body, header)));
    accepted()
}

/// The body, or the reply for one over [`RESPONSE_LIMIT`] (or cut off).
async fn read_body(body: Incoming) -> Result<Bytes, Reply> {
    match Limited::new(body, RESPONSE_LIMIT).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => Err(error_reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            &format!("the payload is over {RESPONSE_LIMIT} bytes"),
        )),
        Err(error) => Err(error_reply(StatusCode::BAD_REQUEST, "InvalidBody", &error.to_string())),
    }
}

fn error_type_header(headers: &HeaderMap) -> Option<String> {
    headers.get(ERROR_TYPE_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody {
    error_type: Option<String>,
    error_message: Option<String>,
}

/// Lambda's error format, falling back to the header for the type and the raw body for the
/// message when the body is not that JSON.
pub fn parse_error(body: &[u8], header: Option<String>) -> FunctionError {
    let parsed = serde_json::from_slice::<ErrorBody>(body).ok();
    let (error_type, error_message) = parsed.map_or((None, None), |p| (p.error_type, p.error_message));
    FunctionError {
        error_type: error_type.or(header).unwrap_or_else(|| "Runtime.Unknown".into()),
        error_message: error_message.unwrap_or_else(|| String::from_utf8_lossy(body).into_owned()),
    }
}

fn accepted() -> Reply {
    json_reply(StatusCode::ACCEPTED, serde_json::json!({"status": "OK"}))
}

fn unknown_request(request_id: &str) -> Reply {
    error_reply(StatusCode::BAD_REQUEST, "InvalidRequestID", &format!("no invocation {request_id} is in flight"))
}

fn error_reply(status: StatusCode, error_type: &str, message: &str) -> Reply {
    json_reply(status, serde_json::json!({"errorType": error_type, "errorMessage": message}))
}

fn json_reply(status: StatusCode, body: serde_json::Value) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from(body.to_string())));
    *reply.status_mut() = status;
    reply.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    reply
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn errors_read_lambdas_json_format_first() {
        let error = parse_error(br#"{"errorType":"Bad","errorMessage":"no"}"#, Some("Header".into()));
        assert_eq!(error, FunctionError { error_type: "Bad".into(), error_message: "no".into() });
    }

    #[test]
    fn errors_without_the_json_format_take_the_header_and_the_raw_body() {
        let error = parse_error(b"it broke", Some("Runtime.Crash".into()));
        assert_eq!(error, FunctionError { error_type: "Runtime.Crash".into(), error_message: "it broke".into() });
        assert_eq!(parse_error(b"", None).error_type, "Runtime.Unknown");
    }
}
