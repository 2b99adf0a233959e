//! Deleting a region's stack, and the data stack (with the dns stack, whose records would point
//! nowhere) once nothing reads its replicas. Every check
//! runs before anything is deleted, so a refused destroy leaves every stack as it was.

use crate::events::{self, Verdict};
use crate::session::Session;
use crate::stack;
use anyhow::{Context, Result, bail};
use stacks::StackPart;
use std::time::SystemTime;

/// Deletes the region stack of `region`, then, when `typed_data_name` is given, the data stack.
/// The data stack goes only from the home region, when the name typed back matches and no other
/// region still has its region stack (their publishers read the replicas the data stack manages).
/// The region need not be in the config any more: its stack is found by its name
/// (`<app>-region-<region>`), so a region taken out of `regions.toml` can still be destroyed.
pub async fn destroy(session: &Session, region: &str, typed_data_name: Option<&str>) -> Result<()> {
    let region_stack = stacks::app::stack_name(&session.config, StackPart::Region, region);
    let data_stack = match typed_data_name {
        None => None,
        Some(typed) => Some(check_data_deletion(session, region, typed).await?),
    };
    delete_stack(session, region, &region_stack).await?;
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
            delete_stack(session, region, &dns).await?;
        }
        delete_stack(session, region, &data).await?;
        println!(
            "the event log and view tables are retained (DeletionPolicy RetainExceptOnCreate); delete them by hand if \
             wanted"
        );
    }
    let bootstrap = stacks::app::stack_name(&session.config, StackPart::Bootstrap, region);
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

/// Deletes the stack `name` in `region` and follows the deletion to its end; a stack that does not
/// exist is already deleted.
pub async fn delete_stack(session: &Session, region: &str, name: &str) -> Result<()> {
    let cfn = session.aws.cloudformation(region);
    if stack::status(&cfn, name).await?.is_none() {
        println!("{name} does not exist in {region}; nothing to delete");
        return Ok(());
    }
    let since = SystemTime::now();
    cfn.delete_stack().stack_name(name).send().await.with_context(|| format!("deleting {name}"))?;
    let outcome = events::follow(&cfn, name, region, since).await?;
    match outcome.verdict() {
        Verdict::Deleted => {
            println!("deleted {name} in {region} ({:.1} s)", outcome.elapsed.as_secs_f64());
            Ok(())
        }
        Verdict::StillRunning => bail!("{}", outcome.summary()),
        Verdict::Succeeded | Verdict::Failed => bail!("deleting {}:\n{}", outcome.summary(), outcome.failure_report()),
    }
}
