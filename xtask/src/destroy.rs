//! `cargo xtask destroy`: deletes a region's stack; the data stack (and the dns stack, whose
//! records then point nowhere) only with `--force-data` and its name typed back, because deleting it removes the global tables' management (the tables
//! and their replicas are retained, but nothing deploys them any more). Every check runs before
//! anything is deleted, so a refused destroy leaves every stack as it was.

use crate::aws::AwsArgs;
use crate::deploy::events;
use crate::deploy::session::{RegionSelection, Session};
use crate::deploy::stack;
use anyhow::{Context, Result, bail};
use stacks::StackPart;
use std::io::{BufRead, IsTerminal, Write};
use std::time::SystemTime;

/// Flags of `cargo xtask destroy`.
#[derive(Debug, clap::Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// The region whose region stack is deleted.
    #[arg(long)]
    pub region: String,
    /// Skip the confirmation of the region stack's deletion.
    #[arg(long)]
    pub yes: bool,
    /// Also delete the data stack (home region only, after every other region is destroyed);
    /// asks for its name to be typed back.
    #[arg(long)]
    pub force_data: bool,
    /// The data stack's name, typed back (for runs without a terminal).
    #[arg(long)]
    pub confirm_data: Option<String>,
}

impl DestroyArgs {
    /// Deletes the stacks and follows their deletion.
    pub fn run(&self) -> Result<()> {
        crate::runtime()?.block_on(async {
            let selection = RegionSelection { regions: vec![self.region.clone()], all: false };
            let session = Session::open(&self.aws, &selection).await?;
            let region_stack = session.stack(StackPart::Region, &self.region)?.name.clone();
            if !self.yes && !confirm(&format!("Delete {region_stack} in {}? [y/N] ", self.region), "y")? {
                bail!("not confirmed; nothing deleted");
            }
            let typed_data_name = match (&self.confirm_data, self.force_data) {
                (_, false) => None,
                (Some(typed), true) => Some(typed.clone()),
                (None, true) => {
                    let data = session.stack(StackPart::Data, &session.config.home)?.name.clone();
                    Some(prompt(&format!("Type {data} to delete the data stack (tables are retained): "))?)
                }
            };
            destroy(&session, &self.region, typed_data_name.as_deref()).await
        })
    }
}

/// Deletes the region stack of `region`, then, when `typed_data_name` is given, the data stack.
/// The data stack goes only from the home region, when the name typed back matches and no other
/// region still has its region stack (their publishers read the replicas the data stack manages).
pub async fn destroy(session: &Session, region: &str, typed_data_name: Option<&str>) -> Result<()> {
    let region_stack = session.stack(StackPart::Region, region)?.name.clone();
    let data_stack = match typed_data_name {
        None => None,
        Some(typed) => Some(check_data_deletion(session, region, typed).await?),
    };
    delete(session, region, &region_stack).await?;
    if let Some(data) = data_stack {
        if !session.aws.is_emulated() {
            let cfn = session.aws.cloudformation(region);
            let unprotect = cfn.update_termination_protection().stack_name(&data).enable_termination_protection(false);
            unprotect.send().await.with_context(|| format!("turning off termination protection on {data}"))?;
        }
        // The dns stack's records point at the regions just destroyed; it goes before the data.
        let dns = stacks::app::stack_name(&session.config, StackPart::Dns, region);
        if session.assembly.stack(&dns).is_some()
            && stack::status(&session.aws.cloudformation(region), &dns).await?.is_some()
        {
            delete(session, region, &dns).await?;
        }
        delete(session, region, &data).await?;
        println!(
            "the event log and view tables are retained (DeletionPolicy RetainExceptOnCreate); delete them by hand if wanted"
        );
    }
    let bootstrap = session.stack(StackPart::Bootstrap, region)?.name.clone();
    println!("{bootstrap} (the assets bucket) is kept; later deploys reuse it");
    Ok(())
}

/// The data stack's name, once every condition for deleting it holds.
async fn check_data_deletion(session: &Session, region: &str, typed: &str) -> Result<String> {
    let home = &session.config.home;
    if region != home {
        bail!(
            "the data stack lives in the home region {home}; run destroy --region {home} --force-data; nothing deleted"
        );
    }
    let data = session.stack(StackPart::Data, home)?.name.clone();
    if typed.trim() != data {
        bail!("the typed name does not match {data}; nothing deleted");
    }
    let mut still_deployed = Vec::new();
    for other in session.config.regions.iter().map(|r| &r.name).filter(|r| *r != region) {
        let name = &session.stack(StackPart::Region, other)?.name;
        if stack::status(&session.aws.cloudformation(other), name).await?.is_some() {
            still_deployed.push(format!("{name} ({other})"));
        }
    }
    if !still_deployed.is_empty() {
        bail!(
            "{} still deployed and reading the replicas {data} manages; destroy them first; nothing deleted",
            still_deployed.join(", ")
        );
    }
    Ok(data)
}

async fn delete(session: &Session, region: &str, name: &str) -> Result<()> {
    let cfn = session.aws.cloudformation(region);
    if stack::status(&cfn, name).await?.is_none() {
        println!("{name} does not exist in {region}; nothing to delete");
        return Ok(());
    }
    let since = SystemTime::now();
    cfn.delete_stack().stack_name(name).send().await.with_context(|| format!("deleting {name}"))?;
    let outcome = events::follow(&cfn, name, since).await?;
    match outcome.status.as_deref() {
        None | Some("DELETE_COMPLETE") => {
            println!("deleted {name} in {region} ({:.1} s)", outcome.elapsed.as_secs_f64());
            Ok(())
        }
        Some(status) => bail!("deleting {name} ended {status}:\n{}", outcome.failure_report()),
    }
}

fn confirm(question: &str, yes: &str) -> Result<bool> {
    Ok(prompt(question)?.trim().eq_ignore_ascii_case(yes))
}

fn prompt(question: &str) -> Result<String> {
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to confirm on; pass --yes (and --confirm-data <stack> for the data stack)");
    }
    print!("{question}");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer)
}

#[cfg(test)]
mod tests {
    //! Against the local emulator, asserted through CloudFormation's own answers.

    use super::destroy;
    use crate::deploy::approval::{Approval, RequireApproval};
    use crate::deploy::session::{RegionSelection, Session};
    use crate::deploy::{artifacts, deploy_regions, stack};
    use crate::testing::{aws, emulator};
    use stacks::{AppConfig, StackPart};

    async fn deployed(app: &str) -> (crate::testing::TestEmulator, Session) {
        let emulator = emulator();
        let text = format!(
            "app = \"{app}\"\nhome = \"eu-west-1\"\n[[region]]\nname = \"eu-west-1\"\n[[region]]\nname = \"us-east-1\"\n"
        );
        let config = AppConfig::from_toml("test.toml", &text).expect("valid test config");
        let selection = RegionSelection { regions: Vec::new(), all: true };
        let session = Session::new(aws(&emulator).await, config, &selection).await.expect("session");
        let dir = std::env::temp_dir().join(format!("kit-test-zips-{app}-{}", std::process::id()));
        let zips = artifacts::empty_archives(&dir, app).expect("write test zips");
        deploy_regions(&session, &zips, &Approval::new(RequireApproval::Never, false), 4).await.expect("deploy");
        (emulator, session)
    }

    async fn exists(session: &Session, part: StackPart, region: &str) -> bool {
        let name = &session.stack(part, region).expect("synthesized").name;
        stack::status(&session.aws.cloudformation(region), name).await.expect("status").is_some()
    }

    #[tokio::test]
    async fn destroying_a_region_deletes_its_region_stack_and_nothing_else() {
        let (_emulator, session) = deployed("destroy1").await;
        destroy(&session, "us-east-1", None).await.expect("destroy");
        assert!(!exists(&session, StackPart::Region, "us-east-1").await, "region stack deleted");
        assert!(exists(&session, StackPart::Bootstrap, "us-east-1").await, "assets bucket kept");
        assert!(exists(&session, StackPart::Region, "eu-west-1").await, "other regions untouched");
        assert!(exists(&session, StackPart::Data, "eu-west-1").await, "data stack kept without --force-data");
    }

    #[tokio::test]
    async fn the_data_stack_goes_only_with_its_name_typed_back_after_every_other_region() {
        let (_emulator, session) = deployed("destroy2").await;
        let data = session.stack(StackPart::Data, "eu-west-1").expect("data stack").name.clone();

        let wrong = destroy(&session, "eu-west-1", Some("destroy2-data")).await.expect_err("wrong name refused");
        assert!(wrong.to_string().contains("does not match"), "{wrong}");
        let early = destroy(&session, "eu-west-1", Some(&data)).await.expect_err("refused while us-east-1 runs");
        assert!(early.to_string().contains("destroy2-region-us-east-1"), "{early}");
        assert!(exists(&session, StackPart::Region, "eu-west-1").await, "a refused destroy deletes nothing");

        let away = destroy(&session, "us-east-1", Some(&data)).await.expect_err("data stack is home only");
        assert!(away.to_string().contains("home region eu-west-1"), "{away}");
        assert!(exists(&session, StackPart::Region, "us-east-1").await, "a refused destroy deletes nothing");

        destroy(&session, "us-east-1", None).await.expect("destroy us-east-1");
        destroy(&session, "eu-west-1", Some(&data)).await.expect("destroy home with data");
        assert!(!exists(&session, StackPart::Region, "eu-west-1").await);
        assert!(!exists(&session, StackPart::Data, "eu-west-1").await, "data stack deleted");
        let table = session.aws.dynamodb("eu-west-1").describe_table().table_name("destroy2-events").send().await;
        assert!(table.is_ok(), "the event log is retained");
    }
}
