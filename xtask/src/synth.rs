//! `cargo xtask synth`: regions.toml → one template per stack and a cloud-assembly manifest.

use anyhow::{Context, Result};
use engine::session::load_config;
use stacks::Assembly;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Template file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `<stack>.template.json`.
    Json,
    /// `<stack>.template.yaml`.
    Yaml,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Yaml => "yaml",
        }
    }
}

/// Flags of `cargo xtask synth`.
#[derive(Debug, clap::Args)]
pub struct SynthArgs {
    /// The app configuration.
    #[arg(long, default_value = "regions.toml")]
    pub config: PathBuf,
    /// Output directory (a CDK cloud assembly: `cdk ls --app DIR` lists its stacks).
    #[arg(long, default_value = "cdk.out")]
    pub out: PathBuf,
    /// Template format.
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,
}

impl SynthArgs {
    /// Synthesizes, writes the directory and prints the summary table.
    pub fn run(&self) -> Result<()> {
        let started = Instant::now();
        let config = load_config(&self.config)?;
        let assembly =
            stacks::synthesize(&config).with_context(|| format!("synthesizing {}", self.config.display()))?;
        let synthesized = started.elapsed();
        let written = write_assembly(&assembly, &self.out, self.format)?;
        print_summary(&assembly, &written);
        println!(
            "synthesized {} stacks for {} regions in {:.1} ms ({:.1} ms including writing {})",
            assembly.stacks.len(),
            config.regions.len(),
            synthesized.as_secs_f64() * 1e3,
            started.elapsed().as_secs_f64() * 1e3,
            self.out.display()
        );
        Ok(())
    }
}

/// Writes every template and `manifest.json` into `out`, removing templates of stacks that no
/// longer exist. Returns the bytes written per stack.
pub fn write_assembly(assembly: &Assembly, out: &Path, format: Format) -> Result<Vec<usize>> {
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for entry in fs::read_dir(out).with_context(|| format!("listing {}", out.display()))? {
        let path = entry?.path();
        let stale = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.contains(".template."));
        if stale {
            fs::remove_file(&path).with_context(|| format!("removing stale {}", path.display()))?;
        }
    }
    let mut written = Vec::with_capacity(assembly.stacks.len());
    for stack in &assembly.stacks {
        let body = match format {
            Format::Json => stack.body.clone(),
            Format::Yaml => serde_yaml::to_string(&stack.template.to_value())
                .with_context(|| format!("rendering {} as YAML", stack.name))?,
        };
        let path = out.join(stack.template_file(format.extension()));
        fs::write(&path, &body).with_context(|| format!("writing {}", path.display()))?;
        written.push(body.len());
    }
    let manifest = serde_json::to_string_pretty(&assembly.manifest(format.extension()))?;
    let path = out.join("manifest.json");
    fs::write(&path, manifest + "\n").with_context(|| format!("writing {}", path.display()))?;
    Ok(written)
}

fn print_summary(assembly: &Assembly, written: &[usize]) {
    let width = assembly.stacks.iter().map(|s| s.name.len()).max().unwrap_or(5).max(5);
    println!("{:<width$}  {:<15}  {:>9}  {:>8}  note", "stack", "region", "resources", "bytes");
    for (stack, bytes) in assembly.stacks.iter().zip(written) {
        let note = if stack.stats.needs_template_url { "over 51,200 bytes: deployed via TemplateURL" } else { "" };
        println!("{:<width$}  {:<15}  {:>9}  {:>8}  {note}", stack.name, stack.region, stack.stats.resources, bytes);
    }
}
