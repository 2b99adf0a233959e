//! `cargo xtask takeover --from R --to S`: when region R is lost, the events it recorded that
//! reached S's replica but that R's publisher never put on its stream are published by S
//! (`published_by` S), from R's publisher watermark less a safety margin ([`run::DEFAULT_MARGIN`]);
//! duplicates are possible and counted, loss is not. [`check`] refuses what must not run before
//! any AWS call, [`check_health`] against the status; [`run::take_over`] is the run, shared with
//! the local runtime's automatic takeover; [`position`] is how far it got.

pub mod position;
pub mod run;

pub use position::{Position, PositionTable};
pub use run::{DEFAULT_MARGIN, Report, Settings, Targets, take_over};

use crate::aws::Aws;
use crate::status::Status;
use domain::holds::HoldTable;
use domain::store::EventStore;
use publisher::{KinesisSink, WatermarkTable};
use stacks::AppConfig;
use stacks::app::{event_log_table_name, event_stream_name, idempotency_table_name};

/// What the operator asked for.
#[derive(Debug, Clone)]
pub struct TakeoverOptions {
    /// The lost region.
    pub from: String,
    /// The surviving region that publishes its events.
    pub to: String,
    /// Run although `from` still looks healthy.
    pub force: bool,
    /// Margin and rate.
    pub settings: Settings,
}

/// A takeover that must not run.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum Refusal {
    /// `--from` and `--to` name the same region.
    #[error("--from and --to are both {0}: a region cannot take over its own events; pass a surviving region as --to")]
    SameRegion(String),
    /// A region that is not configured.
    #[error("{flag} {region} is not in regions.toml; pass one of: {configured}")]
    UnknownRegion {
        /// `--from` or `--to`.
        flag: &'static str,
        /// What was asked.
        region: String,
        /// The configured regions.
        configured: String,
    },
    /// `--to` has no region stack (no stream to publish on).
    #[error(
        "--to {0} has no deployed region stack: deploy it (`cargo xtask deploy --region {0}`) or pick another region"
    )]
    NotDeployed(String),
    /// `--to` is not healthy.
    #[error("--to {region} is not healthy ({findings}); pick a healthy region, see `cargo xtask status`")]
    Unhealthy {
        /// The region.
        region: String,
        /// Why.
        findings: String,
    },
    /// `--from` still looks healthy: its publisher may be running.
    #[error(
        "--from {0} still looks healthy: its publisher may still be publishing, so every event it publishes from \
         now on and every event past its watermark would go out twice (once by each region; consumers drop \
         duplicates, but the streams carry both). If {0} is lost even though its health check passes, run again \
         with --force"
    )]
    FromHealthy(String),
}

/// Checks the names against the configuration; no AWS call.
pub fn check(config: &AppConfig, options: &TakeoverOptions) -> Result<(), Refusal> {
    if options.from == options.to {
        return Err(Refusal::SameRegion(options.from.clone()));
    }
    let configured: Vec<&str> = config.region_names().collect();
    for (flag, region) in [("--from", &options.from), ("--to", &options.to)] {
        if !configured.contains(&region.as_str()) {
            return Err(Refusal::UnknownRegion { flag, region: region.clone(), configured: configured.join(", ") });
        }
    }
    Ok(())
}

/// Checks the regions' health: `to` deployed and healthy, `from` not healthy unless forced.
pub fn check_health(status: &Status, options: &TakeoverOptions) -> Result<(), Refusal> {
    let to = status.region(&options.to);
    let region_part = stacks::StackPart::Region.as_str();
    let deployed = to.is_some_and(|r| r.stacks.iter().any(|s| s.part == region_part && s.state.is_some()));
    if !deployed {
        return Err(Refusal::NotDeployed(options.to.clone()));
    }
    if let Some(to) = to.filter(|r| !r.is_healthy()) {
        return Err(Refusal::Unhealthy { region: to.region.clone(), findings: to.findings.join("; ") });
    }
    if !options.force && status.region(&options.from).is_some_and(|r| r.is_healthy()) {
        return Err(Refusal::FromHealthy(options.from.clone()));
    }
    Ok(())
}

/// The surviving region's resources of app `app`, as deployed by the kit.
pub fn targets(aws: &Aws, app: &str, from: &str, to: &str) -> Targets {
    targets_with(aws.dynamodb(to), aws.kinesis(to), app, from, to)
}

/// [`targets`] over clients of the surviving region `to` made elsewhere (the local runtime's).
pub fn targets_with(
    dynamodb: aws_sdk_dynamodb::Client,
    kinesis: aws_sdk_kinesis::Client,
    app: &str,
    from: &str,
    to: &str,
) -> Targets {
    let idempotency = idempotency_table_name(app);
    Targets {
        origin: from.to_owned(),
        by: to.to_owned(),
        log: EventStore::new(dynamodb.clone(), event_log_table_name(app)),
        sink: KinesisSink::new(kinesis, event_stream_name(app)),
        watermark: WatermarkTable::new(dynamodb.clone(), idempotency.clone(), from),
        holds: HoldTable::new(dynamodb.clone(), idempotency.clone(), from),
        position: PositionTable::new(dynamodb, idempotency, from),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::status::{Drift, RegionStatus, StackStatus};

    fn options(from: &str, to: &str, force: bool) -> TakeoverOptions {
        TakeoverOptions { from: from.into(), to: to.into(), force, settings: Settings::default() }
    }

    fn config() -> AppConfig {
        let text = "app = \"orders\"\nhome = \"us-east-1\"\n\n[[region]]\nname = \"us-east-1\"\n\n[[region]]\nname = \"eu-west-1\"\n";
        AppConfig::from_toml("regions.toml", text).unwrap()
    }

    fn region(name: &str, deployed: bool, findings: &[&str]) -> RegionStatus {
        let stack = StackStatus {
            name: format!("orders-region-{name}"),
            part: "region",
            expected: true,
            state: deployed.then(|| "UPDATE_COMPLETE".to_owned()),
            drift: Drift::NotCompared,
        };
        RegionStatus {
            region: name.into(),
            configured: true,
            stacks: vec![stack],
            health_check: None,
            records: Vec::new(),
            consumers: Vec::new(),
            queues: Vec::new(),
            watermark: None,
            taken_over: None,
            findings: findings.iter().map(|f| (*f).to_owned()).collect(),
        }
    }

    fn status(regions: Vec<RegionStatus>) -> Status {
        Status { app: "orders".into(), domain: None, regions, notes: Vec::new(), not_served: Vec::new() }
    }

    #[test]
    fn names_are_refused_before_any_call_with_the_fix() {
        let config = config();
        let same = check(&config, &options("eu-west-1", "eu-west-1", false)).unwrap_err();
        assert_eq!(same, Refusal::SameRegion("eu-west-1".into()));
        assert!(same.to_string().contains("pass a surviving region"));
        let unknown = check(&config, &options("eu-west-1", "ap-south-1", false)).unwrap_err().to_string();
        assert!(
            unknown.contains("--to ap-south-1 is not in regions.toml; pass one of: us-east-1, eu-west-1"),
            "{unknown}"
        );
        assert!(check(&config, &options("eu-west-1", "us-east-1", false)).is_ok());
    }

    #[test]
    fn the_survivor_must_be_deployed_and_healthy_and_a_healthy_origin_needs_force() {
        let lost = region("eu-west-1", true, &["health check abc is Unhealthy"]);
        let to = options("eu-west-1", "us-east-1", false);
        let undeployed = status(vec![region("us-east-1", false, &[]), lost.clone()]);
        assert_eq!(check_health(&undeployed, &to), Err(Refusal::NotDeployed("us-east-1".into())));
        let sick = status(vec![region("us-east-1", true, &["PublisherDlq holds 2 message(s)"]), lost.clone()]);
        assert!(matches!(check_health(&sick, &to), Err(Refusal::Unhealthy { .. })));
        assert_eq!(check_health(&status(vec![region("us-east-1", true, &[]), lost]), &to), Ok(()));

        let healthy_origin = status(vec![region("us-east-1", true, &[]), region("eu-west-1", true, &[])]);
        let refused = check_health(&healthy_origin, &to).unwrap_err();
        assert_eq!(refused, Refusal::FromHealthy("eu-west-1".into()));
        assert!(refused.to_string().contains("--force") && refused.to_string().contains("twice"), "{refused}");
        assert_eq!(check_health(&healthy_origin, &options("eu-west-1", "us-east-1", true)), Ok(()));
    }
}
