//! `[dns]` against the local emulator: the hosted zone of the shared name is created there, and
//! the dns stack's health checks and records are real Route53 resources that `status` reads.

use crate::support::{all_are, artifacts, deploy_all, never, results, session};
use engine::deploy::StackOutcome;
use engine::route53::ROUTE53_REGION;
use engine::status::{HealthVerdict, RecordRouting, StatusOptions, Verdict, gather};
use engine::testing::emulator;
use stacks::AppConfig;

/// A config for `app` over `regions` (the first is home) with `[dns]` routed by `routing`.
pub fn dns_config(app: &str, regions: &[&str], routing: &str) -> AppConfig {
    let mut text = format!("app = \"{app}\"\nhome = \"{}\"\n", regions[0]);
    for region in regions {
        text.push_str(&format!(
            "\n[[region]]\nname = \"{region}\"\ncertificate_arn = \"arn:aws:acm:{region}:123456789012:certificate/{app}\"\n"
        ));
    }
    text.push_str(&format!(
        "\n[dns]\ndomain = \"api.{app}.example.com\"\nhosted_zone_id = \"Z0000000000000000000\"\nrouting = \
         \"{routing}\"\n"
    ));
    text.push_str("\n[[projection]]\nname = \"audit\"\nkind = \"s3-audit\"\n");
    AppConfig::from_toml("test.toml", &text).expect("valid test config")
}

#[tokio::test]
async fn dns_is_deployed_on_the_emulator_in_a_hosted_zone_it_creates() {
    let emulator = emulator();
    let app = "dnslat1";
    let session = session(&emulator, dns_config(app, &["us-east-1", "eu-west-1"], "latency")).await;
    let note = session.notes.iter().find(|n| n.contains("[dns] deployed")).expect("the notes say what is emulated");
    assert!(note.contains("custom domains are left out"), "{note}");
    let domain = format!("api.{app}.example.com");
    let route53 = session.aws.route53(ROUTE53_REGION);
    let zones = route53.list_hosted_zones_by_name().send().await.expect("zones");
    let parent = format!("{app}.example.com.");
    let zone = zones.hosted_zones().iter().find(|z| z.name() == parent).expect("the parent zone was created");
    let zone_id = engine::route53::zone::bare_id(zone.id());
    assert_eq!(session.config.dns.as_ref().map(|d| d.hosted_zone_id.as_str()), Some(zone_id.as_str()));

    let report = deploy_all(&session, &artifacts(app), &never()).await;
    assert!(all_are(&report, &StackOutcome::Created), "{:#?}", results(&report));
    assert!(report.stacks.iter().any(|s| s.stack == format!("{app}-dns-us-east-1")), "{:#?}", results(&report));

    let status = gather(&session, &StatusOptions::default()).await.expect("status");
    assert_eq!(status.verdict(), Verdict::Healthy, "{}", engine::status::text(&status));
    for region in ["us-east-1", "eu-west-1"] {
        let found = status.region(region).expect("region");
        let check = found.health_check.as_ref().expect("a health check per region");
        assert_eq!(check.verdict, HealthVerdict::Healthy);
        let described = route53.get_health_check().health_check_id(&check.id).send().await.expect("a real check");
        let config = described.health_check().and_then(|c| c.health_check_config()).expect("config");
        assert_eq!(config.resource_path(), Some("/health"));
        assert_eq!(found.records.len(), 1, "{:?}", found.records);
        let record = &found.records[0];
        assert_eq!(record.name, domain);
        assert_eq!(record.routing, RecordRouting::Latency { region: region.to_owned() });
        assert_eq!(record.health_check_id.as_deref(), Some(check.id.as_str()));
    }

    // A second session finds the zone instead of creating another.
    let again = crate::support::session(&emulator, dns_config(app, &["us-east-1", "eu-west-1"], "latency")).await;
    assert_eq!(again.config.dns.as_ref().map(|d| d.hosted_zone_id.clone()), Some(zone_id));
    let redeploy = deploy_all(&again, &artifacts(app), &never()).await;
    assert!(all_are(&redeploy, &StackOutcome::NoChanges), "{:#?}", results(&redeploy));
}

#[tokio::test]
async fn a_failover_chain_on_the_emulator_has_its_tiers_and_aliases() {
    let emulator = emulator();
    let app = "dnsfo1";
    let session = session(&emulator, dns_config(app, &["us-east-2", "eu-west-2", "ap-south-1"], "failover")).await;
    deploy_all(&session, &artifacts(app), &never()).await;
    let status = gather(&session, &StatusOptions::default()).await.expect("status");
    assert_eq!(status.verdict(), Verdict::Healthy, "{}", engine::status::text(&status));
    let domain = format!("api.{app}.example.com");
    let primary = &status.region("us-east-2").expect("first tier").records;
    assert_eq!(primary.len(), 1, "{primary:?}");
    assert_eq!(
        (primary[0].name.as_str(), &primary[0].routing),
        (domain.as_str(), &RecordRouting::Failover { role: "PRIMARY".into() })
    );
    let second = &status.region("eu-west-2").expect("second tier").records;
    assert_eq!(second[0].name, format!("failover-1.{domain}"));
    let last = &status.region("ap-south-1").expect("last tier").records;
    assert_eq!(last[0].routing, RecordRouting::Failover { role: "SECONDARY".into() });
    let route53 = session.aws.route53(ROUTE53_REGION);
    let zone = &session.config.dns.as_ref().expect("dns").hosted_zone_id;
    let records = engine::status::records(&route53, zone, &domain).await.expect("records");
    let alias = records.iter().find(|r| r.set_identifier == "failover-1").expect("the tier-0 SECONDARY alias");
    assert_eq!(alias.alias_target.as_deref(), Some(format!("failover-1.{domain}").as_str()));
    assert!(alias.evaluate_target_health);
}
