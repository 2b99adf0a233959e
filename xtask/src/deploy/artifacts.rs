//! The function zips a deployment uploads: built by `cargo xtask package`.

use super::params::Artifact;
use anyhow::{Result, bail};
use stacks::AppConfig;

/// Packages every function for the config's architecture.
pub fn artifacts_for_deploy(_config: &AppConfig) -> Result<Vec<Artifact>> {
    bail!("packaging is not wired in yet")
}
