//! `cargo xtask bench synth`: in-process synthesis time and output size for 3, 12 and 30 regions.

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
}

impl BenchCommand {
    /// Runs the benchmark and prints one line per size.
    pub fn run(&self) -> Result<()> {
        let BenchCommand::Synth { iterations } = self;
        let iterations = (*iterations).max(1);
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
}

/// One full synthesis; returns the total template bytes and the stack count.
fn synth_once(text: &str) -> Result<(usize, usize)> {
    let config = AppConfig::from_toml("bench.toml", text)?;
    let assembly = stacks::synthesize(&config).context("synthesizing the benchmark config")?;
    let bytes = assembly.stacks.iter().map(|s| s.body.len()).sum();
    Ok((bytes, assembly.stacks.len()))
}
