//! What is deployed, read back from the emulator the way an operator would read it from AWS:
//! each region stack's resources (CloudFormation `ListStackResources`, `DescribeStacks`), each
//! function's configuration (Lambda `GetFunctionConfiguration`: variables, memory, timeout) and
//! event source mappings (`ListEventSourceMappings`). A mapping the synthesized template declares
//! but the local deployment left out (the publisher's, see [`crate::mapping`]) is taken from the
//! template, its references resolved against the deployed stack, and marked as such. The global
//! tables and their replica regions come from the home region's data stack template.

use crate::clients::Clients;
use crate::mapping::{ConfigError, MappingConfig, TemplateValues};
use crate::replication::GlobalTable;
use serde_json::Value;
use stacks::app::{FunctionKind, code_key_parameter, stack_name};
use stacks::{AppConfig, StackPart};
use std::collections::BTreeMap;
use std::time::Duration;

/// Reading the deployment failed.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// The config does not synthesize.
    #[error("synthesizing the app: {0}")]
    Synthesize(String),
    /// A call to the emulator failed.
    #[error("{call} in {region}: {message}; is the app deployed there (cargo xtask deploy --all --local)?")]
    Call {
        /// The API call and its subject.
        call: String,
        /// The region.
        region: String,
        /// What the service said.
        message: String,
    },
    /// A mapping's configuration cannot be emulated.
    #[error("{region}: {error}")]
    Mapping {
        /// The region.
        region: String,
        /// Why.
        error: ConfigError,
    },
    /// A region is not in the config.
    #[error("region {0} is not one of the app's regions ({1})")]
    UnknownRegion(String, String),
}

/// Where a mapping's configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappingSource {
    /// The Lambda API (`ListEventSourceMappings`): the deployed mapping.
    LambdaApi,
    /// The synthesized template: the local deployment left it out.
    Template {
        /// Its logical ID.
        logical_id: String,
    },
}

/// A mapping to emulate and where its configuration came from.
#[derive(Debug, Clone)]
pub struct DiscoveredMapping {
    /// The configuration.
    pub config: MappingConfig,
    /// Its source.
    pub source: MappingSource,
}

/// A deployed function, as the Lambda API describes it.
#[derive(Debug, Clone)]
pub struct DeployedFunction {
    /// Which of the kit's binaries it runs.
    pub kind: FunctionKind,
    /// Its name.
    pub name: String,
    /// `MemorySize`.
    pub memory_mb: u32,
    /// `Timeout`.
    pub timeout: Duration,
    /// `Environment.Variables`.
    pub variables: BTreeMap<String, String>,
}

/// One region's deployed app.
#[derive(Debug, Clone)]
pub struct RegionDeployment {
    /// The region.
    pub region: String,
    /// Its functions.
    pub functions: Vec<DeployedFunction>,
    /// Its mappings.
    pub mappings: Vec<DiscoveredMapping>,
}

impl RegionDeployment {
    /// The function of `kind` (the first, for projector kinds with several projections).
    pub fn function(&self, kind: FunctionKind) -> Option<&DeployedFunction> {
        self.functions.iter().find(|f| f.kind == kind)
    }
}

/// The deployed app in the selected regions.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// The app's name.
    pub app: String,
    /// Per region, in the config's order.
    pub regions: Vec<RegionDeployment>,
    /// Global tables with their replicas among the selected regions.
    pub global_tables: Vec<GlobalTable>,
}

/// Reads the deployment of `config` in `regions` (every region of the config when empty).
pub async fn discover(clients: &Clients, config: &AppConfig, regions: &[String]) -> Result<Deployment, DiscoverError> {
    let all: Vec<String> = config.regions.iter().map(|r| r.name.clone()).collect();
    if let Some(unknown) = regions.iter().find(|r| !all.contains(r)) {
        return Err(DiscoverError::UnknownRegion(unknown.clone(), all.join(", ")));
    }
    let selected: Vec<String> = all.iter().filter(|r| regions.is_empty() || regions.contains(r)).cloned().collect();
    let assembly = stacks::synthesize(config).map_err(|e| DiscoverError::Synthesize(e.to_string()))?;
    let template = |part: StackPart, region: &str| -> Result<Value, DiscoverError> {
        let name = stack_name(config, part, region);
        let stack = assembly.stack(&name).ok_or_else(|| DiscoverError::Synthesize(format!("no stack {name}")))?;
        serde_json::from_str(&stack.body).map_err(|e| DiscoverError::Synthesize(e.to_string()))
    };
    let mut deployed = Vec::new();
    for region in &selected {
        let stack = stack_name(config, StackPart::Region, region);
        deployed.push(region_deployment(clients, region, &stack, &template(StackPart::Region, region)?).await?);
    }
    let global_tables = global_tables(&template(StackPart::Data, &config.home)?, &selected);
    Ok(Deployment { app: config.app.clone(), regions: deployed, global_tables })
}

fn call_error<E: std::error::Error>(call: String, region: &str) -> impl FnOnce(E) -> DiscoverError {
    let region = region.to_owned();
    move |error| DiscoverError::Call {
        call,
        region,
        message: aws_sdk_lambda::error::DisplayErrorContext(&error).to_string(),
    }
}

async fn region_deployment(
    clients: &Clients,
    region: &str,
    stack: &str,
    template: &Value,
) -> Result<RegionDeployment, DiscoverError> {
    let (resources, parameters) = stack_state(clients, region, stack).await?;
    let declared = template["Resources"].as_object().cloned().unwrap_or_default();
    let mut functions = Vec::new();
    let mut mappings = Vec::new();
    for (logical_id, resource) in declared.iter().filter(|(_, r)| r["Type"] == "AWS::Lambda::Function") {
        let Some(kind) = function_kind(resource) else { continue };
        let name = resources
            .get(logical_id)
            .cloned()
            .or_else(|| resource["Properties"]["FunctionName"].as_str().map(str::to_owned))
            .unwrap_or_else(|| logical_id.clone());
        functions.push(deployed_function(clients, region, kind, &name).await?);
        mappings.extend(deployed_mappings(clients, region, &name).await?);
    }
    let values = TemplateValues {
        parameters,
        physical_ids: resources.clone(),
        attributes: queue_arns(clients, region, &declared, &resources).await?,
    };
    let left_out = declared
        .iter()
        .filter(|(id, r)| r["Type"] == "AWS::Lambda::EventSourceMapping" && !resources.contains_key(*id));
    for (logical_id, resource) in left_out {
        let uuid = format!("local-{region}-{logical_id}");
        let config = MappingConfig::from_template(logical_id, resource, uuid, &|v| values.resolve(v))
            .map_err(|error| DiscoverError::Mapping { region: region.to_owned(), error })?;
        mappings.push(DiscoveredMapping { config, source: MappingSource::Template { logical_id: logical_id.clone() } });
    }
    Ok(RegionDeployment { region: region.to_owned(), functions, mappings })
}

/// The binary a function runs, from its code key parameter (`ApiCodeKey`, ...).
fn function_kind(resource: &Value) -> Option<FunctionKind> {
    let parameter = resource["Properties"]["Code"]["S3Key"]["Ref"].as_str()?;
    FunctionKind::ALL.into_iter().find(|kind| code_key_parameter(*kind) == parameter)
}

/// The stack's physical IDs by logical ID, and its parameter values.
async fn stack_state(
    clients: &Clients,
    region: &str,
    stack: &str,
) -> Result<(BTreeMap<String, String>, BTreeMap<String, String>), DiscoverError> {
    let cfn = clients.cloudformation(region);
    let mut resources = BTreeMap::new();
    let mut token = None;
    loop {
        let page = cfn
            .list_stack_resources()
            .stack_name(stack)
            .set_next_token(token)
            .send()
            .await
            .map_err(call_error(format!("ListStackResources {stack}"), region))?;
        for summary in page.stack_resource_summaries() {
            if let (Some(logical), Some(physical)) = (summary.logical_resource_id(), summary.physical_resource_id()) {
                resources.insert(logical.to_owned(), physical.to_owned());
            }
        }
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    let described = cfn
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .map_err(call_error(format!("DescribeStacks {stack}"), region))?;
    let parameters = described
        .stacks()
        .iter()
        .flat_map(|s| s.parameters())
        .filter_map(|p| Some((p.parameter_key()?.to_owned(), p.parameter_value()?.to_owned())))
        .collect();
    Ok((resources, parameters))
}

async fn deployed_function(
    clients: &Clients,
    region: &str,
    kind: FunctionKind,
    name: &str,
) -> Result<DeployedFunction, DiscoverError> {
    let configuration = clients
        .lambda(region)
        .get_function_configuration()
        .function_name(name)
        .send()
        .await
        .map_err(call_error(format!("GetFunctionConfiguration {name}"), region))?;
    let variables = configuration
        .environment()
        .and_then(|e| e.variables())
        .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    Ok(DeployedFunction {
        kind,
        name: configuration.function_name().unwrap_or(name).to_owned(),
        memory_mb: configuration.memory_size().and_then(|m| u32::try_from(m).ok()).unwrap_or(128),
        timeout: Duration::from_secs(configuration.timeout().and_then(|t| u64::try_from(t).ok()).unwrap_or(3)),
        variables,
    })
}

async fn deployed_mappings(
    clients: &Clients,
    region: &str,
    function: &str,
) -> Result<Vec<DiscoveredMapping>, DiscoverError> {
    let lambda = clients.lambda(region);
    let mut found = Vec::new();
    let mut marker = None;
    loop {
        let page = lambda
            .list_event_source_mappings()
            .function_name(function)
            .set_marker(marker)
            .send()
            .await
            .map_err(call_error(format!("ListEventSourceMappings {function}"), region))?;
        for mapping in page.event_source_mappings() {
            let config = MappingConfig::from_lambda(mapping)
                .map_err(|error| DiscoverError::Mapping { region: region.to_owned(), error })?;
            found.push(DiscoveredMapping { config, source: MappingSource::LambdaApi });
        }
        marker = page.next_marker;
        if marker.is_none() {
            break;
        }
    }
    Ok(found)
}

/// `Fn::GetAtt [queue, Arn]` values of the stack's queues (the mappings' on-failure queues),
/// read with `GetQueueAttributes` from each queue's URL (its physical ID).
async fn queue_arns(
    clients: &Clients,
    region: &str,
    declared: &serde_json::Map<String, Value>,
    resources: &BTreeMap<String, String>,
) -> Result<BTreeMap<(String, String), String>, DiscoverError> {
    let sqs = clients.sqs(region);
    let mut arns = BTreeMap::new();
    for (logical_id, _) in declared.iter().filter(|(_, r)| r["Type"] == "AWS::SQS::Queue") {
        let Some(url) = resources.get(logical_id) else { continue };
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(call_error(format!("GetQueueAttributes {url}"), region))?;
        if let Some(arn) =
            attributes.attributes().and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        {
            arns.insert((logical_id.clone(), "Arn".to_owned()), arn.clone());
        }
    }
    Ok(arns)
}

/// The data stack's global tables, each with its replicas among `regions`.
fn global_tables(data_template: &Value, regions: &[String]) -> Vec<GlobalTable> {
    let resources = data_template["Resources"].as_object().into_iter().flatten();
    resources
        .filter(|(_, r)| r["Type"] == "AWS::DynamoDB::GlobalTable")
        .filter_map(|(_, table)| {
            let name = table["Properties"]["TableName"].as_str()?.to_owned();
            let replicas = table["Properties"]["Replicas"].as_array()?;
            let regions: Vec<String> = replicas
                .iter()
                .filter_map(|r| r["Region"].as_str())
                .filter(|r| regions.iter().any(|s| s == r))
                .map(str::to_owned)
                .collect();
            (regions.len() > 1).then_some(GlobalTable { name, regions })
        })
        .collect()
}
