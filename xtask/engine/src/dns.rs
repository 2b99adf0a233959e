//! The dns stack's parameters: each region's own API hostname (its health check probes
//! `<api-id>.execute-api.<region>.amazonaws.com/health`) and its custom domain's target (its record
//! answers with it), read from the deployed region stacks. The IDs come from the stack's resources
//! (`ListStackResources`: the HTTP API's physical ID is the API ID, the custom domain's is the
//! domain name), not its Outputs, which the local emulator does not show after a change set runs;
//! the domain's target comes from API Gateway (`GetDomainName`, `ApiGatewayDomainName`).

use crate::aws::Aws;
use crate::review::Params;
use anyhow::{Context, Result, bail};
use stacks::app::{HTTP_API, api_hostname_parameter, domain_target_parameter, http_api_domain, stack_name};
use stacks::{AppConfig, StackPart};
use std::collections::BTreeMap;

/// What the dns stack needs of one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionEndpoints {
    /// `<api-id>.execute-api.<region>.amazonaws.com`.
    pub api_hostname: String,
    /// `d-<id>.execute-api.<region>.amazonaws.com`.
    pub domain_target: String,
}

/// Every parameter of the dns stack, resolved region by region.
pub async fn parameters(aws: &Aws, config: &AppConfig) -> Result<Params> {
    resolve(config, |region| (aws.cloudformation(region), aws.apigatewayv2(region))).await
}

/// [`parameters`] with the clients of each region from `clients`.
async fn resolve(
    config: &AppConfig,
    clients: impl Fn(&str) -> (aws_sdk_cloudformation::Client, aws_sdk_apigatewayv2::Client),
) -> Result<Params> {
    let mut parameters = Params::new();
    for region in config.region_names() {
        let stack = stack_name(config, StackPart::Region, region);
        let (cfn, apigw) = clients(region);
        let endpoints = region_endpoints(&cfn, &apigw, &stack, region).await?;
        parameters.insert(api_hostname_parameter(region), endpoints.api_hostname);
        parameters.insert(domain_target_parameter(region), endpoints.domain_target);
    }
    Ok(parameters)
}

/// The endpoints of `region`, from its deployed region stack `stack`.
pub async fn region_endpoints(
    cfn: &aws_sdk_cloudformation::Client,
    apigw: &aws_sdk_apigatewayv2::Client,
    stack: &str,
    region: &str,
) -> Result<RegionEndpoints> {
    let physical = physical_ids(cfn, stack, region).await.context("deploy that region before the dns stack")?;
    let domain_id = http_api_domain();
    let (Some(api_id), Some(domain)) = (physical.get(HTTP_API), physical.get(&domain_id)) else {
        bail!(
            "{stack} in {region} has no {HTTP_API} and {domain_id} resources; deploy it with [dns] configured \
             (`cargo xtask deploy --region {region}`) before the dns stack"
        );
    };
    let described =
        apigw.get_domain_name().domain_name(domain).send().await.with_context(|| {
            format!("describing the custom domain {domain} in {region} (API Gateway GetDomainName)")
        })?;
    let target = described
        .domain_name_configurations()
        .iter()
        .find_map(|configuration| configuration.api_gateway_domain_name())
        .with_context(|| format!("the custom domain {domain} in {region} has no regional target yet"))?;
    Ok(RegionEndpoints {
        api_hostname: format!("{api_id}.execute-api.{region}.amazonaws.com"),
        domain_target: target.to_owned(),
    })
}

/// Logical ID → physical ID of every resource of `stack`.
pub(crate) async fn physical_ids(
    cfn: &aws_sdk_cloudformation::Client,
    stack: &str,
    region: &str,
) -> Result<BTreeMap<String, String>> {
    let mut ids = BTreeMap::new();
    let mut pages = cfn.list_stack_resources().stack_name(stack).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.with_context(|| format!("listing the resources of {stack} in {region}"))?;
        for resource in page.stack_resource_summaries() {
            if let (Some(logical), Some(physical)) = (resource.logical_resource_id(), resource.physical_resource_id()) {
                ids.insert(logical.to_owned(), physical.to_owned());
            }
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    //! Against CloudFormation's and API Gateway's documented responses, with mocked clients:
    //! the local emulator has no API Gateway v2 resources in its stacks.

    use super::{RegionEndpoints, region_endpoints, resolve};
    use crate::testing::stack_resource as resource;
    use aws_sdk_apigatewayv2::operation::get_domain_name::GetDomainNameOutput;
    use aws_sdk_apigatewayv2::types::DomainNameConfiguration;
    use aws_sdk_cloudformation::operation::list_stack_resources::ListStackResourcesOutput;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    #[tokio::test]
    async fn endpoints_come_from_the_region_stacks_resources_and_the_domains_target() {
        let listed = mock!(aws_sdk_cloudformation::Client::list_stack_resources)
            .match_requests(|request| request.stack_name() == Some("shop-region-eu-west-1"))
            .then_output(|| {
                ListStackResourcesOutput::builder()
                    .stack_resource_summaries(resource("EventStream", "shop-events", "AWS::Kinesis::Stream"))
                    .stack_resource_summaries(resource("HttpApi", "a1b2c3d4e5", "AWS::ApiGatewayV2::Api"))
                    .stack_resource_summaries(resource(
                        "HttpApiDomain",
                        "api.shop.example.com",
                        "AWS::ApiGatewayV2::DomainName",
                    ))
                    .build()
            });
        let domain = mock!(aws_sdk_apigatewayv2::Client::get_domain_name)
            .match_requests(|request| request.domain_name() == Some("api.shop.example.com"))
            .then_output(|| {
                let configuration = DomainNameConfiguration::builder()
                    .api_gateway_domain_name("d-xyz987.execute-api.eu-west-1.amazonaws.com")
                    .hosted_zone_id("ZLY8HYME6SFDD")
                    .build();
                GetDomainNameOutput::builder().domain_name_configurations(configuration).build()
            });
        let cfn = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, [&listed]);
        let apigw = mock_client!(aws_sdk_apigatewayv2, RuleMode::MatchAny, [&domain]);
        let endpoints = region_endpoints(&cfn, &apigw, "shop-region-eu-west-1", "eu-west-1").await.expect("resolved");
        assert_eq!(
            endpoints,
            RegionEndpoints {
                api_hostname: "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com".into(),
                domain_target: "d-xyz987.execute-api.eu-west-1.amazonaws.com".into(),
            }
        );
        assert_eq!((listed.num_calls(), domain.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn every_parameter_of_the_synthesized_dns_stack_is_resolved_from_each_region_stack() {
        let text = include_str!("../../../regions.toml");
        let config = stacks::AppConfig::from_toml("regions.toml", text).expect("the example config is valid");
        let assembly = stacks::synthesize(&config).expect("synthesizes");
        let dns = assembly.stacks.iter().find(|s| s.part == stacks::StackPart::Dns).expect("a dns stack");
        let listed = mock!(aws_sdk_cloudformation::Client::list_stack_resources).then_output(|| {
            ListStackResourcesOutput::builder()
                .stack_resource_summaries(resource("HttpApi", "a1b2c3d4e5", "AWS::ApiGatewayV2::Api"))
                .stack_resource_summaries(resource(
                    "HttpApiDomain",
                    "api.orders.example.com",
                    "AWS::ApiGatewayV2::DomainName",
                ))
                .build()
        });
        let domain = mock!(aws_sdk_apigatewayv2::Client::get_domain_name).then_output(|| {
            let configuration = DomainNameConfiguration::builder().api_gateway_domain_name("d-xyz987.example").build();
            GetDomainNameOutput::builder().domain_name_configurations(configuration).build()
        });
        let parameters = resolve(&config, |_| {
            (
                mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, [&listed]),
                mock_client!(aws_sdk_apigatewayv2, RuleMode::MatchAny, [&domain]),
            )
        })
        .await
        .expect("resolved");
        let declared: Vec<&String> = dns.template.parameters().keys().collect();
        assert_eq!(parameters.keys().collect::<Vec<_>>(), declared);
        assert_eq!(parameters["ApSoutheast2ApiHostname"], "a1b2c3d4e5.execute-api.ap-southeast-2.amazonaws.com");
        assert_eq!(listed.num_calls(), config.regions.len(), "one listing per region stack");
    }

    #[tokio::test]
    async fn a_region_stack_without_a_custom_domain_is_named_with_the_fix() {
        let listed = mock!(aws_sdk_cloudformation::Client::list_stack_resources).then_output(|| {
            ListStackResourcesOutput::builder()
                .stack_resource_summaries(resource("HttpApi", "a1b2c3d4e5", "AWS::ApiGatewayV2::Api"))
                .build()
        });
        let domain =
            mock!(aws_sdk_apigatewayv2::Client::get_domain_name).then_output(|| GetDomainNameOutput::builder().build());
        let cfn = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, [&listed]);
        let apigw = mock_client!(aws_sdk_apigatewayv2, RuleMode::MatchAny, [&domain]);
        let error = region_endpoints(&cfn, &apigw, "shop-region-eu-west-1", "eu-west-1")
            .await
            .expect_err("no custom domain in the stack");
        let message = error.to_string();
        assert!(message.contains("shop-region-eu-west-1 in eu-west-1 has no HttpApi and HttpApiDomain"), "{message}");
        assert!(message.contains("cargo xtask deploy --region eu-west-1"), "{message}");
        assert_eq!(domain.num_calls(), 0, "API Gateway is not asked about a domain the stack does not have");
    }
}
