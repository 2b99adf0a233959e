//! End-to-end tests of the review on the kit's own synthesized stacks: a config change goes through
//! `stacks::synthesize`, the old and new templates are reviewed offline, rendered and scored.

use super::model::{Action, Danger, Replacement};
use super::*;
use serde_json::Value;
use stacks::config::sample_toml;
use stacks::{AppConfig, StackPart};

/// Every stack of a config: (name, region, part, template).
fn synth(toml: &str) -> Vec<(String, String, StackPart, Value)> {
    let config = AppConfig::from_toml("test.toml", toml).expect("valid config");
    let assembly = stacks::synthesize(&config).expect("synthesizes");
    assembly
        .stacks
        .into_iter()
        .map(|s| {
            let template = serde_json::from_str(&s.body).expect("template JSON");
            (s.name, s.region, s.part, template)
        })
        .collect()
}

/// The offline review of one part in the home region, old config → new config.
fn review_part(old: &str, new: &str, part: StackPart) -> StackReview {
    let (old, new) = (synth(old), synth(new));
    let pick = |stacks: &[(String, String, StackPart, Value)]| {
        stacks.iter().find(|s| s.2 == part && s.1 == "us-east-1").cloned().expect("stack in us-east-1")
    };
    let ((_, _, _, before), (name, region, _, after)) = (pick(&old), pick(&new));
    review(&name, &region, None, Some(&before), &after, &Params::new(), &Params::new())
}

fn with_stream_retention(hours: u32) -> String {
    format!("{}\n[stream]\nretention_hours = {hours}\n", sample_toml(3))
}

#[test]
fn raising_stream_retention_in_the_config_modifies_the_event_stream_in_place() {
    let review = review_part(&with_stream_retention(24), &with_stream_retention(48), StackPart::Region);
    assert_eq!(review.changes.len(), 1, "{:#?}", review.changes);
    let change = &review.changes[0];
    assert_eq!((change.action, change.logical_id.as_str()), (Action::Modify, "EventStream"));
    assert_eq!(change.replacement, Some(Replacement::False));
    assert_eq!(change.properties[0].path, "Properties.RetentionPeriodHours");
    assert_eq!(change.properties[0].before, Some(24.into()));
    assert_eq!(change.properties[0].after, Some(48.into()));
    assert!(!review.is_dangerous());
    assert_eq!(exit_code(&[review]), 2);
}

#[test]
fn renaming_the_app_renames_the_stream_which_replaces_it_and_is_dangerous() {
    let old = sample_toml(3);
    let new = old.replace("app = \"bench\"", "app = \"shop\"");
    assert_ne!(old, new, "the sample config names its app bench");
    let review = review_part(&old, &new, StackPart::Region);
    let stream = review.changes.iter().find(|c| c.logical_id == "EventStream").expect("stream changes");
    assert_eq!(stream.replacement, Some(Replacement::True));
    assert!(stream.properties.iter().any(|p| p.path == "Properties.Name" && p.create_only));
    assert_eq!(stream.dangers, [Danger::StatefulReplacement { conditional: false, retained: true }]);
    assert_eq!(exit_code(&[review]), 3);
}

#[test]
fn dropping_a_region_removes_its_replicas_which_is_dangerous() {
    let review = review_part(&sample_toml(3), &sample_toml(2), StackPart::Data);
    assert!(!review.changes.is_empty());
    for change in &review.changes {
        assert_eq!(change.resource_type, "AWS::DynamoDB::GlobalTable");
        assert_eq!(change.replacement, Some(Replacement::False), "CloudFormation updates replicas in place");
        assert_eq!(change.dangers, [Danger::ReplicaRemoval { regions: vec!["us-west-1".into()] }]);
    }
}

#[test]
fn adding_two_regions_at_once_is_flagged_because_cloudformation_allows_one_replica_per_update() {
    let review = review_part(&sample_toml(2), &sample_toml(4), StackPart::Data);
    let event_log = review.changes.iter().find(|c| c.logical_id == "EventLog").expect("event log changes");
    assert_eq!(
        event_log.dangers,
        [Danger::ReplicaBatch { added: vec!["us-west-1".into(), "us-west-2".into()], removed: vec![] }]
    );
}

#[test]
fn an_unchanged_app_reviews_as_no_changes_with_exit_code_zero() {
    let stacks = synth(&sample_toml(3));
    let reviews: Vec<StackReview> = stacks
        .iter()
        .map(|(name, region, _, t)| review(name, region, Some(vec![]), Some(t), t, &Params::new(), &Params::new()))
        .collect();
    assert!(reviews.iter().all(|r| r.no_changes && r.notes.is_empty()), "{reviews:#?}");
    assert_eq!(exit_code(&reviews), 0);
    assert!(render::text(&reviews).contains("bench-region-us-east-1 (us-east-1): no changes"));
    assert!(render::markdown(&reviews).contains("No changes."));
}

#[test]
fn markdown_has_a_summary_a_warning_a_table_and_folded_property_changes() {
    let old = sample_toml(3);
    let renamed = review_part(&old, &old.replace("app = \"bench\"", "app = \"shop\""), StackPart::Region);
    let retention = review_part(&with_stream_retention(24), &with_stream_retention(48), StackPart::Region);
    let reviews = [renamed, retention];
    let md = render::markdown(&reviews);
    assert!(md.starts_with("**Change review:** 2 stacks (2 changed): "), "{md}");
    assert!(md.contains("> **⚠️ Warning: "), "{md}");
    assert!(md.contains("### shop-region-us-east-1 (us-east-1)"));
    assert!(md.contains("| | Action | Logical ID | Type | Replacement | Scope |"));
    assert!(md.contains("| ⚠️ | Modify | `EventStream` | `AWS::Kinesis::Stream` | **True** | Properties |"), "{md}");
    assert!(md.contains("<details>\n<summary>Property changes ("));
    assert!(md.contains("| `EventStream` | `Properties.RetentionPeriodHours` | `24` | `48` |  |"), "{md}");
    assert!(md.contains("**Dangerous changes**"));
}

#[test]
fn terminal_text_marks_dangerous_lines_and_json_names_kind_and_reason() {
    let old = sample_toml(3);
    let reviews = [review_part(&old, &old.replace("app = \"bench\"", "app = \"shop\""), StackPart::Region)];
    let text = render::text(&reviews);
    assert!(text.contains("!!     DANGER EventStream: stateful resource is replaced"), "{text}");
    assert!(text.contains("Properties.Name: bench-events → shop-events  [create-only]"), "{text}");
    assert!(!text.contains('\u{1b}'), "no color codes");
    let json = serde_json::to_value(&reviews).expect("serializes");
    assert_eq!(json[0]["stack"], "shop-region-us-east-1");
    let stream = json[0]["changes"].as_array().unwrap().iter().find(|c| c["logical_id"] == "EventStream").unwrap();
    assert_eq!(stream["replacement"], "True");
    assert_eq!(stream["dangers"][0]["kind"], "StatefulReplacement");
    assert!(stream["dangers"][0]["reason"].as_str().unwrap().contains("starts empty"));
}

#[test]
fn exit_codes_are_zero_two_three() {
    let quiet = StackReview {
        stack: "s".into(),
        region: "r".into(),
        changes: vec![],
        other_changes: vec![],
        no_changes: true,
        notes: vec![],
        unreviewable: None,
    };
    let outputs_only =
        StackReview { other_changes: vec!["Outputs.A: added".into()], no_changes: false, ..quiet.clone() };
    assert_eq!(exit_code(&[]), 0);
    assert_eq!(exit_code(std::slice::from_ref(&quiet)), 0);
    assert_eq!(exit_code(&[quiet, outputs_only]), 2);
}
