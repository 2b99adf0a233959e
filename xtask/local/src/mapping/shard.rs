//! One shard of one mapping: read, filter, batch, invoke, then act on the outcome as Lambda does
//! for stream sources (developer guide, "Using AWS Lambda with Amazon Kinesis": batching window,
//! error handling, reporting batch item failures, bisecting a batch; "Retain discarded batch
//! records ..."): a function error retries the batch, or with `BisectBatchOnFunctionError` splits
//! it in two first (a split does not count as a retry); a partial failure checkpoints before the
//! lowest reported record and retries the rest; a batch past `MaximumRetryAttempts`, or records
//! older than `MaximumRecordAgeInSeconds`, are discarded to the on-failure destination. Records no
//! filter matches are dropped and checkpointed.

use super::Mapping;
use super::destination::{self, Condition, Discarded};
use super::invoker::{InvokeFailure, Invoker};
use super::payload::{self, Delivery, Origin};
use super::report::{InvocationOutcome, MappingEventKind, MappingStats};
use super::response::{BatchResult, batch_result};
use crate::streams::{ShardCursor, StartAt};
use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// Lambda's synchronous invocation payload limit, 6 MB ("Lambda quotas"); a batch stops short of it.
const PAYLOAD_LIMIT: usize = 6 * 1024 * 1024 - 1024;

/// A batch on its way through retries and splits.
struct Pending {
    records: Vec<Delivery>,
    /// Retries counted toward `MaximumRetryAttempts`.
    retries: u32,
    /// Invocations of these records so far.
    invocations: u32,
    request_id: Option<String>,
    function_error: bool,
}

impl Pending {
    fn new(records: Vec<Delivery>) -> Pending {
        Pending { records, retries: 0, invocations: 0, request_id: None, function_error: false }
    }

    fn split_off(&mut self, at: usize) -> Pending {
        Pending { records: self.records.split_off(at), request_id: self.request_id.clone(), ..*self }
    }
}

struct ShardWorker<I> {
    mapping: Arc<Mapping<I>>,
    cursor: ShardCursor,
    buffer: VecDeque<Delivery>,
    buffered_since: Option<Instant>,
    /// The last filtered-out record read after everything buffered: checkpointed once the
    /// buffer is delivered.
    filtered_after_buffer: Option<String>,
}

/// Reads `shard` until it is closed and drained (returns its id) or the task is aborted.
pub(super) async fn run<I: Invoker>(mapping: Arc<Mapping<I>>, shard: String, start: StartAt) -> String {
    mapping.emit(&shard, MappingEventKind::ShardStarted);
    let cursor = ShardCursor::new(mapping.stream.clone(), shard.clone(), start);
    let mut worker =
        ShardWorker { mapping, cursor, buffer: VecDeque::new(), buffered_since: None, filtered_after_buffer: None };
    while let Some(batch) = worker.next_batch().await {
        worker.process(batch).await;
        if worker.buffer.is_empty()
            && let Some(sequence) = worker.filtered_after_buffer.take()
        {
            worker.mapping.stats.checkpoint(&shard, &sequence);
        }
    }
    if let Ok(mut finished) = worker.mapping.stats.finished_shards.lock() {
        finished.push(shard.clone());
    }
    worker.mapping.emit(&shard, MappingEventKind::ShardFinished);
    shard
}

impl<I: Invoker> ShardWorker<I> {
    fn shard(&self) -> &str {
        self.cursor.shard()
    }

    /// The next batch: full, or the batching window passed with records waiting, or the shard
    /// is finished. `None` once the shard is finished and nothing is left.
    async fn next_batch(&mut self) -> Option<Vec<Delivery>> {
        let mapping = self.mapping.clone();
        let config = &mapping.config;
        loop {
            let window_over = self.buffered_since.is_some_and(|since| since.elapsed() >= config.batching_window);
            if self.buffer.len() >= config.batch_size
                || window_over
                || (self.cursor.is_finished() && !self.buffer.is_empty())
            {
                return Some(self.take_batch());
            }
            if self.cursor.is_finished() {
                return None;
            }
            let wanted = config.batch_size.saturating_sub(self.buffer.len()).max(1);
            let read = match self.cursor.read(wanted).await {
                Ok(records) => records,
                Err(error) => {
                    self.mapping.emit(self.shard(), MappingEventKind::Error(error.to_string()));
                    Vec::new()
                }
            };
            let empty = read.is_empty();
            self.admit(read);
            if empty && !self.cursor.is_finished() {
                let mut wait = self.mapping.poll_interval();
                if let Some(since) = self.buffered_since {
                    wait = wait.min(config.batching_window.saturating_sub(since.elapsed()));
                }
                tokio::time::sleep(wait).await;
            }
        }
    }

    /// Shapes and filters what was read; records no filter matches are checkpointed at once
    /// when nothing before them is waiting.
    fn admit(&mut self, records: Vec<crate::streams::StreamRecord>) {
        let mapping = self.mapping.clone();
        let origin =
            Origin { stream_arn: mapping.stream.arn(), region: mapping.stream.region(), shard_id: self.cursor.shard() };
        MappingStats::add(&mapping.stats.read, records.len());
        for record in &records {
            let delivery = payload::delivery(record, &origin);
            let (document, data_is_json) = payload::filter_document(&delivery);
            if mapping.filters.admits(&document, data_is_json) {
                if self.buffer.is_empty() {
                    self.buffered_since = Some(Instant::now());
                }
                self.buffer.push_back(delivery);
                self.filtered_after_buffer = None;
            } else {
                MappingStats::add(&mapping.stats.filtered_out, 1);
                if self.buffer.is_empty() {
                    mapping.stats.checkpoint(origin.shard_id, &delivery.sequence_number);
                } else {
                    self.filtered_after_buffer = Some(delivery.sequence_number.clone());
                }
            }
        }
    }

    fn take_batch(&mut self) -> Vec<Delivery> {
        let mut batch = Vec::new();
        let mut size = 0;
        while let Some(next) = self.buffer.front() {
            let full = batch.len() >= self.mapping.config.batch_size
                || (size + next.size > PAYLOAD_LIMIT && !batch.is_empty());
            if full {
                break;
            }
            size += next.size;
            batch.extend(self.buffer.pop_front());
        }
        self.buffered_since = (!self.buffer.is_empty()).then(Instant::now);
        batch
    }

    /// Delivers `batch` until every record is done or discarded; nothing is invoked while the
    /// region is down (the batch waits for its return).
    async fn process(&mut self, batch: Vec<Delivery>) {
        let mut queue = VecDeque::from([Pending::new(batch)]);
        while let Some(mut pending) = queue.pop_front() {
            self.mapping.outages.wait_up(self.mapping.config.region()).await;
            self.discard_aged(&mut pending).await;
            if pending.records.is_empty() {
                continue;
            }
            self.invoke(pending, &mut queue).await;
        }
    }

    async fn invoke(&mut self, mut pending: Pending, queue: &mut VecDeque<Pending>) {
        let mapping = self.mapping.clone();
        let config = &mapping.config;
        let event = Bytes::from(payload::event(&pending.records).to_string());
        MappingStats::add(&mapping.stats.invocations, 1);
        pending.invocations += 1;
        let first_sequence = pending.records[0].sequence_number.clone();
        let outcome = match mapping.invoker.invoke(&config.function_name, event).await {
            Ok(invoked) => {
                pending.request_id = Some(invoked.request_id);
                pending.function_error = false;
                let sequences: Vec<&str> = pending.records.iter().map(|r| r.sequence_number.as_str()).collect();
                match config.report_batch_item_failures.then(|| batch_result(&invoked.response, &sequences)) {
                    None | Some(BatchResult::Success) => InvocationOutcome::Success,
                    Some(BatchResult::Partial { first_failed }) => InvocationOutcome::Partial { first_failed },
                    Some(BatchResult::Failure) => InvocationOutcome::BatchFailure,
                }
            }
            Err(InvokeFailure::Function { request_id, error_type, message }) => {
                pending.request_id = request_id.or(pending.request_id.take());
                pending.function_error = true;
                InvocationOutcome::FunctionError(format!("{error_type}: {message}"))
            }
            Err(InvokeFailure::NotInvoked(reason)) => InvocationOutcome::NotInvoked(reason),
        };
        let records = pending.records.len();
        mapping.emit(self.shard(), MappingEventKind::Invoked { records, first_sequence, outcome: outcome.clone() });
        match outcome {
            InvocationOutcome::Success => self.done(&pending.records),
            InvocationOutcome::Partial { first_failed } => {
                MappingStats::add(&mapping.stats.partial_failures, 1);
                let rest = pending.split_off(first_failed);
                self.done(&pending.records);
                self.retry(rest, queue).await;
            }
            InvocationOutcome::BatchFailure => self.retry(pending, queue).await,
            InvocationOutcome::FunctionError(_) => {
                MappingStats::add(&mapping.stats.function_errors, 1);
                if config.bisect_on_error && pending.records.len() > 1 {
                    let second = pending.split_off(pending.records.len() / 2);
                    let halves = (pending.records.len(), second.records.len());
                    MappingStats::add(&mapping.stats.bisections, 1);
                    mapping.emit(self.shard(), MappingEventKind::Bisected { halves });
                    queue.push_front(second);
                    queue.push_front(pending);
                } else {
                    self.retry(pending, queue).await;
                }
            }
            InvocationOutcome::NotInvoked(_) => {
                tokio::time::sleep(mapping.settings.retry_delay).await;
                queue.push_front(pending);
            }
        }
    }

    /// Counts a retry of `pending`, or discards it once `MaximumRetryAttempts` is used up.
    async fn retry(&mut self, mut pending: Pending, queue: &mut VecDeque<Pending>) {
        if pending.records.is_empty() {
            return;
        }
        let limit = self.mapping.config.maximum_retry_attempts;
        if limit.is_some_and(|limit| pending.retries >= limit) {
            self.discard(&pending, 0..pending.records.len(), Condition::RetryAttemptsExhausted).await;
            return;
        }
        pending.retries += 1;
        MappingStats::add(&self.mapping.stats.retries, 1);
        tokio::time::sleep(self.mapping.settings.retry_delay).await;
        queue.push_front(pending);
    }

    /// Discards the records of `pending` older than `MaximumRecordAgeInSeconds` (the oldest
    /// come first in a shard).
    async fn discard_aged(&mut self, pending: &mut Pending) {
        let Some(max_age) = self.mapping.config.maximum_record_age else { return };
        let now = SystemTime::now();
        let aged =
            pending.records.iter().take_while(|r| now.duration_since(r.arrival).is_ok_and(|age| age > max_age)).count();
        if aged > 0 {
            self.discard(pending, 0..aged, Condition::RecordAgeExceeded).await;
            pending.records.drain(..aged);
        }
    }

    async fn discard(&mut self, pending: &Pending, range: std::ops::Range<usize>, condition: Condition) {
        let mapping = self.mapping.clone();
        let records = &pending.records[range];
        let counter = match condition {
            Condition::RetryAttemptsExhausted => &mapping.stats.discarded_retries,
            Condition::RecordAgeExceeded => &mapping.stats.discarded_age,
        };
        MappingStats::add(counter, records.len());
        let mut recorded = false;
        if let Some(target) = &mapping.config.on_failure {
            let discarded = Discarded {
                function_arn: &mapping.config.function_arn,
                stream_arn: mapping.stream.arn(),
                kind: mapping.stream.kind(),
                shard_id: self.cursor.shard(),
                batch: records,
                condition,
                invoke_count: pending.invocations,
                request_id: pending.request_id.clone(),
                function_error: pending.function_error,
            };
            match destination::send(&mapping.clients, target, &mapping.config.uuid, &discarded).await {
                Ok(()) => {
                    recorded = true;
                    MappingStats::add(&mapping.stats.destination_sent, 1);
                }
                Err(error) => {
                    MappingStats::add(&mapping.stats.destination_errors, 1);
                    mapping.emit(self.shard(), MappingEventKind::Error(error.to_string()));
                }
            }
        }
        mapping.emit(self.shard(), MappingEventKind::Discarded { records: records.len(), condition, recorded });
        if let Some(last) = records.last() {
            mapping.stats.checkpoint(self.cursor.shard(), &last.sequence_number);
        }
    }

    fn done(&self, records: &[Delivery]) {
        MappingStats::add(&self.mapping.stats.delivered, records.len());
        if let Some(last) = records.last() {
            self.mapping.stats.checkpoint(self.cursor.shard(), &last.sequence_number);
        }
    }
}
