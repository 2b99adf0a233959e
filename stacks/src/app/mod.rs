//! `AppConfig` → every stack of every region. Composition only: the constructs do the work.

mod bootstrap;
mod data;
mod dns;
mod region;

use crate::assembly::{Assembly, Stack, StackPart};
use crate::cfn::Template;
use crate::cfn::validate::{TemplateError, validate};
use crate::config::AppConfig;
use std::fmt;

pub use bootstrap::assets_bucket_physical_name;
pub use data::{event_log_table_name, idempotency_table_name, read_model_table_name};
pub use dns::{SHARED_RECORDS, api_hostname_parameter, domain_target_parameter, health_check_id};
pub use region::{
    ASSETS_BUCKET_PARAMETER, EVENT_LOG_STREAM_PARAMETER, FAILED_BATCHES_BUCKET, FunctionKind, HTTP_API,
    PUBLISHER_SUBSCRIPTION, ROUTES, code_key_parameter, event_stream_name, failed_batches_bucket_physical_name,
    http_api_domain,
};

/// A synthesized template failed validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SynthError {
    /// The stack.
    pub stack: String,
    /// What is wrong.
    pub errors: Vec<TemplateError>,
}

impl fmt::Display for SynthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stack {} is invalid:", self.stack)?;
        for error in &self.errors {
            write!(f, "\n  - {error}")?;
        }
        Ok(())
    }
}

/// `<app>-<part>-<region>`.
pub fn stack_name(config: &AppConfig, part: StackPart, region: &str) -> String {
    format!("{}-{}-{region}", config.app, part.as_str())
}

/// Synthesizes the bootstrap and region stacks of every region, the home region's data stack and,
/// with `[dns]`, the home region's dns stack, in deployment order (bootstrap → data → region →
/// dns).
pub fn synthesize(config: &AppConfig) -> Result<Assembly, SynthError> {
    let home_bootstrap = stack_name(config, StackPart::Bootstrap, &config.home);
    let data = stack_name(config, StackPart::Data, &config.home);
    let mut stacks = Vec::with_capacity(config.regions.len() * 2 + 2);
    for region in config.region_names() {
        stacks.push(finish(config, StackPart::Bootstrap, region, bootstrap::template(config), Vec::new())?);
    }
    stacks.push(finish(config, StackPart::Data, &config.home, data::template(config), vec![home_bootstrap])?);
    for region in &config.regions {
        let dependencies = vec![stack_name(config, StackPart::Bootstrap, &region.name), data.clone()];
        let template = region::template(config, region);
        stacks.push(finish(config, StackPart::Region, &region.name, template, dependencies)?);
    }
    if let Some(settings) = &config.dns {
        // Every region's endpoints are inputs of the dns stack, so it comes after all of them.
        let dependencies = config.region_names().map(|r| stack_name(config, StackPart::Region, r)).collect();
        let template = dns::template(config, settings);
        stacks.push(finish(config, StackPart::Dns, &config.home, template, dependencies)?);
    }
    Ok(Assembly { account: config.account.clone(), stacks })
}

fn finish(
    config: &AppConfig,
    part: StackPart,
    region: &str,
    template: Template,
    dependencies: Vec<String>,
) -> Result<Stack, SynthError> {
    let name = stack_name(config, part, region);
    let body = template.to_json();
    match validate(&template, &body) {
        Ok(stats) => Ok(Stack { name, region: region.to_owned(), part, template, body, stats, dependencies }),
        Err(errors) => Err(SynthError { stack: name, errors }),
    }
}
