//! A cursor over one shard: reads forward from its starting position, renews an expired
//! iterator just after the last record it returned, and reports the end of a closed shard.

use super::{StartAt, Stream, StreamError, StreamRecord, dynamodb, kinesis};

/// Reads one shard forward.
#[derive(Debug)]
pub struct ShardCursor {
    stream: Stream,
    shard: String,
    start: StartAt,
    iterator: Option<String>,
    last_sequence: Option<String>,
    started: bool,
    finished: bool,
}

impl ShardCursor {
    /// A cursor on `shard` of `stream`, starting at `start` (nothing is called yet).
    pub fn new(stream: Stream, shard: impl Into<String>, start: StartAt) -> ShardCursor {
        ShardCursor {
            stream,
            shard: shard.into(),
            start,
            iterator: None,
            last_sequence: None,
            started: false,
            finished: false,
        }
    }

    /// The shard.
    pub fn shard(&self) -> &str {
        &self.shard
    }

    /// Whether the shard is closed and every record has been returned.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The most records one read returns from this kind of stream.
    pub fn max_per_read(&self) -> usize {
        let limit = match self.stream {
            Stream::DynamoDb { .. } => dynamodb::MAX_RECORDS_PER_READ,
            Stream::Kinesis { .. } => kinesis::MAX_RECORDS_PER_READ,
        };
        usize::try_from(limit).unwrap_or(1_000)
    }

    /// The next page of at most `limit` records (possibly empty while the shard is open).
    pub async fn read(&mut self, limit: usize) -> Result<Vec<StreamRecord>, StreamError> {
        if self.finished {
            return Ok(Vec::new());
        }
        // Two tries: the second with an iterator renewed after an expiry.
        for _ in 0..2 {
            let Some(iterator) = self.current_iterator().await? else {
                self.finished = true;
                return Ok(Vec::new());
            };
            let limit = i32::try_from(limit.min(self.max_per_read())).unwrap_or(1_000);
            let page = match &self.stream {
                Stream::DynamoDb { client, arn } => dynamodb::read(client, arn, &iterator, limit).await,
                Stream::Kinesis { client, arn, .. } => kinesis::read(client, arn, &iterator, limit).await,
            };
            match page {
                Ok((records, next)) => {
                    if let Some(last) = records.last() {
                        self.last_sequence = Some(last.sequence_number.clone());
                    }
                    self.finished = next.is_none();
                    self.iterator = next;
                    return Ok(records);
                }
                Err(None) => {
                    // Expired: resume just after what was returned, or where the cursor began.
                    self.iterator = None;
                    self.started = false;
                    if let Some(last) = &self.last_sequence {
                        self.start = StartAt::AfterSequence(last.clone());
                    }
                }
                Err(Some(error)) => return Err(error),
            }
        }
        Ok(Vec::new())
    }

    async fn current_iterator(&mut self) -> Result<Option<String>, StreamError> {
        if !self.started {
            self.iterator = match &self.stream {
                Stream::DynamoDb { client, arn } => dynamodb::iterator(client, arn, &self.shard, &self.start).await?,
                Stream::Kinesis { client, arn, name } => {
                    kinesis::iterator(client, arn, name, &self.shard, &self.start).await?
                }
            };
            self.started = true;
        }
        Ok(self.iterator.clone())
    }
}
