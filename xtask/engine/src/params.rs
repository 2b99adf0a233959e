//! What a stack needs from the world before it can be deployed: function zips and large
//! templates in the region's assets bucket, and the region's replica stream ARN; and the check
//! that the home region's data stack is not behind the config a region stack is deployed from.
//!
//! The assets bucket's name is predictable (`<app>-assets-<account>-<region>`), so someone else
//! could own a bucket of that name: every call on it passes `ExpectedBucketOwner` (S3 API
//! reference: a mismatch fails the request with 403 instead of writing into another account's
//! bucket).

use crate::aws::Aws;
use crate::poll::Backoff;
use crate::review::Params;
use anyhow::{Context, Result, bail};
use aws_sdk_dynamodb::types::TableStatus;
use sha2::{Digest, Sha256};
use stacks::app::{FunctionKind, assets_bucket_physical_name};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long a replica may take to become ACTIVE (adding one to a large table takes hours; the
/// deployer waits a bounded time and says what to do).
pub const REPLICA_TIMEOUT: Duration = Duration::from_secs(1800);

/// One packaged function zip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// Which function.
    pub kind: FunctionKind,
    /// The zip on disk.
    pub path: PathBuf,
    /// S3 key, named by content hash so an unchanged zip is never uploaded twice.
    pub key: String,
}

/// A region's assets bucket and the account that must own it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetsBucket {
    /// Bucket name.
    pub name: String,
    /// The account expected to own it (`ExpectedBucketOwner`).
    pub owner: String,
}

impl AssetsBucket {
    /// The bootstrap stack's bucket for `app` in `account` and `region`.
    pub fn new(app: &str, account: &str, region: &str) -> AssetsBucket {
        AssetsBucket { name: assets_bucket_physical_name(app, account, region), owner: account.to_owned() }
    }
}

/// Uploads each zip to `bucket` unless an object with its content-hash key is already there.
/// Returns how many were uploaded.
pub async fn upload_artifacts(s3: &aws_sdk_s3::Client, bucket: &AssetsBucket, artifacts: &[Artifact]) -> Result<usize> {
    let mut uploaded = 0;
    for artifact in artifacts {
        let head = s3.head_object().bucket(&bucket.name).key(&artifact.key).expected_bucket_owner(&bucket.owner);
        if head.send().await.is_ok() {
            continue;
        }
        let body = aws_sdk_s3::primitives::ByteStream::from_path(&artifact.path)
            .await
            .with_context(|| format!("reading {}", artifact.path.display()))?;
        s3.put_object()
            .bucket(&bucket.name)
            .key(&artifact.key)
            .expected_bucket_owner(&bucket.owner)
            .body(body)
            .send()
            .await
            .with_context(|| format!("uploading {} to s3://{}", artifact.key, bucket.name))?;
        uploaded += 1;
    }
    Ok(uploaded)
}

/// The code-key parameters of a region stack: `<Kind>CodeKey` → S3 key.
pub fn code_keys(artifacts: &[Artifact]) -> Params {
    artifacts.iter().map(|a| (stacks::app::code_key_parameter(a.kind), a.key.clone())).collect()
}

/// Uploads a template too big for `TemplateBody` and returns the URL CloudFormation reads it from.
pub async fn upload_template(
    s3: &aws_sdk_s3::Client,
    bucket: &AssetsBucket,
    stack: &str,
    body: &str,
) -> Result<String> {
    let digest = Sha256::digest(body.as_bytes());
    let hash: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    let key = format!("templates/{stack}/{hash}.json");
    s3.put_object()
        .bucket(&bucket.name)
        .key(&key)
        .expected_bucket_owner(&bucket.owner)
        .body(body.as_bytes().to_vec().into())
        .send()
        .await
        .with_context(|| format!("uploading the template of {stack} to s3://{}", bucket.name))?;
    let region = s3.config().region().map(|r| r.as_ref().to_owned()).unwrap_or_default();
    // The same URL against an emulator: moto takes the bucket and key from it and reads its own
    // store (it fetches nothing), and an endpoint URL would not parse as an S3 location there.
    Ok(format!("https://{}.s3.{region}.amazonaws.com/{key}", bucket.name))
}

/// The stream ARN of `table`'s replica in `region`, once that replica is ACTIVE (waiting up to
/// `patience`).
pub async fn replica_stream_arn(
    aws: &Aws,
    region: &str,
    table: &str,
    home: &str,
    patience: Duration,
) -> Result<String> {
    let dynamodb = aws.dynamodb(region);
    let started = Instant::now();
    let mut waits = Backoff::REPLICA.waits();
    loop {
        let described = match dynamodb.describe_table().table_name(table).send().await {
            Ok(described) => described,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => bail!(
                "the event log {table} has no replica in {region} yet: deploy the home region first \
                 (`cargo xtask deploy --region {home}`), which adds a replica for every region in regions.toml"
            ),
            Err(error) => return Err(error).with_context(|| format!("describing {table} in {region}")),
        };
        let description = described.table().context("DescribeTable returned no table")?;
        if description.table_status() == Some(&TableStatus::Active) {
            return description.latest_stream_arn().map(str::to_owned).with_context(|| {
                format!("{table} in {region} has no stream; the data stack enables NEW_AND_OLD_IMAGES, deploy it")
            });
        }
        if started.elapsed() >= patience {
            let status = description.table_status().map(|s| s.as_str()).unwrap_or("not ACTIVE");
            bail!("the {table} replica in {region} is {status} after {patience:?}; deploy again once it is ACTIVE");
        }
        waits.sleep().await;
    }
}

/// Refuses a region stack while the home region's data stack is behind the config: every table
/// the config's data stack declares (the event log, the idempotency table, one per read model)
/// must have its replica in `region`, or the functions there would point at tables that do not
/// exist yet.
pub async fn check_tables_exist(aws: &Aws, region: &str, tables: &[String], home: &str) -> Result<()> {
    let dynamodb = aws.dynamodb(region);
    let mut missing = Vec::new();
    for table in tables {
        match dynamodb.describe_table().table_name(table).send().await {
            Ok(_) => {}
            Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => {
                missing.push(table.clone());
            }
            Err(error) => return Err(error).with_context(|| format!("describing {table} in {region}")),
        }
    }
    if !missing.is_empty() {
        bail!(
            "the home region's data stack is behind the config: {} not in {region} yet; deploy the home region \
             first (`cargo xtask deploy --region {home}`), then {region}",
            missing.join(", ")
        );
    }
    Ok(())
}
