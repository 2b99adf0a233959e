//! `cargo xtask bench synth`: in-process synthesis time and output size for 3, 12 and 30 regions.
//! `cargo xtask bench deploy`: deployment wall time against a fresh local emulator, one region
//! against four, and the time to diff an unchanged three-region app.
//! `cargo xtask bench init`: every function's cold start against a hello-world Lambda ([`init`]).
//! `cargo xtask bench soak`: the exactly-once soak at 100,000 events, a region killed half-way ([`soak`]).

mod init;
mod probes;
mod soak;

use anyhow::{Context, Result};
use stacks::AppConfig;
use stacks::config::sample_toml;
use std::time::{Duration, Instant};

/// What to measure.
#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Parse + validate + synthesize + render generated 3-, 12- and 30-region configs.
    Synth {
        /// Timed runs per size (after one warm-up run).
        #[arg(long, default_value_t = 30)]
        iterations: u32,
    },
    /// Deploy 1 and 4 regions from scratch, and diff an unchanged 3-region app, each against a
    /// fresh local emulator.
    Deploy,
    /// Cold starts: build every function and a hello-world `lambda_runtime` binary (release,
    /// this machine), host each through the local Runtime API, and time process start to the
    /// first `/next` and to the answer of a first event against a fresh emulator.
    Init {
        /// Cold starts per function (at least 7; more on a busy machine).
        #[arg(long, default_value_t = 21)]
        runs: usize,
        /// Use the binaries already in target/release instead of building them.
        #[arg(long)]
        no_build: bool,
        /// Measure the binaries in this directory (each function's and `hello-world`, e.g. a
        /// copy of an earlier build) instead of building; implies --no-build.
        #[arg(long)]
        binaries: Option<std::path::PathBuf>,
    },
    /// The exactly-once soak on the deployed app (`cargo xtask demo` first): 100,000 events,
    /// the last region killed half-way; the audit, events/s and the CPU time of each process.
    Soak(soak::BenchSoakArgs),
}

impl BenchCommand {
    /// Runs the benchmark and prints one line per size.
    pub fn run(&self) -> Result<()> {
        match self {
            BenchCommand::Synth { iterations } => bench_synth(*iterations),
            BenchCommand::Deploy => crate::runtime()?.block_on(bench_deploy()),
            BenchCommand::Init { runs, no_build, binaries } => init::run(*runs, !no_build, binaries.clone()),
            BenchCommand::Soak(args) => soak::run(args),
        }
    }
}

fn bench_synth(iterations: u32) -> Result<()> {
    let iterations = iterations.max(1);
    let profile = if cfg!(debug_assertions) { "dev profile, stacks optimized" } else { "release" };
    println!("synth benchmark ({iterations} runs per size, {profile}; parse, validate, synthesize, render JSON)");
    println!(
        "{:>7}  {:>6}  {:>10}  {:>10}  {:>10}  {:>12}",
        "regions", "stacks", "min ms", "median ms", "max ms", "output bytes"
    );
    for regions in [3, 12, 30] {
        let text = sample_toml(regions);
        let (bytes, stacks) = synth_once(&text)?;
        let mut times: Vec<Duration> = (0..iterations)
            .map(|_| {
                let started = Instant::now();
                synth_once(&text).map(|_| started.elapsed())
            })
            .collect::<Result<_>>()?;
        times.sort_unstable();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{regions:>7}  {stacks:>6}  {:>10.2}  {:>10.2}  {:>10.2}  {bytes:>12}",
            ms(times[0]),
            ms(times[times.len() / 2]),
            ms(times[times.len() - 1])
        );
    }
    Ok(())
}

/// One full synthesis; returns the total template bytes and the stack count.
fn synth_once(text: &str) -> Result<(usize, usize)> {
    let config = AppConfig::from_toml("bench.toml", text)?;
    let assembly = stacks::synthesize(&config).context("synthesizing the benchmark config")?;
    let bytes = assembly.stacks.iter().map(|s| s.body.len()).sum();
    Ok((bytes, assembly.stacks.len()))
}

/// One measured emulator run: deploy `regions` from scratch (waves and all), optionally diff
/// afterwards. Returns the deploy's wall time, its phases, and the diff's time.
async fn deploy_once(regions: usize, diff: bool) -> Result<Measured> {
    use engine::approval::{Approval, RequireApproval};
    use engine::plan::{DeployOptions, Plan, RegionSelection};
    use engine::session::Session;
    let dir = std::env::temp_dir().join(format!("kit-bench-{}-{regions}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let emulator = engine::emulator::Emulator::start(None, &dir.join("moto.log"))?;
    let settings = engine::aws::AwsSettings { endpoint_url: Some(emulator.endpoint()), ..Default::default() };
    let aws = engine::aws::Aws::load(&settings).await?;
    let config = AppConfig::from_toml("bench.toml", &sample_toml(regions))?;
    let session = Session::new(aws, config).await?;
    let options = DeployOptions { require_approval: RequireApproval::Never, ..DeployOptions::default() };
    let selection = RegionSelection { regions: Vec::new(), all: true };
    let plan = Plan::new(&session.config, &session.assembly, &selection, &options)?;
    let artifacts = engine::artifacts::empty_archives(&dir, "bench")?;
    let approval = Approval::new(plan.require_approval, plan.yes);
    let started = Instant::now();
    let report = engine::deploy::deploy(&session, &plan, &artifacts, &approval).await?;
    let deployed = started.elapsed();
    if let Some(failed) = report.unsuccessful().first() {
        anyhow::bail!("{} failed during the benchmark: {:?}", failed.stack, failed.outcome);
    }
    let diffed = if diff {
        let started = Instant::now();
        let reviews = engine::diff::review_stacks(&session, &plan.regions, 8).await?;
        anyhow::ensure!(engine::review::exit_code(&reviews) == 0, "the unchanged app shows changes");
        Some(started.elapsed())
    } else {
        None
    };
    let mut phases: Vec<(String, Duration)> = report
        .phases
        .iter()
        .map(|p| {
            let stacks = if p.stacks == 1 { "1 stack".to_owned() } else { format!("{} stacks", p.stacks) };
            (format!("{} executed ({stacks})", p.label), p.elapsed)
        })
        .collect();
    let executing: Duration = report.phases.iter().map(|p| p.elapsed).sum();
    phases.insert(0, ("reviews, uploads and checks".to_owned(), deployed.saturating_sub(executing)));
    Ok(Measured { deployed, phases, diffed })
}

/// What one run measured.
struct Measured {
    deployed: Duration,
    phases: Vec<(String, Duration)>,
    diffed: Option<Duration>,
}

/// Runs each measurement `RUNS` times on fresh emulators and reports the median.
async fn bench_deploy() -> Result<()> {
    const RUNS: usize = 3;
    let median = |mut times: Vec<Duration>| {
        times.sort_unstable();
        times[times.len() / 2]
    };
    let (mut one, mut four, mut diff) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        one.push(deploy_once(1, false).await?);
        four.push(deploy_once(4, false).await?);
        diff.push(deploy_once(3, true).await?.diffed.unwrap_or_default());
    }
    let four_phases: Vec<(String, Duration)> = four[0]
        .phases
        .iter()
        .enumerate()
        .map(|(i, (label, _))| {
            (label.clone(), median(four.iter().filter_map(|m| m.phases.get(i).map(|p| p.1)).collect()))
        })
        .collect();
    let one = median(one.iter().map(|m| m.deployed).collect());
    let four = median(four.iter().map(|m| m.deployed).collect());
    let diff = median(diff);
    println!(
        "\ndeploy benchmark (median of {RUNS}; fresh moto server per run; empty function archives; concurrency 4; \
         the home region's stack alone first, then the others)"
    );
    println!("{:<44}  {:>9}", "run", "seconds");
    println!("{:<44}  {:>9.2}", "deploy --all, 1 region (3 stacks)", one.as_secs_f64());
    println!("{:<44}  {:>9.2}", "deploy --all, 4 regions (9 stacks)", four.as_secs_f64());
    for (label, elapsed) in &four_phases {
        println!("{:<44}  {:>9.2}", format!("  {label}"), elapsed.as_secs_f64());
    }
    println!("{:<44}  {:>9.2}", "4 regions / 1 region", four.as_secs_f64() / one.as_secs_f64());
    println!("{:<44}  {:>9.2}", "diff --all, unchanged 3-region app", diff.as_secs_f64());
    Ok(())
}
