//! Properties of synthesis over random valid configurations of 1 to 30 regions.

use crate::support::resources_of;
use proptest::prelude::*;
use stacks::config::COMMERCIAL_REGIONS;
use stacks::{AppConfig, StackPart};
use std::fmt::Write;

/// A random valid configuration rendered as TOML.
fn config_text() -> impl Strategy<Value = String> {
    (
        proptest::sample::subsequence(COMMERCIAL_REGIONS.to_vec(), 1..=30),
        any::<proptest::sample::Index>(),
        0..4usize,
        0..3usize,
        proptest::collection::vec(0..2usize, 0..4),
        (1..1000u32, 0..3usize),
    )
        .prop_map(|(regions, home, routing, ranking, projections, (batch, alerts))| {
            let home = regions[home.index(regions.len())];
            let mut text = format!("app = \"prop\"\nhome = \"{home}\"\n");
            for (i, region) in regions.iter().enumerate() {
                let _ = write!(text, "\n[[region]]\nname = \"{region}\"\n");
                if routing > 0 {
                    let _ = writeln!(text, "certificate_arn = \"arn:aws:acm:{region}:123456789012:certificate/c{i}\"");
                }
                // Failover chains ranked by roles, by priorities (last region first), or by file order.
                match (routing, ranking, i) {
                    (2, 0, 0) => text.push_str("failover = \"primary\"\n"),
                    (2, 0, 1) => text.push_str("failover = \"secondary\"\n"),
                    (2, 1, _) => {
                        let _ = writeln!(text, "priority = {}", regions.len() - i);
                    }
                    (3, _, _) => {
                        let _ = writeln!(text, "weight = {}", i % 256);
                    }
                    _ => {}
                }
            }
            if routing > 0 {
                let policy = ["", "latency", "failover", "weighted"][routing];
                let _ = write!(
                    text,
                    "\n[dns]\ndomain = \"api.prop.example.com\"\nhosted_zone_id = \"ZPROP\"\nrouting = \"{policy}\"\n"
                );
            }
            let _ = write!(text, "\n[stream]\nbatch_size = {batch}\n");
            match alerts {
                1 => text.push_str("\n[alerts]\nemail = [\"a@example.com\", \"b@example.com\"]\n"),
                2 => text.push_str("\n[alerts]\ntopic_arn = \"arn:aws:sns:{region}:123456789012:ops\"\n"),
                _ => {}
            }
            for (i, kind) in projections.iter().enumerate() {
                let kind = ["s3-audit", "read-model"][*kind];
                let _ = write!(text, "\n[[projection]]\nname = \"p{i}\"\nkind = \"{kind}\"\n");
            }
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_valid_configs_synthesize_deterministically(text in config_text()) {
        let config = AppConfig::from_toml("prop.toml", &text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let first = stacks::synthesize(&config).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let second = stacks::synthesize(&config).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let dns_stacks = usize::from(config.dns.is_some());
        prop_assert_eq!(first.stacks.len(), config.regions.len() * 2 + 1 + dns_stacks);
        for (a, b) in first.stacks.iter().zip(&second.stacks) {
            prop_assert_eq!(&a.name, &b.name);
            prop_assert!(a.body == b.body, "{} differs between runs", a.name);
            prop_assert!(a.stats.resources <= 500);
        }
        let data: Vec<_> = first.stacks.iter().filter(|s| s.part == StackPart::Data).collect();
        prop_assert_eq!(data.len(), 1);
        prop_assert_eq!(&data[0].region, &config.home);
    }

    /// Whatever `[alerts]` says, every alarm of every region stack notifies one topic in its own
    /// region, on `ALARM` and on `OK`.
    #[test]
    fn every_alarm_notifies_a_topic_on_alarm_and_on_ok(text in config_text()) {
        let config = AppConfig::from_toml("prop.toml", &text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let assembly = stacks::synthesize(&config).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for stack in assembly.stacks.iter().filter(|s| s.part == StackPart::Region) {
            let template: serde_json::Value = serde_json::from_str(&stack.body).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let expected = match config.alerts.topic_arn_in(&stack.region) {
                Some(arn) => serde_json::json!([arn]),
                None => serde_json::json!([{"Ref": "AlarmTopic"}]),
            };
            for (id, alarm) in resources_of(&template, "AWS::CloudWatch::Alarm") {
                prop_assert_eq!(&alarm["AlarmActions"], &expected, "{} {}", stack.name, id);
                prop_assert_eq!(&alarm["OKActions"], &expected, "{} {}", stack.name, id);
            }
        }
    }

    /// Whatever the routing and ranking, the dns stack follows Route53's rules for records that
    /// share a name, and every region answers under the shared name.
    #[test]
    fn every_dns_stack_follows_route53_rules_and_serves_every_region(text in config_text()) {
        let config = AppConfig::from_toml("prop.toml", &text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let assembly = stacks::synthesize(&config).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for stack in assembly.stacks.iter().filter(|s| s.part == StackPart::Dns) {
            let template: serde_json::Value = serde_json::from_str(&stack.body).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let violations = crate::dns::route53_violations(&template);
            prop_assert!(violations.is_empty(), "{violations:?}\n{text}");
            let mut served: Vec<String> = resources_of(&template, "AWS::Route53::RecordSetGroup")
                .into_iter()
                .flat_map(|(_, group)| group["RecordSets"].as_array().cloned().unwrap_or_default())
                .filter_map(|record| record["ResourceRecords"][0]["Ref"].as_str().map(str::to_owned))
                .collect();
            served.sort();
            let mut expected: Vec<String> =
                config.region_names().map(stacks::app::domain_target_parameter).collect();
            expected.sort();
            prop_assert_eq!(served, expected);
        }
    }

    /// CloudFormation rejects a global table with more than one replica and no
    /// `StreamSpecification` (cfn-lint and the emulator accept it), so every generated config is
    /// checked for it.
    #[test]
    fn every_multi_replica_global_table_has_a_stream_specification(text in config_text()) {
        let config = AppConfig::from_toml("prop.toml", &text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let assembly = stacks::synthesize(&config).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for stack in &assembly.stacks {
            let template: serde_json::Value = serde_json::from_str(&stack.body).map_err(|e| TestCaseError::fail(e.to_string()))?;
            for (id, table) in resources_of(&template, "AWS::DynamoDB::GlobalTable") {
                let replicas = table["Replicas"].as_array().map_or(0, Vec::len);
                let view = table["StreamSpecification"]["StreamViewType"].as_str().unwrap_or_default();
                prop_assert!(replicas <= 1 || !view.is_empty(), "{} {id}: {replicas} replicas, no stream", stack.name);
            }
        }
    }
}
