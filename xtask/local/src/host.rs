//! The host: functions by name, a pool of execution environments per function (reused while
//! warm, started on demand up to the function's concurrency), and `invoke`, which waits for a
//! free environment, hands it the event, and returns the answer with its timings.

use crate::environment::{ColdStart, Environment, InitFailure, Lost};
use crate::events::{EnvironmentId, Event, EventBus};
use crate::runtime_api::{Completion, FunctionError};
use crate::spec::FunctionSpec;
use bytes::Bytes;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc};

/// Settings shared by every function of a host.
#[derive(Debug, Clone)]
pub struct HostSettings {
    /// Longest Init phase (process start to first `/next`). Lambda's is 10 seconds (developer
    /// guide, "Understanding the Lambda execution environment lifecycle", Init phase).
    pub init_timeout: Duration,
    /// Where each environment's output is appended (`<function>-<n>.log`); kept in memory only
    /// when `None`.
    pub log_dir: Option<PathBuf>,
}

impl Default for HostSettings {
    fn default() -> Self {
        HostSettings { init_timeout: Duration::from_secs(10), log_dir: None }
    }
}

/// A function's spec is unusable.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// Two functions with one name.
    #[error("function `{0}` is already hosted; function names must be unique")]
    Duplicate(String),
    /// The binary is not there.
    #[error("function `{name}`: {binary} does not exist; build it first (cargo build --release -p <crate>)")]
    MissingBinary {
        /// The function.
        name: String,
        /// The path given.
        binary: PathBuf,
    },
    /// Zero concurrency.
    #[error("function `{0}`: max_concurrency must be at least 1")]
    NoConcurrency(String),
}

/// When an invocation was asked for, handed to the runtime, and answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// `invoke` was called.
    pub requested: Instant,
    /// Set when this invocation started a new environment.
    pub cold_start: Option<ColdStart>,
    /// The runtime took the event with `/next`.
    pub delivered: Instant,
    /// The runtime's answer arrived.
    pub completed: Instant,
}

impl Timings {
    /// The handler's time: delivered to answered.
    pub fn handler(&self) -> Duration {
        self.completed.duration_since(self.delivered)
    }

    /// What the caller waited: requested to answered (Init included on a cold start).
    pub fn total(&self) -> Duration {
        self.completed.duration_since(self.requested)
    }
}

/// A successful invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// `Lambda-Runtime-Aws-Request-Id`.
    pub request_id: String,
    /// The environment that ran it.
    pub environment: EnvironmentId,
    /// The function's response, as the runtime posted it.
    pub response: Bytes,
    /// When things happened.
    pub timings: Timings,
}

/// A function name the host does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no function named `{0}` is hosted")]
pub struct UnknownFunction(pub String);

/// An invocation that did not produce a response.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// No such function.
    #[error(transparent)]
    UnknownFunction(#[from] UnknownFunction),
    /// The environment did not start; nothing was delivered.
    #[error("{environment}: init failed: {failure}{}", tail(log_tail))]
    Init {
        /// The environment.
        environment: EnvironmentId,
        /// Why.
        failure: InitFailure,
        /// The process's last output.
        log_tail: Vec<String>,
    },
    /// The runtime posted `/invocation/{id}/error`; the environment stays warm.
    #[error("{environment}: request {request_id} failed: {error}")]
    Handler {
        /// The environment.
        environment: EnvironmentId,
        /// The request.
        request_id: String,
        /// What the runtime reported.
        error: FunctionError,
        /// When things happened.
        timings: Timings,
    },
    /// The process ended during the invocation.
    #[error("{environment}: the process exited ({status}) during request {request_id}{}", tail(log_tail))]
    Crashed {
        /// The environment (gone).
        environment: EnvironmentId,
        /// The request.
        request_id: String,
        /// The exit status.
        status: String,
        /// The process's last output.
        log_tail: Vec<String>,
    },
    /// No answer before the deadline; the environment was stopped.
    #[error(
        "{environment}: request {request_id} timed out after {timeout:?}; the environment was stopped{}",
        tail(log_tail)
    )]
    TimedOut {
        /// The environment (gone).
        environment: EnvironmentId,
        /// The request.
        request_id: String,
        /// The function's timeout.
        timeout: Duration,
        /// The process's last output.
        log_tail: Vec<String>,
    },
}

fn tail(lines: &[String]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let shown = &lines[lines.len().saturating_sub(10)..];
    format!("\n  last output:\n    {}", shown.join("\n    "))
}

struct Pool {
    spec: FunctionSpec,
    idle: Mutex<Vec<Environment>>,
    permits: Semaphore,
    started: AtomicU64,
}

impl Pool {
    fn take_idle(&self) -> Option<Environment> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        // Most recently used first, as warm as it gets; a process that died while idle is dropped.
        while let Some(environment) = idle.pop() {
            if environment.is_alive() {
                return Some(environment);
            }
        }
        None
    }

    fn put_idle(&self, environment: Environment) {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).push(environment);
    }

    fn drain_idle(&self) -> Vec<Environment> {
        std::mem::take(&mut *self.idle.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Runs functions as local processes behind their own Runtime APIs.
#[derive(Default)]
pub struct Host {
    settings: HostSettings,
    pools: Mutex<HashMap<String, Arc<Pool>>>,
    events: Arc<EventBus>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.lock_pools().keys().cloned().collect();
        f.debug_struct("Host").field("settings", &self.settings).field("functions", &names).finish()
    }
}

impl Host {
    /// A host with no functions yet.
    pub fn new(settings: HostSettings) -> Host {
        Host { settings, pools: Mutex::default(), events: Arc::default() }
    }

    /// Hosts `spec`; its environments start on its first invocation.
    pub fn add_function(&self, spec: FunctionSpec) -> Result<(), HostError> {
        if !spec.binary.is_file() {
            return Err(HostError::MissingBinary { name: spec.name.clone(), binary: spec.binary.clone() });
        }
        if spec.max_concurrency == 0 {
            return Err(HostError::NoConcurrency(spec.name.clone()));
        }
        let mut pools = self.lock_pools();
        if pools.contains_key(&spec.name) {
            return Err(HostError::Duplicate(spec.name.clone()));
        }
        let pool = Pool {
            permits: Semaphore::new(spec.max_concurrency),
            spec,
            idle: Mutex::default(),
            started: AtomicU64::new(0),
        };
        pools.insert(pool.spec.name.clone(), Arc::new(pool));
        Ok(())
    }

    /// Every event of every environment from now on.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<Event> {
        self.events.subscribe()
    }

    /// Invokes `function` with `payload` (the event JSON), synchronously: a warm environment if
    /// one is idle, else a new one when the function's concurrency allows, else the next to free up.
    pub async fn invoke(&self, function: &str, payload: impl Into<Bytes>) -> Result<Invocation, InvokeError> {
        let requested = Instant::now();
        let pool = self.pool(function)?;
        // The semaphore is never closed, so this waits for a permit and cannot fail.
        let _permit = pool.permits.acquire().await;
        let (mut environment, cold_start) = match pool.take_idle() {
            Some(environment) => (environment, None),
            None => {
                let number = pool.started.fetch_add(1, Ordering::Relaxed) + 1;
                let id = EnvironmentId { function: Arc::from(function), number };
                let log_dir = self.settings.log_dir.as_deref();
                let environment = Environment::start(&pool.spec, id, self.settings.init_timeout, log_dir, &self.events)
                    .await
                    .map_err(|(environment, failure, log_tail)| InvokeError::Init { environment, failure, log_tail })?;
                let cold_start = environment.cold_start;
                (environment, Some(cold_start))
            }
        };
        let request_id = uuid::Uuid::now_v7().to_string();
        match environment.invoke(&pool.spec, &request_id, payload.into()).await {
            Ok(answered) => {
                let environment_id = environment.id.clone();
                pool.put_idle(environment);
                let timings =
                    Timings { requested, cold_start, delivered: answered.delivered, completed: answered.completed };
                match answered.completion {
                    Completion::Response(response) => {
                        Ok(Invocation { request_id, environment: environment_id, response, timings })
                    }
                    Completion::Error(error) => {
                        Err(InvokeError::Handler { environment: environment_id, request_id, error, timings })
                    }
                }
            }
            Err((lost, _delivered)) => {
                let (id, log_tail) = (environment.id.clone(), environment.log_tail());
                environment.stop().await;
                Err(match lost {
                    Lost::Crashed { status } => InvokeError::Crashed { environment: id, request_id, status, log_tail },
                    Lost::TimedOut => {
                        InvokeError::TimedOut { environment: id, request_id, timeout: pool.spec.timeout, log_tail }
                    }
                })
            }
        }
    }

    /// Stops every idle environment of `function` (as Lambda recycles environments), so its next
    /// invocation starts cold. Returns how many were stopped.
    pub async fn retire_idle(&self, function: &str) -> Result<usize, UnknownFunction> {
        let environments = self.pool(function)?.drain_idle();
        let count = environments.len();
        for environment in environments {
            environment.stop().await;
        }
        Ok(count)
    }

    /// Stops every idle environment of every function.
    pub async fn shutdown(&self) {
        let pools: Vec<Arc<Pool>> = self.lock_pools().values().cloned().collect();
        for pool in pools {
            for environment in pool.drain_idle() {
                environment.stop().await;
            }
        }
    }

    fn pool(&self, function: &str) -> Result<Arc<Pool>, UnknownFunction> {
        self.lock_pools().get(function).cloned().ok_or_else(|| UnknownFunction(function.to_owned()))
    }

    fn lock_pools(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Pool>>> {
        self.pools.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
