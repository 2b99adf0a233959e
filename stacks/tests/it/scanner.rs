//! The security scanner (checkov, run by `cargo xtask test`) passes every template; the checks
//! that do not fit this design are skipped by the constructs themselves, in each resource's
//! `Metadata`, and README lists each one with the same reason.

use crate::support::{EXAMPLE, TWELVE, assembly, json};
use std::collections::BTreeSet;

/// `(resource type, check, reason)` of every skip in every template of both configs.
fn skips() -> BTreeSet<(String, String, String)> {
    let mut skips = BTreeSet::new();
    for text in [EXAMPLE, TWELVE] {
        for stack in &assembly(text).stacks {
            let template = json(stack);
            for resource in template["Resources"].as_object().unwrap().values() {
                for skip in resource["Metadata"]["checkov"]["skip"].as_array().into_iter().flatten() {
                    let kind = resource["Type"].as_str().unwrap().to_owned();
                    let id = skip["id"].as_str().unwrap().to_owned();
                    let reason = skip["comment"].as_str().unwrap().to_owned();
                    assert!(reason.len() > 20, "{id} on {kind} needs a reason");
                    skips.insert((kind, id, reason));
                }
            }
        }
    }
    skips
}

#[test]
fn every_skipped_scanner_check_is_listed_in_readme_with_its_reason() {
    let readme = include_str!("../../../README.md");
    let skips = skips();
    assert!(!skips.is_empty(), "the Lambda, SQS and S3 checks that do not fit are skipped in the templates");
    for (kind, id, reason) in &skips {
        let row = format!("| `{id}` | `{kind}` | {reason} |");
        assert!(readme.contains(&row), "README lacks the row:\n{row}");
    }
    let listed = readme.lines().filter(|line| line.starts_with("| `CKV")).count();
    assert_eq!(listed, skips.len(), "README lists a skip the templates do not make");
}
