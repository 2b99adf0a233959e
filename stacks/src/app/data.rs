//! The `data` stack, home region only: the event log and the other global tables, each with a
//! replica in every configured region. CloudFormation manages a global table from one stack in
//! one region, so no other stack declares them.

use crate::cfn::{Output, Template};
use crate::config::{AppConfig, OriginIndex, ProjectionKind};
use crate::constructs::event_log::{ReplicatedTable, ReplicatedTableProps, StreamView, event_log};
use crate::constructs::pascal_case;
use contract::event_log::AGGREGATE_KEY;
use contract::idempotency;
use contract::read_model::PROJECTED_BY;

/// The stream of the tables nothing reads (idempotency, read models): CloudFormation requires one
/// on every multi-replica global table; `NEW_AND_OLD_IMAGES` is what the DynamoDB guide's global
/// table tutorial and the AWS CDK's `TableV2` use for replicated tables.
const UNREAD_STREAM: StreamView = StreamView::NewAndOldImages;

/// `<app>-events`.
pub fn event_log_table_name(app: &str) -> String {
    format!("{app}-events")
}

/// `<app>-idempotency`: command IDs and once-per-consumer side-effect guards, with expiry.
pub fn idempotency_table_name(app: &str) -> String {
    format!("{app}-idempotency")
}

/// `<app>-views-<projection>`: a row per task and writing region ([`contract::read_model`]).
/// Its key schema differs from the `<app>-view-<projection>` tables of earlier versions, and
/// CloudFormation replaces a table whose keys change, which it can do only under a new name.
pub fn read_model_table_name(app: &str, projection: &str) -> String {
    format!("{app}-views-{projection}")
}

pub(super) fn template(config: &AppConfig) -> Template {
    let regions: Vec<String> = config.region_names().map(str::to_owned).collect();
    let mut template = Template::new(format!(
        "{} data ({} home): event log, idempotency and read-model global tables with replicas in {}",
        config.app,
        config.home,
        regions.join(", ")
    ));
    let origin_index = config.origin_index == OriginIndex::Sharded;
    let log = event_log(&mut template, "EventLog", event_log_table_name(&config.app), &regions, origin_index);
    ReplicatedTable::new(
        &mut template,
        "Idempotency",
        ReplicatedTableProps {
            table_name: idempotency_table_name(&config.app),
            regions: &regions,
            key: (idempotency::KEY, "S"),
            range_key: None,
            stream: UNREAD_STREAM,
            indexes: Vec::new(),
            time_to_live: Some(idempotency::EXPIRES_AT),
        },
    );
    for projection in config.projections.iter().filter(|p| p.kind == ProjectionKind::ReadModel) {
        ReplicatedTable::new(
            &mut template,
            &format!("View{}", pascal_case(&projection.name)),
            ReplicatedTableProps {
                table_name: read_model_table_name(&config.app, &projection.name),
                regions: &regions,
                key: (AGGREGATE_KEY, "S"),
                range_key: Some((PROJECTED_BY, "S")),
                stream: UNREAD_STREAM,
                indexes: Vec::new(),
                time_to_live: None,
            },
        );
    }
    template.output(
        "EventLogTableName",
        Output { description: "The event log global table".into(), value: log.name(), export: None },
    );
    template.output(
        "EventLogStreamArn",
        Output {
            description: format!(
                "Stream of the {} replica; other regions resolve theirs with DescribeTable",
                config.home
            ),
            value: log.local_stream_arn(),
            export: None,
        },
    );
    template
}
