//! Origin tagging: every event records the region of the api function that wrote it, read from
//! Lambda's `AWS_REGION`, and the time it was recorded in RFC 3339 UTC with milliseconds.

use crate::error::DomainError;
use time::OffsetDateTime;
use time::format_description::FormatItem;
use time::macros::format_description;

/// `2026-01-02T03:04:05.678Z`: fixed width, so the `ByOriginRegion` index sorts by time.
const RECORDED_AT_FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// The region this function runs in, as written to `OriginRegion` and `published_by`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    region: String,
}

impl Origin {
    /// Wraps a region name after checking it looks like one (`us-east-1`).
    pub fn new(region: impl Into<String>) -> Result<Self, DomainError> {
        let region = region.into();
        let valid = (4..=32).contains(&region.len())
            && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && region.contains('-');
        if !valid {
            return Err(DomainError::Config(format!("{region:?} is not an AWS region name such as us-east-1")));
        }
        Ok(Origin { region })
    }

    /// Reads `AWS_REGION`, which Lambda sets for every function.
    pub fn from_env() -> Result<Self, DomainError> {
        let region = std::env::var("AWS_REGION")
            .map_err(|_| DomainError::Config("AWS_REGION is not set; Lambda sets it, tests must too".into()))?;
        Self::new(region)
    }

    /// The region name.
    pub fn region(&self) -> &str {
        &self.region
    }
}

/// Formats `at` as `RecordedAt`.
pub fn format_recorded_at(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    // The format only uses fields every OffsetDateTime has.
    at.format(RECORDED_AT_FORMAT).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::macros::datetime;

    #[test]
    fn recorded_at_is_utc_with_milliseconds() {
        let at = datetime!(2026-01-02 05:04:05.678_9 +02:00);
        assert_eq!(format_recorded_at(at), "2026-01-02T03:04:05.678Z");
    }

    #[test]
    fn origin_accepts_region_names_only() {
        assert_eq!(Origin::new("eu-west-1").unwrap().region(), "eu-west-1");
        assert!(Origin::new("").is_err());
        assert!(Origin::new("EU-WEST-1").is_err());
        assert!(Origin::new("eu west").is_err());
    }
}
