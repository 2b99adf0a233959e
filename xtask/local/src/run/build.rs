//! The function binaries the runtime runs, built for this machine with cargo's `dev` profile:
//! the quickest to build from a workspace whose dependencies are already compiled (the release
//! profile's LTO and single codegen unit cost minutes), and the functions' work locally is
//! waiting on the emulator, not CPU.

use stacks::app::FunctionKind;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Building failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// cargo could not be started.
    #[error("running {cargo}: {error}")]
    Spawn {
        /// The cargo command.
        cargo: String,
        /// Why.
        error: std::io::Error,
    },
    /// cargo failed.
    #[error("`{0}` failed; fix the build errors above")]
    Failed(String),
}

/// Every crate of a function binary.
pub fn function_crates() -> Vec<&'static str> {
    FunctionKind::ALL.iter().map(|kind| kind.crate_name()).collect()
}

/// `cargo build -p api -p publisher -p projector-audit -p projector-view` in `workspace` with
/// `cargo` (the `$CARGO` of the calling process); returns the directory holding the binaries.
pub fn build_functions(cargo: &str, workspace: &Path) -> Result<PathBuf, BuildError> {
    build_crates(cargo, workspace, DEV, &function_crates())
}

/// cargo's default profile, whose binaries go to `debug`.
pub const DEV: &str = "dev";

/// `cargo build --profile <profile>` of `crates` in `workspace` with `cargo`; returns the
/// directory holding the binaries ([`profile_dir`]).
pub fn build_crates(cargo: &str, workspace: &Path, profile: &str, crates: &[&str]) -> Result<PathBuf, BuildError> {
    let mut command = Command::new(cargo);
    command.current_dir(workspace).args(["build", "--profile", profile]);
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(is_package_variable) {
            command.env_remove(name);
        }
    }
    for name in crates {
        command.args(["-p", name]);
    }
    let shown = format!("cargo build --profile {profile} -p {}", crates.join(" -p "));
    let status = command.status().map_err(|error| BuildError::Spawn { cargo: cargo.to_owned(), error })?;
    if !status.success() {
        return Err(BuildError::Failed(shown));
    }
    Ok(profile_dir(workspace, profile))
}

/// Whether `name` is one of the variables cargo sets for the package it runs (`cargo xtask` is a
/// `cargo run`): build scripts that read them (ring's) ask to run again when they change, so a
/// build started with them rebuilds those crates and everything above, and so does the next
/// `cargo build` from a shell.
fn is_package_variable(name: &str) -> bool {
    ["CARGO_PKG_", "CARGO_MANIFEST_", "CARGO_CRATE_NAME", "CARGO_BIN_NAME", "CARGO_PRIMARY_PACKAGE"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

/// Where cargo puts `dev` binaries: `$CARGO_TARGET_DIR/debug`, else `<workspace>/target/debug`.
pub fn binaries_dir(workspace: &Path) -> PathBuf {
    profile_dir(workspace, DEV)
}

/// Where cargo puts the binaries of `profile`: `debug` for `dev`, else the profile's name, under
/// `$CARGO_TARGET_DIR`, else `<workspace>/target`.
pub fn profile_dir(workspace: &Path, profile: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace.join("target"), PathBuf::from);
    target.join(if profile == DEV { "debug" } else { profile })
}

/// Whether every function binary is in `dir`.
pub fn has_every_binary(dir: &Path) -> bool {
    function_crates().iter().all(|name| dir.join(name).is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variables_of_the_running_package_are_not_passed_on_and_the_others_are() {
        for name in [
            "CARGO_PKG_NAME",
            "CARGO_PKG_VERSION_MAJOR",
            "CARGO_MANIFEST_DIR",
            "CARGO_MANIFEST_PATH",
            "CARGO_CRATE_NAME",
        ] {
            assert!(is_package_variable(name), "{name}");
        }
        for name in ["CARGO_TARGET_DIR", "CARGO_HOME", "CARGO", "RUSTFLAGS", "PATH"] {
            assert!(!is_package_variable(name), "{name}");
        }
    }
}
