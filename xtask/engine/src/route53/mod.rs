//! Route53 as the kit reads it: the region its global API is signed for, which regions a
//! resolver is answered with for the shared name (`evaluate`, with `nearest` for latency), and
//! the hosted zone holding the shared name (`zone`).

/// Route53 is a global service whose API is signed for `us-east-1` (AWS General Reference,
/// "Amazon Route 53 endpoints and quotas").
pub const ROUTE53_REGION: &str = "us-east-1";

pub mod evaluate;
pub mod nearest;
pub mod zone;
