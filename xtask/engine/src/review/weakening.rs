//! Data protection weakened by an in-place update: a retaining `DeletionPolicy` or
//! `UpdateReplacePolicy` given up, point-in-time recovery or deletion protection turned off
//! (on a table, or on a global table's replica), Kinesis retention lowered, encryption removed, a
//! bucket's public access block relaxed. Each is one line for the reviewer.

use super::danger::is_stateful;
use serde_json::Value;

/// `DeletionPolicy`/`UpdateReplacePolicy` values that keep the data.
const RETAINING: &[&str] = &["Retain", "RetainExceptOnCreate", "Snapshot"];
/// The four settings of an S3 public access block.
const PUBLIC_ACCESS_BLOCK: &[&str] =
    &["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"];
/// Kinesis's retention when `RetentionPeriodHours` is not set.
const KINESIS_DEFAULT_RETENTION_HOURS: f64 = 24.0;

/// What weakens between the deployed definition `old` and the new one (parameters substituted).
pub fn weakened(resource_type: &str, old: &Value, new: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if is_stateful(resource_type) {
        for attribute in ["DeletionPolicy", "UpdateReplacePolicy"] {
            let (before, after) =
                (old.get(attribute).and_then(Value::as_str), new.get(attribute).and_then(Value::as_str));
            if before.is_some_and(|p| RETAINING.contains(&p)) && !after.is_some_and(|p| RETAINING.contains(&p)) {
                out.push(format!(
                    "{attribute} {} → {}: the data is deleted with the resource",
                    before.unwrap_or_default(),
                    after.unwrap_or("Delete (the default)")
                ));
            }
        }
    }
    let (old, new) = (&old["Properties"], &new["Properties"]);
    match resource_type {
        "AWS::DynamoDB::Table" => {
            out.extend(turned_off(
                old,
                new,
                &["PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"],
                "point-in-time recovery",
            ));
            out.extend(turned_off(old, new, &["DeletionProtectionEnabled"], "deletion protection"));
            out.extend(turned_off(old, new, &["SSESpecification", "SSEEnabled"], "KMS encryption"));
        }
        "AWS::DynamoDB::GlobalTable" => {
            out.extend(turned_off(old, new, &["SSESpecification", "SSEEnabled"], "KMS encryption"));
            for (region, before, after) in replicas(old, new) {
                let pitr = ["PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"];
                out.extend(
                    turned_off(before, after, &pitr, "point-in-time recovery").map(|l| format!("{l} in {region}")),
                );
                let protection = ["DeletionProtectionEnabled"];
                out.extend(
                    turned_off(before, after, &protection, "deletion protection").map(|l| format!("{l} in {region}")),
                );
            }
        }
        "AWS::Kinesis::Stream" => {
            let hours = |v: &Value| number(&v["RetentionPeriodHours"]).unwrap_or(KINESIS_DEFAULT_RETENTION_HOURS);
            if hours(new) < hours(old) {
                out.push(format!(
                    "stream retention lowered from {} to {} hours: records older than that are gone, and a replay or \
                     redrive reaches less far back",
                    hours(old),
                    hours(new)
                ));
            }
            out.extend(removed(old, new, "StreamEncryption", "stream encryption"));
        }
        "AWS::S3::Bucket" => {
            out.extend(removed(old, new, "BucketEncryption", "bucket encryption"));
            for flag in PUBLIC_ACCESS_BLOCK {
                out.extend(turned_off(
                    old,
                    new,
                    &["PublicAccessBlockConfiguration", flag],
                    &format!("public access block {flag}"),
                ));
            }
        }
        "AWS::SQS::Queue" => {
            let encrypted = |v: &Value| !v["KmsMasterKeyId"].is_null() || is_true(&v["SqsManagedSseEnabled"]);
            if encrypted(old) && !encrypted(new) {
                out.push("queue encryption removed".to_owned());
            }
        }
        "AWS::SNS::Topic" => out.extend(removed(old, new, "KmsMasterKeyId", "topic encryption")),
        _ => {}
    }
    out
}

/// `<what> turned off` when the flag at `path` goes from true to anything else.
fn turned_off(old: &Value, new: &Value, path: &[&str], what: &str) -> Option<String> {
    let at = |v: &Value| path.iter().fold(v, |v, key| &v[key]).clone();
    (is_true(&at(old)) && !is_true(&at(new))).then(|| format!("{what} turned off"))
}

/// `<what> removed` when `key` is set before and not after.
fn removed(old: &Value, new: &Value, key: &str, what: &str) -> Option<String> {
    (!old[key].is_null() && new[key].is_null()).then(|| format!("{what} removed"))
}

/// The replicas present in both definitions, by region.
fn replicas<'a>(old: &'a Value, new: &'a Value) -> Vec<(String, &'a Value, &'a Value)> {
    let list = |v: &'a Value| v["Replicas"].as_array().map(Vec::as_slice).unwrap_or_default();
    let region = |r: &Value| r["Region"].as_str().map(str::to_owned);
    list(old)
        .iter()
        .filter_map(|before| {
            let name = region(before)?;
            let after = list(new).iter().find(|r| region(r).as_deref() == Some(name.as_str()))?;
            Some((name, before, after))
        })
        .collect()
}

/// `true`, or the string `"true"` a substituted parameter leaves.
fn is_true(value: &Value) -> bool {
    value.as_bool().unwrap_or_else(|| value.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true")))
}

fn number(value: &Value) -> Option<f64> {
    value.as_f64().or_else(|| value.as_str()?.parse().ok())
}
