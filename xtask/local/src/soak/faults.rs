//! Publish failures on purpose: a loopback proxy in front of the emulator's Kinesis endpoint,
//! given to the publisher processes only (`AWS_ENDPOINT_URL_KINESIS`), that fails a share of the
//! entries of each `PutRecords` call the way Kinesis does when a shard is over its throughput, so
//! the publisher's per-entry retry path runs against real partial failures.
//!
//! Kinesis' answer to a partly failed call (API reference, PutRecords and PutRecordsResultEntry:
//! <https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html>,
//! <https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecordsResultEntry.html>):
//! HTTP 200 with `FailedRecordCount` and `Records` in the request's order, each entry either
//! `SequenceNumber` + `ShardId` or `ErrorCode` + `ErrorMessage`, where `ErrorCode` is
//! `ProvisionedThroughputExceededException` (its message names the account, stream and shard) or
//! `InternalFailure`. The failed entries are never stored: only the others go to the emulator.
//! Every other request passes through unchanged.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The proxy: its URL for the publishers, and what it injected.
#[derive(Debug)]
pub struct FaultProxy {
    url: String,
    counts: Arc<FaultCounts>,
    server: JoinHandle<()>,
}

/// What the proxy saw and did.
#[derive(Debug, Default)]
pub struct FaultCounts {
    /// `PutRecords` calls seen.
    pub calls: AtomicU64,
    /// Entries in them.
    pub entries: AtomicU64,
    /// Entries answered `ProvisionedThroughputExceededException` (not stored).
    pub injected: AtomicU64,
}

impl FaultProxy {
    /// Listens on a free loopback port, forwarding to `upstream` (`http://127.0.0.1:<port>`),
    /// failing each `PutRecords` entry with probability `rate` (0..=1).
    pub async fn start(upstream: &str, rate: f64) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let counts = Arc::new(FaultCounts::default());
        let authority = upstream.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let rng = Mutex::new(SmallRng::from_os_rng());
        let shared = Arc::new(Shared { authority, rng, rate: rate.clamp(0.0, 1.0), counts: counts.clone() });
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let shared = shared.clone();
                        async move { Ok::<_, std::convert::Infallible>(shared.handle(request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(FaultProxy { url, counts, server })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What was injected so far.
    pub fn counts(&self) -> &FaultCounts {
        &self.counts
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

struct Shared {
    authority: String,
    rng: Mutex<SmallRng>,
    rate: f64,
    counts: Arc<FaultCounts>,
}

impl Shared {
    async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let (parts, body) = request.into_parts();
        let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else {
            return answer(400, "application/json", Bytes::from_static(b"{\"message\":\"unreadable body\"}"));
        };
        let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !target.ends_with(".PutRecords") {
            return self.forward(parts, body).await;
        }
        let Ok(mut call) = serde_json::from_slice::<Value>(&body) else { return self.forward(parts, body).await };
        let records = call["Records"].as_array().cloned().unwrap_or_default();
        let failing: Vec<bool> = match self.rng.lock() {
            Ok(mut rng) => records.iter().map(|_| rng.random::<f64>() < self.rate).collect(),
            Err(_) => vec![false; records.len()],
        };
        self.counts.calls.fetch_add(1, Ordering::Relaxed);
        self.counts.entries.fetch_add(records.len() as u64, Ordering::Relaxed);
        let kept: Vec<Value> = records.iter().zip(&failing).filter(|(_, f)| !**f).map(|(r, _)| r.clone()).collect();
        let stored = if kept.is_empty() {
            Vec::new()
        } else {
            call["Records"] = Value::Array(kept);
            let upstream = self.forward(parts, Bytes::from(call.to_string())).await;
            if upstream.status() != 200 {
                return upstream;
            }
            let bytes = upstream.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            let answered: Value = serde_json::from_slice(&bytes).unwrap_or_default();
            answered["Records"].as_array().cloned().unwrap_or_default()
        };
        let stream = call["StreamName"].as_str().or(call["StreamARN"].as_str()).unwrap_or_default().to_owned();
        let merged = merge(&failing, stored, &stream);
        self.counts.injected.fetch_add(merged.failed, Ordering::Relaxed);
        let body = json!({"FailedRecordCount": merged.failed, "Records": merged.records});
        answer(200, "application/x-amz-json-1.1", Bytes::from(body.to_string()))
    }

    /// Sends the request on to the emulator as it is (with `body`).
    async fn forward(&self, parts: hyper::http::request::Parts, body: Bytes) -> Response<Full<Bytes>> {
        let failed = |error: &dyn std::fmt::Display| {
            let text = json!({"__type": "InternalFailure", "message": format!("fault proxy: {error}")});
            answer(500, "application/x-amz-json-1.1", Bytes::from(text.to_string()))
        };
        let stream = match TcpStream::connect(&self.authority).await {
            Ok(stream) => stream,
            Err(error) => return failed(&error),
        };
        let (mut sender, connection) = match hyper::client::conn::http1::handshake(TokioIo::new(stream)).await {
            Ok(pair) => pair,
            Err(error) => return failed(&error),
        };
        tokio::spawn(connection);
        let mut request = Request::from_parts(parts, Full::new(body.clone()));
        request.headers_mut().insert(hyper::header::CONTENT_LENGTH, body.len().into());
        match sender.send_request(request).await {
            Ok(response) => {
                let (parts, body) = response.into_parts();
                match body.collect().await {
                    Ok(collected) => Response::from_parts(parts, Full::new(collected.to_bytes())),
                    Err(error) => failed(&error),
                }
            }
            Err(error) => failed(&error),
        }
    }
}

struct Merged {
    failed: u64,
    records: Vec<Value>,
}

/// The answer's entries in the request's order: a throughput error where `failing`, else the
/// emulator's next entry.
fn merge(failing: &[bool], stored: Vec<Value>, stream: &str) -> Merged {
    let mut stored = stored.into_iter();
    let mut failed = 0;
    let records = failing
        .iter()
        .map(|fails| {
            if *fails {
                failed += 1;
                json!({"ErrorCode": "ProvisionedThroughputExceededException",
                    "ErrorMessage": format!("Rate exceeded for shard in stream {stream} under account {}.", crate::DEFAULT_ACCOUNT)})
            } else {
                stored.next().unwrap_or_else(
                    || json!({"ErrorCode": "InternalFailure", "ErrorMessage": "Internal Service Failure"}),
                )
            }
        })
        .collect();
    Merged { failed, records }
}

fn answer(status: u16, content_type: &str, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(value) = content_type.parse() {
        response.headers_mut().insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_entries_keep_their_place_among_the_stored_ones() {
        let stored =
            vec![json!({"SequenceNumber": "1", "ShardId": "s"}), json!({"SequenceNumber": "2", "ShardId": "s"})];
        let merged = merge(&[false, true, false], stored, "orders-events");
        assert_eq!(merged.failed, 1);
        assert_eq!(merged.records[0]["SequenceNumber"], "1");
        assert_eq!(merged.records[1]["ErrorCode"], "ProvisionedThroughputExceededException");
        assert_eq!(merged.records[2]["SequenceNumber"], "2");
    }
}
