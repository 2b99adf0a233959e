//! The idempotency table: command records, the once-per-(consumer, EventId) guards, the items
//! each region's publisher keeps there (its poison holds and its watermark), and the position of
//! a takeover. The table is global, so what a region's publisher writes is still readable in the
//! surviving regions once that region is lost.

/// Hash key.
pub const KEY: &str = "Key";
/// Expiry attribute (epoch seconds); DynamoDB's TTL deletes items after it.
pub const EXPIRES_AT: &str = "ExpiresAt";

/// Every item of `region`'s publisher starts with this key prefix, so its role can be limited to
/// them (`dynamodb:LeadingKeys`).
pub fn publisher_key_prefix(region: &str) -> String {
    format!("publisher#{region}#")
}

/// The item listing `region`'s publisher holds: aggregates whose later events wait behind an
/// event that could not be published.
pub fn publisher_holds_key(region: &str) -> String {
    format!("{}holds", publisher_key_prefix(region))
}

/// The item holding `region`'s publisher watermark: the `RecordedAt` of the latest event it
/// published with every earlier event of its batch stored, advanced only forwards.
pub fn publisher_watermark_key(region: &str) -> String {
    format!("{}watermark", publisher_key_prefix(region))
}

/// The item recording how far events recorded in `origin` were taken over, and by which region.
pub fn takeover_key(origin: &str) -> String {
    format!("takeover#{origin}")
}

/// The watermark's `RecordedAt` (and a takeover's position).
pub const WATERMARK: &str = "Watermark";
/// When the item was last written (RFC 3339).
pub const UPDATED_AT: &str = "UpdatedAt";
/// The region that took the origin's events over.
pub const TAKEN_OVER_BY: &str = "TakenOverBy";
/// Events a takeover published so far.
pub const PUBLISHED: &str = "Published";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publisher_items_share_the_region_prefix() {
        assert!(publisher_holds_key("eu-west-1").starts_with(&publisher_key_prefix("eu-west-1")));
        assert!(!publisher_holds_key("eu-west-1").starts_with(&publisher_key_prefix("eu-west-2")));
        assert!(publisher_watermark_key("eu-west-1").starts_with(&publisher_key_prefix("eu-west-1")));
        assert_ne!(publisher_watermark_key("eu-west-1"), publisher_holds_key("eu-west-1"));
        assert!(!takeover_key("eu-west-1").starts_with("publisher#"), "written by the operator, not the publisher");
    }
}
