//! The event log and the other global tables of the `data` stack. The attribute names are part of
//! the contract between the tables, the publisher filter and the functions.

use crate::cfn::dynamodb::{
    AttributeDefinition, GlobalSecondaryIndex, GlobalTable, KeySchema, PointInTimeRecoverySpecification, Projection,
    ReplicaSpecification, SSESpecification, StreamSpecification, TimeToLiveSpecification,
};
use crate::cfn::{Expr, Handle, ResourceOptions, Template};

/// Hash key of the event log: `Task#<id>`.
pub const AGGREGATE_KEY: &str = "AggregateTypeAndId";
/// Range key of the event log: 1, 2, 3 ... per aggregate.
pub const SEQUENCE_KEY: &str = "AggregateIdSequence";
/// Region of the api function that wrote the event; the publisher filter keys on it.
pub const ORIGIN_REGION: &str = "OriginRegion";
/// RFC 3339 UTC time the event was recorded.
pub const RECORDED_AT: &str = "RecordedAt";
/// Index of the event log by origin region and time, for takeover and replay.
pub const BY_ORIGIN_INDEX: &str = "ByOriginRegion";
/// Hash key of the idempotency table.
pub const IDEMPOTENCY_KEY: &str = "Key";
/// Expiry attribute (epoch seconds) of the idempotency table.
pub const IDEMPOTENCY_EXPIRES_AT: &str = "ExpiresAt";

/// What the records of a table's stream carry (`StreamViewType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamView {
    /// Only the key attributes.
    KeysOnly,
    /// The item as it is after the write.
    NewImage,
    /// The item as it was before the write.
    OldImage,
    /// Both images.
    NewAndOldImages,
}

impl StreamView {
    /// The CloudFormation value.
    pub const fn as_str(self) -> &'static str {
        match self {
            StreamView::KeysOnly => "KEYS_ONLY",
            StreamView::NewImage => "NEW_IMAGE",
            StreamView::OldImage => "OLD_IMAGE",
            StreamView::NewAndOldImages => "NEW_AND_OLD_IMAGES",
        }
    }
}

/// Options of a [`ReplicatedTable`].
#[derive(Debug, Clone)]
pub struct ReplicatedTableProps<'a> {
    /// Physical table name, the same in every region.
    pub table_name: String,
    /// Every region, each getting a replica.
    pub regions: &'a [String],
    /// `(name, type)` of the hash key and optional range key.
    pub key: (&'a str, &'a str),
    /// Range key, if any.
    pub range_key: Option<(&'a str, &'a str)>,
    /// The stream every global table has. Not optional: CloudFormation requires a
    /// `StreamSpecification` on a global table with more than one replica, and allows changing it
    /// only while there is one replica, so a table is created with its stream from day one.
    pub stream: StreamView,
    /// `(index name, hash key, range key)` of string-keyed GSIs projecting all attributes.
    pub indexes: Vec<(&'a str, &'a str, &'a str)>,
    /// Expiry attribute, if items expire.
    pub time_to_live: Option<&'a str>,
}

/// A global table: on-demand, a stream, encrypted with KMS, PITR and deletion protection on
/// every replica, retained on stack deletion and on replacement.
#[derive(Debug, Clone)]
pub struct ReplicatedTable {
    table: Handle<GlobalTable>,
}

impl ReplicatedTable {
    /// Adds the global table with one replica per region.
    pub fn new(template: &mut Template, id: &str, props: ReplicatedTableProps<'_>) -> Self {
        let mut attributes = vec![props.key];
        attributes.extend(props.range_key);
        for (_, hash, range) in &props.indexes {
            attributes.push((hash, "S"));
            attributes.push((range, "S"));
        }
        attributes.sort_unstable();
        attributes.dedup();
        let key_schema = |hash: &str, range: Option<&str>| {
            let mut schema = vec![KeySchema { AttributeName: hash.into(), KeyType: "HASH".into() }];
            schema.extend(range.map(|r| KeySchema { AttributeName: r.into(), KeyType: "RANGE".into() }));
            schema
        };
        let indexes: Vec<GlobalSecondaryIndex> = props
            .indexes
            .iter()
            .map(|(name, hash, range)| GlobalSecondaryIndex {
                IndexName: (*name).into(),
                KeySchema: key_schema(hash, Some(range)),
                Projection: Projection { ProjectionType: "ALL".into() },
            })
            .collect();
        let table = template.add_with(
            id,
            GlobalTable {
                TableName: Some(Expr::Str(props.table_name)),
                AttributeDefinitions: attributes
                    .into_iter()
                    .map(|(name, kind)| AttributeDefinition { AttributeName: name.into(), AttributeType: kind.into() })
                    .collect(),
                KeySchema: key_schema(props.key.0, props.range_key.map(|(name, _)| name)),
                BillingMode: Some("PAY_PER_REQUEST".into()),
                StreamSpecification: Some(StreamSpecification { StreamViewType: props.stream.as_str().into() }),
                SSESpecification: Some(SSESpecification { SSEEnabled: true, SSEType: Some("KMS".into()) }),
                GlobalSecondaryIndexes: (!indexes.is_empty()).then_some(indexes),
                TimeToLiveSpecification: props
                    .time_to_live
                    .map(|attribute| TimeToLiveSpecification { AttributeName: attribute.into(), Enabled: true }),
                Replicas: props
                    .regions
                    .iter()
                    .map(|region| ReplicaSpecification {
                        Region: region.clone(),
                        DeletionProtectionEnabled: Some(true),
                        PointInTimeRecoverySpecification: Some(PointInTimeRecoverySpecification {
                            PointInTimeRecoveryEnabled: true,
                        }),
                        Tags: None,
                    })
                    .collect(),
            },
            ResourceOptions::retained(),
        );
        ReplicatedTable { table }
    }

    /// The table name.
    pub fn name(&self) -> Expr {
        self.table.reference()
    }

    /// The stream ARN of the stack region's replica (other regions resolve theirs at deploy time).
    pub fn local_stream_arn(&self) -> Expr {
        self.table.stream_arn()
    }
}

/// The event log of DESIGN.md: keyed by aggregate and sequence, `NEW_AND_OLD_IMAGES` stream,
/// and an index by origin region and time.
pub fn event_log(template: &mut Template, id: &str, table_name: String, regions: &[String]) -> ReplicatedTable {
    ReplicatedTable::new(
        template,
        id,
        ReplicatedTableProps {
            table_name,
            regions,
            key: (AGGREGATE_KEY, "S"),
            range_key: Some((SEQUENCE_KEY, "N")),
            stream: StreamView::NewAndOldImages,
            indexes: vec![(BY_ORIGIN_INDEX, ORIGIN_REGION, RECORDED_AT)],
            time_to_live: None,
        },
    )
}
