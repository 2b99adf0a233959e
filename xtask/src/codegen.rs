//! `cargo xtask codegen`: regenerates `xtask/engine/data/create-only-properties.json`, each AWS resource
//! type's `createOnlyProperties`, from the resource provider schemas bundled with the pinned cfn-lint
//! in `.venv`. A test fails when the committed file is out of date.

use anyhow::{Context, Result, bail};
use engine::emulator::workspace_root;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The region whose schema index is used: the one with the most resource types.
const SCHEMA_REGION: &str = "us-east-1";
/// The generated file, relative to the workspace root.
const DATA_FILE: &str = "xtask/engine/data/create-only-properties.json";

/// Flags of `cargo xtask codegen`.
#[derive(Debug, clap::Args)]
pub struct CodegenArgs {
    /// Only check that the generated files are current; fail if not.
    #[arg(long)]
    pub check: bool,
}

impl CodegenArgs {
    /// Regenerates (or checks) every generated file.
    pub fn run(&self) -> Result<()> {
        let root = workspace_root();
        let generated = create_only_properties(&cfnlint_dir(&root)?)?;
        let target = root.join(DATA_FILE);
        let current = fs::read_to_string(&target).unwrap_or_default();
        if current == generated {
            println!("{DATA_FILE}: up to date");
            return Ok(());
        }
        if self.check {
            bail!("{DATA_FILE} is out of date; run `cargo xtask codegen` and commit the result");
        }
        fs::write(&target, &generated).with_context(|| format!("writing {}", target.display()))?;
        println!("{DATA_FILE}: updated ({} bytes)", generated.len());
        Ok(())
    }
}

/// `.venv/lib/python3.*/site-packages/cfnlint`, installed by `.ci/setup`.
fn cfnlint_dir(root: &Path) -> Result<PathBuf> {
    let lib = root.join(".venv/lib");
    let missing = || format!("cfn-lint is not installed in {}; run `bash .ci/setup` to create the venv", lib.display());
    let mut pythons: Vec<PathBuf> = fs::read_dir(&lib)
        .with_context(missing)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("python")))
        .map(|path| path.join("site-packages/cfnlint"))
        .filter(|path| path.is_dir())
        .collect();
    pythons.sort();
    match pythons.pop() {
        Some(dir) => Ok(dir),
        None => Err(anyhow::anyhow!(missing())),
    }
}

/// The data file's text: `{"source": ..., "types": {type: [create-only paths]}}`, one type per
/// line (sorted, paths sorted and deduplicated) so schema updates give readable diffs.
fn create_only_properties(cfnlint: &Path) -> Result<String> {
    let schemas = cfnlint.join("data/schemas");
    let index_file = schemas.join(format!("providers/{SCHEMA_REGION}.json"));
    let index: BTreeMap<String, String> = read_json(&index_file)?;
    let mut lines = Vec::new();
    for (type_name, hash) in index.iter().filter(|(name, _)| name.starts_with("AWS::")) {
        let schema: Value = read_json(&schemas.join(format!("resources/{hash}.json")))?;
        let mut paths: Vec<&str> = schema
            .get("createOnlyProperties")
            .and_then(Value::as_array)
            .map(|items| items.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        paths.sort_unstable();
        paths.dedup();
        lines.push(format!("    {}: {}", serde_json::to_string(type_name)?, serde_json::to_string(&paths)?));
    }
    let source = format!(
        "AWS resource provider schemas ({SCHEMA_REGION}) bundled with cfn-lint {} (schema date {}); \
         regenerate with `cargo xtask codegen`",
        cfnlint_version(cfnlint)?,
        schema_date(&schemas)?
    );
    Ok(format!(
        "{{\n  \"source\": {},\n  \"types\": {{\n{}\n  }}\n}}\n",
        serde_json::to_string(&source)?,
        lines.join(",\n")
    ))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// `__version__` from `cfnlint/version.py`.
fn cfnlint_version(cfnlint: &Path) -> Result<String> {
    let path = cfnlint.join("version.py");
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .find_map(|line| line.strip_prefix("__version__ = "))
        .map(|v| v.trim().trim_matches('"').to_string())
        .with_context(|| format!("no __version__ in {}", path.display()))
}

fn schema_date(schemas: &Path) -> Result<String> {
    let version: Value = read_json(&schemas.join("version.json"))?;
    Ok(version.get("schema_date").and_then(Value::as_str).unwrap_or("unknown").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// rust-analyzer style: the committed file must equal what the pinned cfn-lint generates. CI
    /// always has the venv, so a missing one fails rather than skipping.
    #[test]
    fn create_only_properties_data_is_current() {
        let root = workspace_root();
        let cfnlint = cfnlint_dir(&root).unwrap_or_else(|e| panic!("{e:#}"));
        let generated = create_only_properties(&cfnlint).unwrap_or_else(|e| panic!("{e:#}"));
        let committed = fs::read_to_string(root.join(DATA_FILE)).unwrap_or_default();
        assert!(
            committed == generated,
            "{DATA_FILE} is out of date with the cfn-lint schemas in .venv; run `cargo xtask codegen` and commit it"
        );
    }
}
