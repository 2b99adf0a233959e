//! Everything a deploy, diff or destroy starts from: AWS access, the validated config, the
//! synthesized stacks (adapted to the emulator, which says what it changed), the account, and the
//! run's guard. Loading ([`Session::load`]) makes no AWS call, so a plan can be checked in
//! between; [`Loaded::connect`] makes the first one (STS, for the account).

use crate::aws::{Aws, AwsSettings};
use crate::guard::Guard;
use crate::params::{self, AssetsBucket};
use crate::review::Params;
use crate::stack::{ChangeSetSettings, StackTarget};
use anyhow::{Context, Result};
use stacks::app::{ASSETS_BUCKET_PARAMETER, EVENT_LOG_STREAM_PARAMETER, PUBLISHER_SUBSCRIPTION, event_log_table_name};
use stacks::cfn::validate::MAX_TEMPLATE_BODY_BYTES;
use stacks::{AppConfig, Assembly, Stack, StackPart};
use std::path::Path;
use std::time::Duration;

/// The config synthesized for where it deploys, before any AWS call.
#[derive(Debug)]
pub struct Loaded {
    /// AWS access (loaded, not yet used).
    pub aws: Aws,
    /// The configuration (against an emulator: without custom domains, `[dns]` on its hosted zone).
    pub config: AppConfig,
    /// Every stack of every region.
    pub assembly: Assembly,
    /// What the emulator changed about the run, announced up front.
    pub notes: Vec<String>,
}

impl Loaded {
    /// Asks STS for the account (the first AWS call) and opens the session.
    pub async fn connect(mut self) -> Result<Session> {
        let account = self.aws.account_id().await?;
        if self.aws.is_emulated() {
            self.emulate_hosted_zone().await?;
        }
        Ok(Session {
            aws: self.aws,
            config: self.config,
            assembly: self.assembly,
            account,
            notes: self.notes,
            guard: Guard::default(),
        })
    }

    /// Against an emulator with `[dns]`, the hosted zone holding the shared name exists there (it
    /// is created when missing) and the dns stack is synthesized with its ID.
    async fn emulate_hosted_zone(&mut self) -> Result<()> {
        let Some(dns) = self.config.dns.as_mut() else { return Ok(()) };
        let route53 = self.aws.route53(crate::route53::ROUTE53_REGION);
        let zone_name = crate::route53::zone::parent(&dns.domain);
        let zone = crate::route53::zone::ensure(&route53, zone_name).await?;
        if zone.created {
            self.notes.push(format!("emulator: created the hosted zone {zone_name} ({}) for {}", zone.id, dns.domain));
        }
        dns.hosted_zone_id = zone.id;
        let mut assembly = stacks::synthesize(&self.config).context("synthesizing the stacks")?;
        without_publisher_mappings(&mut assembly);
        self.assembly = assembly;
        Ok(())
    }
}

/// A command's view of the app and of AWS.
#[derive(Debug)]
pub struct Session {
    /// AWS access.
    pub aws: Aws,
    /// The configuration (against an emulator: without custom domains, `[dns]` on its hosted zone).
    pub config: AppConfig,
    /// Every stack of every region.
    pub assembly: Assembly,
    /// The target account.
    pub account: String,
    /// What the emulator changed about the run, announced up front.
    pub notes: Vec<String>,
    /// What the run created and must not leave behind.
    pub guard: Guard,
}

impl Session {
    /// Reads the config file, loads AWS access and synthesizes; no AWS call.
    pub async fn load(config: &Path, aws: &AwsSettings) -> Result<Loaded> {
        let config = load_config(config)?;
        let aws = Aws::load(aws).await?;
        Session::synthesize(aws, config)
    }

    /// Synthesizes `config` for where `aws` points (against an emulator: the regional custom
    /// domains and the publisher's mapping left out, and `[dns]` too unless Route53 is on
    /// loopback, saying so); no AWS call. The hosted zone is found or created by [`Loaded::connect`].
    pub fn synthesize(aws: Aws, mut config: AppConfig) -> Result<Loaded> {
        let mut notes = Vec::new();
        if aws.is_emulated() {
            notes.extend(crate::emulation::LIMITS.iter().map(|l| format!("emulator: {l}")));
            if config.dns.is_some() {
                // moto skips API Gateway custom domains: the region stacks go without them.
                config.regions.iter_mut().for_each(|r| r.certificate_arn = None);
                if aws.is_loopback("Route 53") {
                    notes.push(crate::emulation::DNS_NOTE.into());
                } else {
                    config.dns = None;
                    notes.push(
                        "emulator: [dns] ignored: Route53 is not on a loopback endpoint, where the kit would create \
                         the hosted zone itself"
                            .into(),
                    );
                }
            }
        }
        let mut assembly = stacks::synthesize(&config).context("synthesizing the stacks")?;
        if aws.is_emulated() {
            notes.extend(without_publisher_mappings(&mut assembly));
        }
        Ok(Loaded { aws, config, assembly, notes })
    }

    /// Loads, synthesizes and connects in one go (tools with nothing to check in between).
    pub async fn new(aws: Aws, config: AppConfig) -> Result<Session> {
        Session::synthesize(aws, config)?.connect().await
    }

    /// The synthesized stack of `part` in `region`.
    pub fn stack(&self, part: StackPart, region: &str) -> Result<&Stack> {
        let name = stacks::app::stack_name(&self.config, part, region);
        self.named(&name)
    }

    /// The synthesized stack called `name`.
    pub fn named(&self, name: &str) -> Result<&Stack> {
        self.assembly.stack(name).with_context(|| format!("no {name} was synthesized"))
    }

    /// How long to wait for a stack busy with another operation.
    pub fn patience(&self) -> Duration {
        if self.aws.is_emulated() { crate::stack::EMULATOR_PATIENCE } else { crate::stack::PATIENCE }
    }

    /// The region's assets bucket and its expected owner.
    pub fn assets_bucket(&self, region: &str) -> AssetsBucket {
        AssetsBucket::new(&self.config.app, &self.account, region)
    }

    /// A deployable target for `stack`: parameters resolved (`code_keys` maps each code-key
    /// parameter to its S3 key), big templates uploaded. For a review, a replica that is not
    /// `ACTIVE` yet is an error at once (the review then compares with the deployed template)
    /// rather than a wait of up to half an hour.
    pub async fn target(
        &self,
        stack: &Stack,
        code_keys: &Params,
        settings: ChangeSetSettings,
        purpose: Purpose,
    ) -> Result<StackTarget> {
        let mut parameters = Params::new();
        if stack.part == StackPart::Region {
            parameters.insert(ASSETS_BUCKET_PARAMETER.into(), self.assets_bucket(&stack.region).name);
            let declared = stack.template.parameters();
            let used = code_keys.iter().filter(|(name, _)| declared.contains_key(*name));
            parameters.extend(used.map(|(name, key)| (name.clone(), key.clone())));
            let table = event_log_table_name(&self.config.app);
            let patience = match purpose {
                Purpose::Deploy => params::REPLICA_TIMEOUT,
                Purpose::Review => std::time::Duration::ZERO,
            };
            let arn = params::replica_stream_arn(&self.aws, &stack.region, &table, &self.config.home, patience).await?;
            parameters.insert(EVENT_LOG_STREAM_PARAMETER.into(), arn);
        }
        if stack.part == StackPart::Dns {
            let resolved = if self.aws.is_emulated() {
                crate::emulation::dns_parameters(&self.config)
            } else {
                crate::dns::parameters(&self.aws, &self.config).await?
            };
            parameters.extend(resolved);
        }
        let template_url = if stack.body.len() > MAX_TEMPLATE_BODY_BYTES {
            let bucket = self.assets_bucket(&stack.region);
            let s3 = self.aws.s3(&stack.region);
            Some(params::upload_template(&s3, &bucket, &stack.name, &stack.body).await?)
        } else {
            None
        };
        Ok(StackTarget {
            name: stack.name.clone(),
            region: stack.region.clone(),
            body: stack.body.clone(),
            template_url,
            parameters,
            settings,
        })
    }
}

/// What a stack target is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A change set to execute: wait for what it needs.
    Deploy,
    /// A change set only to review: wait for nothing.
    Review,
}

/// moto runs an event source mapping on a table stream by invoking the function (which it
/// cannot) and then drops the stream's records, so against the emulator the publisher's mapping
/// is left out, and the local runtime starts it from the synthesized template.
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
             stack(s): moto would consume the event log's stream by invoking a function it cannot run; the local \
             runtime emulates it from the template"
        )
    })
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
