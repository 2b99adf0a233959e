//! Region changes carried out against the local emulator and asserted through the AWS APIs: a
//! region added then removed end to end, a removal stopped half-way and resumed, a removal whose
//! consumers do not drain, and a region destroyed after it left the config.

use crate::support::{artifacts, deploy_all, never, session};
use engine::approval::{Approval, Prompt, RequireApproval};
use engine::plan::DeployOptions;
use engine::region::drain::DrainSettings;
use engine::region::edit::{NewRegion, add_regions, remove_region};
use engine::region::{ApplyOptions, RegionPlan, apply};
use engine::session::Session;
use engine::stack;
use engine::testing::{TestEmulator, emulator};
use stacks::{AppConfig, StackPart};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ADDED: &str = "ap-southeast-2";

fn text(app: &str, regions: &[&str]) -> String {
    let mut text = format!("# {app}: two regions to start with\napp = \"{app}\"\nhome = \"{}\"\n", regions[0]);
    for region in regions {
        text.push_str(&format!("\n[[region]]\nname = \"{region}\"\n"));
    }
    text.push_str("\n[[projection]]\nname = \"audit\"\nkind = \"s3-audit\"\n");
    text.push_str("\n[[projection]]\nname = \"tasks\" # read model\nkind = \"read-model\"\n");
    text
}

/// The emulator with `regions` deployed (the first is home), and a session on it.
async fn deployed(app: &str, regions: &[&str]) -> (TestEmulator, Session, String) {
    let emulator = emulator();
    let text = text(app, regions);
    let config = AppConfig::from_toml("regions.toml", &text).expect("valid config");
    let session = session(&emulator, config).await;
    deploy_all(&session, &artifacts(app), &never()).await;
    (emulator, session, text)
}

/// Answers the approval questions from a script: `yes` for the first `yes` questions, then no.
#[derive(Debug)]
struct Scripted {
    yes: usize,
    asked: Mutex<Vec<String>>,
}

impl Prompt for Scripted {
    fn ask(&self, question: &str) -> anyhow::Result<Option<String>> {
        let mut asked = self.asked.lock().expect("lock");
        asked.push(question.to_owned());
        Ok(Some(if asked.len() <= self.yes { "y".into() } else { "n".into() }))
    }
}

/// Nobody at a terminal.
#[derive(Debug)]
struct NoTerminal;

impl Prompt for NoTerminal {
    fn ask(&self, _: &str) -> anyhow::Result<Option<String>> {
        Ok(None)
    }
}

fn options(resume: bool) -> ApplyOptions {
    ApplyOptions {
        deploy: DeployOptions { require_approval: RequireApproval::Never, ..DeployOptions::default() },
        resume,
        drain: DrainSettings { poll: Duration::ZERO, timeout: Duration::ZERO, ..DrainSettings::default() },
        resume_command: "cargo xtask region remove ... --resume".into(),
    }
}

async fn exists(session: &Session, part: StackPart, region: &str) -> bool {
    let name = stacks::app::stack_name(&session.config, part, region);
    stack::status(&session.aws.cloudformation(region), &name).await.expect("status").is_some()
}

/// The regions of each global table's replicas in the deployed data stack (`GetTemplate`).
async fn deployed_replicas(session: &Session) -> Vec<(String, BTreeSet<String>)> {
    let home = &session.config.home;
    let name = stacks::app::stack_name(&session.config, StackPart::Data, home);
    let deployed = stack::deployed(&session.aws.cloudformation(home), &name).await.expect("data stack");
    let template = deployed.template.expect("template");
    let layout = engine::region::layout::layout(&template);
    layout.into_iter().map(|(table, replicas)| (table, replicas.into_iter().map(|r| r.region).collect())).collect()
}

async fn has_replica_everywhere(session: &Session, region: &str) -> (bool, bool) {
    let tables = deployed_replicas(session).await;
    (tables.iter().all(|(_, r)| r.contains(region)), tables.iter().any(|(_, r)| r.contains(region)))
}

#[tokio::test]
async fn a_region_added_then_removed_is_deployed_then_gone_through_the_aws_apis() {
    let (_emulator, session, text) = deployed("regionab", &["eu-west-1", "us-east-1"]).await;
    let new = NewRegion { name: ADDED.into(), certificate_arn: None };
    let added = add_regions("regions.toml", &text, &[new]).expect("add");
    let plan = RegionPlan::add(&added.before, &added.after).expect("plan");
    let (aws, account) = (&session.aws, &session.account);
    apply(aws, account, &plan, &options(false), &artifacts("regionab"), &never(), &NoTerminal).await.expect("add");

    let after = Session::new(session.aws.clone(), added.after.clone()).await.expect("session");
    assert!(exists(&after, StackPart::Bootstrap, ADDED).await, "bootstrap stack");
    assert!(exists(&after, StackPart::Region, ADDED).await, "region stack");
    assert_eq!(has_replica_everywhere(&after, ADDED).await, (true, true), "a replica in every global table");
    let events = after.aws.dynamodb(ADDED).describe_table().table_name("regionab-events").send().await;
    assert!(events.is_ok(), "the replica table exists in {ADDED}");

    let removed = remove_region("regions.toml", &added.text, ADDED, false).expect("remove");
    assert_eq!(removed.text, text, "regions.toml is back byte for byte");
    let plan = RegionPlan::remove(&removed.before, &removed.after).expect("plan");
    apply(aws, account, &plan, &options(false), &[], &never(), &NoTerminal).await.expect("remove");
    assert!(!exists(&after, StackPart::Region, ADDED).await, "region stack deleted");
    assert!(exists(&after, StackPart::Bootstrap, ADDED).await, "the assets bucket is kept");
    assert!(exists(&after, StackPart::Region, "us-east-1").await, "the other regions stay");
    assert_eq!(has_replica_everywhere(&after, ADDED).await, (false, false), "no replica left in {ADDED}");
}

#[tokio::test]
async fn a_removal_stopped_half_way_says_how_to_resume_and_resume_finishes_it() {
    let (_emulator, session, text) = deployed("regionrs", &["eu-west-1", "us-east-1", ADDED]).await;
    let removed = remove_region("regions.toml", &text, ADDED, false).expect("remove");
    let plan = RegionPlan::remove(&removed.before, &removed.after).expect("plan");
    let (aws, account) = (&session.aws, &session.account);
    // Dangerous updates ask: deletion protection off (yes), the events replica (yes), then no.
    let script = Arc::new(Scripted { yes: 2, asked: Mutex::default() });
    let gate = Approval::with_prompt(RequireApproval::Dangerous, false, script.clone());
    let mut dangerous = options(false);
    dangerous.deploy.require_approval = RequireApproval::Dangerous;
    let error = apply(aws, account, &plan, &dangerous, &[], &gate, &NoTerminal).await.expect_err("stopped");
    let message = error.to_string();
    assert!(
        message.contains("step 5/6 (data stack: remove the ap-southeast-2 replica of regionrs-idempotency"),
        "{message}"
    );
    assert!(message.contains("continue with `cargo xtask region remove ... --resume`"), "{message}");
    assert_eq!(script.asked.lock().expect("lock").len(), 3, "one question per dangerous update");
    let tables = deployed_replicas(&session).await;
    let with_region: Vec<&str> = tables.iter().filter(|(_, r)| r.contains(ADDED)).map(|(t, _)| t.as_str()).collect();
    assert_eq!(with_region, ["Idempotency", "ViewTasks"], "the events replica is gone, the rest is not");
    assert!(!exists(&session, StackPart::Region, ADDED).await, "the region stack was deleted before");

    let again = apply(aws, account, &plan, &options(false), &[], &never(), &NoTerminal).await;
    assert!(again.expect_err("without --resume").to_string().contains("continue it with --resume"));
    apply(aws, account, &plan, &options(true), &[], &never(), &NoTerminal).await.expect("resume");
    assert_eq!(has_replica_everywhere(&session, ADDED).await, (false, false));
    assert!(exists(&session, StackPart::Region, "us-east-1").await);
}

#[tokio::test]
async fn consumers_that_do_not_drain_stop_the_removal_without_a_terminal() {
    let (_emulator, session, text) = deployed("regiondr", &["eu-west-1", "us-east-1", ADDED]).await;
    let metric = aws_sdk_cloudwatch::types::MetricDatum::builder()
        .metric_name("IteratorAge")
        .dimensions(
            aws_sdk_cloudwatch::types::Dimension::builder().name("FunctionName").value("regiondr-publisher").build(),
        )
        .value(42_000.0)
        // A second old at least: a query's end time is exclusive and moto truncates it to the second.
        .timestamp((std::time::SystemTime::now() - Duration::from_secs(30)).into())
        .build();
    let cloudwatch = session.aws.cloudwatch(ADDED);
    cloudwatch.put_metric_data().namespace("AWS/Lambda").metric_data(metric).send().await.expect("put metric");
    let removed = remove_region("regions.toml", &text, ADDED, false).expect("remove");
    let plan = RegionPlan::remove(&removed.before, &removed.after).expect("plan");
    let (aws, account) = (&session.aws, &session.account);
    let error = apply(aws, account, &plan, &options(false), &[], &never(), &NoTerminal).await.expect_err("not drained");
    let message = error.to_string();
    assert!(message.contains("regiondr-publisher: 42000 ms"), "{message}");
    assert!(message.contains("--resume --skip-drain"), "{message}");
    assert!(exists(&session, StackPart::Region, ADDED).await, "nothing deleted");
    assert_eq!(has_replica_everywhere(&session, ADDED).await, (true, true), "no replica touched");
}

#[tokio::test]
async fn a_region_no_longer_in_the_config_can_still_be_destroyed() {
    let (_emulator, session, _) = deployed("regionds", &["eu-west-1", "us-east-1"]).await;
    let text = text("regionds", &["eu-west-1"]);
    let config = AppConfig::from_toml("regions.toml", &text).expect("config");
    let without = Session::new(session.aws.clone(), config).await.expect("session");
    engine::destroy::destroy(&without, "us-east-1", None).await.expect("destroy an unconfigured region");
    assert!(!exists(&session, StackPart::Region, "us-east-1").await, "its region stack is deleted");
    assert!(exists(&session, StackPart::Region, "eu-west-1").await, "the configured region stays");
}
