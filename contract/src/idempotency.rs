//! The idempotency table: command records, the once-per-(consumer, EventId) guards, and the items
//! each region's publisher keeps there (its poison holds).

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publisher_items_share_the_region_prefix() {
        assert!(publisher_holds_key("eu-west-1").starts_with(&publisher_key_prefix("eu-west-1")));
        assert!(!publisher_holds_key("eu-west-1").starts_with(&publisher_key_prefix("eu-west-2")));
    }
}
