//! `regions.toml` edits: every byte but the region's own lines kept, and each refusal's message.

use super::{EditError, NewRegion, add_regions, remove_region};

/// The shipped example: comments on most lines, a commented-out table, `[dns]` after the regions.
const EXAMPLE: &str = include_str!("../../../../regions.toml");
const FILE: &str = "regions.toml";

fn certificate(region: &str) -> String {
    format!("arn:aws:acm:{region}:123456789012:certificate/00000000-0000-4000-8000-000000000001")
}

fn new(region: &str) -> NewRegion {
    NewRegion { name: region.into(), certificate_arn: Some(certificate(region)) }
}

/// The example's lines with `inserted` after the last `[[region]]` entry (before `[dns]`).
fn example_with(inserted: &str) -> String {
    let at = EXAMPLE.find("\n[dns]").expect("the example has [dns]");
    format!("{}{inserted}{}", &EXAMPLE[..at], &EXAMPLE[at..])
}

#[test]
fn adding_appends_one_entry_after_the_last_region_and_keeps_every_other_byte() {
    let edited = add_regions(FILE, EXAMPLE, &[new("eu-central-1")]).expect("add");
    let expected = example_with(&format!(
        "\n[[region]]\nname = \"eu-central-1\"\ncertificate_arn = \"{}\"\n",
        certificate("eu-central-1")
    ));
    assert_eq!(edited.text, expected);
    assert!(edited.after.region_names().any(|r| r == "eu-central-1"));
    assert_eq!(edited.before.regions.len() + 1, edited.after.regions.len());
}

#[test]
fn removing_takes_out_the_entry_with_its_comments_and_nothing_else() {
    let commented = EXAMPLE.replace(
        "[[region]]\nname = \"eu-west-1\"",
        "# Ireland: our European customers.\n[[region]]\nname = \"eu-west-1\"",
    );
    let edited = remove_region(FILE, &commented, "eu-west-1", false).expect("remove");
    let start = commented.find("# Ireland").expect("comment");
    let end = commented.find("\n[[region]]\nname = \"ap-southeast-2\"").expect("next entry");
    let expected = format!("{}{}", &commented[..start - 1], &commented[end..]);
    assert_eq!(edited.text, expected);
    assert!(edited.text.contains("# The one config of the app"), "comments elsewhere are kept");
    assert!(!edited.text.contains("eu-west-1"));
}

#[test]
fn adding_then_removing_gives_the_file_back_byte_for_byte() {
    let added = add_regions(FILE, EXAMPLE, &[new("eu-central-1"), new("sa-east-1")]).expect("add");
    let once = remove_region(FILE, &added.text, "sa-east-1", false).expect("remove sa-east-1");
    let twice = remove_region(FILE, &once.text, "eu-central-1", false).expect("remove eu-central-1");
    assert_eq!(twice.text, EXAMPLE);
}

#[test]
fn the_home_region_is_refused_with_the_migration() {
    let error = remove_region(FILE, EXAMPLE, "us-east-1", true).expect_err("home refused even with --force");
    assert!(matches!(error, EditError::HomeRegion { .. }));
    let message = error.to_string();
    assert!(message.starts_with("regions.toml: us-east-1 is the home region"), "{message}");
    assert!(message.contains("set `home` to another region"), "{message}");
}

#[test]
fn going_below_two_regions_needs_force() {
    let two = remove_region(FILE, EXAMPLE, "ap-southeast-2", false).expect("three to two").text;
    let error = remove_region(FILE, &two, "eu-west-1", false).expect_err("two to one refused");
    assert_eq!(
        error.to_string(),
        "regions.toml: removing eu-west-1 leaves 1 region(s); active-active needs at least 2 so that one can take \
         over from the other. Add another region first, or pass --force to go below 2"
    );
    let one = remove_region(FILE, &two, "eu-west-1", true).expect("forced");
    assert_eq!(one.after.regions.len(), 1);
}

#[test]
fn a_region_already_there_or_missing_is_refused() {
    let twice = add_regions(FILE, EXAMPLE, &[new("eu-west-1")]).expect_err("already configured");
    assert!(twice.to_string().contains("eu-west-1 is already a [[region]] of the app"), "{twice}");
    assert!(twice.to_string().contains("cargo xtask region add eu-west-1 --resume"), "{twice}");
    let missing = remove_region(FILE, EXAMPLE, "eu-central-1", false).expect_err("not configured");
    assert_eq!(
        missing.to_string(),
        "regions.toml: eu-central-1 is not a [[region]] of the app (us-east-1, eu-west-1, ap-southeast-2)"
    );
}

#[test]
fn an_edit_that_breaks_the_config_names_the_edited_file_line_and_field() {
    let without_certificate = NewRegion { name: "eu-central-1".into(), certificate_arn: None };
    let error = add_regions(FILE, EXAMPLE, &[without_certificate]).expect_err("[dns] needs a certificate");
    let message = error.to_string();
    let edited = example_with("\n[[region]]\nname = \"eu-central-1\"\n");
    let line = edited.lines().position(|l| l == "name = \"eu-central-1\"").expect("the new entry") + 1;
    assert!(message.starts_with(&format!("regions.toml (after adding eu-central-1):{line}:8: ")), "{message}");
    assert!(
        message.contains("region[3].certificate_arn: [dns] is set, so eu-central-1 needs certificate_arn"),
        "{message}"
    );
    let unknown = add_regions(FILE, EXAMPLE, &[new("eu-central-9")]).expect_err("unknown region");
    assert!(unknown.to_string().contains("region[3].name: unknown AWS region \"eu-central-9\""), "{unknown}");
}

#[test]
fn a_broken_file_is_refused_before_any_edit() {
    let error = add_regions(FILE, "app = \"x\"\nhome = ", &[new("eu-central-1")]).expect_err("invalid");
    assert!(error.to_string().starts_with("regions.toml:2:"), "{error}");
}
