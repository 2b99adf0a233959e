//! Taking a region out of the shared name and putting it back. `health-check` inverts the
//! region's Route53 health check (`UpdateHealthCheck`, `Inverted`: Route53 then considers it
//! unhealthy while the endpoint is healthy; Route 53 developer guide, "Inverting health checks");
//! `app-flag` sets the region's drill flag (SSM `PutParameter`) so its `/health` answers 503 and
//! Route53's checkers see the failure end to end. Each injection remembers what it replaced, so
//! restoring puts exactly that back.

use crate::aws::Aws;
use crate::route53::ROUTE53_REGION;
use anyhow::{Context, Result};
use aws_sdk_ssm::types::ParameterType;
use serde::Serialize;

/// How a drill takes the region out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Invert the region's Route53 health check.
    HealthCheck,
    /// Set the region's drill flag so its `/health` fails.
    AppFlag,
}

/// An injection in place, with what it replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Injection {
    /// The health check `id` was inverted; it was `was_inverted` before.
    HealthCheck {
        /// The health check's ID.
        id: String,
        /// Its `Inverted` before the drill.
        was_inverted: bool,
    },
    /// The drill flag `name` (in `region`) was set; `previous` is its value before, if any.
    AppFlag {
        /// The parameter's region.
        region: String,
        /// `/<app>/drill/<region>`.
        name: String,
        /// Its value before the drill; `None`: it did not exist.
        previous: Option<String>,
    },
}

/// Inverts the health check `id`.
pub async fn invert(aws: &Aws, id: &str) -> Result<Injection> {
    let route53 = aws.route53(ROUTE53_REGION);
    let described = route53.get_health_check().health_check_id(id).send().await;
    let described = described.with_context(|| format!("reading health check {id} (GetHealthCheck)"))?;
    let was_inverted =
        described.health_check().and_then(|c| c.health_check_config()).and_then(|c| c.inverted()).unwrap_or(false);
    set_inverted(aws, id, true).await?;
    Ok(Injection::HealthCheck { id: id.to_owned(), was_inverted })
}

/// Sets the drill flag `name` in `region` to fail `/health`.
pub async fn raise_flag(aws: &Aws, region: &str, name: &str) -> Result<Injection> {
    let ssm = aws.ssm(region);
    let previous = match ssm.get_parameter().name(name).send().await {
        Ok(found) => found.parameter().and_then(|p| p.value()).map(str::to_owned),
        Err(error) if error.as_service_error().is_some_and(|e| e.is_parameter_not_found()) => None,
        Err(error) => return Err(error).with_context(|| format!("reading {name} in {region} (GetParameter)")),
    };
    put(aws, region, name, contract::drill::FAIL).await?;
    Ok(Injection::AppFlag { region: region.to_owned(), name: name.to_owned(), previous })
}

/// Puts back what the injection replaced.
pub async fn restore(aws: &Aws, injection: &Injection) -> Result<()> {
    match injection {
        Injection::HealthCheck { id, was_inverted } => set_inverted(aws, id, *was_inverted).await,
        Injection::AppFlag { region, name, previous: Some(value) } => put(aws, region, name, value).await,
        Injection::AppFlag { region, name, previous: None } => {
            let deleted = aws.ssm(region).delete_parameter().name(name).send().await;
            deleted.with_context(|| format!("deleting the drill flag {name} in {region} (DeleteParameter)"))?;
            Ok(())
        }
    }
}

async fn set_inverted(aws: &Aws, id: &str, inverted: bool) -> Result<()> {
    let route53 = aws.route53(ROUTE53_REGION);
    let updated = route53.update_health_check().health_check_id(id).inverted(inverted).send().await;
    updated.with_context(|| format!("setting Inverted={inverted} on health check {id} (UpdateHealthCheck)"))?;
    Ok(())
}

async fn put(aws: &Aws, region: &str, name: &str, value: &str) -> Result<()> {
    let request = aws.ssm(region).put_parameter().name(name).value(value).r#type(ParameterType::String).overwrite(true);
    request.send().await.with_context(|| format!("setting the drill flag {name} in {region} (PutParameter)"))?;
    Ok(())
}
