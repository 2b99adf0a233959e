//! Reading DynamoDB Streams and Kinesis shards the way Lambda's pollers do, for both engines:
//! the shard list with each shard's parents ([`Stream::shards`]), and a cursor per shard that
//! reads forward from a starting position, survives an expired iterator, and knows when a
//! closed shard has been read to its end ([`ShardCursor`]). [`order`] decides which shards may
//! be read: a child only after its parents are finished, as Lambda processes them
//! (developer guide, "Using AWS Lambda with Amazon DynamoDB": "Lambda processes parent shards
//! before child shards"; the Kinesis guide says the same of resharding).

mod cursor;
mod dynamodb;
mod kinesis;
pub mod order;

pub use cursor::ShardCursor;

use crate::clients::Clients;
use std::time::SystemTime;

/// A shard and the shards it was split or merged from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardInfo {
    /// `shardId-...`.
    pub id: String,
    /// `ParentShardId` and, after a Kinesis merge, `AdjacentParentShardId`.
    pub parents: Vec<String>,
}

/// Where a cursor starts reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartAt {
    /// The oldest record still retained.
    TrimHorizon,
    /// Only records written from now on.
    Latest,
    /// Kinesis only: the first record at or after this time.
    AtTimestamp(SystemTime),
    /// Just after this sequence number (where a checkpoint resumes).
    AfterSequence(String),
}

/// One record read from a shard.
#[derive(Debug, Clone)]
pub struct StreamRecord {
    /// Its sequence number (ordered within the shard).
    pub sequence_number: String,
    /// `ApproximateCreationDateTime` (DynamoDB) or `ApproximateArrivalTimestamp` (Kinesis).
    pub arrival: SystemTime,
    /// The record as the service returned it.
    pub body: RecordBody,
}

/// The service's own record.
#[derive(Debug, Clone)]
pub enum RecordBody {
    /// A DynamoDB Streams record.
    DynamoDb(Box<aws_sdk_dynamodbstreams::types::Record>),
    /// A Kinesis data record.
    Kinesis(Box<aws_sdk_kinesis::types::Record>),
}

/// A stream call failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation} on {stream} failed: {message}")]
pub struct StreamError {
    /// The API operation.
    pub operation: &'static str,
    /// The stream's ARN.
    pub stream: String,
    /// What the service said.
    pub message: String,
}

/// What kind of stream an ARN names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    /// `arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>`.
    DynamoDb,
    /// `arn:aws:kinesis:<region>:<account>:stream/<name>`.
    Kinesis,
}

/// A stream to read, by ARN, with a client in its region.
#[derive(Debug, Clone)]
pub enum Stream {
    /// A table's stream.
    DynamoDb {
        /// DynamoDB Streams in the stream's region.
        client: aws_sdk_dynamodbstreams::Client,
        /// The stream ARN.
        arn: String,
    },
    /// A Kinesis data stream.
    Kinesis {
        /// Kinesis in the stream's region.
        client: aws_sdk_kinesis::Client,
        /// The stream ARN.
        arn: String,
        /// The stream name (the ARN's last part).
        name: String,
    },
}

/// The parts of an ARN the runtime needs: service, region, resource.
pub fn arn_parts(arn: &str) -> Option<(&str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (_arn, _partition, service, region, _account, resource) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    Some((service, region, resource))
}

impl Stream {
    /// The stream `arn` names, with a client in its region; `None` for another kind of ARN.
    pub fn from_arn(clients: &Clients, arn: &str) -> Option<Stream> {
        let (service, region, resource) = arn_parts(arn)?;
        match service {
            "dynamodb" if resource.contains("/stream/") => {
                Some(Stream::DynamoDb { client: clients.streams(region), arn: arn.to_owned() })
            }
            "kinesis" => {
                let name = resource.strip_prefix("stream/")?.to_owned();
                Some(Stream::Kinesis { client: clients.kinesis(region), arn: arn.to_owned(), name })
            }
            _ => None,
        }
    }

    /// The stream ARN.
    pub fn arn(&self) -> &str {
        match self {
            Stream::DynamoDb { arn, .. } | Stream::Kinesis { arn, .. } => arn,
        }
    }

    /// The region the stream lives in.
    pub fn region(&self) -> &str {
        arn_parts(self.arn()).map_or("", |(_, region, _)| region)
    }

    /// DynamoDB or Kinesis.
    pub fn kind(&self) -> StreamKind {
        match self {
            Stream::DynamoDb { .. } => StreamKind::DynamoDb,
            Stream::Kinesis { .. } => StreamKind::Kinesis,
        }
    }

    /// Every shard the stream lists now, with its parents.
    pub async fn shards(&self) -> Result<Vec<ShardInfo>, StreamError> {
        match self {
            Stream::DynamoDb { client, arn } => dynamodb::shards(client, arn).await,
            Stream::Kinesis { client, arn, name } => kinesis::shards(client, arn, name).await,
        }
    }
}
