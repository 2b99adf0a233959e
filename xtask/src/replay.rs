//! `cargo xtask replay --region R [--aggregate-type T] [--aggregate-id ID] [--origin R2]
//! [--since TIME] [--for CONSUMER ...] [--resume]`: events of R's event log put on R's stream
//! again with `replay: true` for the named consumers (see `engine::replay`). The flags are checked
//! before any AWS call; a progress bar on a terminal, a line per chunk otherwise.

use crate::options::AwsArgs;
use crate::redrive::RateArgs;
use anyhow::{Result, bail};
use domain::store::EventStore;
use engine::replay::{PositionFile, ReplayOptions, check, replay, select};
use engine::session::Session;
use indicatif::{ProgressBar, ProgressStyle};
use publisher::KinesisSink;
use stacks::app::{event_log_table_name, event_stream_name};
use std::io::IsTerminal;

/// Flags of `cargo xtask replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// The region whose event log is read and whose stream takes the replay.
    #[arg(long)]
    pub region: String,
    /// Only events of this aggregate type (e.g. Task).
    #[arg(long)]
    pub aggregate_type: Option<String>,
    /// Only events of this aggregate (needs --aggregate-type).
    #[arg(long)]
    pub aggregate_id: Option<String>,
    /// Only events recorded in this region.
    #[arg(long)]
    pub origin: Option<String>,
    /// Only events recorded at or after this time (RFC 3339, e.g. 2026-03-04T05:06:07Z).
    #[arg(long)]
    pub since: Option<String>,
    /// The consumers the replay is meant for (repeat; default: every consumer): audit, view.
    #[arg(long = "for", value_name = "CONSUMER")]
    pub consumers: Vec<String>,
    /// Continue the last replay of the same selection in this region from its saved position.
    #[arg(long)]
    pub resume: bool,
    #[command(flatten)]
    pub rate: RateArgs,
}

impl ReplayArgs {
    /// Checks, reads, replays and reports; an error when events were left.
    pub fn run(&self) -> Result<()> {
        crate::runtime()?.block_on(async {
            let options = ReplayOptions {
                region: self.region.clone(),
                aggregate_type: self.aggregate_type.clone(),
                aggregate_id: self.aggregate_id.clone(),
                origin: self.origin.clone(),
                since: self.since.clone(),
                consumers: self.consumers.clone(),
                resume: self.resume,
                limit: self.rate.limit(),
            };
            let loaded = Session::load(&self.aws.config, &self.aws.settings()).await?;
            let selection = check(&loaded.config, &options)?;
            let file = PositionFile::new(&std::env::current_dir()?, &selection.region);
            let resume_from = if self.resume {
                match file.load(&selection)? {
                    Some(position) if position.done => {
                        println!("replay: {} was already replayed in full", selection.describe());
                        return Ok(());
                    }
                    Some(position) => Some(position),
                    None => bail!(
                        "no saved position for {} in {}: run without --resume to start",
                        selection.describe(),
                        file.path().display()
                    ),
                }
            } else {
                None
            };
            let session = loaded.connect().await?;
            let app = &session.config.app;
            let log = EventStore::new(session.aws.dynamodb(&selection.region), event_log_table_name(app));
            let regions: Vec<String> = session.config.region_names().map(str::to_owned).collect();
            let events = select(&log, &selection, &regions, resume_from.as_ref()).await?;
            println!("replay: {} event(s) of {}", events.len(), selection.describe());
            let sink = KinesisSink::new(session.aws.kinesis(&selection.region), event_stream_name(app));
            let bar = progress_bar(events.len());
            let report = replay(
                &sink,
                &selection,
                &events,
                options.limit,
                &mut |position| file.save(position),
                &mut |done, total| match &bar {
                    Some(bar) => bar.set_position(done as u64),
                    None => println!("replayed {done} of {total}"),
                },
            )
            .await?;
            if let Some(bar) = bar {
                bar.finish();
            }
            println!("replay: {} published on {}'s stream with replay: true", report.published, selection.region);
            for line in &report.unpublishable {
                println!("unpublishable: {line}");
            }
            if report.left > 0 {
                bail!("{} event(s) were not published; run the same command with --resume", report.left);
            }
            Ok(())
        })
    }
}

/// A progress bar on a terminal outside CI; `None` (plain lines) otherwise.
fn progress_bar(total: usize) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() || std::env::var_os("CI").is_some() {
        return None;
    }
    let bar = ProgressBar::new(total as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} events, {per_sec}, eta {eta}") {
        bar.set_style(style);
    }
    Some(bar)
}
