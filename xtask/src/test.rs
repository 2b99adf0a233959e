//! `cargo xtask test`: every check CI runs, in one command. It installs the pinned tools first
//! (`.ci/setup`, idempotent), then runs format and clippy checks, synthesizes the example and a
//! 12-region config, lints every template with cfn-lint and scans it with checkov, checks the
//! directory with the AWS CDK CLI, starts the local AWS emulator on loopback, and runs the test
//! suite last so its summary closes the output.

use crate::synth::{Format, write_assembly};
use anyhow::{Context, Result, bail};
use engine::emulator::Emulator;
use engine::session::load_config;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Configurations whose templates are linted and scanned: the example (latency routing), 12
/// regions (weighted, email alerts) and a failover chain (existing alarm topics).
const LINTED_CONFIGS: &[&str] =
    &["regions.toml", "stacks/tests/fixtures/twelve-regions.toml", "stacks/tests/fixtures/failover-chain.toml"];

/// Flags of `cargo xtask test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Skip `.ci/setup` (the pinned tools are already installed).
    #[arg(long)]
    pub no_setup: bool,
}

impl TestArgs {
    /// Runs every step, stopping at the first failure.
    pub fn run(&self) -> Result<()> {
        if !self.no_setup {
            step("install pinned tools", Command::new("bash").arg(".ci/setup"))?;
        }
        step("cargo fmt --check", Command::new("cargo").args(["fmt", "--all", "--", "--check"]))?;
        step(
            "cargo clippy",
            Command::new("cargo").args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
        )?;
        for config in LINTED_CONFIGS {
            lint_config(Path::new(config))?;
        }
        // One emulator for every test that needs AWS; the tests read its address from the
        // environment and never reach anything but loopback.
        std::fs::create_dir_all("target").context("creating target/")?;
        let emulator = Emulator::start(None, Path::new("target/moto-test.log"))?;
        println!("emulator: moto on {} (log: target/moto-test.log)", emulator.endpoint());
        step(
            "cargo nextest",
            Command::new("cargo")
                .args(["nextest", "run", "--workspace", "--no-fail-fast"])
                .env("KIT_EMULATOR_ENDPOINT", emulator.endpoint()),
        )?;
        drop(emulator);
        Ok(())
    }
}

/// Synthesizes `config` into `target/lint/<name>`, lints each template in its own region with
/// cfn-lint (errors and warnings both fail), scans them with checkov (any failed check fails; the
/// checks that do not fit are skipped in the templates' `Metadata`, with the reason), and lists the
/// stacks with the pinned CDK CLI.
fn lint_config(config: &Path) -> Result<()> {
    let name = config.file_stem().and_then(|s| s.to_str()).unwrap_or("config");
    let out = PathBuf::from("target/lint").join(name);
    let app = load_config(config)?;
    let assembly = stacks::synthesize(&app).with_context(|| format!("synthesizing {}", config.display()))?;
    write_assembly(&assembly, &out, Format::Json)?;
    // One cfn-lint run per region, over the templates deployed there, each checked against the
    // resource schemas of its own region.
    let mut by_region: BTreeMap<&str, Vec<PathBuf>> = BTreeMap::new();
    for stack in &assembly.stacks {
        by_region.entry(&stack.region).or_default().push(out.join(stack.template_file("json")));
    }
    for (region, templates) in by_region {
        step(
            &format!("cfn-lint {} ({} templates in {region})", out.display(), templates.len()),
            Command::new(".venv/bin/cfn-lint").arg("--regions").arg(region).arg("--").args(&templates),
        )?;
    }
    step(
        &format!("checkov {} ({} templates)", out.display(), assembly.stacks.len()),
        Command::new(".venv/bin/checkov").arg("--directory").arg(&out).args([
            "--framework",
            "cloudformation",
            "--compact",
            "--quiet",
            "--skip-download",
        ]),
    )?;
    let listed = Command::new("npx")
        .current_dir("tools/cdk")
        .env("CDK_DISABLE_CLI_TELEMETRY", "true")
        .args(["--no-install", "cdk", "ls", "--no-notices", "--app"])
        .arg(Path::new("../..").join(&out))
        .output()
        .context("running the pinned AWS CDK CLI (tools/cdk); run .ci/setup")?;
    let stdout = String::from_utf8_lossy(&listed.stdout);
    let listed_names: Vec<&str> = stdout.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let missing: Vec<&str> =
        assembly.stacks.iter().map(|s| s.name.as_str()).filter(|n| !listed_names.contains(n)).collect();
    if !listed.status.success() || !missing.is_empty() {
        bail!(
            "cdk ls --app {} did not list {:?}:\n{}{}",
            out.display(),
            missing,
            stdout,
            String::from_utf8_lossy(&listed.stderr)
        );
    }
    println!("ok: cdk ls lists all {} stacks of {}", assembly.stacks.len(), config.display());
    Ok(())
}

fn step(what: &str, command: &mut Command) -> Result<()> {
    println!("== {what}");
    let status = command.status().with_context(|| format!("starting {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}
