//! What happens to execution environments, as time-stamped events: process start, the first
//! `/next` (end of Init), each invocation handed out and completed, log lines, exit. Benchmarks
//! and the local runtime's reports subscribe to them; nothing is built when nobody listens.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// One execution environment: the function's name and a number unique within the host.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnvironmentId {
    /// The function.
    pub function: Arc<str>,
    /// 1, 2, 3 ... per function, in start order.
    pub number: u64,
}

impl fmt::Display for EnvironmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.function, self.number)
    }
}

/// Which output a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStream {
    /// The process's standard output.
    Stdout,
    /// The process's standard error.
    Stderr,
}

/// How an invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The runtime posted a response.
    Response,
    /// The runtime posted an error (or a response over the size limit).
    HandlerError,
    /// The process exited before answering.
    Crashed,
    /// The deadline passed; the environment was stopped.
    TimedOut,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// The process was started (the event's time is taken just before the spawn).
    Spawned {
        /// Its process id.
        pid: Option<u32>,
    },
    /// The runtime's first `GET /next`: the end of the Init phase.
    Ready {
        /// From `Spawned` to here.
        init: Duration,
    },
    /// Init failed (reported on `/init/error`, process exit, or the Init time limit).
    InitFailed {
        /// Why.
        reason: String,
    },
    /// An invocation was handed to the runtime.
    Delivered {
        /// Its request id.
        request_id: String,
    },
    /// An invocation ended.
    Completed {
        /// Its request id.
        request_id: String,
        /// How.
        outcome: Outcome,
        /// From `Delivered` to here.
        duration: Duration,
    },
    /// A line the process wrote.
    Log {
        /// Standard output or error.
        stream: LogStream,
        /// The line, without its end.
        line: String,
    },
    /// The process ended (on its own or stopped by the host).
    Exited {
        /// Its exit status as the OS reports it.
        status: String,
    },
}

/// A time-stamped event of one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// When it happened.
    pub at: Instant,
    /// Where.
    pub environment: EnvironmentId,
    /// What.
    pub kind: EventKind,
}

/// Fans events out to every live subscriber.
#[derive(Debug, Default)]
pub(crate) struct EventBus {
    subscribers: Mutex<Vec<mpsc::UnboundedSender<Event>>>,
}

impl EventBus {
    /// A new receiver of every event from now on.
    pub(crate) fn subscribe(&self) -> mpsc::UnboundedReceiver<Event> {
        let (sender, receiver) = mpsc::unbounded_channel();
        self.lock().push(sender);
        receiver
    }

    /// Sends `kind` (built only when someone listens) to every subscriber still listening.
    pub(crate) fn emit(&self, environment: &EnvironmentId, at: Instant, kind: impl FnOnce() -> EventKind) {
        let mut subscribers = self.lock();
        subscribers.retain(|s| !s.is_closed());
        if subscribers.is_empty() {
            return;
        }
        let event = Event { at, environment: environment.clone(), kind: kind() };
        subscribers.retain(|s| s.send(event.clone()).is_ok());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<mpsc::UnboundedSender<Event>>> {
        self.subscribers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
