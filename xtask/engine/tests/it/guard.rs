//! Nothing left behind: a run that fails after some change sets exist, or is interrupted in the
//! middle of its review, deletes every change set it created and every empty review stack,
//! checked through CloudFormation's own listings on the emulator.

use crate::support::{all, artifacts, assert_no_stray_change_sets, config, deploy_all, never, plan, session};
use anyhow::bail;
use engine::approval::{Approval, Prompt, RequireApproval};
use engine::deploy::deploy;
use engine::interrupt::guarded;
use engine::plan::DeployOptions;
use engine::testing::emulator;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A terminal that answers yes once, then breaks.
#[derive(Debug, Default)]
struct BreakingTerminal {
    asked: AtomicUsize,
}

impl Prompt for BreakingTerminal {
    fn ask(&self, _question: &str) -> anyhow::Result<Option<String>> {
        if self.asked.fetch_add(1, Ordering::SeqCst) == 0 {
            return Ok(Some("y".into()));
        }
        bail!("the terminal went away")
    }
}

#[tokio::test]
async fn a_failure_after_some_change_sets_exist_leaves_none_behind() {
    let emulator = emulator();
    let app = "guard1";
    let regions = ["us-east-1", "eu-west-1", "ap-southeast-2"];
    let zips = artifacts(app);
    deploy_all(&session(&emulator, config(app, &regions, 24, &[])).await, &zips, &never()).await;

    // Every region stack changes. The canary's change is approved; the terminal breaks at the
    // next question, when the other two regions' change sets exist too.
    let changed = session(&emulator, config(app, &regions, 48, &[])).await;
    let asking = Approval::with_prompt(RequireApproval::Any, false, Arc::new(BreakingTerminal::default()));
    let plan = plan(&changed, &all(), &DeployOptions::default());
    let run = guarded(&changed, deploy(&changed, &plan, &zips, &asking), std::future::pending()).await;
    let error = run.expect_err("the gate failed");
    assert!(format!("{error:#}").contains("the terminal went away"), "{error:#}");
    assert!(format!("{error:#}").contains("every change set this run created and did not execute was deleted"));
    assert_no_stray_change_sets(&changed).await;
}

#[tokio::test]
async fn an_interrupt_in_the_middle_of_the_review_leaves_no_change_set_and_no_review_stack() {
    let emulator = emulator();
    let app = "guard2";
    let fresh = session(&emulator, config(app, &["us-east-1", "eu-west-1", "ap-southeast-2"], 24, &[])).await;
    let mut created = fresh.guard.created();
    // Ctrl-C arrives once two of the four foundation change sets have been recorded.
    let interrupt = async move {
        let _ = created.wait_for(|count| *count >= 2).await;
    };
    let plan = plan(&fresh, &all(), &DeployOptions::default());
    let run = guarded(&fresh, deploy(&fresh, &plan, &artifacts(app), &never()), interrupt).await;
    let error = run.expect_err("interrupted");
    assert!(format!("{error:#}").starts_with("interrupted"), "{error:#}");
    assert_no_stray_change_sets(&fresh).await;
    for stack in &fresh.assembly.stacks {
        let status =
            engine::stack::status(&fresh.aws.cloudformation(&stack.region), &stack.name).await.expect("status");
        assert_eq!(status, None, "{} was never executed, so nothing of it exists", stack.name);
    }
}
