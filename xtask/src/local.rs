//! `cargo xtask local up | down | status`: the local AWS emulator (pinned moto server from the
//! project venv) on 127.0.0.1, started in the background and stopped by the pid it recorded.
//! `cargo xtask local run`: the deployed app run on this machine ([`run`]); `cargo xtask local
//! soak`: the exactly-once soak on it ([`soak`]).

mod run;
mod soak;

pub use run::{DeployedAppArgs, RunArgs, RuntimeOptions, start_runtime};
pub use soak::SoakArgs;

use crate::options::DEFAULT_LOCAL_PORT;
use anyhow::{Context, Result, bail};
use engine::emulator::{self, Emulator, MOTO_SERVER};
use std::fs;
use std::path::Path;
use std::process::Command;

/// Where the running emulator's pid and port are recorded.
const STATE_FILE: &str = ".local/moto.pid";
/// The emulator's log.
const LOG_FILE: &str = ".local/moto.log";

/// `cargo xtask local ...`.
#[derive(Debug, clap::Subcommand)]
pub enum LocalCommand {
    /// Install moto[server] if missing, start it on 127.0.0.1 and wait until it answers.
    Up {
        /// Port to listen on.
        #[arg(long, default_value_t = DEFAULT_LOCAL_PORT)]
        port: u16,
    },
    /// Stop the emulator `local up` started (that pid only).
    Down,
    /// Say whether the emulator is running and where.
    Status,
    /// Run the app deployed to the emulator: the real function binaries in every region, each
    /// region's API on loopback, event source mappings and replication emulated; until Ctrl-C.
    Run(RunArgs),
    /// The exactly-once soak: commands through every region's API (concurrent ones on one task
    /// from two regions), optionally a region killed part-way and publish failures injected;
    /// then every store audited. Exits non-zero when anything acknowledged is lost or out of order.
    Soak(SoakArgs),
}

impl LocalCommand {
    /// Runs the subcommand.
    pub fn run(&self) -> Result<()> {
        match self {
            LocalCommand::Up { port } => up(*port).map(|_| ()),
            LocalCommand::Down => down(),
            LocalCommand::Status => status(),
            LocalCommand::Run(args) => args.run(),
            LocalCommand::Soak(args) => args.run(),
        }
    }
}

/// Starts the emulator unless it already runs; returns its endpoint.
pub fn up(port: u16) -> Result<String> {
    if let Some((pid, running_port)) = recorded()?
        && emulator::answers(running_port)
    {
        println!("emulator already running: moto pid {pid} on {}", emulator::endpoint(running_port));
        return Ok(emulator::endpoint(running_port));
    }
    if emulator::answers(port) {
        bail!("something else already answers on 127.0.0.1:{port}; stop it or pass --port");
    }
    install_moto()?;
    fs::create_dir_all(".local").context("creating .local/")?;
    let emulator = Emulator::start(Some(port), Path::new(LOG_FILE))?;
    let endpoint = emulator.endpoint();
    let pid = emulator.detach();
    fs::write(STATE_FILE, format!("{pid} {port}\n")).context("recording the emulator's pid")?;
    println!("emulator running: moto pid {pid} on {endpoint} (log: {LOG_FILE}); stop it with `cargo xtask local down`");
    println!("it does not: run Lambda code, create global tables or API Gateway v2 resources, fail health checks;");
    println!("the kit emulates what it needs and says so (`--local` on deploy, diff, destroy, demo)");
    Ok(endpoint)
}

fn down() -> Result<()> {
    let Some((pid, port)) = recorded()? else {
        println!("no emulator recorded in {STATE_FILE}; nothing to stop");
        return Ok(());
    };
    let cmdline = fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    if cmdline.contains("moto_server") {
        let status = Command::new("kill").arg(pid.to_string()).status().context("running kill")?;
        if !status.success() {
            bail!("could not stop moto pid {pid}");
        }
        println!("stopped moto pid {pid} (port {port})");
    } else {
        println!("moto pid {pid} is no longer running");
    }
    fs::remove_file(STATE_FILE).context("removing the pid file")?;
    Ok(())
}

fn status() -> Result<()> {
    match recorded()? {
        Some((pid, port)) if emulator::answers(port) => {
            println!("running: moto pid {pid} on {}", emulator::endpoint(port))
        }
        Some((pid, port)) => {
            println!("recorded moto pid {pid} on port {port} does not answer; run `cargo xtask local up`")
        }
        None => println!("not running; start it with `cargo xtask local up`"),
    }
    Ok(())
}

fn recorded() -> Result<Option<(u32, u16)>> {
    let Ok(text) = fs::read_to_string(STATE_FILE) else { return Ok(None) };
    let mut parts = text.split_whitespace();
    let pid = parts.next().and_then(|p| p.parse().ok());
    let port = parts.next().and_then(|p| p.parse().ok());
    Ok(pid.zip(port))
}

/// Installs the pinned moto[server] from .ci/requirements.txt into .venv when it is missing.
fn install_moto() -> Result<()> {
    if Path::new(MOTO_SERVER).exists() {
        return Ok(());
    }
    let requirements = fs::read_to_string(".ci/requirements.txt").context("reading .ci/requirements.txt")?;
    let pin = requirements.lines().find(|l| l.starts_with("moto")).context("no moto pin in .ci/requirements.txt")?;
    println!("installing {pin} into .venv");
    if !Path::new(".venv/bin/pip").exists() {
        let status = Command::new("python3").args(["-m", "venv", ".venv"]).status().context("creating .venv")?;
        if !status.success() {
            bail!("python3 -m venv .venv failed");
        }
    }
    let status = Command::new(".venv/bin/pip").args(["install", "--quiet", pin]).status().context("running pip")?;
    if !status.success() {
        bail!("pip install {pin} failed");
    }
    Ok(())
}
