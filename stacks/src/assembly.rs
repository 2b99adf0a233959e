//! The synthesized stacks of every region, and the AWS CDK cloud-assembly manifest that lets
//! CDK tooling (`cdk ls --app DIR`) read the output directory.

use crate::cfn::Template;
use crate::cfn::template::canonical;
use crate::cfn::validate::TemplateStats;
use serde_json::{Map, Value, json};

/// Cloud-assembly schema version written to `manifest.json`; current aws-cdk CLIs accept it.
pub const CLOUD_ASSEMBLY_SCHEMA_VERSION: &str = "48.0.0";

/// Which of the kit's stacks this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StackPart {
    /// Assets bucket (every region).
    Bootstrap,
    /// Global tables (home region only).
    Data,
    /// Stream, functions, API and alarms (every region).
    Region,
    /// Route53 health checks and records of every region (home region, with `[dns]` only).
    Dns,
}

impl StackPart {
    /// The name fragment: `bootstrap`, `data`, `region` or `dns`.
    pub const fn as_str(self) -> &'static str {
        match self {
            StackPart::Bootstrap => "bootstrap",
            StackPart::Data => "data",
            StackPart::Region => "region",
            StackPart::Dns => "dns",
        }
    }
}

/// One synthesized stack.
#[derive(Debug)]
pub struct Stack {
    /// `<app>-<part>-<region>`.
    pub name: String,
    /// The region it deploys to.
    pub region: String,
    /// Which part it is.
    pub part: StackPart,
    /// The template.
    pub template: Template,
    /// The template as JSON, exactly as written and deployed.
    pub body: String,
    /// Size facts.
    pub stats: TemplateStats,
    /// Stacks that must be deployed first.
    pub dependencies: Vec<String>,
}

impl Stack {
    /// The template file name for `extension` (`json` or `yaml`).
    pub fn template_file(&self, extension: &str) -> String {
        format!("{}.template.{extension}", self.name)
    }
}

/// Every stack of every region, in deployment order.
#[derive(Debug)]
pub struct Assembly {
    /// The account, if pinned.
    pub account: Option<String>,
    /// The stacks.
    pub stacks: Vec<Stack>,
}

impl Assembly {
    /// The stack called `name`.
    pub fn stack(&self, name: &str) -> Option<&Stack> {
        self.stacks.iter().find(|s| s.name == name)
    }

    /// The stacks deployed to `region`.
    pub fn stacks_in<'a>(&'a self, region: &'a str) -> impl Iterator<Item = &'a Stack> + 'a {
        self.stacks.iter().filter(move |s| s.region == region)
    }

    /// `manifest.json` of a cloud assembly whose templates are `<stack>.template.<extension>`.
    pub fn manifest(&self, extension: &str) -> Value {
        let account = self.account.as_deref().unwrap_or("unknown-account");
        let artifacts: Map<String, Value> = self
            .stacks
            .iter()
            .map(|stack| {
                let artifact = json!({
                    "type": "aws:cloudformation:stack",
                    "environment": format!("aws://{account}/{}", stack.region),
                    "properties": { "templateFile": stack.template_file(extension) },
                    "dependencies": stack.dependencies,
                    "displayName": stack.name,
                });
                (stack.name.clone(), artifact)
            })
            .collect();
        canonical(json!({ "version": CLOUD_ASSEMBLY_SCHEMA_VERSION, "artifacts": artifacts }))
    }
}
