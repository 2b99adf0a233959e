//! Function zips for where code never runs (the emulator: tests, benchmarks, the demo): valid
//! empty archives. Real ones come from `cargo xtask package`.

use crate::params::Artifact;
use anyhow::{Context, Result};
use stacks::app::FunctionKind;
use std::path::Path;

/// The smallest valid zip archive: an end-of-central-directory record and nothing else.
const EMPTY_ZIP: [u8; 22] = [0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

/// One empty archive per function under `dir`, keyed `functions/<crate>/empty-<tag>.zip`: for
/// the emulator, which stores function code but never runs it.
pub fn empty_archives(dir: &Path, tag: &str) -> Result<Vec<Artifact>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    FunctionKind::ALL
        .iter()
        .map(|kind| {
            let path = dir.join(format!("{}-empty.zip", kind.crate_name()));
            std::fs::write(&path, EMPTY_ZIP).with_context(|| format!("writing {}", path.display()))?;
            Ok(Artifact { kind: *kind, path, key: format!("functions/{}/empty-{tag}.zip", kind.crate_name()) })
        })
        .collect()
}
