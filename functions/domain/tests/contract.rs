//! The event-log attribute names are a contract between the templates (`stacks`) and the
//! functions: the two crates must spell them the same way.

use domain::item::{AGGREGATE_KEY, ORIGIN_REGION, RECORDED_AT, SEQUENCE_KEY};
use stacks::constructs::event_log;

#[test]
fn event_log_attribute_names_match_the_templates() {
    assert_eq!(AGGREGATE_KEY, event_log::AGGREGATE_KEY);
    assert_eq!(SEQUENCE_KEY, event_log::SEQUENCE_KEY);
    assert_eq!(ORIGIN_REGION, event_log::ORIGIN_REGION);
    assert_eq!(RECORDED_AT, event_log::RECORDED_AT);
}
