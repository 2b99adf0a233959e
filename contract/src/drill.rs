//! The drill flag: an SSM parameter per region that the api's `/health` reads; while it holds
//! [`FAIL`], `/health` answers 503 and Route53 takes the region out of the shared name.

/// The value that makes `/health` fail.
pub const FAIL: &str = "fail";

/// `/<app>/drill/<region>`.
pub fn parameter(app: &str, region: &str) -> String {
    format!("/{app}/drill/{region}")
}
