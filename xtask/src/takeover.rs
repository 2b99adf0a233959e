//! `cargo xtask takeover --from R --to S`: region S publishes the events lost region R recorded
//! but never published (see `engine::takeover`). Refuses before any AWS call when the names are
//! wrong, and after reading the status when S is not deployed and healthy or R still looks
//! healthy (unless --force).

use crate::options::AwsArgs;
use crate::redrive::RateArgs;
use anyhow::Result;
use engine::session::Session;
use engine::status::{StatusOptions, gather};
use engine::takeover::{DEFAULT_MARGIN, Report, Settings, TakeoverOptions, check, check_health, take_over, targets};
use std::time::Duration;

/// Flags of `cargo xtask takeover`.
#[derive(Debug, clap::Args)]
pub struct TakeoverArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// The lost region whose unpublished events are taken over.
    #[arg(long)]
    pub from: String,
    /// The surviving region that publishes them (`published_by`).
    #[arg(long)]
    pub to: String,
    /// Take over although --from still looks healthy (events it still publishes go out twice).
    #[arg(long)]
    pub force: bool,
    /// Seconds read before the lost region's watermark (publisher lag, clock skew, index delay).
    #[arg(long, default_value_t = DEFAULT_MARGIN.as_secs())]
    pub margin_seconds: u64,
    #[command(flatten)]
    pub rate: RateArgs,
}

impl TakeoverArgs {
    /// Checks, takes over and reports; an error when events were left.
    pub fn run(&self) -> Result<()> {
        crate::runtime()?.block_on(async {
            let settings = Settings { margin: Duration::from_secs(self.margin_seconds), limit: self.rate.limit() };
            let options = TakeoverOptions { from: self.from.clone(), to: self.to.clone(), force: self.force, settings };
            let loaded = Session::load(&self.aws.config, &self.aws.settings()).await?;
            check(&loaded.config, &options)?;
            let session = loaded.connect().await?;
            let status = gather(&session, &StatusOptions::default()).await?;
            check_health(&status, &options)?;
            let targets = targets(&session.aws, &session.config.app, &options.from, &options.to);
            let report = take_over(&targets, &options.settings, &mut |line| println!("{line}")).await?;
            print_report(&options, &report);
            if !report.is_complete() {
                anyhow::bail!(
                    "{} event(s) were not published; run the same command again to resume from {}",
                    report.left,
                    report.up_to.as_deref().unwrap_or("the start")
                );
            }
            Ok(())
        })
    }
}

fn print_report(options: &TakeoverOptions, report: &Report) {
    let watermark = report.watermark.as_deref().unwrap_or("none (its publisher never recorded one)");
    println!("watermark of {}: {watermark}", options.from);
    if let Some(previous) = &report.resumed_from {
        println!("resumed: {} had taken over up to {}", previous.by, previous.up_to);
    }
    println!(
        "takeover: {} published by {}, {} of them possible duplicates (recorded at or before the watermark, \
         margin {} s)",
        report.published,
        options.to,
        report.possible_duplicates,
        options.settings.margin.as_secs()
    );
    if report.held_back > 0 {
        println!(
            "held back: {} event(s) of aggregates held behind a poison event in {}; they stay held",
            report.held_back, options.from
        );
    }
    for line in &report.unpublishable {
        println!("unpublishable: {line}");
    }
    if let Some(up_to) = &report.up_to {
        println!("{} taken over by {} up to {up_to}", options.from, options.to);
    }
}
