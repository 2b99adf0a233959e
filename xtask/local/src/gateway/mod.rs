//! A region's HTTP API on loopback, in place of API Gateway (which the emulator does not run):
//! each request is matched against the API's routes, handed to the api function as a payload
//! format 2.0 event through an [`Invoker`] (the region's host), and the function's answer is
//! written back ([`payload`] has the format and its source). A request that matches no route is
//! 404 and a failed invocation 500, as API Gateway answers them. Stopping the gateway closes
//! its port and drops the requests in flight, as a lost region stops answering.

pub mod client;
pub mod payload;

use crate::mapping::Invoker;
use crate::writes::Writes;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use payload::{HttpRequest, HttpResponse, RequestContext};
use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

/// Largest request body API Gateway accepts: 10 MB (API Gateway quotas for HTTP APIs).
const BODY_LIMIT: usize = 10 * 1024 * 1024;

/// What one region's gateway serves.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// The region (in the request context's domain and the start-up report).
    pub region: String,
    /// The API's id (`requestContext.apiId`).
    pub api_id: String,
    /// The account (`requestContext.accountId`).
    pub account_id: String,
    /// Route keys such as `GET /tasks/{id}`.
    pub routes: Vec<String>,
    /// The function every route integrates with.
    pub function: String,
    /// The loopback port to listen on (0: any free port).
    pub port: u16,
    /// Told of every command answered with a 2xx (a write the region's replicas read at once).
    pub writes: Writes,
}

/// A running gateway; stops when dropped.
#[derive(Debug)]
pub struct Gateway {
    address: SocketAddr,
    task: Option<JoinHandle<()>>,
}

struct Served<I> {
    config: GatewayConfig,
    invoker: Arc<I>,
    domain_name: String,
}

impl Gateway {
    /// Listens on 127.0.0.1 and serves `config`'s routes through `invoker`.
    pub async fn start<I: Invoker>(config: GatewayConfig, invoker: Arc<I>) -> std::io::Result<Gateway> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, config.port)).await?;
        let address = listener.local_addr()?;
        let served = Arc::new(Served { config, invoker, domain_name: address.to_string() });
        let task = tokio::spawn(serve(listener, served));
        Ok(Gateway { address, task: Some(task) })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Whether it still serves.
    pub fn is_serving(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Closes the port and drops every request in flight.
    pub fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Accepts connections until aborted; aborting drops the set, which aborts every connection.
async fn serve<I: Invoker>(listener: TcpListener, served: Arc<Served<I>>) {
    let mut connections = JoinSet::new();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let served = served.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |request| answer(served.clone(), peer, request));
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
        while connections.try_join_next().is_some() {}
    }
}

async fn answer<I: Invoker>(
    served: Arc<Served<I>>,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let response = match read(request).await {
        Some(request) => handle(&served, peer, &request).await,
        None => HttpResponse {
            status: 413,
            headers: vec![("content-type".into(), "application/json".into())],
            body: br#"{"message":"Request Entity Too Large"}"#.to_vec(),
        },
    };
    let mut builder = Response::builder().status(response.status);
    for (name, value) in &response.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    Ok(builder.body(Full::new(Bytes::from(response.body))).unwrap_or_else(|_| {
        let mut fallback = Response::new(Full::new(Bytes::from_static(br#"{"message":"Internal Server Error"}"#)));
        *fallback.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        fallback
    }))
}

/// The request as plain data; `None` when the body is over the limit.
async fn read(request: Request<Incoming>) -> Option<HttpRequest> {
    let (parts, body) = request.into_parts();
    let body = Limited::new(body, BODY_LIMIT).collect().await.ok()?.to_bytes();
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect();
    Some(HttpRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        protocol: format!("{:?}", parts.version),
        headers,
        body: body.to_vec(),
    })
}

async fn handle<I: Invoker>(served: &Served<I>, peer: SocketAddr, request: &HttpRequest) -> HttpResponse {
    let config = &served.config;
    let Some((route, parameters)) = payload::match_route(&config.routes, &request.method, &request.path) else {
        return payload::not_found();
    };
    let context = RequestContext {
        account_id: config.account_id.clone(),
        api_id: config.api_id.clone(),
        domain_name: served.domain_name.clone(),
        source_ip: peer.ip().to_string(),
        request_id: uuid::Uuid::now_v7().to_string(),
        time: OffsetDateTime::now_utc(),
    };
    let event = payload::request_event(request, &route, &parameters, &context);
    let response = match served.invoker.invoke(&config.function, Bytes::from(event.to_string())).await {
        Ok(invoked) => payload::response_from(&invoked.response),
        Err(_) => payload::internal_error(),
    };
    if request.method != "GET" && (200..300).contains(&response.status) {
        config.writes.wrote(&config.region);
    }
    response
}
