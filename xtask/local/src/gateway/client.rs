//! A minimal HTTP/1.1 client for the local gateways (the demo's and the tests' requests): one
//! request per connection, bounded in time, loopback only.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use std::time::Duration;
use tokio::net::TcpStream;

/// A request to a local gateway failed before an answer.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// Not an `http://127.0.0.1:<port>` URL.
    #[error("{0} is not a loopback http:// URL")]
    NotLoopback(String),
    /// Nothing answers on the port (a stopped gateway), or the connection broke.
    #[error("{url}: {message}")]
    Connection {
        /// The gateway's URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// No answer in time.
    #[error("{0}: no answer within {1:?}")]
    TimedOut(String, Duration),
}

/// A gateway's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The body as text.
    pub body: String,
}

impl Answer {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_default()
    }
}

/// Sends `method path` with a JSON `body` (or none) to the gateway at `url`, within `timeout`.
pub async fn call(
    url: &str,
    method: &str,
    path: &str,
    body: Option<&serde_json::Value>,
    timeout: Duration,
) -> Result<Answer, CallError> {
    let authority = url
        .strip_prefix("http://")
        .filter(|a| a.starts_with("127.0.0.1:") || a.starts_with("localhost:"))
        .ok_or_else(|| CallError::NotLoopback(url.to_owned()))?
        .trim_end_matches('/')
        .to_owned();
    let failed = |e: &dyn std::fmt::Display| CallError::Connection { url: url.to_owned(), message: e.to_string() };
    let exchange = async {
        let stream = TcpStream::connect(&authority).await.map_err(|e| failed(&e))?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| failed(&e))?;
        tokio::spawn(connection);
        let payload = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", authority.as_str())
            .header("content-type", "application/json")
            .header("user-agent", "regions-kit")
            .body(Full::new(payload))
            .map_err(|e| failed(&e))?;
        let response = sender.send_request(request).await.map_err(|e| failed(&e))?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.map_err(|e| failed(&e))?.to_bytes();
        Ok(Answer { status, body: String::from_utf8_lossy(&bytes).into_owned() })
    };
    tokio::time::timeout(timeout, exchange).await.unwrap_or_else(|_| Err(CallError::TimedOut(url.to_owned(), timeout)))
}
