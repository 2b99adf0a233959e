//! `cargo xtask bench init`: cold starts of every function against a hello-world
//! `lambda_runtime` binary. Builds them with the release profile for this machine, hosts each
//! through the local runtime's Runtime API host (`xtask/local`), and times process start to the
//! first `GET /next` (Init) and to the answer of a first real event against the emulator (Init plus
//! the first invocation, so work moved out of Init into the first request still shows).

use super::probes::{Clients, HELLO_WORLD, Probe, REGION, probes};
use anyhow::{Context, Result, bail};
use engine::aws::{Aws, AwsSettings};
use engine::emulator::{Emulator, workspace_root};
use local::{AwsAccess, FunctionSpec, Host, HostSettings};
use stacks::app::FunctionKind;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The memory and timeout `regions.toml` gives functions by default.
const MEMORY_MB: u32 = 512;
const TIMEOUT: Duration = Duration::from_secs(10);
/// The floor for a median worth reading.
const MIN_RUNS: usize = 7;

/// One cold start.
#[derive(Debug, Clone, Copy)]
struct Sample {
    /// Process start to the first `/next`.
    init: Duration,
    /// Process start to the first event's answer.
    first_invocation: Duration,
    /// The first event alone: delivered to answered.
    first_event: Duration,
    /// A second event in the same, now warm, environment: what the first would cost without
    /// the set-up a function leaves to its first request.
    warm_event: Duration,
}

/// Builds (unless `build` is false or `binaries` names a directory of prebuilt ones) and
/// measures `runs` cold starts of each function.
pub fn run(runs: usize, build: bool, binaries: Option<PathBuf>) -> Result<()> {
    let root = workspace_root();
    let binaries = match binaries {
        Some(dir) => dir,
        None => {
            if build {
                build_release(&root)?;
            }
            target_dir(&root).join("release")
        }
    };
    crate::runtime()?.block_on(measure(&root, &binaries, runs.max(1)))
}

/// The functions in one build, as `cargo xtask package` builds them, and the baseline in a
/// build of its own, so neither changes the features the other's dependencies are built with.
fn build_release(root: &Path) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut functions = vec!["build", "--release"];
    for kind in FunctionKind::ALL {
        functions.extend(["--package", kind.crate_name()]);
    }
    let hello = vec!["build", "--release", "--package", "local", "--bin", HELLO_WORLD];
    for args in [functions, hello] {
        println!("== cargo {}", args.join(" "));
        // `cargo xtask` runs with its own CARGO_MANIFEST_DIR, which ring's build script watches:
        // passing it on would rebuild ring (and relink everything) after any plain `cargo build`.
        let status = Command::new(&cargo)
            .current_dir(root)
            .env_remove("CARGO_MANIFEST_DIR")
            .args(&args)
            .status()
            .context("running cargo")?;
        if !status.success() {
            bail!("cargo {} failed ({status})", args.join(" "));
        }
    }
    Ok(())
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

async fn measure(root: &Path, binaries: &Path, runs: usize) -> Result<()> {
    let dir = target_dir(root).join("bench-init");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let emulator = Emulator::start(None, &dir.join("moto.log"))?;
    let settings = AwsSettings { endpoint_url: Some(emulator.endpoint()), ..AwsSettings::default() };
    let aws = Aws::load(&settings).await?;
    let clients = Clients {
        dynamodb: aws.dynamodb(REGION),
        kinesis: aws.kinesis(REGION),
        s3: aws.s3(REGION),
        sqs: aws.sqs(REGION),
    };
    let probes = probes(&clients).await?;
    let host = Host::new(HostSettings { log_dir: Some(dir.clone()), ..HostSettings::default() });
    for probe in &probes {
        let binary = binaries.join(probe.name);
        let mut spec = FunctionSpec::new(probe.name, &binary, REGION, AwsAccess::emulator(emulator.endpoint()));
        spec.memory_mb = MEMORY_MB;
        spec.timeout = TIMEOUT;
        spec.variables = probe.variables.clone();
        host.add_function(spec).with_context(|| format!("hosting {}", binary.display()))?;
    }
    let load_before = load_average();
    // One unmeasured start each: binaries into the page cache, the emulator's first-call costs paid.
    for probe in &probes {
        cold_start(&host, probe, 0).await?;
    }
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); probes.len()];
    for run in 1..=runs {
        // A different order each run, so no function always follows the same one.
        for offset in 0..probes.len() {
            let index = (offset + run) % probes.len();
            samples[index].push(cold_start(&host, &probes[index], run).await?);
        }
    }
    host.shutdown().await;
    let load_after = load_average();
    println!("\nbinaries: {}", binaries.display());
    print_report(&probes, &samples, binaries, runs, (load_before, load_after));
    Ok(())
}

/// One cold start: a new environment, the first event and a second one, their answers checked,
/// the environment stopped.
async fn cold_start(host: &Host, probe: &Probe, run: usize) -> Result<Sample> {
    let first = invoke(host, probe, run, "first").await?;
    let cold = first.timings.cold_start.context("the first invocation found a warm environment")?;
    let second = invoke(host, probe, run, "second").await?;
    anyhow::ensure!(second.timings.cold_start.is_none(), "the second invocation of {} started cold", probe.name);
    host.retire_idle(probe.name).await?;
    Ok(Sample {
        init: cold.init(),
        first_invocation: first.timings.completed.duration_since(cold.spawned),
        first_event: first.timings.handler(),
        warm_event: second.timings.handler(),
    })
}

async fn invoke(host: &Host, probe: &Probe, run: usize, which: &str) -> Result<local::Invocation> {
    let context = || format!("{which} invocation of {} (logs in target/bench-init/)", probe.name);
    let invocation = host.invoke(probe.name, probe.event(run)?).await.with_context(context)?;
    probe.check(&invocation.response).with_context(context)?;
    Ok(invocation)
}

/// (median, min, max) in milliseconds.
fn stats(samples: &[Sample], pick: fn(&Sample) -> Duration) -> (f64, f64, f64) {
    let mut values: Vec<f64> = samples.iter().map(|s| pick(s).as_secs_f64() * 1e3).collect();
    values.sort_by(f64::total_cmp);
    let median = match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    };
    (median, values.first().copied().unwrap_or_default(), values.last().copied().unwrap_or_default())
}

fn print_report(probes: &[Probe], samples: &[Vec<Sample>], binaries: &Path, runs: usize, load: (String, String)) {
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    println!(
        "\ninit benchmark: {runs} cold starts per function after one unmeasured start each; release profile, \
         {} host build, {cpus} CPUs; load average (1 min) {} before, {} after",
        std::env::consts::ARCH,
        load.0,
        load.1
    );
    if runs < MIN_RUNS {
        println!("(fewer than {MIN_RUNS} runs: the medians are only indicative)");
    }
    println!("init = process start to the first GET /next; first invocation = process start to the answer of a");
    println!("first real event against the emulator (moto on 127.0.0.1); first event = /next to answer; warm");
    println!("event = the same for a second event in that environment; medians (and min, max) in ms");
    println!(
        "{:<16} {:>6} {:>6} {:>6} {:>7}   {:>9} {:>6} {:>6}   {:>11} {:>10}  {:>10}",
        "function",
        "init",
        "min",
        "max",
        "× hello",
        "first inv",
        "min",
        "max",
        "first event",
        "warm event",
        "binary MiB"
    );
    let hello_init = stats(&samples[0], |s| s.init).0;
    let mut over = Vec::new();
    for (probe, samples) in probes.iter().zip(samples) {
        let init = stats(samples, |s| s.init);
        let first = stats(samples, |s| s.first_invocation);
        let (event, warm) = (stats(samples, |s| s.first_event), stats(samples, |s| s.warm_event));
        let ratio = init.0 / hello_init;
        let size = std::fs::metadata(binaries.join(probe.name)).map_or(0.0, |m| m.len() as f64 / (1024.0 * 1024.0));
        println!(
            "{:<16} {:>6.2} {:>6.2} {:>6.2} {:>6.2}×   {:>9.2} {:>6.2} {:>6.2}   {:>11.2} {:>10.2}  {:>10.2}",
            probe.name, init.0, init.1, init.2, ratio, first.0, first.1, first.2, event.0, warm.0, size
        );
        if ratio > 2.0 {
            over.push(format!("{} ({ratio:.2}×)", probe.name));
        }
    }
    if over.is_empty() {
        println!("target met: every function's median init is at most 2× hello-world's in this run");
    } else {
        println!("over the 2× hello-world target in this run: {}", over.join(", "));
    }
}

/// The 1-minute load average, so a reader knows what else the machine was doing.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "n/a".to_owned())
}
