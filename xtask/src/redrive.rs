//! `cargo xtask redrive`: re-delivers the batches a region's stream mappings gave up on, from the
//! region's failed-batches bucket, to their functions (Lambda `Invoke`); see `engine::redrive`.

use crate::options::AwsArgs;
use anyhow::Result;
use engine::redrive::{LambdaDelivery, RateLimit, RedriveOptions, plan, redrive};
use engine::session::Session;

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
    /// List what would be redriven; deliver and delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub rate: RateArgs,
}

impl RedriveArgs {
    /// Plans, redrives and reports; an error when a batch could not be redriven.
    pub fn run(&self) -> Result<()> {
        crate::runtime()?.block_on(async {
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
            let scope = plan.mapping.as_ref().map_or_else(|| "every mapping".to_owned(), |(id, _)| id.clone());
            println!("redrive: s3://{} ({scope}){}", plan.bucket, if plan.dry_run { ", dry run" } else { "" });
            let delivery = LambdaDelivery::new(session.aws.lambda(&plan.region));
            let report = redrive(&session.aws, &plan, &delivery, &mut |line| println!("{line}")).await?;
            println!(
                "redrive: {} redriven{}, {} left in the bucket",
                report.redriven.len(),
                if report.dry_run { " (dry run)" } else { "" },
                report.left.len()
            );
            report.verdict(&plan.region)
        })
    }
}
