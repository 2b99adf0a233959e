//! A Rust Lambda function (custom runtime) with its own log group and least-privilege role.

use crate::cfn::iam::{Policy, PolicyDocument, Role, Statement};
use crate::cfn::lambda::{Code, Environment, Function, LoggingConfig};
use crate::cfn::logs::LogGroup;
use crate::cfn::{Expr, Handle, ResourceOptions, ScannerSkip, Template};
use crate::config::{Architecture, FunctionsConfig};
use std::collections::BTreeMap;

/// Security-scanner checks that do not fit these functions, with the reason (listed in README).
pub const SCANNER_SKIPS: &[ScannerSkip] = &[
    ScannerSkip {
        id: "CKV_AWS_115",
        reason: "Reserved concurrency comes out of the account's pool, which is small in new accounts; the API is throttled at its stage and stream consumers by their shards.",
    },
    ScannerSkip {
        id: "CKV_AWS_116",
        reason: "A function dead-letter queue only catches asynchronous invocations; these are invoked synchronously or by event source mappings, whose failed batches go to the region's failed-batches bucket.",
    },
    ScannerSkip {
        id: "CKV_AWS_117",
        reason: "The functions call only AWS service endpoints; a VPC would add NAT or interface endpoints and cold-start time with no private resource to protect.",
    },
    ScannerSkip {
        id: "CKV_AWS_173",
        reason: "The environment holds resource names and URLs, never secrets; Lambda encrypts it at rest with its AWS managed key.",
    },
];

/// Name of the inline policy holding every grant of a function's role.
const ACCESS_POLICY: &str = "access";

/// Options of a [`RustFunction`].
#[derive(Debug, Clone)]
pub struct RustFunctionProps<'a> {
    /// Physical function name (unique per region).
    pub function_name: String,
    /// What it does.
    pub description: String,
    /// Bucket holding the zip.
    pub code_bucket: Expr,
    /// Key of the zip in that bucket.
    pub code_key: Expr,
    /// Environment variables.
    pub environment: BTreeMap<String, Expr>,
    /// Memory, timeout, architecture, log retention.
    pub settings: &'a FunctionsConfig,
}

/// The function, its role and its log group.
#[derive(Debug, Clone)]
pub struct RustFunction {
    function: Handle<Function>,
    role: Handle<Role>,
    log_group: Handle<LogGroup>,
}

impl RustFunction {
    /// Adds `<id>LogGroup`, `<id>Role` (may write only to that log group) and `<id>`.
    pub fn new(template: &mut Template, id: &str, props: RustFunctionProps<'_>) -> Self {
        let log_group = template.add(
            format!("{id}LogGroup"),
            LogGroup {
                LogGroupName: Some(Expr::Str(format!("/aws/lambda/{}", props.function_name))),
                RetentionInDays: Some(props.settings.log_retention_days),
                KmsKeyId: None,
            },
        );
        let write_logs = Statement::allow(&["logs:CreateLogStream", "logs:PutLogEvents"], vec![log_group.arn()]);
        let role = template.add(
            format!("{id}Role"),
            Role {
                AssumeRolePolicyDocument: PolicyDocument::service_trust("lambda.amazonaws.com"),
                Description: Some(format!("Execution role of {}", props.function_name)),
                Policies: Some(vec![Policy {
                    PolicyName: ACCESS_POLICY.into(),
                    PolicyDocument: PolicyDocument::new(vec![write_logs]),
                }]),
                Tags: None,
            },
        );
        let architecture = match props.settings.architecture {
            Architecture::Arm64 => "arm64",
            Architecture::X86_64 => "x86_64",
        };
        let function = template.add_with(
            id,
            Function {
                FunctionName: Some(Expr::Str(props.function_name)),
                Description: Some(props.description),
                Runtime: Some("provided.al2023".into()),
                Handler: Some("bootstrap".into()),
                Architectures: Some(vec![architecture.into()]),
                MemorySize: Some(props.settings.memory_mb),
                Timeout: Some(props.settings.timeout_seconds),
                Role: role.arn(),
                Code: Code { S3Bucket: Some(props.code_bucket), S3Key: Some(props.code_key) },
                Environment: Some(Environment { Variables: props.environment }),
                LoggingConfig: Some(LoggingConfig {
                    LogFormat: Some("JSON".into()),
                    LogGroup: Some(log_group.reference()),
                }),
                Tags: None,
            },
            ResourceOptions::default().with_scanner_skips(SCANNER_SKIPS),
        );
        RustFunction { function, role, log_group }
    }

    /// Allows the function's role the named actions on the named resources.
    pub fn grant(&self, template: &mut Template, sid: &str, actions: &[&str], resources: Vec<Expr>) {
        self.grant_statement(template, Statement { Sid: Some(sid.to_owned()), ..Statement::allow(actions, resources) });
    }

    /// Allows the named DynamoDB actions on the items of `table_arn` whose partition key starts
    /// with `key_prefix` only (`dynamodb:LeadingKeys`; DynamoDB developer guide, "Using IAM
    /// policy conditions for fine-grained access control").
    pub fn grant_items(&self, template: &mut Template, sid: &str, actions: &[&str], table_arn: Expr, key_prefix: &str) {
        let keys = Expr::List(vec![Expr::Str(format!("{key_prefix}*"))]);
        let condition = BTreeMap::from([(
            "ForAllValues:StringLike".to_owned(),
            BTreeMap::from([("dynamodb:LeadingKeys".to_owned(), keys)]),
        )]);
        let statement = Statement {
            Sid: Some(sid.to_owned()),
            Condition: Some(condition),
            ..Statement::allow(actions, vec![table_arn])
        };
        self.grant_statement(template, statement);
    }

    fn grant_statement(&self, template: &mut Template, statement: Statement) {
        let Some(role) = template.get_mut(&self.role) else {
            return;
        };
        let policies = role.Policies.get_or_insert_with(Vec::new);
        match policies.iter_mut().find(|p| p.PolicyName == ACCESS_POLICY) {
            Some(policy) => policy.PolicyDocument.Statement.push(statement),
            None => policies.push(Policy {
                PolicyName: ACCESS_POLICY.into(),
                PolicyDocument: PolicyDocument::new(vec![statement]),
            }),
        }
    }

    /// The function handle.
    pub fn handle(&self) -> &Handle<Function> {
        &self.function
    }

    /// The function name (`Ref`).
    pub fn name(&self) -> Expr {
        self.function.reference()
    }

    /// The function ARN.
    pub fn arn(&self) -> Expr {
        self.function.arn()
    }

    /// The role handle.
    pub fn role(&self) -> &Handle<Role> {
        &self.role
    }

    /// The log group handle.
    pub fn log_group(&self) -> &Handle<LogGroup> {
        &self.log_group
    }
}
