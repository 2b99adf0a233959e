//! Everything a deploy, diff or destroy starts from: AWS access, the validated config, the
//! synthesized stacks, the account, and which regions the command targets.

use crate::aws::{Aws, AwsSettings};
use crate::params;
use crate::review::Params;
use crate::stack::StackTarget;
use anyhow::{Context, Result, bail};
use stacks::app::{
    ASSETS_BUCKET_PARAMETER, EVENT_LOG_STREAM_PARAMETER, PUBLISHER_SUBSCRIPTION, assets_bucket_physical_name,
    event_log_table_name,
};
use stacks::cfn::validate::MAX_TEMPLATE_BODY_BYTES;
use stacks::{AppConfig, Assembly, Stack, StackPart};
use std::path::Path;

/// Which configured regions a command acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionSelection {
    /// These regions (each must be in the config).
    pub regions: Vec<String>,
    /// Every region in the config (`regions` is then ignored).
    pub all: bool,
}

/// A command's view of the app and of AWS.
#[derive(Debug)]
pub struct Session {
    /// AWS access.
    pub aws: Aws,
    /// The configuration (without `[dns]` against the emulator).
    pub config: AppConfig,
    /// Every stack of every region.
    pub assembly: Assembly,
    /// The target account.
    pub account: String,
    /// The regions this command acts on, in config order.
    pub regions: Vec<String>,
    /// What the emulator changed about the run, announced up front.
    pub notes: Vec<String>,
}

impl Session {
    /// Loads the config file and AWS access, then [`Session::new`].
    pub async fn open(config: &Path, aws_settings: &AwsSettings, selection: &RegionSelection) -> Result<Session> {
        let config = load_config(config)?;
        let aws = Aws::load(aws_settings).await?;
        Session::new(aws, config, selection).await
    }

    /// Synthesizes (leaving `[dns]` out against an emulator), resolves the account and checks
    /// the region selection.
    pub async fn new(aws: Aws, mut config: AppConfig, selection: &RegionSelection) -> Result<Session> {
        let mut notes = Vec::new();
        if aws.is_emulated() {
            notes.extend(crate::emulation::LIMITS.iter().map(|l| format!("emulator: {l}")));
            if config.dns.take().is_some() {
                config.regions.iter_mut().for_each(|r| r.certificate_arn = None);
                notes.push(
                    "emulator: [dns] ignored: moto skips API Gateway custom domains, so no domain, health check or \
                     record is deployed locally"
                        .into(),
                );
            }
        }
        let mut assembly = stacks::synthesize(&config).context("synthesizing the stacks")?;
        if aws.is_emulated() {
            notes.extend(without_publisher_mappings(&mut assembly));
        }
        let account = aws.account_id().await?;
        let regions = select(&config, selection)?;
        Ok(Session { aws, config, assembly, account, regions, notes })
    }

    /// The synthesized stack of `part` in `region`.
    pub fn stack(&self, part: StackPart, region: &str) -> Result<&Stack> {
        let name = stacks::app::stack_name(&self.config, part, region);
        self.assembly.stack(&name).with_context(|| format!("no {name} was synthesized"))
    }

    /// How long to wait for a stack busy with another operation.
    pub fn patience(&self) -> std::time::Duration {
        if self.aws.is_emulated() { crate::stack::EMULATOR_PATIENCE } else { crate::stack::PATIENCE }
    }

    /// The region's assets bucket name.
    pub fn assets_bucket(&self, region: &str) -> String {
        assets_bucket_physical_name(&self.config.app, &self.account, region)
    }

    /// A deployable target for `stack`: parameters resolved (`code_keys` maps each code-key
    /// parameter to its S3 key), big templates uploaded.
    pub async fn target(&self, stack: &Stack, code_keys: &Params) -> Result<StackTarget> {
        let mut parameters = Params::new();
        if stack.part == StackPart::Region {
            parameters.insert(ASSETS_BUCKET_PARAMETER.into(), self.assets_bucket(&stack.region));
            let declared = stack.template.parameters();
            let used = code_keys.iter().filter(|(name, _)| declared.contains_key(*name));
            parameters.extend(used.map(|(name, key)| (name.clone(), key.clone())));
            let table = event_log_table_name(&self.config.app);
            let arn = params::replica_stream_arn(&self.aws, &stack.region, &table, &self.config.home).await?;
            parameters.insert(EVENT_LOG_STREAM_PARAMETER.into(), arn);
        }
        let template_url = if stack.body.len() > MAX_TEMPLATE_BODY_BYTES {
            let bucket = self.assets_bucket(&stack.region);
            Some(params::upload_template(&self.aws, &stack.region, &bucket, &stack.name, &stack.body).await?)
        } else {
            None
        };
        Ok(StackTarget {
            name: stack.name.clone(),
            region: stack.region.clone(),
            body: stack.body.clone(),
            template_url,
            parameters,
        })
    }
}

/// moto runs an event source mapping on a table stream by invoking the function (which it
/// cannot) and then drops the stream's records, so against the emulator the publisher's mapping
/// is left out and whoever needs the stream (the demo, tests) reads it and plays the mapping.
fn without_publisher_mappings(assembly: &mut Assembly) -> Option<String> {
    let mut removed = 0;
    for stack in assembly.stacks.iter_mut().filter(|s| s.part == StackPart::Region) {
        if stack.template.remove(PUBLISHER_SUBSCRIPTION) {
            stack.body = stack.template.to_json();
            removed += 1;
        }
    }
    (removed > 0).then(|| {
        format!(
            "emulator: the publisher's stream mapping ({PUBLISHER_SUBSCRIPTION}) is left out of {removed} region \
             stack(s): moto would consume the event log's stream by invoking a function it cannot run; the demo \
             reads the stream and runs the publisher itself"
        )
    })
}

/// The configured regions the selection names, in config order.
pub fn select(config: &AppConfig, selection: &RegionSelection) -> Result<Vec<String>> {
    if selection.all {
        return Ok(config.region_names().map(str::to_owned).collect());
    }
    for region in &selection.regions {
        if !config.region_names().any(|r| r == region) {
            let known: Vec<&str> = config.region_names().collect();
            bail!("{region} is not in the config's regions ({}); add it to regions.toml first", known.join(", "));
        }
    }
    Ok(config.region_names().filter(|r| selection.regions.iter().any(|s| s == r)).map(str::to_owned).collect())
}

/// Reads and validates a configuration file, printing its warnings.
pub fn load_config(path: &Path) -> Result<AppConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let config = AppConfig::from_toml(&path.display().to_string(), &text)?;
    for warning in &config.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(config)
}
