//! Test harness for the engine and the tools built on it (feature `testing`): the local emulator
//! (the one `cargo xtask test` started, or a fresh one) with AWS access to it, an app deployed to
//! it, and an endpoint on loopback that records what it is sent. Tests reach nothing but 127.0.0.1.

use crate::approval::{Approval, RequireApproval};
use crate::aws::endpoint::is_loopback;
use crate::aws::{Aws, AwsSettings};
use crate::deploy::deploy;
use crate::emulator::Emulator;
use crate::plan::{DeployOptions, Plan, RegionSelection};
use crate::session::Session;
use stacks::AppConfig;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The variable naming an already running emulator (`cargo xtask test` sets it).
pub const EMULATOR_VARIABLE: &str = "KIT_EMULATOR_ENDPOINT";

/// The emulator a test talks to; a server started here stops when this is dropped.
pub struct TestEmulator {
    _owned: Option<Emulator>,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
}

/// The emulator from `KIT_EMULATOR_ENDPOINT`, or a new one on a free loopback port.
pub fn emulator() -> TestEmulator {
    if let Ok(endpoint) = std::env::var(EMULATOR_VARIABLE) {
        assert!(is_loopback(&endpoint), "tests only use a loopback emulator, not {endpoint}");
        return TestEmulator { _owned: None, endpoint };
    }
    own_emulator()
}

/// A stack resource as `ListStackResources` lists it once created: `logical` ID, `physical` ID, `kind`.
pub fn stack_resource(
    logical: &str,
    physical: &str,
    kind: &str,
) -> aws_sdk_cloudformation::types::StackResourceSummary {
    aws_sdk_cloudformation::types::StackResourceSummary::builder()
        .logical_resource_id(logical)
        .physical_resource_id(physical)
        .resource_type(kind)
        .resource_status(aws_sdk_cloudformation::types::ResourceStatus::CreateComplete)
        .last_updated_timestamp(aws_sdk_cloudformation::primitives::DateTime::from_secs(0))
        .build()
}

/// A new emulator on a free loopback port, also when the suite shares one: for a test whose load
/// (a soak) would slow every other test's calls to a shared server and be slowed by them.
pub fn own_emulator() -> TestEmulator {
    let log = std::env::temp_dir().join(format!("kit-moto-{}-{}.log", std::process::id(), unique_suffix()));
    let emulator = Emulator::start(None, &log).expect("start moto (run .ci/setup first)");
    TestEmulator { endpoint: emulator.endpoint(), _owned: Some(emulator) }
}

/// Nanoseconds of the clock, to tell apart the logs of emulators one process starts.
fn unique_suffix() -> u32 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos())
}

/// AWS access to the emulator.
pub async fn aws(emulator: &TestEmulator) -> Aws {
    let settings = AwsSettings { endpoint_url: Some(emulator.endpoint.clone()), ..AwsSettings::default() };
    Aws::load(&settings).await.expect("load AWS config for the emulator")
}

/// `config` deployed to the emulator in every region, approved without asking, with empty
/// function archives (the emulator stores code, never runs it); panics when a stack did not deploy.
pub async fn deployed(emulator: &TestEmulator, config: AppConfig) -> Session {
    let app = config.app.clone();
    let session = Session::new(aws(emulator).await, config).await.expect("a session on the emulator");
    let zips = std::env::temp_dir().join(format!("kit-zips-{app}"));
    let artifacts = crate::artifacts::empty_archives(&zips, &app).expect("write the empty function archives");
    let selection = RegionSelection { regions: Vec::new(), all: true };
    let plan = Plan::new(&session.config, &session.assembly, &selection, &DeployOptions::default()).expect("a plan");
    let approval = Approval::new(RequireApproval::Never, false);
    let report = deploy(&session, &plan, &artifacts, &approval).await.expect("deploy");
    assert!(report.unsuccessful().is_empty(), "deploy failed");
    session
}

/// One request the [`RecordingEndpoint`] received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The request line, e.g. `POST / HTTP/1.1`.
    pub request_line: String,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The body (query-protocol requests name their action here).
    pub body: String,
}

/// An HTTP endpoint on 127.0.0.1 that records every request and answers each with a
/// non-retryable `AccessDenied` error, so SDK calls fail fast. Lives until dropped.
pub struct RecordingEndpoint {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    recorded: Arc<Mutex<Vec<Recorded>>>,
}

impl RecordingEndpoint {
    /// Starts listening on a free loopback port.
    pub fn start() -> RecordingEndpoint {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let endpoint = format!("http://{}", listener.local_addr().expect("listener address"));
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&recorded);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let sink = Arc::clone(&sink);
                std::thread::spawn(move || serve(stream, &sink));
            }
        });
        RecordingEndpoint { endpoint, recorded }
    }

    /// Everything received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.recorded.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

/// Answers requests on one connection (keep-alive) until the client closes it.
fn serve(stream: TcpStream, sink: &Mutex<Vec<Recorded>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let (mut authorization, mut length) = (None, 0usize);
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                match name.trim().to_ascii_lowercase().as_str() {
                    "authorization" => authorization = Some(value.trim().to_owned()),
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let body = String::from_utf8_lossy(&body).into_owned();
        if let Ok(mut recorded) = sink.lock() {
            recorded.push(Recorded { request_line: request_line.trim_end().to_owned(), authorization, body });
        }
        let answer = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>\
                      <Message>recorded by the test endpoint</Message></Error><RequestId>1</RequestId></ErrorResponse>";
        let response = format!(
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/xml\r\nx-amzn-ErrorType: AccessDenied\r\n\
             Content-Length: {}\r\n\r\n{answer}",
            answer.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}
