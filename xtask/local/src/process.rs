//! One function process: started with the environment the host computed, its standard output
//! and error captured line by line (kept as a short tail for error reports, sent as events,
//! optionally appended to a file), stopped with SIGKILL when the host says so or drops it.

use crate::events::{EnvironmentId, EventBus, EventKind, LogStream};
use std::collections::VecDeque;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::sync::{oneshot, watch};

/// Lines kept for error reports.
const TAIL_LINES: usize = 40;
/// How long the exit report waits for the last lines still in the pipes.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

type Tail = Arc<Mutex<VecDeque<String>>>;
type LogFile = Option<Arc<Mutex<std::fs::File>>>;

/// A started function process.
#[derive(Debug)]
pub(crate) struct FunctionProcess {
    pid: Option<u32>,
    exit: watch::Receiver<Option<String>>,
    stop: Option<oneshot::Sender<()>>,
    tail: Tail,
}

impl FunctionProcess {
    /// Starts `command` with piped output. Dropping the returned value stops the process.
    pub(crate) fn spawn(
        mut command: Command,
        id: &EnvironmentId,
        events: &Arc<EventBus>,
        log_file: Option<&Path>,
    ) -> std::io::Result<FunctionProcess> {
        let file = match log_file {
            Some(path) => Some(Arc::new(Mutex::new(std::fs::OpenOptions::new().create(true).append(true).open(path)?))),
            None => None,
        };
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        let mut child = command.spawn()?;
        let pid = child.id();
        let tail: Tail = Arc::default();
        let readers: Vec<_> = [
            child.stdout.take().map(|out| capture(out, LogStream::Stdout, id, events, &tail, &file)),
            child.stderr.take().map(|err| capture(err, LogStream::Stderr, id, events, &tail, &file)),
        ]
        .into_iter()
        .flatten()
        .collect();
        let (stop, stopped) = oneshot::channel::<()>();
        let (exit_sender, exit) = watch::channel(None);
        let (id, events) = (id.clone(), events.clone());
        tokio::spawn(async move {
            let status = tokio::select! {
                status = child.wait() => status,
                // An explicit stop, or the handle dropped.
                _ = stopped => {
                    let _ = child.start_kill();
                    child.wait().await
                }
            };
            let _ = tokio::time::timeout(DRAIN_TIMEOUT, futures_join(readers)).await;
            let status = status.map_or_else(|e| format!("unknown ({e})"), |s| s.to_string());
            events.emit(&id, Instant::now(), || EventKind::Exited { status: status.clone() });
            exit_sender.send_replace(Some(status));
        });
        Ok(FunctionProcess { pid, exit, stop: Some(stop), tail })
    }

    /// The OS process id.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Whether the process has ended.
    pub(crate) fn has_exited(&self) -> bool {
        self.exit.borrow().is_some()
    }

    /// Waits for the process to end; its exit status as text.
    pub(crate) async fn exited(&mut self) -> String {
        match self.exit.wait_for(Option::is_some).await {
            Ok(status) => status.clone().unwrap_or_default(),
            // The watcher task is gone (the runtime is shutting down): the process dies with it.
            Err(_) => "stopped".to_owned(),
        }
    }

    /// Sends SIGKILL (once) and waits until the process is gone.
    pub(crate) async fn stop(&mut self) -> String {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.exited().await
    }

    /// The last lines the process wrote, oldest first.
    pub(crate) fn log_tail(&self) -> Vec<String> {
        self.tail.lock().unwrap_or_else(PoisonError::into_inner).iter().cloned().collect()
    }
}

async fn futures_join(readers: Vec<tokio::task::JoinHandle<()>>) {
    for reader in readers {
        let _ = reader.await;
    }
}

/// Reads `output` to its end, line by line (lossy UTF-8, so odd bytes never stall the pipe).
fn capture(
    output: impl AsyncRead + Unpin + Send + 'static,
    stream: LogStream,
    id: &EnvironmentId,
    events: &Arc<EventBus>,
    tail: &Tail,
    file: &LogFile,
) -> tokio::task::JoinHandle<()> {
    let (id, events, tail, file) = (id.clone(), events.clone(), tail.clone(), file.clone());
    tokio::spawn(async move {
        let mut reader = BufReader::new(output);
        let mut buffer = Vec::new();
        loop {
            buffer.clear();
            match reader.read_until(b'\n', &mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let at = Instant::now();
            let line = String::from_utf8_lossy(&buffer).trim_end_matches(['\n', '\r']).to_owned();
            if let Some(file) = &file {
                let _ = writeln!(file.lock().unwrap_or_else(PoisonError::into_inner), "{line}");
            }
            {
                let mut tail = tail.lock().unwrap_or_else(PoisonError::into_inner);
                if tail.len() == TAIL_LINES {
                    tail.pop_front();
                }
                tail.push_back(line.clone());
            }
            events.emit(&id, at, || EventKind::Log { stream, line });
        }
    })
}
