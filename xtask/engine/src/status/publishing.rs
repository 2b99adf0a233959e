//! How far each region's events are published: its publisher watermark and, once it was lost,
//! how far another region took its events over (`engine::takeover`). Both items live in the
//! global idempotency table; each is read from the first replica that answers, the region's own
//! first, so a lost region's progress is still shown.

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

/// Reads `region`'s watermark and takeover position from the first replica among `regions`
/// (the region itself first) that answers; a table not deployed yet is no finding.
pub(super) async fn read(session: &Session, region: &str, regions: &[String], notes: &mut Vec<String>) -> Publishing {
    let table = idempotency_table_name(&session.config.app);
    let replicas = std::iter::once(region).chain(regions.iter().map(String::as_str).filter(|r| *r != region));
    let mut last_error = None;
    for replica in replicas {
        let dynamodb = session.aws.dynamodb(replica);
        let watermark = WatermarkTable::new(dynamodb.clone(), table.clone(), region).load().await;
        let position = PositionTable::new(dynamodb, table.clone(), region).load().await;
        match (watermark, position) {
            (Ok(watermark), Ok(taken_over)) => {
                return Publishing { watermark: watermark.map(|w| w.recorded_at), taken_over };
            }
            (Err(error), _) | (_, Err(error)) => last_error = Some(error),
        }
    }
    match last_error {
        Some(DomainError::Aws { code, .. }) if code == "ResourceNotFoundException" => {}
        Some(error) => notes.push(format!("the publishing progress of {region} could not be read: {error}")),
        None => {}
    }
    Publishing::default()
}
