//! The regions' HTTP APIs as a drill reaches them, with one client for both places they answer:
//! the local runtime's gateways (plain HTTP on 127.0.0.1) and the deployed APIs (HTTPS, the
//! server's certificate verified). A URL may be `http://` only when its host is on this machine.
//!
//! A deployed region's API is reached at its own default endpoint, which API Gateway reports for
//! the API (`GetApi`, `ApiEndpoint`: "The URI of the API, of the form
//! {api-id}.execute-api.{region}.amazonaws.com";
//! <https://boto3.amazonaws.com/v1/documentation/api/latest/reference/services/apigatewayv2/client/get_api.html>)
//! and which clients call as `https://API_ID.execute-api.REGION.amazonaws.com` (AWS re:Post
//! knowledge center, "Disable the default execute-api endpoint";
//! <https://repost.aws/knowledge-center/api-gateway-disable-endpoint>), so a command lands in the
//! region asked for. The regional custom domain carries the shared name, which
//! Route53 answers with whichever region it picks, so it cannot address one region. Clients may
//! call the default endpoint unless the API disables it (`DisableExecuteApiEndpoint`; API Gateway
//! developer guide, "Disable the default endpoint for HTTP APIs",
//! <https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-disable-default-endpoint.html>):
//! the region stack leaves it enabled, and a disabled one is refused with the reason. API
//! Gateway enforces the `TLS_1_2` security policy on every HTTP API endpoint (TLS 1.2 and 1.3;
//! "Security policy for HTTP APIs in API Gateway",
//! <https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-ciphers.html>), which
//! rustls speaks. The stack's routes have no authorizer (`AuthorizationType` unset is `NONE`,
//! open access: CloudFormation reference, `AWS::ApiGatewayV2::Route`,
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-apigatewayv2-route.html>),
//! so a request carries no credentials.

use super::checker::{BoxFuture, RegionApis};
use crate::aws::Aws;
use crate::aws::endpoint::is_loopback;
use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::{ConfigBuilderExt, HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::RootCertStore;
use serde_json::json;
use stacks::AppConfig;
use stacks::app::{HTTP_API, stack_name};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Route53 waits at most 4 seconds for an HTTP endpoint's answer (2 to connect, 2 to answer:
/// Route 53 developer guide, "How Amazon Route 53 determines whether a health check is healthy").
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(4);
/// A command's answer (API Gateway's integration timeout is 29 s; the api function answers well
/// within it, or not at all).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// Which certificate authorities an HTTPS API's certificate must chain to.
#[derive(Debug, Clone)]
pub enum Trust {
    /// The system's trust store, as the AWS SDK's own client uses (loaded only when some API
    /// is reached over HTTPS).
    System,
    /// Exactly these roots.
    Roots(RootCertStore),
}

/// One request's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The body as text.
    pub body: String,
}

/// The regions' APIs at known base URLs (`http://127.0.0.1:<port>` or `https://<host>`).
#[derive(Clone)]
pub struct HttpApis {
    urls: BTreeMap<String, String>,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    served_by: String,
}

impl std::fmt::Debug for HttpApis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpApis").field("urls", &self.urls).field("served_by", &self.served_by).finish()
    }
}

impl HttpApis {
    /// The APIs at `urls` (region → base URL), trusting `trust` for HTTPS; `served_by` says what
    /// serves them, for the report. Refuses `http://` to a host not on this machine.
    pub fn new(urls: BTreeMap<String, String>, trust: Trust, served_by: impl Into<String>) -> Result<HttpApis> {
        for (region, url) in &urls {
            let plain = url.starts_with("http://");
            if !(plain || url.starts_with("https://")) || (plain && !is_loopback(url)) {
                bail!(
                    "{region}'s API at {url}: a drill speaks plain http only to an API on this machine; a deployed \
                     API is reached over https://"
                );
            }
        }
        let roots = match trust {
            Trust::Roots(roots) => Some(roots),
            Trust::System if urls.values().any(|url| url.starts_with("https://")) => None,
            Trust::System => Some(RootCertStore::empty()),
        };
        let builder = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .context("setting up TLS")?;
        let tls = match roots {
            Some(roots) => builder.with_root_certificates(roots),
            None => builder.with_native_roots().context(
                "no trusted root certificates in the system's trust store: install the CA certificates (e.g. the \
                 ca-certificates package)",
            )?,
        }
        .with_no_client_auth();
        let connector = HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().build();
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(HttpApis { urls, client, served_by: served_by.into() })
    }

    /// The base URL of `region`'s API.
    pub fn url(&self, region: &str) -> Result<&str> {
        self.urls.get(region).map(String::as_str).with_context(|| format!("no API known for {region}"))
    }

    /// Sends `method path` with a JSON `body` (or none) to `region`'s API within `timeout`.
    pub async fn call(
        &self,
        region: &str,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
        timeout: Duration,
    ) -> Result<Answer> {
        let url = format!("{}{path}", self.url(region)?.trim_end_matches('/'));
        let payload = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let request = hyper::Request::builder()
            .method(method)
            .uri(&url)
            .header("content-type", "application/json")
            .header("user-agent", "regions-kit-drill")
            .body(Full::new(payload))
            .with_context(|| format!("building {method} {url}"))?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| failure(&url, &e))?;
            let status = response.status().as_u16();
            let bytes = response.into_body().collect().await.map_err(|e| failure(&url, &e))?.to_bytes();
            Ok(Answer { status, body: String::from_utf8_lossy(&bytes).into_owned() })
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or_else(|_| Err(anyhow!("{method} {url}: no answer within {timeout:?}")))
    }
}

/// Why a request failed, saying so plainly when the server's certificate was not trusted.
fn failure(url: &str, error: &(dyn std::error::Error + 'static)) -> anyhow::Error {
    let mut chain = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push(cause.to_string());
        source = cause.source();
    }
    match tls_error(error) {
        Some(rustls::Error::InvalidCertificate(why)) => anyhow!(
            "{url}: the server's TLS certificate is not trusted ({why:?}): the drill verifies it against the \
             system's trust store; check that the URL is the API's own endpoint and that no proxy intercepts TLS"
        ),
        Some(other) => anyhow!("{url}: TLS failed: {other}"),
        None => anyhow!("{url}: {}", chain.join(": ")),
    }
}

/// The TLS error inside `error`: in its sources, or wrapped in an `io::Error` (the connector
/// wraps the TLS stream's `io::Error`, which wraps rustls's error, in another one).
fn tls_error(error: &(dyn std::error::Error + 'static)) -> Option<rustls::Error> {
    if let Some(tls) = error.downcast_ref::<rustls::Error>() {
        return Some(tls.clone());
    }
    let wrapped = error.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref());
    if let Some(tls) = wrapped.and_then(|inner| tls_error(inner)) {
        return Some(tls);
    }
    error.source().and_then(tls_error)
}

impl RegionApis for HttpApis {
    fn health<'a>(&'a self, region: &'a str) -> BoxFuture<'a, Result<u16>> {
        Box::pin(async move { Ok(self.call(region, "GET", "/health", None, HEALTH_TIMEOUT).await?.status) })
    }

    fn create_task<'a>(&'a self, region: &'a str, title: &'a str) -> BoxFuture<'a, Result<String>> {
        Box::pin(async move {
            let body = json!({ "title": title });
            let answer = self.call(region, "POST", "/tasks", Some(&body), COMMAND_TIMEOUT).await?;
            if answer.status != 201 {
                bail!("POST /tasks on {region} answered {}: {}", answer.status, answer.body);
            }
            let parsed: serde_json::Value = serde_json::from_str(&answer.body).unwrap_or_default();
            let id = parsed["id"].as_str().map(str::to_owned);
            id.with_context(|| format!("POST /tasks on {region} answered no task id: {}", answer.body))
        })
    }

    fn describe(&self) -> String {
        self.served_by.clone()
    }
}

/// The deployed APIs of `regions`, each at its default endpoint over HTTPS, certificates checked
/// against the system's trust store.
pub async fn deployed(aws: &Aws, config: &AppConfig, regions: &[String]) -> Result<HttpApis> {
    let mut urls = BTreeMap::new();
    for region in regions {
        let stack = stack_name(config, stacks::StackPart::Region, region);
        let url = endpoint(&aws.cloudformation(region), &aws.apigatewayv2(region), &stack, region).await?;
        urls.insert(region.clone(), url);
    }
    let served_by = "the deployed regions: each region's API Gateway HTTP API at its own endpoint over HTTPS \
                     (certificate verified against the system's trust store), and its deployed publisher";
    HttpApis::new(urls, Trust::System, served_by)
}

/// The default endpoint of the HTTP API of the region stack `stack`: the API's ID is its
/// physical ID (`ListStackResources`), its URL what API Gateway reports (`GetApi`).
pub async fn endpoint(
    cfn: &aws_sdk_cloudformation::Client,
    apigw: &aws_sdk_apigatewayv2::Client,
    stack: &str,
    region: &str,
) -> Result<String> {
    let ids = crate::dns::physical_ids(cfn, stack, region).await?;
    let api_id = ids.get(HTTP_API).with_context(|| {
        format!("{stack} in {region} has no {HTTP_API}: deploy the region (`cargo xtask deploy --region {region}`)")
    })?;
    let api = apigw
        .get_api()
        .api_id(api_id)
        .send()
        .await
        .with_context(|| format!("describing the HTTP API {api_id} in {region} (API Gateway GetApi)"))?;
    if api.disable_execute_api_endpoint() == Some(true) {
        bail!(
            "the HTTP API {api_id} in {region} has its default endpoint disabled (DisableExecuteApiEndpoint), \
             through which the probe addresses one region: enable it, or drill without --probe"
        );
    }
    let reported =
        api.api_endpoint().with_context(|| format!("API Gateway reports no endpoint for {api_id} in {region}"))?;
    https_url(reported).with_context(|| format!("the endpoint of the HTTP API {api_id} in {region}"))
}

/// `https://<host>` for an endpoint reported with or without its scheme; anything but HTTPS is
/// refused.
pub fn https_url(reported: &str) -> Result<String> {
    match reported.split_once("://") {
        None => Ok(format!("https://{}", reported.trim_end_matches('/'))),
        Some(("https", host)) => Ok(format!("https://{}", host.trim_end_matches('/'))),
        Some(_) => bail!("{reported} is not an https:// endpoint; the probe only writes to a deployed API over TLS"),
    }
}

#[cfg(test)]
mod tests;
