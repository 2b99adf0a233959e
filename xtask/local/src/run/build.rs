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
    let mut command = Command::new(cargo);
    command.current_dir(workspace).arg("build");
    for name in function_crates() {
        command.args(["-p", name]);
    }
    let shown = format!("cargo build -p {}", function_crates().join(" -p "));
    let status = command.status().map_err(|error| BuildError::Spawn { cargo: cargo.to_owned(), error })?;
    if !status.success() {
        return Err(BuildError::Failed(shown));
    }
    Ok(binaries_dir(workspace))
}

/// Where cargo puts `dev` binaries: `$CARGO_TARGET_DIR/debug`, else `<workspace>/target/debug`.
pub fn binaries_dir(workspace: &Path) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace.join("target"), PathBuf::from);
    target.join("debug")
}

/// Whether every function binary is in `dir`.
pub fn has_every_binary(dir: &Path) -> bool {
    function_crates().iter().all(|name| dir.join(name).is_file())
}
