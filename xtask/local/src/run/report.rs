//! The runtime's start-up report: exactly what runs as the real code, what the emulator serves,
//! what the kit emulates, and where each region's API answers.

use super::{Deployment, Kill, MappingSource, Runtime};
use crate::mapping::EMULATION_NOTES;
use crate::replication::EMULATION_NOTE;
use crate::streams::arn_parts;

/// What the kit's HTTP API stands in for, and what it leaves out.
pub const GATEWAY_NOTE: &str = "API Gateway HTTP APIs are emulated by the kit: each region's routes on a loopback port, \
     requests handed to the api function as payload format 2.0 events and its answers written back (no custom \
     domain, TLS, authorizers, throttling or access logs); moto skips AWS::ApiGatewayV2::*";

/// What the kit's concurrency stands in for.
pub const SCALING_NOTE: &str = "Lambda scaling is emulated: a stream consumer runs at most one invocation per open \
     shard of its mapped streams (ParallelizationFactor 1, as the kit deploys it); the api a fixed pool";

pub(super) fn lines(runtime: &Runtime, deployment: &Deployment, kills: &[Kill]) -> Vec<String> {
    let settings = &runtime.settings;
    let regions: Vec<&str> = runtime.regions.iter().map(|r| r.region.as_str()).collect();
    let mut lines = vec![
        format!(
            "local runtime: app {}, regions {} (emulator {})",
            deployment.app,
            regions.join(", "),
            settings.endpoint
        ),
        format!(
            "real: the function binaries built for this machine ({}), each environment a separate process speaking \
             the Lambda Runtime API to the kit's host, with the variables of its deployed configuration \
             (GetFunctionConfiguration) and AWS_ENDPOINT_URL={}",
            settings.binaries.display(),
            settings.endpoint
        ),
        "real (the emulator, moto): DynamoDB and DynamoDB Streams, Kinesis, S3, SQS, SSM, CloudFormation and the \
         Lambda control plane; every AWS call the functions make goes there"
            .to_owned(),
        "emulated by the kit:".to_owned(),
        format!("  - {GATEWAY_NOTE}"),
    ];
    lines.extend(EMULATION_NOTES.iter().map(|note| format!("  - {note}")));
    lines.push(format!("  - {EMULATION_NOTE}"));
    lines.push(format!("  - {SCALING_NOTE}"));
    for region in &runtime.regions {
        lines.push(format!("{}: API {} (GET {}/health)", region.region, region.url, region.url));
        for function in &region.functions {
            lines.push(format!(
                "  function {} ({} binary, up to {} at once)",
                function.name,
                function.kind.crate_name(),
                function.concurrency
            ));
        }
        for (handle, source) in &region.mappings {
            let config = handle.config();
            let stream = arn_parts(&config.event_source_arn).map_or_else(
                || config.event_source_arn.clone(),
                |(service, _, resource)| format!("{service} {resource}"),
            );
            let origin = match source {
                MappingSource::LambdaApi => "from the Lambda API".to_owned(),
                MappingSource::Template { logical_id } => {
                    format!("from the synthesized template ({logical_id}): the local deployment left it out")
                }
            };
            lines.push(format!("  mapping {} -> {}: {origin}", stream, config.function_name));
        }
    }
    match &runtime.replication {
        Some(_) => {
            let tables: Vec<&str> = deployment.global_tables.iter().map(|t| t.name.as_str()).collect();
            lines.push(format!("replication: {} (lag {:?})", tables.join(", "), settings.replication.lag));
        }
        None => lines.push("replication: none (a single region)".to_owned()),
    }
    for kill in kills {
        lines.push(format!(
            "kill: {} at {:?}: its API, function processes, mappings and replication to and from it stop",
            kill.region, kill.after
        ));
        if let Some(back) = kill.back {
            lines.push(format!(
                "return: {} at {back:?}: its API serves again, its mappings and replication resume from where they \
                 stopped (its writes not yet replicated go out, the others' writes come in)",
                kill.region
            ));
        }
    }
    lines
}
