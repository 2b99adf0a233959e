//! Rollback triggers for a region stack's update: the region's own alarms, so an update that
//! trips one (during the operation or the monitoring time after it) rolls itself back before the
//! next wave starts, like the CDK's rollback triggers.
//!
//! CloudFormation's rules (API reference, `RollbackConfiguration` and `RollbackTrigger`): at most
//! 5 triggers of type `AWS::CloudWatch::Alarm` or `AWS::CloudWatch::CompositeAlarm`; "if a
//! specified trigger is missing, the entire stack operation fails and is rolled back". So the
//! triggers are alarms the new template keeps (an alarm the update deletes would go missing) and
//! that exist in the region now (an alarm the update creates does not exist yet), named literally
//! in the synthesized template, composite alarms first, then function errors, iterator age and the
//! rest, at most five.

use crate::aws::Aws;
use crate::stack::{MAX_ROLLBACK_TRIGGERS, RollbackAlarm, RollbackTriggers};
use anyhow::{Context, Result};
use aws_sdk_cloudwatch::types::AlarmType;
use serde_json::Value;

/// An alarm a template declares under a literal name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredAlarm {
    /// `AlarmName`.
    pub name: String,
    /// A composite alarm (`AWS::CloudWatch::CompositeAlarm`).
    pub composite: bool,
}

/// The alarms `template` declares with a literal `AlarmName`, in the order they are preferred
/// as rollback triggers.
pub fn declared_alarms(template: &Value) -> Vec<DeclaredAlarm> {
    let mut alarms: Vec<(u8, String, DeclaredAlarm)> = Vec::new();
    for (id, resource) in template["Resources"].as_object().into_iter().flatten() {
        let composite = match resource["Type"].as_str() {
            Some("AWS::CloudWatch::CompositeAlarm") => true,
            Some("AWS::CloudWatch::Alarm") => false,
            _ => continue,
        };
        let Some(name) = resource["Properties"]["AlarmName"].as_str() else { continue };
        let rank = match (composite, resource["Properties"]["MetricName"].as_str()) {
            (true, _) => 0,
            (false, Some("Errors")) => 1,
            (false, Some("IteratorAge")) => 2,
            _ => 3,
        };
        alarms.push((rank, id.clone(), DeclaredAlarm { name: name.to_owned(), composite }));
    }
    alarms.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    alarms.into_iter().map(|(_, _, alarm)| alarm).collect()
}

/// The triggers for updating a stack with `template` in `region`: its declared alarms that exist
/// there now, at most five. Also returns one line for the operator naming them and what was left
/// out.
pub async fn triggers(
    aws: &Aws,
    region: &str,
    template: &Value,
    monitoring_minutes: u32,
) -> Result<(Option<RollbackTriggers>, String)> {
    let declared = declared_alarms(template);
    if declared.is_empty() {
        return Ok((None, format!("{region}: no alarms to guard the update with")));
    }
    let existing = existing_alarm_arns(aws, region, &declared).await?;
    let usable: Vec<(&DeclaredAlarm, String)> = declared
        .iter()
        .filter_map(|a| existing.iter().find(|(n, _)| *n == a.name).map(|(_, arn)| (a, arn.clone())))
        .collect();
    let chosen: Vec<RollbackAlarm> = usable
        .iter()
        .take(MAX_ROLLBACK_TRIGGERS)
        .map(|(alarm, arn)| RollbackAlarm { arn: arn.clone(), composite: alarm.composite })
        .collect();
    let names: Vec<&str> = usable.iter().take(MAX_ROLLBACK_TRIGGERS).map(|(a, _)| a.name.as_str()).collect();
    let mut line = format!(
        "{region}: rollback triggers {} (monitoring {monitoring_minutes} min after the update)",
        if names.is_empty() { "none".to_owned() } else { names.join(", ") }
    );
    let left_out = usable.len().saturating_sub(MAX_ROLLBACK_TRIGGERS);
    if left_out > 0 {
        line.push_str(&format!("; {left_out} more left out (CloudFormation takes {MAX_ROLLBACK_TRIGGERS})"));
    }
    let not_yet = declared.len() - usable.len();
    if not_yet > 0 {
        line.push_str(&format!("; {not_yet} not created yet (they guard the next update)"));
    }
    let triggers = (!chosen.is_empty()).then_some(RollbackTriggers { alarms: chosen, monitoring_minutes });
    Ok((triggers, line))
}

/// `(name, ARN)` of the declared alarms that exist in `region` (`DescribeAlarms` takes up to 100
/// names a call).
async fn existing_alarm_arns(aws: &Aws, region: &str, declared: &[DeclaredAlarm]) -> Result<Vec<(String, String)>> {
    let cloudwatch = aws.cloudwatch(region);
    let mut found = Vec::new();
    for chunk in declared.chunks(100) {
        let mut token = None;
        loop {
            let output = cloudwatch
                .describe_alarms()
                .set_alarm_names(Some(chunk.iter().map(|a| a.name.clone()).collect()))
                .alarm_types(AlarmType::MetricAlarm)
                .alarm_types(AlarmType::CompositeAlarm)
                .set_next_token(token)
                .send()
                .await
                .with_context(|| format!("reading the alarms of {region}"))?;
            let metric = output.metric_alarms().iter().filter_map(|a| Some((a.alarm_name()?, a.alarm_arn()?)));
            let composite = output.composite_alarms().iter().filter_map(|a| Some((a.alarm_name()?, a.alarm_arn()?)));
            found.extend(metric.chain(composite).map(|(n, arn)| (n.to_owned(), arn.to_owned())));
            token = output.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use stacks::config::sample_toml;

    #[test]
    fn a_region_stacks_alarms_are_read_from_its_template_errors_first() {
        let config = stacks::AppConfig::from_toml("t.toml", &sample_toml(2)).expect("config");
        let assembly = stacks::synthesize(&config).expect("synth");
        let region = assembly.stacks.iter().find(|s| s.part == stacks::StackPart::Region).expect("region stack");
        let template: Value = serde_json::from_str(&region.body).expect("JSON");
        let alarms = declared_alarms(&template);
        assert!(alarms.len() > MAX_ROLLBACK_TRIGGERS, "more alarms than triggers: {alarms:?}");
        let first_non_error = alarms.iter().position(|a| !a.name.ends_with("-errors")).expect("other alarms");
        assert!(alarms[..first_non_error].iter().all(|a| a.name.ends_with("-errors")), "{alarms:?}");
        assert!(alarms.iter().any(|a| a.name == "bench-publisher-iterator-age"), "{alarms:?}");
        assert!(alarms.iter().all(|a| a.name.starts_with("bench-") && !a.composite));
    }
}
