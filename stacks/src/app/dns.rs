//! The `dns` stack, home region only, deployed after every region stack: each region's Route53
//! health check and every record under the shared name. Route53 is global, so one stack holds
//! them all and a change of routing, TTL or weights reaches Route53 in one stack update instead of
//! one region at a time. A template cannot read another region's stack, so the deployer passes
//! each region's endpoints in as parameters.

use crate::cfn::{Expr, Output, Parameter, Template};
use crate::config::{AppConfig, DnsConfig, Routing};
use crate::constructs::dns::{self, Endpoint, HealthCheckProps, RoutingPolicy, SharedNameProps};
use crate::constructs::pascal_case;

/// Logical ID of the records under the shared name (failover tiers add `ApiRecordsTier<k>`).
pub const SHARED_RECORDS: &str = "ApiRecords";

/// Parameter carrying `region`'s own API hostname (`<api-id>.execute-api.<region>.amazonaws.com`),
/// which its health check probes.
pub fn api_hostname_parameter(region: &str) -> String {
    format!("{}ApiHostname", pascal_case(region))
}

/// Parameter carrying the target of `region`'s custom domain (`d-….execute-api.<region>.amazonaws.com`),
/// which its record under the shared name answers with.
pub fn domain_target_parameter(region: &str) -> String {
    format!("{}DomainTarget", pascal_case(region))
}

/// Logical ID of `region`'s health check.
pub fn health_check_id(region: &str) -> String {
    format!("HealthCheck{}", pascal_case(region))
}

pub(super) fn template(config: &AppConfig, settings: &DnsConfig) -> Template {
    let regions = match settings.routing {
        Routing::Failover => config.failover_chain(),
        Routing::Latency | Routing::Weighted => config.regions.iter().collect(),
    };
    let names: Vec<&str> = regions.iter().map(|r| r.name.as_str()).collect();
    let mut template = Template::new(format!(
        "{} dns ({} home): health checks and {} records for {} over {}",
        config.app,
        config.home,
        routing_name(settings.routing),
        settings.domain,
        names.join(", ")
    ));
    let health = HealthCheckProps {
        interval_seconds: settings.health_check_interval,
        failure_threshold: settings.failure_threshold,
    };
    let mut endpoints = Vec::with_capacity(regions.len());
    for region in regions {
        let (hostname, target) = endpoint_parameters(&mut template, &region.name);
        let id = health_check_id(&region.name);
        let check = dns::health_check(&mut template, &id, format!("{}-{}", config.app, region.name), hostname, health);
        template.output(
            format!("{id}Id"),
            Output {
                description: format!("Route53 health check of {} (drills invert it)", region.name),
                value: check.reference(),
                export: None,
            },
        );
        endpoints.push(Endpoint { region: region.name.clone(), target, health_check: check, weight: region.weight });
    }
    let routing = match settings.routing {
        Routing::Latency => RoutingPolicy::Latency,
        Routing::Weighted => RoutingPolicy::Weighted,
        Routing::Failover => RoutingPolicy::FailoverChain,
    };
    dns::shared_name(
        &mut template,
        SHARED_RECORDS,
        SharedNameProps {
            zone_id: settings.hosted_zone_id.clone(),
            name: settings.domain.clone(),
            ttl: settings.ttl,
            routing,
            endpoints: &endpoints,
        },
    );
    template
}

fn routing_name(routing: Routing) -> &'static str {
    match routing {
        Routing::Latency => "latency",
        Routing::Weighted => "weighted",
        Routing::Failover => "failover-chain",
    }
}

/// The two parameters of `region`: its API hostname and its custom domain's target.
fn endpoint_parameters(template: &mut Template, region: &str) -> (Expr, Expr) {
    let hostname = template.parameter(
        api_hostname_parameter(region),
        Parameter {
            kind: "String".into(),
            description: format!("{region}'s own API hostname (region stack HttpApi), probed by its health check"),
            allowed_pattern: Some(format!(r"^[a-z0-9]+\.execute-api\.{region}\.amazonaws\.com$")),
            constraint_description: Some(format!("<api-id>.execute-api.{region}.amazonaws.com")),
            min_length: None,
        },
    );
    let target = template.parameter(
        domain_target_parameter(region),
        Parameter {
            kind: "String".into(),
            description: format!("Target of {region}'s regional custom domain, which its record answers with"),
            allowed_pattern: Some(format!(r"^d-[a-z0-9]+\.execute-api\.{region}\.amazonaws\.com$")),
            constraint_description: Some(format!("d-<id>.execute-api.{region}.amazonaws.com")),
            min_length: None,
        },
    );
    (hostname.reference(), target.reference())
}
