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
    let mut out = if is_stateful(resource_type) { policies(old, new) } else { Vec::new() };
    let (old, new) = (&old["Properties"], &new["Properties"]);
    out.extend(match resource_type {
        "AWS::DynamoDB::Table" => table(old, new),
        "AWS::DynamoDB::GlobalTable" => global_table(old, new),
        "AWS::Kinesis::Stream" => stream(old, new),
        "AWS::S3::Bucket" => bucket(old, new),
        "AWS::SQS::Queue" => {
            let encrypted = |v: &Value| !v["KmsMasterKeyId"].is_null() || is_true(&v["SqsManagedSseEnabled"]);
            (encrypted(old) && !encrypted(new)).then(|| "queue encryption removed".to_owned()).into_iter().collect()
        }
        "AWS::SNS::Topic" => removed(old, new, "KmsMasterKeyId", "topic encryption").into_iter().collect(),
        _ => Vec::new(),
    });
    out
}

/// A retaining `DeletionPolicy` or `UpdateReplacePolicy` given up.
fn policies(old: &Value, new: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for attribute in ["DeletionPolicy", "UpdateReplacePolicy"] {
        let (before, after) = (old.get(attribute).and_then(Value::as_str), new.get(attribute).and_then(Value::as_str));
        if before.is_some_and(|p| RETAINING.contains(&p)) && !after.is_some_and(|p| RETAINING.contains(&p)) {
            out.push(format!(
                "{attribute} {} → {}: the data is deleted with the resource",
                before.unwrap_or_default(),
                after.unwrap_or("Delete (the default)")
            ));
        }
    }
    out
}

const PITR: [&str; 2] = ["PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"];

fn table(old: &Value, new: &Value) -> Vec<String> {
    [
        turned_off(old, new, &PITR, "point-in-time recovery"),
        turned_off(old, new, &["DeletionProtectionEnabled"], "deletion protection"),
        turned_off(old, new, &["SSESpecification", "SSEEnabled"], "KMS encryption"),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn global_table(old: &Value, new: &Value) -> Vec<String> {
    let mut out: Vec<String> =
        turned_off(old, new, &["SSESpecification", "SSEEnabled"], "KMS encryption").into_iter().collect();
    for (region, before, after) in replicas(old, new) {
        let per_replica = [
            turned_off(before, after, &PITR, "point-in-time recovery"),
            turned_off(before, after, &["DeletionProtectionEnabled"], "deletion protection"),
        ];
        out.extend(per_replica.into_iter().flatten().map(|line| format!("{line} in {region}")));
    }
    out
}

fn stream(old: &Value, new: &Value) -> Vec<String> {
    let hours = |v: &Value| number(&v["RetentionPeriodHours"]).unwrap_or(KINESIS_DEFAULT_RETENTION_HOURS);
    let mut out = Vec::new();
    if hours(new) < hours(old) {
        out.push(format!(
            "stream retention lowered from {} to {} hours: records older than that are gone, and a replay or redrive \
             reaches less far back",
            hours(old),
            hours(new)
        ));
    }
    out.extend(removed(old, new, "StreamEncryption", "stream encryption"));
    out
}

fn bucket(old: &Value, new: &Value) -> Vec<String> {
    let mut out: Vec<String> = removed(old, new, "BucketEncryption", "bucket encryption").into_iter().collect();
    for flag in PUBLIC_ACCESS_BLOCK {
        let path = ["PublicAccessBlockConfiguration", flag];
        out.extend(turned_off(old, new, &path, &format!("public access block {flag}")));
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
