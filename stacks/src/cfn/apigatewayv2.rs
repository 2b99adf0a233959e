//! `AWS::ApiGatewayV2::*` resource types (HTTP APIs).

use super::{Expr, attributes, property, resource};

resource!(
    /// `AWS::ApiGatewayV2::Api`.
    Api, "AWS::ApiGatewayV2::Api", {
    /// API name.
    pub Name: Expr,
    /// `HTTP`.
    pub ProtocolType: String,
    /// What it serves.
    pub Description: Option<String>,
    /// Turn off the `execute-api` endpoint (only with a custom domain).
    pub DisableExecuteApiEndpoint: Option<bool>,
});

attributes!(Api {
    /// `https://{api-id}.execute-api.{region}.amazonaws.com`.
    api_endpoint => "ApiEndpoint",
});

resource!(
    /// `AWS::ApiGatewayV2::Integration`.
    Integration, "AWS::ApiGatewayV2::Integration", {
    /// The API.
    pub ApiId: Expr,
    /// `AWS_PROXY` for Lambda.
    pub IntegrationType: String,
    /// The function ARN.
    pub IntegrationUri: Expr,
    /// `2.0` for HTTP API Lambda proxy events.
    pub PayloadFormatVersion: String,
    /// Milliseconds (50 to 30,000).
    pub TimeoutInMillis: Option<u32>,
});

resource!(
    /// `AWS::ApiGatewayV2::Route`.
    Route, "AWS::ApiGatewayV2::Route", {
    /// The API.
    pub ApiId: Expr,
    /// `METHOD /path`.
    pub RouteKey: String,
    /// `integrations/{id}`.
    pub Target: Expr,
});

resource!(
    /// `AWS::ApiGatewayV2::Stage`.
    Stage, "AWS::ApiGatewayV2::Stage", {
    /// The API.
    pub ApiId: Expr,
    /// `$default`.
    pub StageName: String,
    /// Deploy every change automatically.
    pub AutoDeploy: Option<bool>,
    /// Throttling for every route.
    pub DefaultRouteSettings: Option<RouteSettings>,
    /// Access logs.
    pub AccessLogSettings: Option<AccessLogSettings>,
});

property!(
    /// `RouteSettings`.
    RouteSettings, {
    /// Steady-state requests per second.
    pub ThrottlingRateLimit: Option<f64>,
    /// Burst.
    pub ThrottlingBurstLimit: Option<u32>,
});

property!(
    /// `AccessLogSettings`.
    AccessLogSettings, {
    /// Log group ARN.
    pub DestinationArn: Expr,
    /// One line per request.
    pub Format: String,
});

resource!(
    /// `AWS::ApiGatewayV2::DomainName`.
    DomainName, "AWS::ApiGatewayV2::DomainName", {
    /// The custom domain (lowercase).
    pub DomainName: String,
    /// Certificate and endpoint type.
    pub DomainNameConfigurations: Vec<DomainNameConfiguration>,
});

attributes!(DomainName {
    /// The regional target hostname for an alias record.
    regional_domain_name => "RegionalDomainName",
    /// The hosted zone of that hostname.
    regional_hosted_zone_id => "RegionalHostedZoneId",
});

property!(
    /// `DomainNameConfiguration`.
    DomainNameConfiguration, {
    /// ACM certificate in the API's region.
    pub CertificateArn: String,
    /// `REGIONAL`.
    pub EndpointType: String,
    /// `TLS_1_2`.
    pub SecurityPolicy: String,
});

resource!(
    /// `AWS::ApiGatewayV2::ApiMapping`.
    ApiMapping, "AWS::ApiGatewayV2::ApiMapping", {
    /// The API.
    pub ApiId: Expr,
    /// The custom domain.
    pub DomainName: Expr,
    /// The stage.
    pub Stage: Expr,
});
