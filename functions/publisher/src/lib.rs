//! The publisher function: the event log's DynamoDB stream → the regional Kinesis stream.
//! [`handler`] classifies, holds and publishes, `conflicts` reports overwritten events,
//! [`waves`] publishes in per-aggregate order, [`sink`] abstracts Kinesis and SQS so tests can
//! inject faults, and [`release`] lifts a poison hold (what `redrive` calls). [`watermark`] is
//! how far this region's events are known to be published; [`republish`] puts events read back
//! from the log on a stream again (takeover and replay).

mod conflicts;
pub mod handler;
pub mod release;
pub mod replay;
pub mod republish;
pub mod sink;
pub mod watermark;
pub mod waves;

pub use handler::{Publisher, Stats};
pub use release::{Release, ReleaseError, Released};
pub use republish::{Republication, Republished, republish};
pub use sink::{ConflictSink, EntryResult, KinesisSink, OutgoingRecord, RecordSink, SqsConflicts};
pub use watermark::{Watermark, WatermarkTable};
pub use waves::WaveSettings;

/// `Instant` of an invocation's deadline (`Context::deadline`, epoch milliseconds).
pub fn deadline_instant(deadline_epoch_ms: u64) -> tokio::time::Instant {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    tokio::time::Instant::now() + std::time::Duration::from_millis(deadline_epoch_ms.saturating_sub(now_ms))
}
