//! An HTTP API (API Gateway v2) in front of one Lambda function, with access logs, throttling
//! and, when a certificate is configured, the regional custom domain (the `dns` stack's records
//! point at its target).

use super::function::RustFunction;
use crate::cfn::apigatewayv2::{
    AccessLogSettings, Api, ApiMapping, DomainName, DomainNameConfiguration, Integration, Route, RouteSettings, Stage,
};
use crate::cfn::lambda::Permission;
use crate::cfn::logs::LogGroup;
use crate::cfn::{Expr, Handle, Template};

/// Options of an [`HttpApi`].
#[derive(Debug, Clone)]
pub struct HttpApiProps<'a> {
    /// API name.
    pub name: String,
    /// Route keys (`METHOD /path`), all served by `handler`.
    pub routes: &'a [&'a str],
    /// The function serving every route.
    pub handler: &'a RustFunction,
    /// `(domain, certificate ARN)` of the regional custom domain.
    pub custom_domain: Option<(String, String)>,
    /// Retention of the access logs.
    pub log_retention_days: u32,
}

/// The API and, if configured, its custom domain.
#[derive(Debug, Clone)]
pub struct HttpApi {
    api: Handle<Api>,
}

/// The fields of one access-log line (JSON).
const ACCESS_LOG_FORMAT: &str = r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","time":"$context.requestTime","method":"$context.httpMethod","route":"$context.routeKey","status":"$context.status","latencyMs":"$context.responseLatency","integrationError":"$context.integrationErrorMessage"}"#;

impl HttpApi {
    /// Adds the API, one Lambda proxy integration, the routes, the `$default` stage with
    /// access logs, the invoke permission and the optional custom domain with its mapping.
    pub fn new(template: &mut Template, id: &str, props: HttpApiProps<'_>) -> Self {
        let api = template.add(
            id,
            Api {
                Name: Expr::Str(props.name.clone()),
                ProtocolType: "HTTP".into(),
                Description: Some(format!("{} commands, queries and health", props.name)),
                DisableExecuteApiEndpoint: None,
            },
        );
        let integration = template.add(
            format!("{id}Integration"),
            Integration {
                ApiId: api.reference(),
                IntegrationType: "AWS_PROXY".into(),
                IntegrationUri: props.handler.arn(),
                PayloadFormatVersion: "2.0".into(),
                TimeoutInMillis: Some(29_000),
            },
        );
        for route in props.routes {
            template.add(
                format!("{id}Route{}", route_id(route)),
                Route {
                    ApiId: api.reference(),
                    RouteKey: (*route).to_owned(),
                    Target: Expr::Join("/".into(), vec![Expr::str("integrations"), integration.reference()]),
                },
            );
        }
        let access_logs = template.add(
            format!("{id}AccessLogs"),
            LogGroup { LogGroupName: None, RetentionInDays: Some(props.log_retention_days), KmsKeyId: None },
        );
        let stage = template.add(
            format!("{id}DefaultStage"),
            Stage {
                ApiId: api.reference(),
                StageName: "$default".into(),
                AutoDeploy: Some(true),
                DefaultRouteSettings: Some(RouteSettings {
                    ThrottlingRateLimit: Some(1000.0),
                    ThrottlingBurstLimit: Some(2000),
                }),
                AccessLogSettings: Some(AccessLogSettings {
                    DestinationArn: access_logs.arn(),
                    Format: ACCESS_LOG_FORMAT.into(),
                }),
            },
        );
        template.add(
            format!("{id}InvokePermission"),
            Permission {
                Action: "lambda:InvokeFunction".into(),
                FunctionName: props.handler.name(),
                Principal: "apigateway.amazonaws.com".into(),
                SourceArn: Some(Expr::sub(format!(
                    "arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{{id}}}/*/*"
                ))),
                SourceAccount: None,
            },
        );
        if let Some((domain, certificate_arn)) = props.custom_domain {
            let domain = template.add(
                domain_id(id),
                DomainName {
                    DomainName: domain,
                    DomainNameConfigurations: vec![DomainNameConfiguration {
                        CertificateArn: certificate_arn,
                        EndpointType: "REGIONAL".into(),
                        SecurityPolicy: "TLS_1_2".into(),
                    }],
                },
            );
            template.add(
                format!("{id}DomainMapping"),
                ApiMapping { ApiId: api.reference(), DomainName: domain.reference(), Stage: stage.reference() },
            );
        }
        HttpApi { api }
    }

    /// The region-specific hostname of the API (`{id}.execute-api.{region}.amazonaws.com`),
    /// which is what a per-region health check must probe.
    pub fn regional_hostname(&self) -> Expr {
        Expr::sub(format!("${{{}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}", self.api.id()))
    }

    /// The API's own endpoint URL.
    pub fn endpoint(&self) -> Expr {
        self.api.api_endpoint()
    }
}

/// Logical ID of the custom domain of the API `api_id`; its physical ID is the domain name.
pub fn domain_id(api_id: &str) -> String {
    format!("{api_id}Domain")
}

/// `POST /tasks/{id}/commands` → `PostTasksIdCommands`.
fn route_id(route: &str) -> String {
    route
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let lower = part.to_ascii_lowercase();
            let mut chars = lower.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn route_ids_are_alphanumeric_and_distinct() {
        assert_eq!(super::route_id("POST /tasks/{id}/commands"), "PostTasksIdCommands");
        assert_eq!(super::route_id("GET /tasks/{id}"), "GetTasksId");
        assert_eq!(super::route_id("GET /health"), "GetHealth");
    }
}
