//! One execution environment: a function process with its own Runtime API. Init ends at the
//! runtime's first `/next`; each invocation then ends with the runtime's answer, the process's
//! exit, or the deadline (after which the environment is stopped, as Lambda resets an
//! environment whose invocation crashed or timed out: developer guide, "Understanding the Lambda
//! execution environment lifecycle", <https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html>).

use crate::events::{EnvironmentId, EventBus, EventKind, Outcome};
use crate::process::FunctionProcess;
use crate::runtime_api::{Channels, Completion, Delivery, FunctionError, RuntimeApi, Signal};
use crate::spec::FunctionSpec;
use bytes::Bytes;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::oneshot;

/// When an environment's process started and when its runtime first asked for work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColdStart {
    /// Just before the process was spawned.
    pub spawned: Instant,
    /// The runtime's first `GET /next`.
    pub ready: Instant,
}

impl ColdStart {
    /// The Init phase: process start to the first `/next`.
    pub fn init(&self) -> Duration {
        self.ready.duration_since(self.spawned)
    }
}

/// Why an environment never became ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitFailure {
    /// The runtime posted `/init/error`.
    Reported(FunctionError),
    /// The process ended before its first `/next` (its exit status).
    Exited(String),
    /// No `/next` within the Init time limit.
    TimedOut(Duration),
    /// The process could not be started.
    Spawn(String),
}

impl std::fmt::Display for InitFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InitFailure::Reported(error) => write!(f, "the runtime reported {error}"),
            InitFailure::Exited(status) => write!(f, "the process exited ({status}) before asking for an event"),
            InitFailure::TimedOut(limit) => write!(f, "no GET /next within the Init limit of {limit:?}"),
            InitFailure::Spawn(error) => write!(f, "the process could not be started: {error}"),
        }
    }
}

/// How one invocation ended in a live environment.
#[derive(Debug)]
pub(crate) struct Answered {
    pub(crate) completion: Completion,
    pub(crate) delivered: Instant,
    pub(crate) completed: Instant,
}

/// How one invocation ended with the environment lost.
#[derive(Debug)]
pub(crate) enum Lost {
    Crashed { status: String },
    TimedOut,
}

/// A started environment, ready for invocations (one at a time).
#[derive(Debug)]
pub(crate) struct Environment {
    pub(crate) id: EnvironmentId,
    pub(crate) cold_start: ColdStart,
    // Kept for its lifetime: dropping it stops serving the runtime.
    _api: RuntimeApi,
    channels: Channels,
    process: FunctionProcess,
    events: Arc<EventBus>,
}

impl Environment {
    /// Starts the function's process and waits for the end of its Init phase.
    pub(crate) async fn start(
        spec: &FunctionSpec,
        id: EnvironmentId,
        init_timeout: Duration,
        log_dir: Option<&Path>,
        events: &Arc<EventBus>,
    ) -> Result<Environment, (EnvironmentId, InitFailure, Vec<String>)> {
        let (api, mut channels) = match RuntimeApi::start().await {
            Ok(started) => started,
            Err(error) => {
                return Err((id, InitFailure::Spawn(format!("binding the Runtime API: {error}")), Vec::new()));
            }
        };
        let mut command = tokio::process::Command::new(&spec.binary);
        command.env_clear().envs(spec.process_variables(&id, api.address()));
        if let Some(root) = spec.binary.parent().filter(|p| !p.as_os_str().is_empty()) {
            command.current_dir(root);
        }
        let log_file = log_dir.map(|dir| dir.join(format!("{}-{}.log", id.function, id.number)));
        let spawned = Instant::now();
        let mut process = match FunctionProcess::spawn(command, &id, events, log_file.as_deref()) {
            Ok(process) => process,
            Err(error) => {
                let failure = InitFailure::Spawn(format!("{}: {error}", spec.binary.display()));
                return Err((id, failure, Vec::new()));
            }
        };
        events.emit(&id, spawned, || EventKind::Spawned { pid: process.pid() });
        match tokio::time::timeout(init_timeout, first_next(&mut channels, &mut process)).await {
            Ok(Ok(ready)) => {
                let cold_start = ColdStart { spawned, ready };
                events.emit(&id, ready, || EventKind::Ready { init: cold_start.init() });
                Ok(Environment { id, cold_start, _api: api, channels, process, events: events.clone() })
            }
            Ok(Err(failure)) => Err(fail_init(id, failure, process, events).await),
            Err(_) => Err(fail_init(id, InitFailure::TimedOut(init_timeout), process, events).await),
        }
    }

    /// Whether the process is still running.
    pub(crate) fn is_alive(&self) -> bool {
        !self.process.has_exited()
    }

    /// The last lines the process wrote.
    pub(crate) fn log_tail(&self) -> Vec<String> {
        self.process.log_tail()
    }

    /// Stops the process and waits until it is gone.
    pub(crate) async fn stop(mut self) {
        self.process.stop().await;
    }

    /// Hands `payload` to the runtime and waits for its answer, the process's exit, or the
    /// deadline `timeout` from now (which stops the process).
    pub(crate) async fn invoke(
        &mut self,
        spec: &FunctionSpec,
        request_id: &str,
        payload: Bytes,
    ) -> Result<Answered, (Lost, Option<Instant>)> {
        // `/next` signals from earlier invocations say nothing about this one.
        while self.channels.signals.try_recv().is_ok() {}
        let deadline = tokio::time::Instant::now() + spec.timeout;
        let (completion, mut answer) = oneshot::channel();
        let delivery = Delivery {
            request_id: request_id.to_owned(),
            payload,
            deadline: SystemTime::now() + spec.timeout,
            function_arn: spec.arn(),
            trace_id: trace_header(),
            completion,
        };
        let mut delivered = None;
        let mut waiting_for_answer = true;
        if self.channels.deliveries.send(delivery).await.is_ok() {
            loop {
                tokio::select! {
                    answered = &mut answer, if waiting_for_answer => {
                        waiting_for_answer = false;
                        // The runtime read the event before answering, so its Delivered signal is queued.
                        self.note_signals(&mut delivered);
                        if let Ok(completion) = answered {
                            let completed = Instant::now();
                            let delivered = delivered.unwrap_or(completed);
                            self.emit_completed(request_id, &completion, delivered, completed);
                            return Ok(Answered { completion, delivered, completed });
                        }
                        // The connection dropped without an answer: the process is going down.
                    }
                    Some(signal) = self.channels.signals.recv() => self.note_signal(signal, &mut delivered),
                    status = self.process.exited() => return Err(self.lose(request_id, Lost::Crashed { status }, delivered)),
                    () = tokio::time::sleep_until(deadline) => {
                        self.process.stop().await;
                        return Err(self.lose(request_id, Lost::TimedOut, delivered));
                    }
                }
            }
        }
        let status = self.process.exited().await;
        Err(self.lose(request_id, Lost::Crashed { status }, delivered))
    }

    fn note_signals(&mut self, delivered: &mut Option<Instant>) {
        while let Ok(signal) = self.channels.signals.try_recv() {
            self.note_signal(signal, delivered);
        }
    }

    fn note_signal(&self, signal: Signal, delivered: &mut Option<Instant>) {
        if let Signal::Delivered { request_id, at } = signal {
            *delivered = Some(at);
            self.events.emit(&self.id, at, || EventKind::Delivered { request_id });
        }
    }

    fn emit_completed(&self, request_id: &str, completion: &Completion, delivered: Instant, completed: Instant) {
        let outcome = match completion {
            Completion::Response(_) => Outcome::Response,
            Completion::Error(_) => Outcome::HandlerError,
        };
        let duration = completed.duration_since(delivered);
        self.events.emit(&self.id, completed, || EventKind::Completed {
            request_id: request_id.to_owned(),
            outcome,
            duration,
        });
    }

    fn lose(&mut self, request_id: &str, lost: Lost, delivered: Option<Instant>) -> (Lost, Option<Instant>) {
        let outcome = match lost {
            Lost::Crashed { .. } => Outcome::Crashed,
            Lost::TimedOut => Outcome::TimedOut,
        };
        let now = Instant::now();
        let duration = now.duration_since(delivered.unwrap_or(now));
        self.events.emit(&self.id, now, || EventKind::Completed {
            request_id: request_id.to_owned(),
            outcome,
            duration,
        });
        (lost, delivered)
    }
}

/// Waits for the runtime's first `/next`, an `/init/error`, or the process's end.
async fn first_next(channels: &mut Channels, process: &mut FunctionProcess) -> Result<Instant, InitFailure> {
    loop {
        tokio::select! {
            signal = channels.signals.recv() => match signal {
                Some(Signal::Next { at }) => return Ok(at),
                Some(Signal::InitError { error, .. }) => return Err(InitFailure::Reported(error)),
                Some(Signal::Delivered { .. }) => {}
                // The server lives as long as the channels; this cannot happen while it runs.
                None => return Err(InitFailure::Exited(process.exited().await)),
            },
            status = process.exited() => return Err(InitFailure::Exited(status)),
        }
    }
}

/// Stops a process whose Init failed and reports why, with its last output.
async fn fail_init(
    id: EnvironmentId,
    failure: InitFailure,
    mut process: FunctionProcess,
    events: &Arc<EventBus>,
) -> (EnvironmentId, InitFailure, Vec<String>) {
    // A runtime that reported /init/error should exit on its own; give it no say in the matter.
    process.stop().await;
    events.emit(&id, Instant::now(), || EventKind::InitFailed { reason: failure.to_string() });
    (id, failure, process.log_tail())
}

/// An X-Ray trace header for one invocation, `Root=1-<time>-<random>;Parent=<random>;Sampled=0`
/// (X-Ray developer guide, "Tracing header").
fn trace_header() -> String {
    let seconds = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let random = uuid::Uuid::now_v7().simple().to_string();
    format!("Root=1-{seconds:08x}-{};Parent={};Sampled=0", &random[8..32], &random[16..32])
}
