//! Every configuration error names file:line:column and the field, and says how to fix it.

use stacks::AppConfig;

const BASE: &str = r#"app = "shop"
home = "us-east-1"

[[region]]
name = "us-east-1"

[[region]]
name = "eu-west-1"
"#;

/// The error lines for `text`, which must be invalid.
fn errors(text: &str) -> Vec<String> {
    match AppConfig::from_toml("regions.toml", text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(errors) => errors.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn unknown_field_is_rejected_with_its_location() {
    let text = format!("{BASE}\n[stream]\nbatch_sise = 10\n");
    let errors = errors(&text);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].starts_with("regions.toml:11:1: batch_sise: unknown field `batch_sise`"), "{}", errors[0]);
}

#[test]
fn unknown_region_is_rejected_with_a_suggestion() {
    let text = BASE.replace("name = \"eu-west-1\"", "name = \"eu-west-9\"");
    assert_eq!(
        errors(&text),
        [
            "regions.toml:8:8: region[1].name: unknown AWS region \"eu-west-9\" (did you mean \"eu-west-1\"?); use a commercial region code such as \"eu-west-1\""
        ]
    );
}

#[test]
fn duplicate_region_is_rejected() {
    let text = BASE.replace("name = \"eu-west-1\"", "name = \"us-east-1\"");
    assert_eq!(
        errors(&text),
        ["regions.toml:8:8: region[1].name: region \"us-east-1\" is listed twice; remove one [[region]] entry"]
    );
}

#[test]
fn home_must_be_one_of_the_regions() {
    let text = BASE.replace("home = \"us-east-1\"", "home = \"us-west-2\"");
    assert_eq!(
        errors(&text),
        [
            "regions.toml:2:8: home: home region \"us-west-2\" is not among the [[region]] entries (eu-west-1, us-east-1); add it or pick one of them"
        ]
    );
}

/// `BASE` with `[dns]` failover routing and a certificate per region.
fn failover(text: &str) -> String {
    format!("{text}\n[dns]\ndomain = \"api.shop.example.com\"\nhosted_zone_id = \"Z123\"\nrouting = \"failover\"\n")
        .replacen(
            "name = \"us-east-1\"\n",
            "name = \"us-east-1\"\ncertificate_arn = \"arn:aws:acm:us-east-1:123456789012:certificate/a\"\n",
            1,
        )
        .replacen(
            "name = \"eu-west-1\"\n",
            "name = \"eu-west-1\"\ncertificate_arn = \"arn:aws:acm:eu-west-1:123456789012:certificate/b\"\n",
            1,
        )
}

#[test]
fn a_failover_secondary_needs_a_primary() {
    let text =
        failover(&BASE.replacen("name = \"us-east-1\"\n", "name = \"us-east-1\"\nfailover = \"secondary\"\n", 1));
    assert_eq!(
        errors(&text),
        [
            "regions.toml:7:12: region[0].failover: failover = \"secondary\" is the second place of the chain, but no region is first; mark one region failover = \"primary\""
        ]
    );
}

#[test]
fn two_regions_cannot_take_one_place_of_the_failover_chain() {
    let text = failover(
        &BASE.replacen("name = \"us-east-1\"\n", "name = \"us-east-1\"\nfailover = \"primary\"\n", 1).replacen(
            "name = \"eu-west-1\"\n",
            "name = \"eu-west-1\"\npriority = 1\n",
            1,
        ),
    );
    assert_eq!(
        errors(&text),
        [
            "regions.toml:12:12: region[1].priority: eu-west-1 and us-east-1 both take place 1 of the failover chain (failover = \"primary\" is 1, \"secondary\" is 2); give each region its own place"
        ]
    );
}

#[test]
fn priority_applies_only_to_failover_routing() {
    let text = BASE.replacen("name = \"eu-west-1\"\n", "name = \"eu-west-1\"\npriority = 1\n", 1);
    assert_eq!(
        errors(&text),
        [
            "regions.toml:9:12: region[1].priority: priority applies only with [dns] routing = \"failover\"; remove it or change the routing"
        ]
    );
}

#[test]
fn failover_without_roles_is_a_chain_in_file_order_without_warnings() {
    let config = AppConfig::from_toml("regions.toml", &failover(BASE)).expect("roles are optional");
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    let chain: Vec<&str> = config.failover_chain().iter().map(|r| r.name.as_str()).collect();
    assert_eq!(chain, ["us-east-1", "eu-west-1"]);
}

#[test]
fn invalid_app_name_is_rejected() {
    let text = BASE.replace("app = \"shop\"", "app = \"Shop_1\"");
    assert_eq!(
        errors(&text),
        [
            "regions.toml:1:7: app: \"Shop_1\" is not a valid app name; use 2-21 characters: a lowercase letter, then lowercase letters, digits or '-'"
        ]
    );
}

#[test]
fn large_batches_need_a_batching_window() {
    let text = format!("{BASE}\n[stream]\nbatch_size = 100\nbatching_window_seconds = 0\n");
    let errors = errors(&text);
    assert_eq!(
        errors,
        [
            "regions.toml:12:27: stream.batching_window_seconds: Lambda requires a batching window of at least 1 second when batch_size is over 10; set 1 or more, or lower batch_size"
        ]
    );
}

#[test]
fn out_of_range_values_name_the_range() {
    let text = format!("{BASE}\n[functions]\nmemory_mb = 64\n");
    assert_eq!(errors(&text), ["regions.toml:11:13: functions.memory_mb: 64 is out of range; use 128 to 10240 MB"]);
}

#[test]
fn health_check_interval_must_be_10_or_30() {
    let text = format!(
        "{BASE}\n[dns]\ndomain = \"api.shop.example.com\"\nhosted_zone_id = \"Z123\"\nhealth_check_interval = 15\n"
    )
    .replace(
        "name = \"us-east-1\"\n",
        "name = \"us-east-1\"\ncertificate_arn = \"arn:aws:acm:us-east-1:123456789012:certificate/a\"\n",
    )
    .replace(
        "name = \"eu-west-1\"\n",
        "name = \"eu-west-1\"\ncertificate_arn = \"arn:aws:acm:eu-west-1:123456789012:certificate/b\"\n",
    );
    assert_eq!(
        errors(&text),
        ["regions.toml:15:25: dns.health_check_interval: 15 is not allowed; Route53 checks every 10 or 30 seconds"]
    );
}

#[test]
fn certificate_must_be_in_the_region_it_serves() {
    let text = BASE.replace(
        "name = \"eu-west-1\"\n",
        "name = \"eu-west-1\"\ncertificate_arn = \"arn:aws:acm:us-east-1:123456789012:certificate/a\"\n",
    );
    assert_eq!(
        errors(&text),
        [
            "regions.toml:9:19: region[1].certificate_arn: the certificate is in us-east-1, but a regional API domain needs a certificate in eu-west-1; request one there"
        ]
    );
}

#[test]
fn dns_without_certificates_names_each_region_missing_one() {
    let text = format!("{BASE}\n[dns]\ndomain = \"api.shop.example.com\"\nhosted_zone_id = \"Z123\"\n");
    let errors = errors(&text);
    assert_eq!(errors.len(), 2);
    assert!(
        errors[0].starts_with(
            "regions.toml:5:8: region[0].certificate_arn: [dns] is set, so us-east-1 needs certificate_arn"
        )
    );
    assert!(
        errors[1].starts_with(
            "regions.toml:8:8: region[1].certificate_arn: [dns] is set, so eu-west-1 needs certificate_arn"
        )
    );
}

#[test]
fn several_errors_are_reported_together() {
    let text = BASE.replace("app = \"shop\"", "app = \"x\"").replace("name = \"eu-west-1\"", "name = \"moon-1\"");
    assert_eq!(errors(&text).len(), 2);
}

#[test]
fn a_single_region_is_a_warning_not_an_error() {
    let text = "app = \"shop\"\nhome = \"us-east-1\"\n\n[[region]]\nname = \"us-east-1\"\n";
    let config = AppConfig::from_toml("regions.toml", text).expect("one region is valid");
    let warnings: Vec<String> = config.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        ["regions.toml:4:1: region: only one region: the app runs but is not active-active; add a second [[region]]"]
    );
}

#[test]
fn syntax_errors_point_at_the_line() {
    let errors = errors("app = \"shop\nhome = 1\n");
    assert!(errors[0].starts_with("regions.toml:1:"), "{}", errors[0]);
}

#[test]
fn alert_emails_must_be_addresses_and_listed_once() {
    let text = format!("{BASE}\n[alerts]\nemail = [\"ops@example.com\", \"not an address\", \"OPS@example.com\"]\n");
    assert_eq!(
        errors(&text),
        [
            "regions.toml:11:29: alerts.email[1]: \"not an address\" is not an email address; write it as name@example.com",
            "regions.toml:11:47: alerts.email[2]: \"OPS@example.com\" is listed twice; remove one",
        ]
    );
}

#[test]
fn an_alert_topic_must_be_in_every_alarms_region() {
    let text = format!("{BASE}\n[alerts]\ntopic_arn = \"arn:aws:sns:us-east-1:123456789012:ops\"\n");
    assert_eq!(
        errors(&text),
        [
            "regions.toml:11:13: alerts.topic_arn: the topic is in us-east-1, but CloudWatch alarms notify only a topic in their own region (eu-west-1); write {region} in place of the region and create the topic in every region"
        ]
    );
    let text = format!("{BASE}\n[alerts]\ntopic_arn = \"arn:aws:sqs:{{region}}:123456789012:ops\"\n");
    assert_eq!(
        errors(&text),
        [
            "regions.toml:11:13: alerts.topic_arn: not an SNS topic ARN; expected arn:aws:sns:{region}:<account>:<topic name>"
        ]
    );
    let text = format!("{BASE}\n[alerts]\ntopic_arn = \"arn:aws:sns:{{region}}:123456789012:ops\"\n");
    let config = AppConfig::from_toml("regions.toml", &text).expect("a per-region topic is valid");
    assert_eq!(config.alerts.topic_arn_in("eu-west-1").as_deref(), Some("arn:aws:sns:eu-west-1:123456789012:ops"));
}

#[test]
fn alert_emails_need_the_kits_topic() {
    let text = format!(
        "{BASE}\n[alerts]\nemail = [\"ops@example.com\"]\ntopic_arn = \"arn:aws:sns:{{region}}:123456789012:ops\"\n"
    );
    assert_eq!(
        errors(&text),
        [
            "regions.toml:11:10: alerts.email[0]: email subscribes the kit's own topic, but topic_arn replaces it; subscribe on your topic, or remove topic_arn"
        ]
    );
}

#[test]
fn unknown_alert_keys_are_rejected() {
    let text = format!("{BASE}\n[alerts]\nemails = [\"ops@example.com\"]\n");
    let errors = errors(&text);
    assert!(errors[0].starts_with("regions.toml:11:1: emails: unknown field `emails`"), "{}", errors[0]);
}
