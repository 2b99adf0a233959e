//! Option groups flattened into the commands' flags: where the config is and how to reach AWS
//! ([`AwsArgs`]), which regions a command acts on ([`RegionArgs`]), and how a command that deploys
//! deploys ([`DeployFlags`]: approval, concurrency, waves, rollback monitoring, service role,
//! tags, notifications, the data stack's policy). Each converts into the engine's plain types;
//! the engine validates them into a plan before any AWS call.

use engine::approval::RequireApproval;
use engine::aws::AwsSettings;
use engine::plan::{DeployOptions, RegionSelection};
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
    /// Send every call to this endpoint (an emulator); also read from AWS_ENDPOINT_URL and a
    /// profile's endpoint_url. Credentials never go to a loopback endpoint: dummy ones are used.
    #[arg(long, global = true, conflicts_with = "local")]
    pub endpoint_url: Option<String>,
    /// Target the kit's local emulator (`cargo xtask local up`).
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
    #[arg(long = "region", value_name = "REGION")]
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

/// How a command that deploys deploys.
#[derive(Debug, Clone, clap::Args)]
pub struct DeployFlags {
    /// Which changes need a yes before they run (changes CloudFormation would refuse never run).
    #[arg(long, value_enum, default_value = "dangerous")]
    pub require_approval: RequireApproval,
    /// Approve every change that needs approval (for CI; without it and without a terminal, refuse).
    #[arg(long)]
    pub yes: bool,
    /// Stacks reviewed and deployed at once within a wave.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// The region whose region stack goes alone first (default: the home region).
    #[arg(long, value_name = "REGION")]
    pub canary: Option<String>,
    /// Go on with later stacks and waves after a failure (default: stop at the first).
    #[arg(long)]
    pub keep_going: bool,
    /// Minutes CloudFormation keeps watching a region's alarms after its stack's update, rolling
    /// it back if one goes off (0-180; the alarms are watched during the update either way).
    #[arg(long, default_value_t = 0, value_name = "MINUTES")]
    pub monitoring_minutes: u32,
    /// CloudFormation service role every change set runs with (long replica additions outlive a
    /// one-hour session).
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// Stack tags, `Key=Value` (comma-separated or repeated; at most 50).
    #[arg(long, value_name = "KEY=VALUE", value_delimiter = ',')]
    pub tags: Vec<String>,
    /// SNS topics that receive stack events; each stack gets those of its own region (at most 5
    /// per region).
    #[arg(long, value_name = "ARN", value_delimiter = ',')]
    pub notification_arns: Vec<String>,
    /// Lift the data stack's policy (which denies replacing or deleting a table) for this run;
    /// still needs approval.
    #[arg(long)]
    pub override_stack_policy: bool,
}

impl DeployFlags {
    /// The engine's view of these flags.
    pub fn options(&self, prepare: bool) -> DeployOptions {
        DeployOptions {
            require_approval: self.require_approval,
            yes: self.yes,
            concurrency: self.concurrency,
            canary: self.canary.clone(),
            keep_going: self.keep_going,
            monitoring_minutes: self.monitoring_minutes,
            role_arn: self.role_arn.clone(),
            tags: self.tags.clone(),
            notification_arns: self.notification_arns.clone(),
            override_stack_policy: self.override_stack_policy,
            prepare,
        }
    }
}
