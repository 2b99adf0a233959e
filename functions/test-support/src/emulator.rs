//! The moto server the integration tests talk to, on loopback only: the one named by
//! `KIT_EMULATOR_ENDPOINT` (`cargo xtask test` starts it), or else one this process starts from
//! `.venv/bin/moto_server` on a free port and that dies with this process.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Variable naming a running emulator, e.g. `http://127.0.0.1:4566`.
pub const ENDPOINT_VARIABLE: &str = "KIT_EMULATOR_ENDPOINT";
/// How long a started moto server may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(60);

struct Emulator {
    endpoint: String,
    // Holding the wrapper's stdin open keeps the server alive; the OS closes it when this
    // process exits, however it exits, and the wrapper then stops the server.
    _lifeline: Option<(Child, ChildStdin)>,
}

static EMULATOR: OnceLock<Result<Emulator, String>> = OnceLock::new();

/// The emulator's endpoint, starting one on first use. Panics with the reason if there is none.
pub fn endpoint() -> &'static str {
    match EMULATOR.get_or_init(start) {
        Ok(emulator) => &emulator.endpoint,
        Err(reason) => panic!("no AWS emulator: {reason}"),
    }
}

fn start() -> Result<Emulator, String> {
    if let Ok(endpoint) = std::env::var(ENDPOINT_VARIABLE) {
        if !engine::aws::endpoint::is_loopback(&endpoint) {
            return Err(format!("{ENDPOINT_VARIABLE}={endpoint} is not on loopback; tests never call other hosts"));
        }
        return Ok(Emulator { endpoint: endpoint.trim_end_matches('/').to_owned(), _lifeline: None });
    }
    let moto = workspace_root().join(".venv/bin/moto_server");
    if !moto.exists() {
        return Err(format!("{} is missing: run .ci/setup, or set {ENDPOINT_VARIABLE}", moto.display()));
    }
    let mut last_error = String::new();
    // A port found free can be taken before moto binds it; a few tries make that harmless.
    for _ in 0..3 {
        match spawn(&moto) {
            Ok(emulator) => return Ok(emulator),
            Err(error) => last_error = error,
        }
    }
    Err(last_error)
}

fn spawn(moto: &std::path::Path) -> Result<Emulator, String> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("finding a free loopback port: {e}"))?
        .port();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(r#""$0" -H 127.0.0.1 -p "$1" >/dev/null 2>&1 & server=$!; cat >/dev/null; kill $server"#)
        .arg(moto)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting {}: {e}", moto.display()))?;
    let stdin = child.stdin.take().ok_or_else(|| "the moto wrapper has no stdin".to_owned())?;
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let started = Instant::now();
    while started.elapsed() < START_TIMEOUT {
        match TcpStream::connect_timeout(&address, Duration::from_millis(200)) {
            Ok(_) => {
                return Ok(Emulator { endpoint: format!("http://{address}"), _lifeline: Some((child, stdin)) });
            }
            Err(e) if e.kind() == ErrorKind::ConnectionRefused || e.kind() == ErrorKind::TimedOut => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => return Err(format!("connecting to moto on {address}: {e}")),
        }
    }
    drop(stdin);
    let _ = child.wait();
    Err(format!("moto did not listen on {address} within {START_TIMEOUT:?}"))
}

/// The workspace root: two levels above this crate.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."))
}
