//! `cargo xtask redrive`: re-delivers the batches a region's stream mappings gave up on, read
//! whole from the region's failed-batches bucket, to the function each names, with the event
//! the mapping built. A record is deleted (marked done) only after its function took the whole
//! batch; a publisher batch that is published releases the poison hold of its aggregate. What
//! could not be redriven stays in the bucket and is reported, with the way on. Pointers in an SQS
//! on-failure queue (older stacks) are redriven by re-reading the stream ([`pointer`]).

mod holds;

pub mod delivery;
pub mod pointer;
pub mod rate;
pub mod record;

pub use delivery::{Delivered, Delivery, LambdaDelivery};
pub use holds::PublisherTargets;
pub use rate::{Limiter, RateLimit};

use crate::aws::Aws;
use crate::session::Session;
use anyhow::{Context, Result, bail};
use record::{FailureRecord, Source};
use stacks::app::{
    FAILED_BATCHES_BUCKET, event_log_table_name, event_stream_name, failed_batches_bucket_physical_name,
    idempotency_table_name,
};
use stacks::{AppConfig, Stack, StackPart};

/// What the operator asked for.
#[derive(Debug, Clone)]
pub struct RedriveOptions {
    /// The region.
    pub region: String,
    /// One mapping (its logical ID in the region stack), or every mapping.
    pub mapping: Option<String>,
    /// List what would be redriven, change nothing.
    pub dry_run: bool,
    /// The write rate.
    pub limit: RateLimit,
}

/// A redrive with every name resolved.
#[derive(Debug, Clone)]
pub struct RedrivePlan {
    /// The region.
    pub region: String,
    /// The failed-batches bucket.
    pub bucket: String,
    /// `(logical ID, mapping UUID)` of the one mapping chosen.
    pub mapping: Option<(String, String)>,
    /// List only.
    pub dry_run: bool,
    /// The write rate.
    pub limit: RateLimit,
    /// Where the publisher's holds are released.
    pub publisher: PublisherTargets,
}

/// A request that names something the configuration does not have.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RedriveError {
    /// The region is not configured.
    #[error("region {region} is not in regions.toml; pass one of: {configured}")]
    UnknownRegion {
        /// What was asked.
        region: String,
        /// The configured regions.
        configured: String,
    },
    /// The region stack has no such mapping.
    #[error("the region stack of {region} has no mapping {mapping}; pass one of: {known}")]
    UnknownMapping {
        /// The region.
        region: String,
        /// What was asked.
        mapping: String,
        /// The mappings' logical IDs.
        known: String,
    },
}

/// The logical IDs of the event source mappings of a region stack.
pub fn mapping_ids(stack: &Stack) -> Vec<String> {
    let mut ids: Vec<String> = stack
        .template
        .resources()
        .iter()
        .filter(|(_, r)| r.kind == "AWS::Lambda::EventSourceMapping")
        .map(|(id, _)| id.clone())
        .collect();
    ids.sort();
    ids
}

/// Checks the region and the mapping against the configuration and its stacks; no AWS call.
pub fn check(config: &AppConfig, stacks: &[Stack], options: &RedriveOptions) -> Result<(), RedriveError> {
    if !config.regions.iter().any(|r| r.name == options.region) {
        let configured = config.regions.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ");
        return Err(RedriveError::UnknownRegion { region: options.region.clone(), configured });
    }
    let Some(mapping) = &options.mapping else { return Ok(()) };
    let ids = stacks
        .iter()
        .find(|s| s.part == StackPart::Region && s.region == options.region)
        .map(mapping_ids)
        .unwrap_or_default();
    if ids.contains(mapping) {
        return Ok(());
    }
    Err(RedriveError::UnknownMapping {
        region: options.region.clone(),
        mapping: mapping.clone(),
        known: ids.join(", "),
    })
}

/// Checks `options`, then resolves the bucket and the chosen mapping's UUID (the mapping's
/// physical ID in the region stack).
pub async fn plan(session: &Session, options: &RedriveOptions) -> Result<RedrivePlan> {
    check(&session.config, &session.assembly.stacks, options)?;
    let app = &session.config.app;
    let region = &options.region;
    let mapping = match &options.mapping {
        None => None,
        Some(id) => {
            let stack = session.stack(StackPart::Region, region)?.name.clone();
            let described = session
                .aws
                .cloudformation(region)
                .describe_stack_resource()
                .stack_name(&stack)
                .logical_resource_id(id)
                .send()
                .await
                .with_context(|| format!("finding mapping {id} in {stack}: deploy the region stack first"))?;
            let uuid = described
                .stack_resource_detail()
                .and_then(|d| d.physical_resource_id())
                .with_context(|| format!("{stack} has not created {id} yet"))?;
            Some((id.clone(), uuid.to_owned()))
        }
    };
    Ok(RedrivePlan {
        region: region.clone(),
        bucket: failed_batches_bucket_physical_name(app, &session.account, region),
        mapping,
        dry_run: options.dry_run,
        limit: options.limit,
        publisher: PublisherTargets {
            stream: event_stream_name(app),
            event_log_table: event_log_table_name(app),
            idempotency_table: idempotency_table_name(app),
        },
    })
}

/// A failure record left in the bucket, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Left {
    /// The object key.
    pub key: String,
    /// Why it was not redriven.
    pub reason: String,
}

/// What a redrive did.
#[derive(Debug, Clone, Default)]
pub struct RedriveReport {
    /// The bucket.
    pub bucket: String,
    /// Records redriven and deleted (or, in a dry run, that would be redriven).
    pub redriven: Vec<String>,
    /// Records left in the bucket.
    pub left: Vec<Left>,
    /// What happened to the publisher's holds.
    pub holds: Vec<String>,
    /// Whether nothing was changed.
    pub dry_run: bool,
}

impl RedriveReport {
    /// Ok when every record was redriven; otherwise the error names the records and the fix.
    pub fn verdict(&self, region: &str) -> Result<()> {
        if self.left.is_empty() {
            return Ok(());
        }
        let lines: Vec<String> =
            self.left.iter().map(|l| format!("  s3://{}/{}: {}", self.bucket, l.key, l.reason)).collect();
        bail!(
            "{} failed batch(es) could not be redriven and stay in the bucket:\n{}\nfix the cause (the function's \
             logs name it) and run `cargo xtask redrive --region {region}` again; each record is kept {} days \
             after Lambda wrote it",
            self.left.len(),
            lines.join("\n"),
            stacks::constructs::failed_batches::EXPIRATION_DAYS
        )
    }
}

/// Redrives every record of `plan` through `delivery`, at most `plan.limit`, telling `progress`
/// about each one.
pub async fn redrive(
    aws: &Aws,
    plan: &RedrivePlan,
    delivery: &impl Delivery,
    progress: &mut impl FnMut(&str),
) -> Result<RedriveReport> {
    let s3 = aws.s3(&plan.region);
    if let Err(error) = s3.head_bucket().bucket(&plan.bucket).send().await {
        bail!(
            "the failed-batches bucket {} ({FAILED_BATCHES_BUCKET}) is not there in {} ({}): deploy the region stack \
             with `cargo xtask deploy --region {}`",
            plan.bucket,
            plan.region,
            aws_sdk_s3::error::DisplayErrorContext(&error),
            plan.region
        );
    }
    let prefix =
        plan.mapping.as_ref().map_or_else(|| record::KEY_PREFIX.to_owned(), |(_, uuid)| record::mapping_prefix(uuid));
    let keys = record::list(&s3, &plan.bucket, &prefix).await?;
    let mut report = RedriveReport { bucket: plan.bucket.clone(), dry_run: plan.dry_run, ..RedriveReport::default() };
    if keys.is_empty() {
        progress(&format!("no failed batches in s3://{}/{prefix}: nothing to redrive", plan.bucket));
        return Ok(report);
    }
    let mut limiter = Limiter::new(plan.limit);
    for (index, key) in keys.iter().enumerate() {
        let counter = format!("[{}/{}]", index + 1, keys.len());
        match redrive_one(aws, plan, delivery, &mut limiter, key).await {
            Ok(outcome) => {
                progress(&format!(
                    "{counter} {} {key}: {}",
                    if plan.dry_run { "would redrive" } else { "redriven" },
                    outcome.summary
                ));
                report.holds.extend(outcome.holds.iter().cloned());
                outcome.holds.iter().for_each(|line| progress(&format!("  {line}")));
                report.redriven.push(key.clone());
            }
            Err(reason) => {
                progress(&format!("{counter} left {key}: {reason:#}"));
                report.left.push(Left { key: key.clone(), reason: format!("{reason:#}") });
            }
        }
    }
    Ok(report)
}

/// What redriving one record did.
struct OneOutcome {
    summary: String,
    holds: Vec<String>,
}

async fn redrive_one(
    aws: &Aws,
    plan: &RedrivePlan,
    delivery: &impl Delivery,
    limiter: &mut Limiter,
    key: &str,
) -> Result<OneOutcome> {
    let s3 = aws.s3(&plan.region);
    let body = record::read(&s3, &plan.bucket, key).await?;
    let failure = FailureRecord::parse(key, &body)?;
    let (source, batch) = failure.batch().context("the record names no DynamoDB or Kinesis batch")?;
    let Some(event) = &failure.payload else {
        bail!(
            "the record has no payload (only shard {} from {} to {}); the stream still has the records only within \
             its retention",
            batch.shard_id,
            batch.start_sequence_number,
            batch.end_sequence_number
        );
    };
    let records = failure.records().len();
    let function = &failure.request_context.function_arn;
    let summary = format!("{records} record(s) of {} to {function}", batch.shard_id);
    if plan.dry_run {
        return Ok(OneOutcome { summary, holds: Vec::new() });
    }
    limiter.acquire(records, event.to_string().len()).await;
    match delivery.deliver(function, event).await? {
        Delivered::Failed(why) => bail!("{why}"),
        Delivered::Done => {}
    }
    record::mark_done(&s3, &plan.bucket, key).await?;
    let holds = match source {
        Source::DynamoDb => holds::release_published(aws, &plan.region, &plan.publisher, &failure).await,
        Source::Kinesis => Vec::new(),
    };
    Ok(OneOutcome { summary, holds })
}
