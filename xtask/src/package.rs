//! `cargo xtask package`: builds every function with the pinned cargo-lambda (zig as the
//! cross linker, from the project venv; no Docker) in release, and writes each binary as a
//! deterministic `bootstrap.zip` named by its content hash: `target/lambda/<function>/<hash>.zip`.
//! The same source gives the same zip, so a deploy uploads only what changed.

use anyhow::{Context, Result, bail};
use engine::emulator::workspace_root;
use sha2::{Digest, Sha256};
use stacks::app::FunctionKind;
use stacks::config::Architecture;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Largest zip the kit aims for (Lambda itself takes 50 MB zipped).
const SIZE_TARGET: u64 = 5 * 1024 * 1024;
/// Hex digits of the SHA-256 in a zip's name: 64 bits, plenty to tell builds apart.
const HASH_PREFIX: usize = 16;

/// CPU architecture to build for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Arch {
    /// Graviton (`aarch64-unknown-linux-gnu`).
    #[value(name = "arm64")]
    Arm64,
    /// Intel/AMD (`x86_64-unknown-linux-gnu`).
    #[value(name = "x86_64")]
    X86_64,
}

impl Arch {
    fn cargo_lambda_flag(self) -> &'static str {
        match self {
            Arch::Arm64 => "--arm64",
            Arch::X86_64 => "--x86-64",
        }
    }

    /// The Rust target Lambda runs.
    fn rust_target(self) -> &'static str {
        match self {
            Arch::Arm64 => "aarch64-unknown-linux-gnu",
            Arch::X86_64 => "x86_64-unknown-linux-gnu",
        }
    }
}

/// Installs the Rust standard library for `arch` when the toolchain lacks it (a fresh machine
/// has only the host's).
fn ensure_rust_target(arch: Arch) -> Result<()> {
    let installed = Command::new("rustup").args(["target", "list", "--installed"]).output();
    let target = arch.rust_target();
    if installed.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).lines().any(|l| l.trim() == target)) {
        return Ok(());
    }
    println!("== rustup target add {target}");
    let status = Command::new("rustup").args(["target", "add", target]).status().context("running rustup")?;
    if !status.success() {
        bail!("rustup target add {target} failed; install the target, or run the demo without --real-archives");
    }
    Ok(())
}

impl From<Architecture> for Arch {
    fn from(architecture: Architecture) -> Self {
        match architecture {
            Architecture::Arm64 => Arch::Arm64,
            Architecture::X86_64 => Arch::X86_64,
        }
    }
}

/// Flags of `cargo xtask package`.
#[derive(Debug, clap::Args)]
pub struct PackageArgs {
    /// Architecture to build for [default: `functions.architecture` of the config].
    #[arg(long, value_enum)]
    pub arch: Option<Arch>,
    /// The config whose architecture is the default.
    #[arg(long, default_value = "regions.toml")]
    pub config: PathBuf,
}

/// One packaged function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltZip {
    /// Which function.
    pub kind: FunctionKind,
    /// `target/lambda/<function>/<hash>.zip`.
    pub path: PathBuf,
    /// S3 key for the assets bucket: `functions/<function>/<hash>.zip`.
    pub key: String,
    /// Size in bytes.
    pub bytes: u64,
}

impl PackageArgs {
    /// Builds and packages every function, then prints each zip's size.
    pub fn run(&self) -> Result<()> {
        let arch = match self.arch {
            Some(arch) => arch,
            None => engine::session::load_config(&self.config)?.functions.architecture.into(),
        };
        let zips = package(&workspace_root(), arch)?;
        println!("{:<16} {:>12} {:>9}  path", "function", "bytes", "MiB");
        for zip in &zips {
            let flag = if zip.bytes > SIZE_TARGET { "  (over the 5 MiB target)" } else { "" };
            println!(
                "{:<16} {:>12} {:>9.2}  {}{flag}",
                zip.kind.crate_name(),
                zip.bytes,
                zip.bytes as f64 / (1024.0 * 1024.0),
                zip.path.display()
            );
        }
        println!("S3 keys: {}", zips.iter().map(|z| z.key.as_str()).collect::<Vec<_>>().join(", "));
        Ok(())
    }
}

/// Packages every function for the config's architecture, as the zips a deployment uploads.
pub fn artifacts_for_deploy(config: &stacks::AppConfig) -> Result<Vec<engine::params::Artifact>> {
    let built = package(&workspace_root(), config.functions.architecture.into())?;
    Ok(built.into_iter().map(|zip| engine::params::Artifact { kind: zip.kind, path: zip.path, key: zip.key }).collect())
}

/// Builds every function for `arch` with cargo-lambda and writes the content-addressed zips.
pub fn package(root: &Path, arch: Arch) -> Result<Vec<BuiltZip>> {
    build(root, arch)?;
    FunctionKind::ALL.iter().map(|kind| write_zip(root, *kind)).collect()
}

/// `cargo lambda build --release` of every function crate, with the venv first on PATH so
/// cargo-lambda finds the pip-installed zig (`python3 -m ziglang`).
fn build(root: &Path, arch: Arch) -> Result<()> {
    let venv_bin = root.join(".venv/bin");
    let cargo_lambda = venv_bin.join("cargo-lambda");
    if !cargo_lambda.exists() {
        bail!(
            "{} is missing: run .ci/setup, which installs the pinned cargo-lambda and ziglang",
            cargo_lambda.display()
        );
    }
    ensure_rust_target(arch)?;
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(std::iter::once(venv_bin).chain(std::env::split_paths(&path)))
        .context("building PATH with the venv first")?;
    let mut command = Command::new(&cargo_lambda);
    command.current_dir(root).env("PATH", path).args(["lambda", "build", "--release", arch.cargo_lambda_flag()]);
    for kind in FunctionKind::ALL {
        command.args(["--package", kind.crate_name()]);
    }
    println!("== cargo lambda build --release {} ({})", arch.cargo_lambda_flag(), cargo_lambda.display());
    let status = command.status().with_context(|| format!("starting {}", cargo_lambda.display()))?;
    if !status.success() {
        bail!("cargo lambda build failed ({status})");
    }
    Ok(())
}

/// Zips `target/lambda/<function>/bootstrap` deterministically (fixed time stamp and mode),
/// names it by its SHA-256, and removes older zips of that function.
fn write_zip(root: &Path, kind: FunctionKind) -> Result<BuiltZip> {
    let dir = root.join("target/lambda").join(kind.crate_name());
    let binary = dir.join("bootstrap");
    let executable =
        std::fs::read(&binary).with_context(|| format!("reading {} (built by cargo lambda)", binary.display()))?;
    let archive = zip_bootstrap(&executable)?;
    let digest: String = Sha256::digest(&archive).iter().map(|b| format!("{b:02x}")).collect();
    let name = format!("{}.zip", &digest[..HASH_PREFIX]);
    for entry in std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))? {
        let stale = entry?.path();
        if stale.extension().is_some_and(|e| e == "zip") && stale.file_name().is_some_and(|n| n != name.as_str()) {
            std::fs::remove_file(&stale).with_context(|| format!("removing {}", stale.display()))?;
        }
    }
    let path = dir.join(&name);
    std::fs::write(&path, &archive).with_context(|| format!("writing {}", path.display()))?;
    std::fs::write(dir.join("bootstrap.zip"), &archive)
        .with_context(|| format!("writing {}/bootstrap.zip", dir.display()))?;
    Ok(BuiltZip { kind, path, key: format!("functions/{}/{name}", kind.crate_name()), bytes: archive.len() as u64 })
}

/// A zip holding `executable` as `bootstrap` (mode 755), with no time stamp that varies.
fn zip_bootstrap(executable: &[u8]) -> Result<Vec<u8>> {
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .unix_permissions(0o755)
        .last_modified_time(zip::DateTime::default());
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer.start_file("bootstrap", options).context("starting the zip entry")?;
    writer.write_all(executable).context("compressing bootstrap")?;
    Ok(writer.finish().context("finishing the zip")?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn the_zip_is_deterministic_and_holds_an_executable_bootstrap() {
        let binary = b"\x7fELF pretend binary".repeat(100);
        let first = zip_bootstrap(&binary).expect("zip");
        assert_eq!(first, zip_bootstrap(&binary).expect("zip"), "same input, same bytes");
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(first)).expect("a valid zip");
        let mut entry = archive.by_name("bootstrap").expect("bootstrap entry");
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
        let mut unpacked = Vec::new();
        entry.read_to_end(&mut unpacked).expect("inflate");
        assert_eq!(unpacked, binary);
    }
}
