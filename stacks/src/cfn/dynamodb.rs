//! `AWS::DynamoDB::*` resource types.

use super::{Expr, attributes, property, resource};

resource!(
    /// `AWS::DynamoDB::GlobalTable` (version 2019.11.21): one resource, one stack, every replica.
    GlobalTable, "AWS::DynamoDB::GlobalTable", {
    /// Table name (changing it replaces every replica).
    pub TableName: Option<Expr>,
    /// Attributes used in keys.
    pub AttributeDefinitions: Vec<AttributeDefinition>,
    /// Hash and range key.
    pub KeySchema: Vec<KeySchema>,
    /// `PAY_PER_REQUEST` or `PROVISIONED` (the default, so always set it).
    pub BillingMode: Option<String>,
    /// Stream settings; required with more than one replica.
    pub StreamSpecification: Option<StreamSpecification>,
    /// Encryption at rest for every replica.
    pub SSESpecification: Option<SSESpecification>,
    /// Global secondary indexes.
    pub GlobalSecondaryIndexes: Option<Vec<GlobalSecondaryIndex>>,
    /// Item expiry.
    pub TimeToLiveSpecification: Option<TimeToLiveSpecification>,
    /// One entry per region.
    pub Replicas: Vec<ReplicaSpecification>,
});

attributes!(GlobalTable {
    /// The ARN of the replica in the stack's region.
    arn => "Arn",
    /// The stream ARN of the replica in the stack's region only.
    stream_arn => "StreamArn",
});

property!(
    /// `AttributeDefinition`.
    AttributeDefinition, {
    /// Attribute name.
    pub AttributeName: String,
    /// `S`, `N` or `B`.
    pub AttributeType: String,
});

property!(
    /// `KeySchema`.
    KeySchema, {
    /// Attribute name.
    pub AttributeName: String,
    /// `HASH` or `RANGE`.
    pub KeyType: String,
});

property!(
    /// `StreamSpecification`.
    StreamSpecification, {
    /// `NEW_AND_OLD_IMAGES` etc.
    pub StreamViewType: String,
});

property!(
    /// `SSESpecification` of a global table.
    SSESpecification, {
    /// Encrypt with a KMS key (the AWS managed `aws/dynamodb` key unless a replica names one).
    pub SSEEnabled: bool,
    /// `KMS`.
    pub SSEType: Option<String>,
});

property!(
    /// `GlobalSecondaryIndex`.
    GlobalSecondaryIndex, {
    /// Index name.
    pub IndexName: String,
    /// Hash and range key of the index.
    pub KeySchema: Vec<KeySchema>,
    /// Which attributes are copied.
    pub Projection: Projection,
});

property!(
    /// `Projection`.
    Projection, {
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    pub ProjectionType: String,
});

property!(
    /// `TimeToLiveSpecification`.
    TimeToLiveSpecification, {
    /// Attribute holding the expiry (epoch seconds).
    pub AttributeName: String,
    /// Whether expiry is on.
    pub Enabled: bool,
});

property!(
    /// `ReplicaSpecification`.
    ReplicaSpecification, {
    /// The replica's region.
    pub Region: String,
    /// Refuse deletion of this replica's table by anyone.
    pub DeletionProtectionEnabled: Option<bool>,
    /// Point-in-time recovery.
    pub PointInTimeRecoverySpecification: Option<PointInTimeRecoverySpecification>,
    /// Tags.
    pub Tags: Option<Vec<super::Tag>>,
});

property!(
    /// `PointInTimeRecoverySpecification`.
    PointInTimeRecoverySpecification, {
    /// Whether PITR is on.
    pub PointInTimeRecoveryEnabled: bool,
});
