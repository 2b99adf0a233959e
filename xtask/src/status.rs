//! `cargo xtask status [--json]`: what is deployed in every region (configured or not), how it
//! differs from the current synth, and how healthy it is (health checks, records, iterator ages,
//! queue depths). Exit 0: healthy; 2: degraded; 1: an error.

use crate::options::AwsArgs;
use anyhow::Result;
use engine::session::Session;
use engine::status::{StatusOptions, gather};
use std::time::Duration;

/// Flags of `cargo xtask status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Minutes of CloudWatch data the iterator ages are read over.
    #[arg(long, default_value_t = 15)]
    pub window_minutes: u64,
    /// Seconds of iterator age above which a stream consumer counts as behind.
    #[arg(long, default_value_t = 60)]
    pub max_iterator_age_seconds: u64,
}

impl StatusArgs {
    /// Reads the status, prints it and returns the exit code.
    pub fn run(&self) -> Result<u8> {
        crate::runtime()?.block_on(async {
            let loaded = Session::load(&self.aws.config, &self.aws.settings()).await?;
            let session = loaded.connect().await?;
            let options = StatusOptions {
                window: Duration::from_secs(self.window_minutes.max(1) * 60),
                max_iterator_age: Duration::from_secs(self.max_iterator_age_seconds),
            };
            let status = gather(&session, &options).await?;
            if self.json {
                println!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                print!("{}", engine::status::text(&status));
            }
            Ok(status.verdict().exit_code())
        })
    }
}
