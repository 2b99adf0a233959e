//! What the local emulator does not do, done by the kit instead and announced as emulation.
//! moto skips `AWS::DynamoDB::GlobalTable` without a word, so after the data stack the kit
//! creates each replica as a plain table with the same schema and stream in its region.

use crate::aws::Aws;
use crate::review::Params;
use anyhow::{Context, Result};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use serde_json::Value;
use sha2::{Digest, Sha256};
use stacks::AppConfig;
use stacks::app::{api_hostname_parameter, domain_target_parameter};

/// What `[dns]` becomes against an emulator whose Route53 is on loopback, said once.
pub const DNS_NOTE: &str = "emulator: [dns] deployed on the emulator's Route53 (the hosted zone holding the shared name, \
     its parent domain, is created there when missing): health checks and records are real Route53 resources; the regional API Gateway \
     custom domains are left out (moto has none, nor HTTP APIs in stacks), so each health check probes and each \
     record answers with a placeholder hostname of its region";

/// The dns stack's parameters against the emulator, where no HTTP API or custom domain exists:
/// placeholders of the documented shapes, `<id>.execute-api.<region>.amazonaws.com` and
/// `d-<id>.execute-api.<region>.amazonaws.com`, the same for the same app and region.
pub fn dns_parameters(config: &AppConfig) -> Params {
    let mut parameters = Params::new();
    for region in config.region_names() {
        let digest = Sha256::digest(format!("{}/{region}", config.app).as_bytes());
        let id: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
        parameters.insert(api_hostname_parameter(region), format!("{id}.execute-api.{region}.amazonaws.com"));
        parameters.insert(domain_target_parameter(region), format!("d-{id}.execute-api.{region}.amazonaws.com"));
    }
    parameters
}

/// What the emulator cannot do, said once at the start of a local deployment.
pub const LIMITS: &[&str] = &[
    "AWS::DynamoDB::GlobalTable and AWS::ApiGatewayV2::* are skipped by moto: the kit creates each replica table \
     itself (no replication between them), and the HTTP API exists only in the template",
    "Lambda code never runs in moto (no Docker): the local runtime (`cargo xtask local run`, the demo) runs the \
     functions' real binaries, built for this machine, against the emulator",
    "every Route53 health check reports healthy and there is no TestDNSAnswer: [dns] is left out locally",
    "change sets report only the action: replacement and property changes are predicted from the AWS resource schemas",
    "AWS::CloudWatch::Alarm is skipped by moto and rollback triggers are ignored: region stacks' updates carry no \
     alarms locally (on AWS each update is rolled back by the region's alarms)",
];

/// Creates every missing replica of every global table in `template`; returns what it did.
pub async fn create_missing_replicas(aws: &Aws, template: &Value) -> Result<Vec<String>> {
    let mut done = Vec::new();
    let resources = template["Resources"].as_object().into_iter().flatten();
    for (_, resource) in resources.filter(|(_, r)| r["Type"] == "AWS::DynamoDB::GlobalTable") {
        let table = &resource["Properties"];
        let name = table["TableName"].as_str().context("global table without a literal TableName")?;
        for replica in table["Replicas"].as_array().into_iter().flatten() {
            let region = replica["Region"].as_str().context("replica without a Region")?;
            let dynamodb = aws.dynamodb(region);
            if dynamodb.describe_table().table_name(name).send().await.is_ok() {
                continue;
            }
            create_table(&dynamodb, name, table).await.with_context(|| format!("emulating {name} in {region}"))?;
            done.push(format!("emulation: created the {name} replica in {region} as a plain table"));
        }
    }
    Ok(done)
}

async fn create_table(dynamodb: &aws_sdk_dynamodb::Client, name: &str, table: &Value) -> Result<()> {
    let mut request = dynamodb
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(attributes(table)?))
        .set_key_schema(Some(key_schema(&table["KeySchema"])?));
    if let Some(view) = table["StreamSpecification"]["StreamViewType"].as_str() {
        let spec = StreamSpecification::builder().stream_enabled(true).stream_view_type(StreamViewType::from(view));
        request = request.stream_specification(spec.build()?);
    }
    for index in table["GlobalSecondaryIndexes"].as_array().into_iter().flatten() {
        let projection = Projection::builder().projection_type(ProjectionType::All).build();
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(index["IndexName"].as_str().unwrap_or_default())
                .set_key_schema(Some(key_schema(&index["KeySchema"])?))
                .projection(projection)
                .build()?,
        );
    }
    request.send().await?;
    if let Some(attribute) = table["TimeToLiveSpecification"]["AttributeName"].as_str() {
        let spec = TimeToLiveSpecification::builder().attribute_name(attribute).enabled(true).build()?;
        dynamodb.update_time_to_live().table_name(name).time_to_live_specification(spec).send().await?;
    }
    Ok(())
}

fn attributes(table: &Value) -> Result<Vec<AttributeDefinition>> {
    table["AttributeDefinitions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            Ok(AttributeDefinition::builder()
                .attribute_name(a["AttributeName"].as_str().unwrap_or_default())
                .attribute_type(ScalarAttributeType::from(a["AttributeType"].as_str().unwrap_or("S")))
                .build()?)
        })
        .collect()
}

fn key_schema(schema: &Value) -> Result<Vec<KeySchemaElement>> {
    schema
        .as_array()
        .into_iter()
        .flatten()
        .map(|k| {
            Ok(KeySchemaElement::builder()
                .attribute_name(k["AttributeName"].as_str().unwrap_or_default())
                .key_type(KeyType::from(k["KeyType"].as_str().unwrap_or("HASH")))
                .build()?)
        })
        .collect()
}
