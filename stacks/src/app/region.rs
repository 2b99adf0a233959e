//! The `region` stack, one per region: the Kinesis stream, the publisher on this region's
//! replica stream, the projectors, the HTTP API with its regional custom domain, and alarms.
//! Route53 health checks and records live in the home region's `dns` stack.

use super::data::{event_log_table_name, idempotency_table_name, read_model_table_name};
use crate::cfn::{Expr, Output, Parameter, ParameterRef, Template};
use crate::config::{AppConfig, ProjectionConfig, ProjectionKind, RegionConfig};
use crate::constructs::alarms::AppMetric;
use crate::constructs::alerts::{self, AlarmTopic, AlarmTopicProps};
use crate::constructs::failed_batches::{FailedBatches, FailedBatchesProps};
use crate::constructs::function::{RustFunction, RustFunctionProps};
use crate::constructs::http_api::{HttpApi, HttpApiProps};
use crate::constructs::key::EncryptionKey;
use crate::constructs::queue::retained_queue;
use crate::constructs::secure_bucket::{SecureBucket, SecureBucketProps};
use crate::constructs::stream::EventStream;
use crate::constructs::subscription::{Source, Subscription, SubscriptionProps};
use crate::constructs::{alarms, pascal_case, regional_arn};
use contract::env::{ApiEnvironment, AuditProjectorEnvironment, PublisherEnvironment, ViewProjectorEnvironment};
use contract::idempotency::publisher_key_prefix;
use contract::metrics;
use std::collections::BTreeMap;

/// Parameter carrying this region's replica stream ARN, resolved by the deployer with
/// DescribeTable: CloudFormation cannot return another region's replica stream.
pub const EVENT_LOG_STREAM_PARAMETER: &str = "EventLogStreamArn";

/// Parameter carrying the name of the region's assets bucket (from the bootstrap stack).
pub const ASSETS_BUCKET_PARAMETER: &str = "AssetsBucketName";

/// Logical ID of the HTTP API; its physical ID is the API ID in `<id>.execute-api.<region>…`.
pub const HTTP_API: &str = "HttpApi";

/// Logical ID of the HTTP API's regional custom domain; its physical ID is the domain name.
pub fn http_api_domain() -> String {
    crate::constructs::http_api::domain_id(HTTP_API)
}

/// Logical ID of the region's failed-batches bucket, every mapping's on-failure destination.
pub const FAILED_BATCHES_BUCKET: &str = "FailedBatches";

/// Physical name of a region's failed-batches bucket, `<app>-failures-<account>-<region>`
/// (at most 58 characters with a 21-character app name): `cargo xtask redrive` computes it.
pub fn failed_batches_bucket_physical_name(app: &str, account: &str, region: &str) -> String {
    format!("{app}-failures-{account}-{region}")
}

/// Name of a region's Kinesis stream of domain events.
pub fn event_stream_name(app: &str) -> String {
    format!("{app}-events")
}

/// Logical ID of the publisher's mapping on the event log stream.
pub const PUBLISHER_SUBSCRIPTION: &str = "PublisherSubscription";

/// The routes of the HTTP API.
pub const ROUTES: &[&str] = &["POST /tasks", "POST /tasks/{id}/commands", "GET /tasks/{id}", "GET /health"];

/// Days an audit object version is kept after being overwritten (audit objects are write-once).
const AUDIT_NONCURRENT_DAYS: u32 = 365;

/// The function binaries of the kit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FunctionKind {
    /// HTTP commands, queries and health.
    Api,
    /// DynamoDB stream → Kinesis.
    Publisher,
    /// Kinesis → S3 audit objects.
    ProjectorAudit,
    /// Kinesis → read-model table.
    ProjectorView,
}

impl FunctionKind {
    /// Every kind, in a stable order.
    pub const ALL: [FunctionKind; 4] =
        [FunctionKind::Api, FunctionKind::Publisher, FunctionKind::ProjectorAudit, FunctionKind::ProjectorView];

    /// The binary crate name under `functions/`.
    pub const fn crate_name(self) -> &'static str {
        match self {
            FunctionKind::Api => "api",
            FunctionKind::Publisher => "publisher",
            FunctionKind::ProjectorAudit => "projector-audit",
            FunctionKind::ProjectorView => "projector-view",
        }
    }
}

/// The template parameter holding the S3 key of a function kind's zip.
pub fn code_key_parameter(kind: FunctionKind) -> String {
    format!("{}CodeKey", pascal_case(kind.crate_name()))
}

/// Everything the parts of the region stack share.
struct RegionStack<'a> {
    config: &'a AppConfig,
    region: &'a RegionConfig,
    template: Template,
    code_keys: BTreeMap<FunctionKind, ParameterRef>,
    functions: Vec<(String, RustFunction)>,
    failures: FailedBatches,
    queues: Vec<(String, Expr)>,
}

pub(super) fn template(config: &AppConfig, region: &RegionConfig) -> Template {
    let mut template = Template::new(format!(
        "{} region {}: events stream, publisher, projectors, HTTP API and alarms",
        config.app, region.name
    ));
    let code_keys = code_key_parameters(&mut template, config);
    let (key, topic) = alarm_topic(&mut template, config, region);
    let failures = FailedBatches::new(
        &mut template,
        FAILED_BATCHES_BUCKET,
        FailedBatchesProps {
            bucket_name: failed_batches_bucket_physical_name(&config.app, "${AWS::AccountId}", "${AWS::Region}"),
            topic: &topic,
        },
    );
    template.output(
        "FailedBatchesBucketName",
        Output {
            description: "Bucket keeping every batch the stream mappings gave up on (cargo xtask redrive)".into(),
            value: failures.name(),
            export: None,
        },
    );
    let mut stack =
        RegionStack { config, region, template, code_keys, functions: Vec::new(), failures, queues: Vec::new() };
    let stream = EventStream::new(
        &mut stack.template,
        "EventStream",
        event_stream_name(&config.app),
        config.stream.retention_hours,
    );
    stack.publisher(&stream);
    for projection in &config.projections {
        stack.projector(projection, &stream);
    }
    stack.api();
    stack.alarms();
    notify_and_encrypt(&mut stack.template, &key, &topic);
    stack.template.output(
        "EventStreamName",
        Output { description: "Kinesis stream of domain events".into(), value: stream.name(), export: None },
    );
    stack.template
}

/// The region's key and alarm topic (the kit's, encrypted with the key, or the configured one).
fn alarm_topic(template: &mut Template, config: &AppConfig, region: &RegionConfig) -> (EncryptionKey, AlarmTopic) {
    let app = &config.app;
    let key = EncryptionKey::new(
        template,
        "RegionKey",
        format!("{app} in {}: the alarm topic and every log group of the region stack", region.name),
    );
    let topic = match config.alerts.topic_arn_in(&region.name) {
        Some(arn) => AlarmTopic::Configured(Expr::Str(arn)),
        None => alerts::alarm_topic(
            template,
            "AlarmTopic",
            AlarmTopicProps {
                name: format!("{app}-alarms"),
                key: &key,
                emails: &config.alerts.emails,
                alarm_name_prefix: format!("{app}-"),
            },
        ),
    };
    (key, topic)
}

/// Every alarm of the stack notifies the region's topic on `ALARM` and on `OK`; every log group
/// is encrypted with the key. Run last, so alarms and log groups added by any part of the stack
/// are covered.
fn notify_and_encrypt(template: &mut Template, key: &EncryptionKey, topic: &AlarmTopic) {
    let topic = topic.arn();
    alerts::notify(template, &topic);
    key.encrypt_log_groups(template);
    template.output(
        "AlarmTopicArn",
        Output { description: "SNS topic every alarm of this region notifies".into(), value: topic, export: None },
    );
}

fn code_key_parameters(template: &mut Template, config: &AppConfig) -> BTreeMap<FunctionKind, ParameterRef> {
    template.parameter(
        ASSETS_BUCKET_PARAMETER,
        Parameter {
            kind: "String".into(),
            description: "The region's assets bucket (bootstrap stack), holding the function zips".into(),
            allowed_pattern: Some(format!("^{}-assets-[0-9]{{12}}-[a-z0-9-]+$", config.app)),
            constraint_description: Some("the bucket created by cargo xtask bootstrap in this region".into()),
            min_length: None,
        },
    );
    let used = |kind: ProjectionKind| config.projections.iter().any(|p| p.kind == kind);
    let mut kinds = vec![FunctionKind::Api, FunctionKind::Publisher];
    kinds.extend(used(ProjectionKind::S3Audit).then_some(FunctionKind::ProjectorAudit));
    kinds.extend(used(ProjectionKind::ReadModel).then_some(FunctionKind::ProjectorView));
    kinds
        .into_iter()
        .map(|kind| {
            let parameter = Parameter {
                kind: "String".into(),
                description: format!("S3 key of the {} function zip in the assets bucket", kind.crate_name()),
                allowed_pattern: Some(r"^[A-Za-z0-9/._-]+\.zip$".into()),
                constraint_description: Some("an S3 key ending in .zip, as written by cargo xtask package".into()),
                min_length: Some(5),
            };
            (kind, template.parameter(code_key_parameter(kind), parameter))
        })
        .collect()
}

impl RegionStack<'_> {
    /// Every function's `APP_NAME`.
    fn app_name(&self) -> Expr {
        Expr::Str(self.config.app.clone())
    }

    fn function(
        &mut self,
        id: &str,
        kind: FunctionKind,
        name: String,
        description: String,
        environment: Vec<(&'static str, Expr)>,
    ) -> RustFunction {
        let variables = environment.into_iter().map(|(name, value)| (name.to_owned(), value)).collect();
        let code_key = self.code_keys.get(&kind).map_or(Expr::NoValue, ParameterRef::reference);
        let function = RustFunction::new(
            &mut self.template,
            id,
            RustFunctionProps {
                function_name: name,
                description,
                code_bucket: Expr::Ref(ASSETS_BUCKET_PARAMETER.into()),
                code_key,
                environment: variables,
                settings: &self.config.functions,
            },
        );
        self.functions.push((id.to_owned(), function.clone()));
        function
    }

    fn subscribe(&mut self, id: &str, function: &RustFunction, source: Source, filters: Vec<String>) -> Subscription {
        Subscription::new(
            &mut self.template,
            id,
            function,
            SubscriptionProps { source, filters, settings: &self.config.stream, failures: &self.failures },
        )
    }

    fn publisher(&mut self, stream: &EventStream) {
        let app = &self.config.app;
        let stream_arn = self.template.parameter(
            EVENT_LOG_STREAM_PARAMETER,
            Parameter {
                kind: "String".into(),
                description: format!(
                    "Stream ARN of the {} replica of {}-events (DescribeTable LatestStreamArn)",
                    self.region.name, app
                ),
                allowed_pattern: Some(format!(
                    r"^arn:aws[a-z-]*:dynamodb:{}:[0-9]{{12}}:table/{app}-events/stream/.+$",
                    self.region.name
                )),
                constraint_description: Some(format!(
                    "the stream ARN of the event log replica in {}",
                    self.region.name
                )),
                min_length: None,
            },
        );
        let conflicts = retained_queue(&mut self.template, "PublisherConflicts");
        let idempotency = idempotency_table_name(app);
        let environment = PublisherEnvironment {
            app_name: self.app_name(),
            event_stream_name: stream.name(),
            conflicts_queue_url: conflicts.reference(),
            idempotency_table: Expr::Str(idempotency.clone()),
        };
        let description = format!(
            "Publishes events that originated in {} from the event log stream to Kinesis, in order",
            self.region.name
        );
        let publisher = self.function(
            "Publisher",
            FunctionKind::Publisher,
            format!("{app}-publisher"),
            description,
            environment.into_variables(),
        );
        publisher.grant(
            &mut self.template,
            "PublishEvents",
            &["kinesis:PutRecord", "kinesis:PutRecords"],
            vec![stream.arn()],
        );
        publisher.grant(&mut self.template, "ReportConflicts", &["sqs:SendMessage"], vec![conflicts.arn()]);
        // Reads its holds once per batch (GetItem) and records, counts and never removes them
        // (UpdateItem): releasing a hold is redrive's, under the operator's credentials.
        publisher.grant_items(
            &mut self.template,
            "KeepPoisonHolds",
            &["dynamodb:GetItem", "dynamodb:UpdateItem"],
            regional_arn("dynamodb", &format!("table/{idempotency}")),
            &publisher_key_prefix(&self.region.name),
        );
        let source = Source::DynamoDb {
            stream_arn: stream_arn.reference(),
            read_resource: regional_arn("dynamodb", &format!("table/{}/stream/*", event_log_table_name(app))),
        };
        self.subscribe(
            PUBLISHER_SUBSCRIPTION,
            &publisher,
            source,
            contract::origin::filter_patterns(&self.region.name),
        );
        self.queues.push(("PublisherConflicts".into(), conflicts.queue_name()));
        alarms::iterator_age(
            &mut self.template,
            "PublisherIteratorAgeAlarm",
            format!("{app}-publisher-iterator-age"),
            publisher.name(),
        );
        let watched = AppMetric {
            namespace: app,
            function: metrics::PUBLISHER,
            metric: metrics::HELD_BACK_METRIC,
            description: "Events are held back behind an event that cannot be published; fix it, then redrive the failed batch from the region's failed-batches bucket with `cargo xtask redrive`, which releases the hold.",
        };
        alarms::app_metric(&mut self.template, "PublisherHeldBackAlarm", format!("{app}-publisher-held-back"), watched);
    }

    fn projector(&mut self, projection: &ProjectionConfig, stream: &EventStream) {
        let app = self.config.app.clone();
        let id = format!("Projector{}", pascal_case(&projection.name));
        let name = format!("{app}-projector-{}", projection.name);
        let function = match projection.kind {
            ProjectionKind::S3Audit => {
                let bucket = SecureBucket::new(
                    &mut self.template,
                    &format!("{id}Bucket"),
                    SecureBucketProps {
                        bucket_name: None,
                        lifecycle_rules: Vec::new(),
                        noncurrent_version_days: AUDIT_NONCURRENT_DAYS,
                        ..SecureBucketProps::default()
                    },
                );
                let environment = AuditProjectorEnvironment { app_name: self.app_name(), audit_bucket: bucket.name() }
                    .into_variables();
                let description = format!("Writes one audit object per event ({})", projection.name);
                let function = self.function(&id, FunctionKind::ProjectorAudit, name, description, environment);
                function.grant(
                    &mut self.template,
                    "WriteAuditObjects",
                    &["s3:PutObject"],
                    vec![bucket.objects_arn("events/")],
                );
                self.template.output(
                    format!("{id}BucketName"),
                    Output {
                        description: format!("Audit bucket of {}", projection.name),
                        value: bucket.name(),
                        export: None,
                    },
                );
                function
            }
            ProjectionKind::ReadModel => {
                let table = read_model_table_name(&app, &projection.name);
                let log = event_log_table_name(&app);
                let environment = ViewProjectorEnvironment {
                    app_name: self.app_name(),
                    view_table: Expr::Str(table.clone()),
                    event_log_table: Expr::Str(log.clone()),
                }
                .into_variables();
                let description = format!("Applies events in order to the {} read model", projection.name);
                let function = self.function(&id, FunctionKind::ProjectorView, name, description, environment);
                let actions = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"];
                function.grant(
                    &mut self.template,
                    "UpdateView",
                    &actions,
                    vec![regional_arn("dynamodb", &format!("table/{table}"))],
                );
                function.grant(
                    &mut self.template,
                    "ReadEventLog",
                    &["dynamodb:Query"],
                    vec![regional_arn("dynamodb", &format!("table/{log}"))],
                );
                function
            }
        };
        self.subscribe(
            &format!("{id}Subscription"),
            &function,
            Source::Kinesis { stream_arn: stream.arn() },
            Vec::new(),
        );
    }

    fn api(&mut self) {
        let app = self.config.app.clone();
        let log = event_log_table_name(&app);
        let idempotency = idempotency_table_name(&app);
        let drill_parameter = contract::drill::parameter(&app, &self.region.name);
        let view = self
            .config
            .projections
            .iter()
            .find(|p| p.kind == ProjectionKind::ReadModel)
            .map(|p| read_model_table_name(&app, &p.name));
        let environment = ApiEnvironment {
            app_name: self.app_name(),
            event_log_table: Expr::Str(log.clone()),
            event_log_stream_arn: Expr::Ref(EVENT_LOG_STREAM_PARAMETER.into()),
            idempotency_table: Expr::Str(idempotency.clone()),
            drill_parameter: Expr::Str(drill_parameter.clone()),
            read_model_table: view.clone().map(Expr::Str),
        };
        let handler = self.function(
            "ApiHandler",
            FunctionKind::Api,
            format!("{app}-api"),
            "Validates commands, appends events, serves reads and /health".into(),
            environment.into_variables(),
        );
        let table_arn = |name: &str| regional_arn("dynamodb", &format!("table/{name}"));
        let t = &mut self.template;
        let log_resources = vec![table_arn(&log), regional_arn("dynamodb", &format!("table/{log}/index/*"))];
        handler.grant(
            t,
            "AppendAndReadEvents",
            &[
                "dynamodb:ConditionCheckItem",
                "dynamodb:DescribeTable",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:Query",
            ],
            log_resources,
        );
        handler.grant(
            t,
            "DescribeEventLogStream",
            &["dynamodb:DescribeStream"],
            vec![Expr::Ref(EVENT_LOG_STREAM_PARAMETER.into())],
        );
        handler.grant(
            t,
            "RecordCommands",
            &["dynamodb:ConditionCheckItem", "dynamodb:GetItem", "dynamodb:PutItem"],
            vec![table_arn(&idempotency)],
        );
        if let Some(view) = &view {
            // A task's view is the newest of its rows, one per writing region: one Query.
            handler.grant(t, "ReadModel", &["dynamodb:Query"], vec![table_arn(view)]);
        }
        handler.grant(
            t,
            "ReadDrillFlag",
            &["ssm:GetParameter"],
            vec![regional_arn("ssm", &format!("parameter{drill_parameter}"))],
        );
        let custom_domain = self
            .config
            .dns
            .as_ref()
            .zip(self.region.certificate_arn.as_ref())
            .map(|(dns, cert)| (dns.domain.clone(), cert.clone()));
        let api = HttpApi::new(
            t,
            HTTP_API,
            HttpApiProps {
                name: format!("{app}-api"),
                routes: ROUTES,
                handler: &handler,
                custom_domain,
                log_retention_days: self.config.functions.log_retention_days,
            },
        );
        t.output(
            "ApiEndpoint",
            Output { description: "The API's own endpoint in this region".into(), value: api.endpoint(), export: None },
        );
        t.output(
            "RegionalHostname",
            Output {
                description: "Region-specific hostname probed by the health check".into(),
                value: api.regional_hostname(),
                export: None,
            },
        );
    }

    fn alarms(&mut self) {
        let app = &self.config.app;
        for (id, function) in &self.functions {
            alarms::function_errors(
                &mut self.template,
                &format!("{id}ErrorsAlarm"),
                format!("{app}-{id}-errors"),
                function.name(),
            );
        }
        for (id, queue_name) in &self.queues {
            alarms::queue_depth(
                &mut self.template,
                &format!("{id}DepthAlarm"),
                format!("{app}-{id}-depth"),
                queue_name.clone(),
            );
        }
        if self.config.projections.iter().any(|p| p.kind == ProjectionKind::ReadModel) {
            let watched = AppMetric {
                namespace: app,
                function: metrics::VIEW_PROJECTOR,
                metric: metrics::VIEW_CONFLICTS_METRIC,
                description: "Two regions appended the same sequence of an aggregate and last-writer-wins kept one; the view was rebuilt from the log. Check the conflicts queue for the lost command.",
            };
            alarms::app_metric(&mut self.template, "ViewConflictsAlarm", format!("{app}-view-conflicts"), watched);
        }
    }
}
