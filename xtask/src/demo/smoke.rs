//! The demo's smoke test of one region, through the AWS APIs: commands append events to the
//! region's event log (tagged with that region), a replicated write from another region lands
//! beside them, the publisher's real code reads the region's table stream (played here the way
//! Lambda's event source mapping would deliver it) and publishes to the region's Kinesis
//! stream, and the stream is read back to check that exactly the local events arrived, in order.

use anyhow::{Context, Result, bail};
use domain::holds::HoldTable;
use domain::{CommandRequest, CommandService, DomainEvent, EventItem, Origin, Target, Task, TaskCommand, Title};
use engine::aws::Aws;
use engine::session::Session;
use publisher::{KinesisSink, Publisher, SqsConflicts, WaveSettings};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use stacks::StackPart;
use stacks::app::{event_log_table_name, idempotency_table_name};
use std::collections::BTreeSet;
use std::time::Duration;
use time::OffsetDateTime;

/// What one region's smoke test saw.
#[derive(Debug, Clone)]
pub struct RegionSmoke {
    /// The region.
    pub region: String,
    /// Events appended by commands in this region.
    pub appended_local: usize,
    /// Events written as if replicated from another region.
    pub appended_foreign: usize,
    /// What the publisher reported.
    pub stats: publisher::Stats,
    /// This run's events read back from the region's Kinesis stream, in stream order.
    pub on_stream: Vec<(String, u64, String)>,
}

impl RegionSmoke {
    /// Every local event is on the stream once, in order per aggregate, and nothing else is.
    pub fn passed(&self) -> bool {
        let local_only = self.on_stream.iter().all(|(_, _, origin)| *origin == self.region);
        let mut last: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
        let ordered = self.on_stream.iter().all(|(aggregate, sequence, _)| {
            let previous = last.insert(aggregate.as_str(), *sequence).unwrap_or(0);
            *sequence == previous + 1
        });
        local_only && ordered && self.on_stream.len() == self.appended_local
    }
}

/// Runs the smoke test in `region`; `other` is the region the replicated write comes from.
pub async fn run(session: &Session, region: &str, other: &str) -> Result<RegionSmoke> {
    let app = &session.config.app;
    let dynamodb = session.aws.dynamodb(region);
    let origin = Origin::new(region).context("region code")?;
    let store = domain::store::EventStore::new(dynamodb.clone(), event_log_table_name(app));
    let idempotency = domain::idempotency::IdempotencyStore::new(dynamodb.clone(), idempotency_table_name(app));
    let commands = CommandService::new(store.clone(), idempotency, origin.clone());
    let mut aggregates = BTreeSet::new();
    let created = execute(&commands, Target::New, create(&format!("demo task in {region}"))?).await?;
    aggregates.insert(created.aggregate_id.clone());
    let rename = TaskCommand::Rename { title: Title::parse(&format!("demo task in {region}, renamed"))? };
    execute(&commands, Target::Existing(created.aggregate_id.clone()), rename).await?;
    let foreign = foreign_event(other);
    aggregates.insert(foreign.aggregate()?.1.to_owned());
    store.append(vec![store.append_put(&foreign)?]).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;

    let patience = engine::params::REPLICA_TIMEOUT;
    let stream_arn = engine::params::replica_stream_arn(&session.aws, region, store.table(), region, patience).await?;
    let mut event = publisher::replay::table_stream_event(&session.aws.dynamodb_streams(region), &stream_arn).await?;
    publisher::replay::retain_aggregates(&mut event, &aggregates);
    let publisher = publisher_for(session, region, origin).await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let (response, stats) = publisher.handle(&event, deadline, &mut SmallRng::from_os_rng()).await;
    if !response.batch_item_failures.is_empty() {
        bail!("the publisher left records for retry in {region}: {:?}", response.batch_item_failures);
    }
    let on_stream = read_back(&session.aws, region, &format!("{app}-events"), &aggregates).await?;
    Ok(RegionSmoke { region: region.to_owned(), appended_local: 2, appended_foreign: 1, stats, on_stream })
}

fn create(title: &str) -> Result<TaskCommand> {
    Ok(TaskCommand::Create { title: Title::parse(title)? })
}

async fn execute(commands: &CommandService, target: Target, command: TaskCommand) -> Result<domain::CommandOutcome> {
    let request = CommandRequest { command_id: uuid::Uuid::now_v7().to_string(), expected_version: None, command };
    Ok(commands.execute::<Task>(target, &request, OffsetDateTime::now_utc()).await?)
}

/// A task created in `other`, as its replica would write it into this region's table. The
/// emulator does not replicate between regions, so the demo writes it the way replication would.
fn foreign_event(other: &str) -> EventItem {
    let id = uuid::Uuid::now_v7().to_string();
    EventItem {
        aggregate_key: domain::item::aggregate_key("Task", &id),
        sequence: 1,
        event_id: uuid::Uuid::now_v7().to_string(),
        event_type: "TaskCreated".into(),
        event_version: 1,
        payload: format!("{{\"title\":\"demo task replicated from {other}\"}}"),
        origin_region: other.to_owned(),
        recorded_at: domain::origin::format_recorded_at(OffsetDateTime::now_utc()),
        command_id: uuid::Uuid::now_v7().to_string(),
    }
}

/// The publisher of `region`, wired like the Lambda function: its stream and conflicts queue.
async fn publisher_for(
    session: &Session,
    region: &str,
    origin: Origin,
) -> Result<Publisher<KinesisSink, SqsConflicts, HoldTable>> {
    let stack = session.stack(StackPart::Region, region)?;
    let cfn = session.aws.cloudformation(region);
    let resources = cfn.list_stack_resources().stack_name(&stack.name).send().await?;
    let queue_url = resources
        .stack_resource_summaries()
        .iter()
        .find(|r| r.logical_resource_id() == Some("PublisherConflicts"))
        .and_then(|r| r.physical_resource_id())
        .context("the region stack has no PublisherConflicts queue")?;
    let stream = format!("{}-events", session.config.app);
    let idempotency = idempotency_table_name(&session.config.app);
    Ok(Publisher {
        sink: KinesisSink::new(session.aws.kinesis(region), stream),
        conflicts: SqsConflicts::new(session.aws.sqs(region), queue_url),
        holds: HoldTable::new(session.aws.dynamodb(region), idempotency, origin.region()),
        origin,
        settings: WaveSettings::default(),
    })
}

/// This run's events on the region's Kinesis stream: (aggregate id, sequence, origin).
async fn read_back(
    aws: &Aws,
    region: &str,
    stream: &str,
    aggregates: &BTreeSet<String>,
) -> Result<Vec<(String, u64, String)>> {
    let records = publisher::replay::kinesis_records(&aws.kinesis(region), stream).await?;
    let mut seen = Vec::new();
    for record in records {
        let event = DomainEvent::parse(&record.data).context("a record on the stream is not a domain event")?;
        if aggregates.contains(&event.aggregate_id) {
            seen.push((event.aggregate_id, event.sequence, event.origin_region));
        }
    }
    Ok(seen)
}
