//! How far each region's events are published: its publisher watermark and, once it was lost,
//! how far another region took its events over (`engine::takeover`). Both items live in the
//! global idempotency table and only move forwards, so every replica that answers is read and the
//! furthest of each is shown: a replica that replication has not reached yet (a lost region's own,
//! most likely) does not hide a takeover another region recorded.

use crate::session::Session;
use crate::takeover::{Position, PositionTable};
use domain::DomainError;
use publisher::WatermarkTable;
use stacks::app::idempotency_table_name;

/// A region's publishing progress.
#[derive(Debug, Clone, Default)]
pub(super) struct Publishing {
    pub watermark: Option<String>,
    pub taken_over: Option<Position>,
}

/// Reads `region`'s watermark and takeover position from every replica among `regions` (and
/// the region's own) that answers, keeping the furthest of each; a table not deployed yet is no
/// finding.
pub(super) async fn read(session: &Session, region: &str, regions: &[String], notes: &mut Vec<String>) -> Publishing {
    let table = idempotency_table_name(&session.config.app);
    let replicas = std::iter::once(region).chain(regions.iter().map(String::as_str).filter(|r| *r != region));
    let mut progress = Publishing::default();
    let mut answered = false;
    let mut last_error = None;
    for replica in replicas {
        let dynamodb = session.aws.dynamodb(replica);
        let watermark = WatermarkTable::new(dynamodb.clone(), table.clone(), region).load().await;
        let position = PositionTable::new(dynamodb, table.clone(), region).load().await;
        match (watermark, position) {
            (Ok(watermark), Ok(taken_over)) => {
                answered = true;
                progress.watermark = furthest(progress.watermark, watermark.map(|w| w.recorded_at), |w| w.clone());
                progress.taken_over = furthest(progress.taken_over, taken_over, |p| p.up_to.clone());
            }
            (Err(error), _) | (_, Err(error)) => last_error = Some(error),
        }
    }
    match last_error {
        _ if answered => {}
        Some(DomainError::Aws { code, .. }) if code == "ResourceNotFoundException" => {}
        Some(error) => notes.push(format!("the publishing progress of {region} could not be read: {error}")),
        None => {}
    }
    progress
}

/// The later of two readings by `key` (`RecordedAt` times in one fixed-width format order as
/// text).
fn furthest<T>(a: Option<T>, b: Option<T>, key: impl Fn(&T) -> String) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if key(&b) > key(&a) { b } else { a }),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::furthest;

    #[test]
    fn the_furthest_reading_wins_and_a_missing_one_loses() {
        let key = |t: &&str| (*t).to_owned();
        assert_eq!(
            furthest(Some("2026-01-01T00:00:01.000Z"), Some("2026-01-01T00:00:02.000Z"), key),
            Some("2026-01-01T00:00:02.000Z")
        );
        assert_eq!(
            furthest(Some("2026-01-01T00:00:03.000Z"), Some("2026-01-01T00:00:02.000Z"), key),
            Some("2026-01-01T00:00:03.000Z")
        );
        assert_eq!(furthest(None, Some("2026-01-01T00:00:02.000Z"), key), Some("2026-01-01T00:00:02.000Z"));
        assert_eq!(furthest::<&str>(None, None, key), None);
    }
}
