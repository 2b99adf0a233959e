//! The drill's one client against an HTTPS API on 127.0.0.1 whose self-signed certificate is
//! trusted through the root store handed to it: the probe speaks TLS, sends `POST /tasks` as the
//! api function expects it, and counts what reached the emulator's Kinesis stream with the one
//! stream reader; a certificate from an unknown issuer fails with the reason, and nothing is sent.
//! A deployed API's endpoint comes from the region stack and API Gateway (mocked clients: the
//! emulator's stacks have no API Gateway v2 resources).

#![allow(clippy::unwrap_used)]

use super::{HttpApis, Trust, endpoint, https_url};
use crate::drill::probe;
use crate::testing::stack_resource as resource;
use aws_sdk_apigatewayv2::operation::get_api::GetApiOutput;
use aws_sdk_cloudformation::operation::list_stack_resources::ListStackResourcesOutput;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rustls::RootCertStore;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const REGION: &str = "us-east-1";

/// One request the test API received (over TLS: it has no other listener).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    method: String,
    path: String,
    content_type: String,
    body: serde_json::Value,
}

/// What the test API publishes for the n-th command (1-based).
#[derive(Debug, Clone, Copy)]
struct Faults {
    /// Put on the stream twice.
    duplicated: Option<usize>,
    /// Never put on the stream.
    lost: Option<usize>,
}

/// A self-signed certificate for `127.0.0.1` and `localhost` issued by `issuer`, and its key.
fn certificate_of(issuer: &str) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, issuer);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.der().clone(), PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())))
}

fn certificate() -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    certificate_of("regions-kit test API")
}

fn trusting(certificate: &CertificateDer<'static>) -> Trust {
    let mut roots = RootCertStore::empty();
    roots.add(certificate.clone()).unwrap();
    Trust::Roots(roots)
}

/// A TaskCreated event of `task` as the publisher puts it on the stream.
fn event(task: &str) -> Vec<u8> {
    json!({
        "id": format!("event-{task}"), "type": "TaskCreated", "version": 1, "aggregate_type": "Task",
        "aggregate_id": task, "sequence": 1, "origin_region": REGION, "recorded_at": "2026-12-01T00:00:00.000Z",
        "published_by": REGION, "replay": false, "payload": {"title": "t"}
    })
    .to_string()
    .into_bytes()
}

/// An HTTPS API on 127.0.0.1 serving `certificate`: `POST /tasks` answers 201 with a new task's
/// id after putting its event on `stream` as the api function and the publisher would (with
/// `faults`). Its URL and what it received.
async fn serve(
    certificate: (CertificateDer<'static>, PrivateKeyDer<'static>),
    kinesis: aws_sdk_kinesis::Client,
    stream: String,
    faults: Faults,
) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certificate.0], certificate.1)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let Ok(tls) = acceptor.accept(tcp).await else { continue };
            let (sink, kinesis, stream) = (Arc::clone(&sink), kinesis.clone(), stream.clone());
            let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let (sink, kinesis, stream) = (Arc::clone(&sink), kinesis.clone(), stream.clone());
                async move {
                    let method = request.method().to_string();
                    let path = request.uri().path().to_owned();
                    let content_type = request.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
                    let bytes = request.into_body().collect().await.unwrap().to_bytes();
                    let body = serde_json::from_slice(&bytes).unwrap_or_default();
                    let n = {
                        let mut seen = sink.lock().unwrap();
                        seen.push(Seen { method, path, content_type: content_type.unwrap_or_default(), body });
                        seen.len()
                    };
                    let task = format!("task-{n}-{}", uuid_like());
                    let copies = match (faults.duplicated, faults.lost) {
                        (Some(d), _) if d == n => 2,
                        (_, Some(l)) if l == n => 0,
                        _ => 1,
                    };
                    for _ in 0..copies {
                        let put = kinesis.put_record().stream_name(&stream).partition_key(format!("Task#{task}"));
                        put.data(event(&task).into()).send().await.unwrap();
                    }
                    let answer = json!({ "id": task }).to_string();
                    Ok::<_, std::convert::Infallible>(
                        hyper::Response::builder().status(201).body(Full::new(Bytes::from(answer))).unwrap(),
                    )
                }
            });
            tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), service));
        }
    });
    (url, seen)
}

/// A test API over TLS in front of a new stream on the emulator: what each probe test starts with.
struct TestApi {
    _emulator: crate::testing::TestEmulator,
    kinesis: aws_sdk_kinesis::Client,
    stream: String,
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Trusts the API's certificate.
    trust: Trust,
}

impl TestApi {
    /// A stream named `prefix-<suffix>` and an API with a new certificate publishing to it with `faults`.
    async fn start(prefix: &str, faults: Faults) -> TestApi {
        let emulator = crate::testing::emulator();
        let aws = crate::testing::aws(&emulator).await;
        let name = format!("{prefix}-{}", uuid_like());
        let kinesis = stream(&aws, &name).await;
        let certificate = certificate();
        let trust = trusting(&certificate.0);
        let (url, seen) = serve(certificate, kinesis.clone(), name.clone(), faults).await;
        TestApi { _emulator: emulator, kinesis, stream: name, url, seen, trust }
    }

    /// A client of this API that trusts `trust`.
    fn client(&self, trust: Trust, ran_by: &str) -> HttpApis {
        HttpApis::new(BTreeMap::from([(REGION.to_owned(), self.url.clone())]), trust, ran_by).unwrap()
    }
}

/// A distinct suffix per run, so runs against a shared emulator do not see each other's tasks.
fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{nanos:x}")
}

async fn stream(aws: &crate::aws::Aws, name: &str) -> aws_sdk_kinesis::Client {
    let kinesis = aws.kinesis(REGION);
    kinesis.create_stream().stream_name(name).shard_count(1).send().await.unwrap();
    kinesis
}

#[tokio::test]
async fn the_probe_speaks_tls_sends_post_tasks_and_counts_what_the_emulators_stream_published() {
    let api = TestApi::start("probe-tls", Faults { duplicated: Some(2), lost: Some(3) }).await;
    let apis = api.client(api.trust.clone(), "a test API");

    let result = probe::run(&apis, &api.kinesis, REGION, &api.stream, 3, Duration::from_secs(2)).await.unwrap();
    assert_eq!((result.written, result.published, result.duplicates), (3, 2, 1), "{result:?}");
    assert_eq!(result.missing.len(), 1, "{result:?}");
    assert!(result.missing[0].starts_with("task-3-"), "{result:?}");
    assert!(!result.passed());
    assert_eq!(result.ran_by, "a test API");

    let seen = api.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "{seen:?}");
    for (n, request) in seen.iter().enumerate() {
        assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", "/tasks"));
        assert_eq!(request.content_type, "application/json");
        assert_eq!(request.body, json!({ "title": format!("drill probe {} of 3", n + 1) }));
    }
    assert!(api.url.starts_with("https://127.0.0.1:"), "{}", api.url);
}

#[tokio::test]
async fn a_clean_probe_over_tls_passes() {
    let api = TestApi::start("probe-clean", Faults { duplicated: None, lost: None }).await;
    let apis = api.client(api.trust.clone(), "a test API");
    let result = probe::run(&apis, &api.kinesis, REGION, &api.stream, 2, Duration::from_secs(10)).await.unwrap();
    assert!(result.passed(), "{result:?}");
    assert_eq!((result.written, result.published, result.duplicates), (2, 2, 0));
}

#[tokio::test]
async fn a_certificate_from_an_unknown_issuer_fails_with_the_reason_and_nothing_is_sent() {
    let api = TestApi::start("probe-untrusted", Faults { duplicated: None, lost: None }).await;
    let other = certificate_of("another authority");
    let apis = api.client(trusting(&other.0), "x");
    let url = api.url.clone();

    let error = crate::drill::checker::RegionApis::create_task(&apis, REGION, "t").await.unwrap_err();
    let message = format!("{error:#}");
    assert!(message.contains(&url), "{message}");
    assert!(message.contains("TLS certificate is not trusted (UnknownIssuer)"), "{message}");
    assert!(api.seen.lock().unwrap().is_empty(), "no request got through");
}

#[test]
fn plain_http_goes_only_to_this_machine_and_endpoints_are_https() {
    let trust = || Trust::Roots(RootCertStore::empty());
    let local = BTreeMap::from([(REGION.to_owned(), "http://127.0.0.1:8080".to_owned())]);
    assert!(HttpApis::new(local, trust(), "local").is_ok());
    let remote = BTreeMap::from([(REGION.to_owned(), "http://abc.execute-api.us-east-1.amazonaws.com".to_owned())]);
    let refused = HttpApis::new(remote, trust(), "remote").unwrap_err().to_string();
    assert!(refused.contains("a deployed API is reached over https://"), "{refused}");

    let host = "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com";
    assert_eq!(https_url(host).unwrap(), format!("https://{host}"));
    assert_eq!(https_url(&format!("https://{host}/")).unwrap(), format!("https://{host}"));
    assert!(https_url(&format!("http://{host}")).is_err());
}

#[tokio::test]
async fn a_deployed_regions_api_is_its_default_endpoint_unless_that_is_disabled() {
    let listed = mock!(aws_sdk_cloudformation::Client::list_stack_resources)
        .match_requests(|request| request.stack_name() == Some("shop-region-eu-west-1"))
        .then_output(|| {
            ListStackResourcesOutput::builder()
                .stack_resource_summaries(resource("HttpApi", "a1b2c3d4e5", "AWS::ApiGatewayV2::Api"))
                .build()
        });
    let enabled = mock!(aws_sdk_apigatewayv2::Client::get_api)
        .match_requests(|request| request.api_id() == Some("a1b2c3d4e5"))
        .then_output(|| {
            GetApiOutput::builder()
                .api_id("a1b2c3d4e5")
                .api_endpoint("https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com")
                .build()
        });
    let cfn = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, [&listed]);
    let apigw = mock_client!(aws_sdk_apigatewayv2, RuleMode::MatchAny, [&enabled]);
    let url = endpoint(&cfn, &apigw, "shop-region-eu-west-1", "eu-west-1").await.unwrap();
    assert_eq!(url, "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com");

    let disabled = mock!(aws_sdk_apigatewayv2::Client::get_api).then_output(|| {
        GetApiOutput::builder()
            .api_endpoint("https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com")
            .disable_execute_api_endpoint(true)
            .build()
    });
    let apigw = mock_client!(aws_sdk_apigatewayv2, RuleMode::MatchAny, [&disabled]);
    let error = endpoint(&cfn, &apigw, "shop-region-eu-west-1", "eu-west-1").await.unwrap_err().to_string();
    assert!(error.contains("default endpoint disabled (DisableExecuteApiEndpoint)"), "{error}");

    let empty = mock!(aws_sdk_cloudformation::Client::list_stack_resources)
        .then_output(|| ListStackResourcesOutput::builder().build());
    let cfn = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, [&empty]);
    let error = endpoint(&cfn, &apigw, "shop-region-eu-west-1", "eu-west-1").await.unwrap_err().to_string();
    assert!(error.contains("cargo xtask deploy --region eu-west-1"), "{error}");
}
