//! `cargo xtask region add|remove`: `regions.toml` edited in place (comments and layout kept) and
//! validated, the ordered plan printed; with `--apply` the file written and the plan run through
//! reviewed change sets, stopping at the first failure with the command that resumes it.
//!
//! When the file is written: only with `--apply` (or `--resume`). An addition writes it before
//! the first step and a removal after the last, so while a change is under way the file lists
//! every region that still has something deployed, and `--resume` finds the region there.

use crate::options::{AwsArgs, DeployFlags};
use anyhow::{Context, Result, bail};
use engine::approval::{Approval, Terminal};
use engine::aws::Aws;
use engine::region::drain::DrainSettings;
use engine::region::edit::{Edited, NewRegion, add_regions, remove_region};
use engine::region::{ApplyOptions, RegionPlan, apply};
use engine::session::Session;
use stacks::AppConfig;
use std::time::Duration;

/// `region add` and `region remove`.
#[derive(Debug, clap::Subcommand)]
pub enum RegionCommand {
    /// Add regions: bootstrap each, add its replicas to the data stack one per update (each
    /// waited for until ACTIVE), deploy its region stack, then the dns stack.
    Add(AddArgs),
    /// Remove a region: out of the dns stack first, wait for the record's TTL and its consumers to
    /// drain, delete its region stack, turn off deletion protection on its replicas, then remove
    /// them one per update (each dangerous: that region's copy of the data is deleted).
    Remove(RemoveArgs),
}

/// What every region change takes.
#[derive(Debug, clap::Args)]
pub struct ChangeArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Write regions.toml and run the plan through reviewed change sets. Without it nothing is
    /// written or deployed: the edited lines and the plan are printed.
    #[arg(long)]
    pub apply: bool,
    /// Continue an --apply that stopped: the steps already done are worked out from what is
    /// deployed (implies --apply).
    #[arg(long)]
    pub resume: bool,
    #[command(flatten)]
    pub flags: DeployFlags,
}

/// Flags of `cargo xtask region add`.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The regions to add, in the order they are appended to regions.toml.
    #[arg(required = true, value_name = "REGION")]
    pub regions: Vec<String>,
    /// ACM certificate for a new region's API domain (needed with [dns]); repeat for several
    /// regions, each goes to the region named in its ARN.
    #[arg(long = "certificate-arn", value_name = "ARN")]
    pub certificate_arns: Vec<String>,
    #[command(flatten)]
    pub change: ChangeArgs,
}

/// Flags of `cargo xtask region remove`.
#[derive(Debug, clap::Args)]
pub struct RemoveArgs {
    /// The region to remove (never the home region).
    #[arg(value_name = "REGION")]
    pub region: String,
    /// Remove it even if fewer than two regions remain.
    #[arg(long)]
    pub force: bool,
    /// How long the region's publisher and projectors may take to drain before you are asked.
    #[arg(long, default_value_t = 15, value_name = "MINUTES")]
    pub drain_timeout_minutes: u64,
    /// Delete the region stack without waiting for its consumers to drain (the record's TTL is
    /// still waited for).
    #[arg(long)]
    pub skip_drain: bool,
    #[command(flatten)]
    pub change: ChangeArgs,
}

impl RegionCommand {
    /// Runs the command on a fresh runtime.
    pub fn run(&self) -> Result<()> {
        crate::runtime()?.block_on(async {
            match self {
                RegionCommand::Add(args) => args.run().await,
                RegionCommand::Remove(args) => args.run().await,
            }
        })
    }
}

impl AddArgs {
    async fn run(&self) -> Result<()> {
        let change = &self.change;
        let (label, text) = change.read()?;
        let configured = AppConfig::from_toml(&label, &text)?;
        let all_there = self.regions.iter().all(|r| configured.region_names().any(|c| c == r));
        let edited = if change.resume && all_there {
            let mut before = text.clone();
            for region in &self.regions {
                before = remove_region(&label, &before, region, true)?.text;
            }
            Edited { before: AppConfig::from_toml(&label, &before)?, after: configured, text: text.clone() }
        } else {
            add_regions(&label, &text, &self.new_regions()?)?
        };
        let (aws, plan) = change.plan(&text, &edited, RegionPlan::add).await?;
        if !change.applies() {
            return Ok(());
        }
        // Packaged before the file is written: a build failure leaves nothing half-done.
        let artifacts = crate::package::artifacts_for_deploy(&edited.after)?;
        change.write(&text, &edited)?;
        let resume = change.resume_command("add", &self.regions.join(" "), "");
        change.apply(&aws, &plan, &artifacts, resume, DrainSettings::default()).await
    }

    /// Each region with the certificate whose ARN names it.
    fn new_regions(&self) -> Result<Vec<NewRegion>> {
        let region_of = |arn: &str| arn.split(':').nth(3).unwrap_or_default().to_owned();
        if let Some(arn) = self.certificate_arns.iter().find(|arn| !self.regions.contains(&region_of(arn))) {
            bail!(
                "--certificate-arn {arn}: the certificate is not in a region being added ({}); a regional API domain \
                 needs a certificate in its own region",
                self.regions.join(", ")
            );
        }
        Ok(self
            .regions
            .iter()
            .map(|region| NewRegion {
                name: region.clone(),
                certificate_arn: self.certificate_arns.iter().find(|arn| region_of(arn) == *region).cloned(),
            })
            .collect())
    }
}

impl RemoveArgs {
    async fn run(&self) -> Result<()> {
        let change = &self.change;
        let (label, text) = change.read()?;
        let configured = AppConfig::from_toml(&label, &text)?;
        if change.resume && !configured.region_names().any(|r| r == self.region) {
            bail!(
                "{label}: {} is not a [[region]] any more; a removal keeps it in the file until its last step, so \
                 either it is complete (check with `cargo xtask diff --all`) or the file was edited by hand: put its \
                 [[region]] entry back to resume",
                self.region
            );
        }
        let edited = remove_region(&label, &text, &self.region, self.force)?;
        let (aws, plan) = change.plan(&text, &edited, RegionPlan::remove).await?;
        if !change.applies() {
            return Ok(());
        }
        let drain = DrainSettings {
            timeout: Duration::from_secs(self.drain_timeout_minutes * 60),
            skip: self.skip_drain,
            ..DrainSettings::default()
        };
        let force = if self.force { " --force" } else { "" };
        let resume = change.resume_command("remove", &self.region, force);
        change.apply(&aws, &plan, &[], resume, drain).await?;
        change.write(&text, &edited)
    }
}

impl ChangeArgs {
    fn applies(&self) -> bool {
        self.apply || self.resume
    }

    fn read(&self) -> Result<(String, String)> {
        if self.flags.canary.is_some() {
            bail!("--canary has no meaning for a region change: each step deploys one stack");
        }
        let path = &self.aws.config;
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Ok((path.display().to_string(), text))
    }

    /// Prints the edit and the plan (for where `--local`/`--endpoint-url` point); no AWS call.
    async fn plan(
        &self,
        text: &str,
        edited: &Edited,
        build: fn(&AppConfig, &AppConfig) -> Result<RegionPlan>,
    ) -> Result<(Aws, RegionPlan)> {
        let aws = Aws::load(&self.aws.settings()).await?;
        let before = Session::synthesize(aws.clone(), edited.before.clone())?.config;
        let after = Session::synthesize(aws.clone(), edited.after.clone())?.config;
        let plan = build(&before, &after)?;
        println!("{}:", self.aws.config.display());
        print!("{}", line_diff(text, &edited.text));
        print!("{plan}");
        if !self.applies() {
            println!(
                "nothing written or deployed; run again with --apply to write {} and run these steps",
                self.aws.config.display()
            );
        }
        Ok((aws, plan))
    }

    fn write(&self, text: &str, edited: &Edited) -> Result<()> {
        if edited.text != text {
            let path = &self.aws.config;
            std::fs::write(path, &edited.text).with_context(|| format!("writing {}", path.display()))?;
            println!("{} written", path.display());
        }
        Ok(())
    }

    async fn apply(
        &self,
        aws: &Aws,
        plan: &RegionPlan,
        artifacts: &[engine::params::Artifact],
        resume_command: String,
        drain: DrainSettings,
    ) -> Result<()> {
        let account = aws.account_id().await?;
        let options = ApplyOptions { deploy: self.flags.options(false), resume: self.resume, drain, resume_command };
        let approval = Approval::new(options.deploy.require_approval, options.deploy.yes);
        apply(aws, &account, plan, &options, artifacts, &approval, &Terminal).await
    }

    /// The command that continues this change, with the flags that say where.
    fn resume_command(&self, verb: &str, regions: &str, extra: &str) -> String {
        let mut command = format!("cargo xtask region {verb} {regions}{extra} --resume");
        if self.aws.config.as_os_str() != "regions.toml" {
            command.push_str(&format!(" --config {}", self.aws.config.display()));
        }
        if let Some(profile) = &self.aws.profile {
            command.push_str(&format!(" --profile {profile}"));
        }
        if self.aws.local {
            command.push_str(" --local");
        } else if let Some(url) = &self.aws.endpoint_url {
            command.push_str(&format!(" --endpoint-url {url}"));
        }
        command
    }
}

/// The changed lines of an edit (`-` taken out, `+` put in), as one block between the lines both
/// texts share.
fn line_diff(old: &str, new: &str) -> String {
    let (old, new): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let mut prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let mut suffix = old[prefix..].iter().rev().zip(new[prefix..].iter().rev()).take_while(|(a, b)| a == b).count();
    // A block only taken out or only put in that repeats the line above it (`[[region]]`) is
    // slid up to start with that line, as a person reads an entry; never past a blank line.
    let (shorter, longer) = if old.len() < new.len() { (&old, &new) } else { (&new, &old) };
    if prefix + suffix == shorter.len() {
        let mut block_end = longer.len() - suffix;
        while prefix > 0 && longer[prefix - 1] == longer[block_end - 1] && !longer[block_end - 1].is_empty() {
            prefix -= 1;
            block_end -= 1;
        }
        suffix = shorter.len() - prefix;
    }
    let mut out = String::new();
    for line in &old[prefix..old.len() - suffix] {
        out.push_str(format!("  - {line}").trim_end());
        out.push('\n');
    }
    for line in &new[prefix..new.len() - suffix] {
        out.push_str(format!("  + {line}").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::line_diff;

    #[test]
    fn an_entry_taken_out_of_the_middle_is_shown_from_its_header() {
        let old = "a\n\n[[region]]\nname = \"x\"\n\n[[region]]\nname = \"y\"\n\n[[region]]\nname = \"z\"\n";
        let new = "a\n\n[[region]]\nname = \"x\"\n\n[[region]]\nname = \"z\"\n";
        assert_eq!(line_diff(old, new), "  - [[region]]\n  - name = \"y\"\n  -\n");
    }

    #[test]
    fn the_edit_is_shown_as_the_lines_taken_out_and_put_in() {
        let old = "a\n\n[[region]]\nname = \"x\"\n\n[dns]\n";
        let new = "a\n\n[[region]]\nname = \"x\"\n\n[[region]]\nname = \"y\"\n\n[dns]\n";
        assert_eq!(line_diff(old, new), "  + [[region]]\n  + name = \"y\"\n  +\n");
        assert_eq!(line_diff(new, old), "  - [[region]]\n  - name = \"y\"\n  -\n");
    }
}
