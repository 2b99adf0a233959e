//! Plans are built and refused from the config and the options alone.

use super::*;
use stacks::config::sample_toml;

fn app(regions: usize) -> (AppConfig, Assembly) {
    let config = AppConfig::from_toml("test.toml", &sample_toml(regions)).expect("valid config");
    let assembly = stacks::synthesize(&config).expect("synthesizes");
    (config, assembly)
}

fn all() -> RegionSelection {
    RegionSelection { regions: Vec::new(), all: true }
}

fn plan(regions: usize, options: DeployOptions) -> Result<Plan, PlanError> {
    let (config, assembly) = app(regions);
    Plan::new(&config, &assembly, &all(), &options)
}

#[test]
fn the_home_region_goes_alone_first_then_the_others_together() {
    let (config, assembly) = app(4);
    let plan = Plan::new(&config, &assembly, &all(), &DeployOptions::default()).expect("plan");
    let home = config.home.clone();
    assert_eq!(plan.waves.len(), 2);
    assert_eq!(plan.waves[0].kind, WaveKind::Canary);
    assert_eq!(plan.waves[0].stacks, [format!("bench-region-{home}")]);
    assert_eq!(plan.waves[1].kind, WaveKind::Rest);
    assert_eq!(plan.waves[1].stacks.len(), 3);
    assert!(!plan.waves[1].stacks.contains(&format!("bench-region-{home}")));
    assert_eq!(plan.foundation.len(), 5, "four bootstrap stacks and the data stack: {:?}", plan.foundation);
    assert_eq!(plan.closing, [format!("bench-dns-{home}")], "the dns stack goes last");
    assert_eq!(plan.stacks().count(), 10);
}

#[test]
fn canary_names_another_region_and_must_be_selected() {
    let (config, assembly) = app(3);
    let other = config.region_names().find(|r| *r != config.home).expect("a second region").to_owned();
    let options = DeployOptions { canary: Some(other.clone()), ..DeployOptions::default() };
    let plan = Plan::new(&config, &assembly, &all(), &options).expect("plan");
    assert_eq!(plan.waves[0].stacks, [format!("bench-region-{other}")]);

    let only_home = RegionSelection { regions: vec![config.home.clone()], all: false };
    let refused = Plan::new(&config, &assembly, &only_home, &options).expect_err("canary outside the selection");
    assert!(matches!(refused, PlanError::CanaryNotSelected { .. }), "{refused}");
    assert!(refused.to_string().contains(&other));
}

#[test]
fn a_region_outside_the_home_gets_no_data_stack_and_unknown_regions_are_refused() {
    let (config, assembly) = app(3);
    let other = config.region_names().find(|r| *r != config.home).expect("a second region").to_owned();
    let selection = RegionSelection { regions: vec![other.clone()], all: false };
    let plan = Plan::new(&config, &assembly, &selection, &DeployOptions::default()).expect("plan");
    assert_eq!(plan.foundation, [format!("bench-bootstrap-{other}")]);
    assert_eq!(plan.waves.len(), 1, "one region needs no canary wave");
    assert!(plan.closing.is_empty(), "the dns stack deploys from the home region");

    let unknown = RegionSelection { regions: vec!["eu-west-9".into()], all: false };
    let error = Plan::new(&config, &assembly, &unknown, &DeployOptions::default()).expect_err("unknown region");
    assert!(error.to_string().contains("eu-west-9 is not in the config's regions"), "{error}");
    let none = Plan::new(&config, &assembly, &RegionSelection::default(), &DeployOptions::default());
    assert_eq!(none.expect_err("nothing selected"), PlanError::NoRegion);
}

#[test]
fn options_over_cloudformation_limits_are_refused() {
    let refused = |options: DeployOptions| plan(2, options).expect_err("refused");
    assert_eq!(refused(DeployOptions { concurrency: 0, ..Default::default() }), PlanError::NoConcurrency);
    assert_eq!(
        refused(DeployOptions { monitoring_minutes: 181, ..Default::default() }),
        PlanError::MonitoringTooLong(181)
    );
    assert!(plan(2, DeployOptions { monitoring_minutes: 180, ..Default::default() }).is_ok());
    let many: Vec<String> = (0..51).map(|i| format!("k{i}=v")).collect();
    assert_eq!(refused(DeployOptions { tags: many, ..Default::default() }), PlanError::TooManyTags(51));
    for tag in ["novalue", "=v", "aws:owner=me", "a=1"] {
        let tags = if tag == "a=1" { vec![tag.into(), tag.into()] } else { vec![tag.into()] };
        assert!(matches!(refused(DeployOptions { tags, ..Default::default() }), PlanError::BadTag(..)), "{tag}");
    }
    for arn in ["arn:aws:iam::123:role/x", "arn:aws:iam::123456789012:user/x", "role/x"] {
        let options = DeployOptions { role_arn: Some(arn.into()), ..Default::default() };
        assert!(matches!(refused(options), PlanError::BadRoleArn(_)), "{arn}");
    }
}

#[test]
fn tags_role_and_topics_are_kept_and_topics_go_to_their_own_region() {
    let (config, assembly) = app(2);
    let regions: Vec<String> = config.region_names().map(str::to_owned).collect();
    let topic = |region: &str, name: &str| format!("arn:aws:sns:{region}:123456789012:{name}");
    let options = DeployOptions {
        tags: vec!["team=orders".into(), "cost-centre=42".into()],
        role_arn: Some("arn:aws:iam::123456789012:role/cfn-deployer".into()),
        notification_arns: vec![topic(&regions[0], "a"), topic(&regions[1], "b")],
        ..DeployOptions::default()
    };
    let plan = Plan::new(&config, &assembly, &all(), &options).expect("plan");
    assert_eq!(plan.tags, [("team".into(), "orders".into()), ("cost-centre".into(), "42".into())]);
    assert_eq!(plan.role_arn.as_deref(), Some("arn:aws:iam::123456789012:role/cfn-deployer"));
    assert_eq!(plan.notification_arns[&regions[0]], [topic(&regions[0], "a")]);
    assert_eq!(plan.notification_arns[&regions[1]], [topic(&regions[1], "b")]);

    let six: Vec<String> = (0..6).map(|i| topic(&regions[0], &format!("t{i}"))).collect();
    let error = plan_error(&config, &assembly, DeployOptions { notification_arns: six, ..Default::default() });
    assert!(matches!(error, PlanError::TooManyNotificationArns { count: 6, .. }), "{error}");
    let elsewhere = vec![topic("sa-east-1", "x")];
    let error = plan_error(&config, &assembly, DeployOptions { notification_arns: elsewhere, ..Default::default() });
    assert!(error.to_string().contains("sa-east-1 is not one of the app's regions"), "{error}");
}

fn plan_error(config: &AppConfig, assembly: &Assembly, options: DeployOptions) -> PlanError {
    Plan::new(config, assembly, &all(), &options).expect_err("refused")
}
