//! The emulator's calls during a soak: a loopback proxy in front of the moto server through
//! which every caller of the runtime goes (the function processes, given its URL as their
//! endpoint, and the runtime's own clients: mappings, replication, takeover), counting each call
//! by caller and operation with the time the emulator took to answer it. It keeps its
//! connections to the emulator open between calls, as the SDK clients do, so the emulator sees
//! the same connections it would see without it.
//!
//! The operation is the `X-Amz-Target` header's last part for the JSON protocols (DynamoDB,
//! DynamoDB Streams, Kinesis, SQS, SSM), the `Action` of a query-protocol form (SNS,
//! CloudFormation), else the method and the service in the credential scope (S3, Lambda).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Calls of one operation by one caller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OperationCalls {
    /// How many.
    pub count: u64,
    /// Their total time, request forwarded to answer read.
    pub total: Duration,
    /// The longest.
    pub max: Duration,
}

/// Calls per (caller, operation).
pub type CallCounts = BTreeMap<(String, String), OperationCalls>;

/// The proxy: one loopback URL per caller, and the counts.
#[derive(Debug)]
pub struct CallTap {
    urls: BTreeMap<String, String>,
    shared: Arc<Shared>,
    servers: Vec<JoinHandle<()>>,
}

#[derive(Debug)]
struct Shared {
    authority: String,
    idle: Mutex<Vec<SendRequest<Full<Bytes>>>>,
    counts: Mutex<CallCounts>,
}

impl CallTap {
    /// Listens on a free loopback port per caller in `callers`, forwarding to `upstream`
    /// (`http://127.0.0.1:<port>`).
    pub async fn start(upstream: &str, callers: &[&str]) -> std::io::Result<CallTap> {
        let authority = upstream.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let shared = Arc::new(Shared { authority, idle: Mutex::default(), counts: Mutex::default() });
        let (mut urls, mut servers) = (BTreeMap::new(), Vec::new());
        for caller in callers {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            urls.insert((*caller).to_owned(), format!("http://{}", listener.local_addr()?));
            servers.push(tokio::spawn(serve(listener, shared.clone(), (*caller).to_owned())));
        }
        Ok(CallTap { urls, shared, servers })
    }

    /// The URL `caller` calls the emulator at.
    pub fn url(&self, caller: &str) -> Option<&str> {
        self.urls.get(caller).map(String::as_str)
    }

    /// The counts so far.
    pub fn counts(&self) -> CallCounts {
        self.shared.counts.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Drop for CallTap {
    fn drop(&mut self) {
        self.servers.iter().for_each(JoinHandle::abort);
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, caller: String) {
    while let Ok((stream, _)) = listener.accept().await {
        let (shared, caller) = (shared.clone(), caller.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let (shared, caller) = (shared.clone(), caller.clone());
                async move { Ok::<_, std::convert::Infallible>(shared.handle(&caller, request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

impl Shared {
    async fn handle(&self, caller: &str, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let (parts, body) = request.into_parts();
        let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        let operation = operation(&parts, &body);
        let started = Instant::now();
        let response = self.forward(parts, body).await;
        let took = started.elapsed();
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = counts.entry((caller.to_owned(), operation)).or_default();
        entry.count += 1;
        entry.total += took;
        entry.max = entry.max.max(took);
        response
    }

    async fn connection(&self) -> std::io::Result<SendRequest<Full<Bytes>>> {
        loop {
            let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
            // A connection whose last answer was just read may not take the next request yet
            // (`is_ready` is false until its task has run): wait for it rather than drop it, or
            // nearly every call opens a connection and costs the emulator a thread.
            let Some(mut sender) = idle else { break };
            if !sender.is_closed() && sender.ready().await.is_ok() {
                return Ok(sender);
            }
        }
        let stream = TcpStream::connect(&self.authority).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(std::io::Error::other)?;
        tokio::spawn(connection);
        Ok(sender)
    }

    async fn forward(&self, parts: hyper::http::request::Parts, body: Bytes) -> Response<Full<Bytes>> {
        let failed = |error: &dyn std::fmt::Display| {
            let text = json!({"__type": "InternalFailure", "message": format!("call tap: {error}")});
            let mut response = Response::new(Full::new(Bytes::from(text.to_string())));
            *response.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
            response
        };
        let mut sender = match self.connection().await {
            Ok(sender) => sender,
            Err(error) => return failed(&error),
        };
        let mut request = Request::from_parts(parts, Full::new(body.clone()));
        request.headers_mut().insert(hyper::header::CONTENT_LENGTH, body.len().into());
        let response = match sender.send_request(request).await {
            Ok(response) => response,
            Err(error) => return failed(&error),
        };
        let (parts, body) = response.into_parts();
        match body.collect().await {
            Ok(collected) => {
                self.idle.lock().unwrap_or_else(PoisonError::into_inner).push(sender);
                Response::from_parts(parts, Full::new(collected.to_bytes()))
            }
            Err(error) => failed(&error),
        }
    }
}

/// The operation a request calls.
fn operation(parts: &hyper::http::request::Parts, body: &[u8]) -> String {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let target = header("x-amz-target");
    if let Some((_, operation)) = target.rsplit_once('.') {
        return operation.to_owned();
    }
    let form = std::str::from_utf8(body).unwrap_or_default();
    if let Some(action) = form.split('&').find_map(|pair| pair.strip_prefix("Action=")) {
        return action.to_owned();
    }
    // SigV4 credential scope: Credential=<key>/<date>/<region>/<service>/aws4_request.
    let service = header("authorization").split('/').nth(3).unwrap_or("?");
    format!("{service} {}", parts.method)
}

/// The counts as report lines: calls per acknowledged command by caller, then the operations
/// that cost the emulator most time.
pub fn lines(counts: &CallCounts, acknowledged: usize, wall: Duration) -> Vec<String> {
    let per = |n: f64| n / (acknowledged.max(1) as f64);
    let mut by_caller: BTreeMap<&str, OperationCalls> = BTreeMap::new();
    for ((caller, _), calls) in counts {
        let entry = by_caller.entry(caller).or_default();
        entry.count += calls.count;
        entry.total += calls.total;
    }
    let all: u64 = by_caller.values().map(|c| c.count).sum();
    let mut lines = vec![format!(
        "emulator calls: {all} ({:.1} per acknowledged command, {:.0}/s over {:.0} s)",
        per(all as f64),
        all as f64 / wall.as_secs_f64().max(1e-3),
        wall.as_secs_f64()
    )];
    for (caller, calls) in &by_caller {
        lines.push(format!(
            "  {caller}: {} calls ({:.1} per command), {:.1} s answering them",
            calls.count,
            per(calls.count as f64),
            calls.total.as_secs_f64()
        ));
    }
    let mut ranked: Vec<_> = counts.iter().collect();
    ranked.sort_by_key(|(_, calls)| std::cmp::Reverse(calls.total));
    for ((caller, operation), calls) in ranked.into_iter().take(14) {
        lines.push(format!(
            "    {caller:>9} {operation:<24} {:>8} calls {:>6.1}/command  mean {:>6.1} ms  max {:>7.0} ms",
            calls.count,
            per(calls.count as f64),
            calls.total.as_secs_f64() * 1e3 / calls.count.max(1) as f64,
            calls.max.as_secs_f64() * 1e3
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_come_from_the_target_the_form_or_the_credential_scope() {
        let request = |target: Option<&str>| {
            let mut builder = Request::builder().method("POST").uri("/").header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=test/20260101/eu-west-1/s3/aws4_request, SignedHeaders=host",
            );
            if let Some(target) = target {
                builder = builder.header("x-amz-target", target);
            }
            builder.body(()).unwrap_or_default().into_parts().0
        };
        assert_eq!(operation(&request(Some("DynamoDB_20120810.PutItem")), b""), "PutItem");
        assert_eq!(operation(&request(None), b"Action=Publish&Version=2010-03-31"), "Publish");
        assert_eq!(operation(&request(None), b""), "s3 POST");
    }
}
