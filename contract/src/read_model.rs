//! The read-model tables (`<app>-views-<projection>`): one row per task and writing region.
//!
//! A view is projected in every region that publishes one of its task's events, and the table
//! is global. Global tables settle concurrent writes to one item by last writer wins ("How
//! DynamoDB global tables work",
//! https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_HowItWorks.html),
//! so one item written from several regions can end at an older version than one of them wrote:
//! a region whose replica of the log lacked the latest events writes last. Each region's
//! projector therefore writes only its own row, keyed by its region (no item has two writers,
//! so replication never drops a version), and readers take the row with the highest version.
//! This is AWS's "write to your Region" mode with the home Region intrinsic to the key: writes
//! to an item only through its home Region
//! (https://docs.aws.amazon.com/prescriptive-guidance/latest/dynamodb-global-tables/write-to-your-region.html).

/// Range key: the region whose view projector wrote the row.
pub const PROJECTED_BY: &str = "ProjectedBy";
