//! The local AWS emulator (moto server from the project venv) on 127.0.0.1: start, wait until it
//! answers, stop. Only loopback addresses are ever used. The server runs through the kit's
//! launcher ([`LAUNCHER`]), which fixes moto's DynamoDB transactions: a cancelled one loses other
//! requests' writes and stalls the table's stream in moto 5.2.5 (the launcher says why and how).

use anyhow::{Context, Result, bail};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// The moto server executable installed by `.ci/setup`, relative to the workspace root.
pub const MOTO_SERVER: &str = ".venv/bin/moto_server";
/// The venv's Python, which runs [`LAUNCHER`].
pub const PYTHON: &str = ".venv/bin/python";
/// moto's server with the kit's fixes, relative to the workspace root.
pub const LAUNCHER: &str = "xtask/engine/emulator/moto_server.py";

/// The workspace root (the engine lives at `xtask/engine` in it).
pub fn workspace_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).map(Path::to_path_buf).unwrap_or_default()
}
/// How long a fresh server may take to answer.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// A moto server started by this process; stopped when dropped.
#[derive(Debug)]
pub struct Emulator {
    child: Child,
    port: u16,
}

impl Emulator {
    /// Starts moto on 127.0.0.1:`port` (a free port when `None`) and waits until it answers.
    pub fn start(port: Option<u16>, log: &Path) -> Result<Emulator> {
        let port = match port {
            Some(port) => port,
            None => free_port()?,
        };
        let child = spawn(port, log)?;
        let mut emulator = Emulator { child, port };
        emulator.wait_until_ready()?;
        Ok(emulator)
    }

    /// Leaves the server running after this process ends; returns its pid.
    pub fn detach(self) -> u32 {
        let pid = self.child.id();
        std::mem::forget(self);
        pid
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        endpoint(self.port)
    }

    fn wait_until_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!("moto_server exited during start-up ({status}); is port {} taken?", self.port);
            }
            if answers(self.port) {
                return Ok(());
            }
            sleep(Duration::from_millis(200));
        }
        bail!("moto_server did not answer on 127.0.0.1:{} within {STARTUP_TIMEOUT:?}", self.port)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // Best effort: the child may already have exited.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts moto's server through [`LAUNCHER`] on 127.0.0.1:`port`, logging to `log`.
fn spawn(port: u16, log: &Path) -> Result<Child> {
    let root = workspace_root();
    if !root.join(MOTO_SERVER).exists() {
        bail!("{MOTO_SERVER} is missing; run `bash .ci/setup` (or `cargo xtask local up`) to install moto[server]");
    }
    let log_file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    Command::new(root.join(PYTHON))
        .arg(root.join(LAUNCHER))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file)
        .spawn()
        .context("starting moto_server")
}

/// `http://127.0.0.1:<port>`.
pub fn endpoint(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// Whether an HTTP server on 127.0.0.1:`port` answers a plain GET.
pub fn answers(port: u16) -> bool {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(500)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("finding a free loopback port")?;
    Ok(listener.local_addr()?.port())
}
