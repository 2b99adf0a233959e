//! `diff` never reports a deployed stack as new: without a change set it reviews against the
//! deployed template and says so; a stack that cannot be reviewed at all is named and makes the
//! exit code 1 while the rest is still rendered; `--against DIR` refuses a directory it cannot
//! compare with instead of showing every stack as new.

use crate::support::{artifacts, assert_no_stray_change_sets, config, deploy_all, never, session};
use engine::aws::{Aws, AwsSettings};
use engine::diff::{review_against, review_stacks};
use engine::plan::RegionSelection;
use engine::review::{self, Action};
use engine::session::Session;
use engine::testing::{RecordingEndpoint, emulator};
use std::path::{Path, PathBuf};

#[tokio::test]
async fn a_deployed_stack_whose_change_set_cannot_be_created_is_reviewed_against_its_deployed_template() {
    let emulator = emulator();
    let app = "diff1";
    let regions = ["us-east-1", "eu-west-1"];
    deploy_all(&session(&emulator, config(app, &regions, 24, &[])).await, &artifacts(app), &never()).await;
    // eu-west-1's replica goes away (as while a replica is being re-created): its stream ARN, a
    // parameter of the region stack, cannot be resolved, so no change set can be created.
    let changed = session(&emulator, config(app, &regions, 48, &[])).await;
    let table = format!("{app}-events");
    changed.aws.dynamodb("eu-west-1").delete_table().table_name(&table).send().await.expect("delete replica");

    let reviews = review_stacks(&changed, &["eu-west-1".to_owned()], 4).await.expect("reviewed");
    let region = reviews.iter().find(|r| r.stack == format!("{app}-region-eu-west-1")).expect("region review");
    assert!(region.changes.iter().all(|c| c.action != Action::Add), "not shown as new: {:#?}", region.changes);
    let stream = region.changes.iter().find(|c| c.logical_id == "EventStream").expect("the real change");
    assert!(stream.properties.iter().any(|p| p.path == "Properties.RetentionPeriodHours"), "{stream:#?}");
    assert_eq!(region.changes.len(), 1, "only the retention changes: {:#?}", region.changes);
    assert!(
        region.notes.iter().any(|n| n.contains("no change set could be created") && n.contains("deployed template")),
        "{:?}",
        region.notes
    );
    assert_eq!(review::exit_code(&reviews), 2);
    assert_no_stray_change_sets(&changed).await;
}

#[tokio::test]
async fn a_stack_that_cannot_be_reviewed_is_named_makes_the_exit_code_1_and_the_rest_is_still_rendered() {
    // Every call is denied (as with a CI role without cloudformation:DescribeStacks).
    let denied = RecordingEndpoint::start();
    let settings = AwsSettings { endpoint_url: Some(denied.endpoint.clone()), ..AwsSettings::default() };
    let aws = Aws::load(&settings).await.expect("config");
    let loaded = Session::synthesize(aws, config("diff2", &["eu-west-1"], 24, &[])).expect("synthesized");
    let session = Session {
        aws: loaded.aws,
        config: loaded.config,
        assembly: loaded.assembly,
        account: "123456789012".into(),
        notes: loaded.notes,
        guard: Default::default(),
    };
    let reviews = review_stacks(&session, &["eu-west-1".to_owned()], 4).await.expect("the review itself completes");
    assert_eq!(reviews.len(), 3, "every stack is in the review");
    for review in &reviews {
        let why = review.unreviewable.as_deref().expect("not reviewable");
        assert!(why.contains("AccessDenied") || why.contains("recorded by the test endpoint"), "{why}");
    }
    assert_eq!(review::exit_code(&reviews), 1);
    let text = review::render::text(&reviews);
    assert!(text.contains("diff2-region-eu-west-1 (eu-west-1): NOT REVIEWED"), "{text}");
    assert!(text.contains("!! not reviewed: diff2-bootstrap-eu-west-1, diff2-data-eu-west-1, diff2-region-eu-west-1"));
    let markdown = review::render::markdown(&reviews);
    assert!(markdown.contains("> **Not reviewed:** `diff2-bootstrap-eu-west-1`"), "{markdown}");
    let json = serde_json::to_value(&reviews).expect("JSON");
    assert!(json[0]["unreviewable"].is_string(), "{json}");
}

fn synth_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kit-against-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the directory");
    dir
}

/// Writes the templates of `app` (one region) into `dir` as `<stack>.template.<extension>`.
fn write_synth(app: &str, dir: &Path, extension: &str) {
    let assembly = stacks::synthesize(&config(app, &["eu-west-1"], 24, &[])).expect("synth");
    for stack in &assembly.stacks {
        std::fs::write(dir.join(stack.template_file(extension)), &stack.body).expect("write template");
    }
}

fn config_file(app: &str, retention: u32) -> PathBuf {
    let path = std::env::temp_dir().join(format!("kit-against-{app}-{retention}-{}.toml", std::process::id()));
    let text = format!(
        "app = \"{app}\"\nhome = \"eu-west-1\"\n\n[[region]]\nname = \"eu-west-1\"\n\n[stream]\nretention_hours = {retention}\n\n[[projection]]\nname = \"audit\"\nkind = \"s3-audit\"\n"
    );
    std::fs::write(&path, text).expect("write config");
    path
}

fn one_region() -> RegionSelection {
    RegionSelection { regions: vec!["eu-west-1".into()], all: false }
}

#[test]
fn against_a_synth_output_of_the_same_app_shows_only_what_changed() {
    let dir = synth_dir("same");
    write_synth("against", &dir, "json");
    let reviews = review_against(&config_file("against", 48), &one_region(), &dir).expect("reviewed");
    let changed: Vec<&str> = reviews.iter().filter(|r| r.has_changes()).map(|r| r.stack.as_str()).collect();
    assert_eq!(changed, ["against-region-eu-west-1"], "only the retention changed");
}

#[test]
fn against_a_missing_yaml_or_other_apps_directory_fails_clearly() {
    let config = config_file("against", 24);
    let missing = std::env::temp_dir().join("kit-against-no-such-directory");
    let error = review_against(&config, &one_region(), &missing).expect_err("missing directory");
    assert!(format!("{error:#}").contains("cannot read the directory"), "{error:#}");

    let yaml = synth_dir("yaml");
    write_synth("against", &yaml, "yaml");
    let error = review_against(&config, &one_region(), &yaml).expect_err("YAML output");
    assert!(format!("{error:#}").contains("YAML templates"), "{error:#}");
    assert!(format!("{error:#}").contains("--format json"), "{error:#}");

    let other = synth_dir("other");
    write_synth("another", &other, "json");
    let error = review_against(&config, &one_region(), &other).expect_err("another app");
    assert!(format!("{error:#}").contains("stacks of another app (another-"), "{error:#}");

    let empty = synth_dir("empty");
    let error = review_against(&config, &one_region(), &empty).expect_err("no templates");
    assert!(format!("{error:#}").contains("no templates there"), "{error:#}");
}
