//! `cargo xtask redrive`: re-delivers the batches a region's stream mappings gave up on, from the
//! region's failed-batches bucket, to their functions (Lambda `Invoke`); see `engine::redrive`.
//! Pointers in SQS on-failure queues (`--queue-url`, or those the deployed mappings of an older
//! region stack send to) are redriven by re-reading the stream ([`range`]).

pub mod range;

use crate::options::AwsArgs;
use anyhow::{Result, bail};
use engine::redrive::pointer::{QueuePlan, QueueReport, discover_queues, reader_config, redrive_queue};
use engine::redrive::{LambdaDelivery, RateLimit, RedriveOptions, RedrivePlan, plan, redrive};
use engine::session::Session;
use local::clients::Clients;

/// Write-rate flags, shared by `redrive` and `replay`.
#[derive(Debug, Clone, clap::Args)]
pub struct RateArgs {
    /// Records per second at most (default: one Kinesis shard's 1,000).
    #[arg(long, default_value_t = RateLimit::default().records_per_second)]
    pub records_per_second: u32,
    /// Bytes per second at most (default: one Kinesis shard's 1 MiB).
    #[arg(long, default_value_t = RateLimit::default().bytes_per_second)]
    pub bytes_per_second: u64,
}

impl RateArgs {
    /// The engine's limit.
    pub fn limit(&self) -> RateLimit {
        RateLimit { records_per_second: self.records_per_second.max(1), bytes_per_second: self.bytes_per_second.max(1) }
    }
}

/// Flags of `cargo xtask redrive`.
#[derive(Debug, clap::Args)]
pub struct RedriveArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// The region whose failed batches are redriven.
    #[arg(long)]
    pub region: String,
    /// Only this mapping's batches (its logical ID, e.g. PublisherSubscription).
    #[arg(long)]
    pub mapping: Option<String>,
    /// Redrive the pointers in this SQS on-failure queue instead of the bucket (repeatable).
    #[arg(long = "queue-url", value_name = "URL")]
    pub queue_urls: Vec<String>,
    /// List what would be redriven; deliver and delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub rate: RateArgs,
}

impl RedriveArgs {
    /// Plans, redrives and reports; an error when a batch could not be redriven.
    pub fn run(&self) -> Result<()> {
        crate::runtime()?.block_on(self.redrive())
    }

    /// The bucket's records (unless queues were named), then every on-failure queue's pointers;
    /// fails when anything stays behind.
    async fn redrive(&self) -> Result<()> {
        let options = RedriveOptions {
            region: self.region.clone(),
            mapping: self.mapping.clone(),
            dry_run: self.dry_run,
            limit: self.rate.limit(),
        };
        let loaded = Session::load(&self.aws.config, &self.aws.settings()).await?;
        engine::redrive::check(&loaded.config, &loaded.assembly.stacks, &options)?;
        let session = loaded.connect().await?;
        let plan = plan(&session, &options).await?;
        let delivery = LambdaDelivery::new(session.aws.lambda(&plan.region));
        let bucket =
            if self.queue_urls.is_empty() { redrive_bucket(&session, &plan, &delivery).await? } else { Ok(()) };
        let queues = self.queues(&session, &plan).await?;
        let left = redrive_queues(&session, &plan, &delivery, queues).await?;
        bucket?;
        if left > 0 {
            bail!(
                "{left} pointer(s) could not be redriven and stay in their queue: fix the cause (the function's logs \
                 name it) and run `cargo xtask redrive --region {}` again, or re-send what the stream no longer has \
                 with the `cargo xtask replay` commands above",
                plan.region
            );
        }
        Ok(())
    }

    /// The queues named with `--queue-url`, or else the older on-failure queues of the region stack.
    async fn queues(&self, session: &Session, plan: &RedrivePlan) -> Result<Vec<String>> {
        if !self.queue_urls.is_empty() {
            return Ok(self.queue_urls.clone());
        }
        let stack = session.stack(stacks::StackPart::Region, &plan.region)?.name.clone();
        Ok(discover_queues(&session.aws, &plan.region, &stack).await.unwrap_or_else(|error| {
            println!("redrive: older on-failure queues not looked for in {stack}: {error:#}");
            Vec::new()
        }))
    }
}

/// Redrives the failed-batches bucket; the outer error is a failure to run, the inner one the
/// verdict on what stayed in the bucket (reported after the queues had their turn).
async fn redrive_bucket(session: &Session, plan: &RedrivePlan, delivery: &LambdaDelivery) -> Result<Result<()>> {
    let scope = plan.mapping.as_ref().map_or_else(|| "every mapping".to_owned(), |(id, _)| id.clone());
    println!("redrive: s3://{} ({scope}){}", plan.bucket, if plan.dry_run { ", dry run" } else { "" });
    let report = redrive(&session.aws, plan, delivery, &mut |line| println!("{line}")).await?;
    println!(
        "redrive: {} redriven{}, {} left in the bucket",
        report.redriven.len(),
        if report.dry_run { " (dry run)" } else { "" },
        report.left.len()
    );
    Ok(report.verdict(&plan.region))
}

/// Redrives the pointers of each of `queues` by re-reading the stream; how many stayed behind.
async fn redrive_queues(
    session: &Session,
    plan: &RedrivePlan,
    delivery: &LambdaDelivery,
    queues: Vec<String>,
) -> Result<usize> {
    let range = range::ShardRange::new(Clients::new(reader_config(&session.aws)));
    let mut left = 0;
    for queue_url in queues {
        let queue = QueuePlan {
            region: plan.region.clone(),
            queue_url,
            dry_run: plan.dry_run,
            limit: plan.limit,
            publisher: plan.publisher.clone(),
        };
        println!("redrive: {} (SQS pointers){}", queue.queue_url, if plan.dry_run { ", dry run" } else { "" });
        let report = redrive_queue(&session.aws, &queue, &range, delivery, &mut |l| println!("{l}")).await?;
        print_queue(&report, plan.dry_run);
        left += report.left.len();
    }
    Ok(left)
}

fn print_queue(report: &QueueReport, dry_run: bool) {
    println!(
        "redrive: {} redriven{}, {} left in {}",
        report.redriven.len(),
        if dry_run { " (dry run)" } else { "" },
        report.left.len(),
        report.queue_url
    );
}

#[cfg(test)]
mod tests;
