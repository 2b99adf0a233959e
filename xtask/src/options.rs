//! Option groups shared by the AWS-facing commands and flattened into their flags: where the
//! config is and how to reach AWS ([`AwsArgs`]), and which regions a command acts on
//! ([`RegionArgs`]).

use engine::aws::AwsSettings;
use engine::session::RegionSelection;
use std::path::PathBuf;

/// The emulator port `cargo xtask local up` uses unless told otherwise.
pub const DEFAULT_LOCAL_PORT: u16 = 4566;

/// Options every AWS-facing command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct AwsArgs {
    /// The app configuration.
    #[arg(long, default_value = "regions.toml", global = true)]
    pub config: PathBuf,
    /// Named profile from the shared AWS config files.
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Send every call to this endpoint (an emulator); also read from AWS_ENDPOINT_URL.
    #[arg(long, global = true, conflicts_with = "local")]
    pub endpoint_url: Option<String>,
    /// Target the kit's local emulator (`cargo xtask local up`) with dummy credentials.
    #[arg(long, global = true)]
    pub local: bool,
    /// Port of the local emulator.
    #[arg(long, global = true, default_value_t = DEFAULT_LOCAL_PORT)]
    pub local_port: u16,
}

impl AwsArgs {
    /// The engine's view of these flags.
    pub fn settings(&self) -> AwsSettings {
        let endpoint_url =
            if self.local { Some(engine::emulator::endpoint(self.local_port)) } else { self.endpoint_url.clone() };
        AwsSettings { profile: self.profile.clone(), endpoint_url, config_file: None }
    }
}

/// `--region R` (repeatable) or `--all`.
#[derive(Debug, Clone, clap::Args)]
pub struct RegionArgs {
    /// A region from regions.toml (repeat the flag for several).
    #[arg(long = "region", required_unless_present = "all")]
    pub regions: Vec<String>,
    /// Every region in regions.toml.
    #[arg(long, conflicts_with = "regions")]
    pub all: bool,
}

impl RegionArgs {
    /// The engine's view of these flags.
    pub fn selection(&self) -> RegionSelection {
        RegionSelection { regions: self.regions.clone(), all: self.all }
    }
}
