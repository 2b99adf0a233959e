//! The publisher's origin rule, written once and rendered twice: as the event source mapping's
//! filter patterns (so Lambda only invokes the publisher for records it acts on) and as the
//! check the handler makes again on every record (filters are an optimisation, not a guarantee
//! the code may rely on).
//!
//! Each region publishes the events that originated there, so every event is published once:
//! - an `INSERT` whose new image has `OriginRegion` = this region is a new local event;
//! - a `MODIFY` whose old image has `OriginRegion` = this region is a local event overwritten by
//!   another region's concurrent write (global tables resolve conflicts last-writer-wins): a
//!   conflict to report, never to hide.
//!
//! Pattern syntax (Lambda developer guide, "Lambda event filtering"): keys in a pattern are
//! ANDed, values in a list are ORed, and strings match exactly.

use crate::event_log::ORIGIN_REGION;
use serde_json::{Map, Value, json};

/// What the publisher does with a record the rule selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selected {
    /// A new event of this region: publish it.
    Publish,
    /// This region's event, changed by another write: report it if it was overwritten.
    Overwritten,
}

/// Which image of the stream record the rule reads the origin from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Image {
    New,
    Old,
}

impl Image {
    const fn field(self) -> &'static str {
        match self {
            Image::New => "NewImage",
            Image::Old => "OldImage",
        }
    }
}

/// One clause: records named `event_name` whose `image` has this region's origin.
struct Clause {
    event_name: &'static str,
    image: Image,
    selects: Selected,
}

/// The rule, in filter order.
const RULE: [Clause; 2] = [
    Clause { event_name: "INSERT", image: Image::New, selects: Selected::Publish },
    Clause { event_name: "MODIFY", image: Image::Old, selects: Selected::Overwritten },
];

/// The origin attributes of a stream record, as the handler sees them.
#[derive(Debug, Clone, Copy, Default)]
pub struct StreamRecord<'a> {
    /// `INSERT`, `MODIFY` or `REMOVE`.
    pub event_name: &'a str,
    /// `OriginRegion` of the new image, if any.
    pub new_origin: Option<&'a str>,
    /// `OriginRegion` of the old image, if any.
    pub old_origin: Option<&'a str>,
}

/// What the rule makes of `record` in `region`; `None` for a record the publisher skips.
pub fn select(record: StreamRecord<'_>, region: &str) -> Option<Selected> {
    RULE.iter().find_map(|clause| {
        let origin = match clause.image {
            Image::New => record.new_origin,
            Image::Old => record.old_origin,
        };
        (record.event_name == clause.event_name && origin == Some(region)).then_some(clause.selects)
    })
}

/// The publisher mapping's filter patterns for `region`, one per clause, as JSON text with
/// sorted keys (the text does not depend on serde_json's features in the build).
pub fn filter_patterns(region: &str) -> Vec<String> {
    RULE.iter()
        .map(|clause| {
            let pattern = json!({
                "eventName": [clause.event_name],
                "dynamodb": {clause.image.field(): {ORIGIN_REGION: {"S": [region]}}},
            });
            sorted(pattern).to_string()
        })
        .collect()
}

/// `value` with every object's keys inserted in sorted order.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect::<Map<_, _>>())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record<'a>(event_name: &'a str, new_origin: Option<&'a str>, old_origin: Option<&'a str>) -> StreamRecord<'a> {
        StreamRecord { event_name, new_origin, old_origin }
    }

    #[test]
    fn local_inserts_are_published_and_overwritten_local_events_checked() {
        let here = "eu-west-1";
        assert_eq!(select(record("INSERT", Some(here), None), here), Some(Selected::Publish));
        assert_eq!(select(record("MODIFY", Some("us-east-1"), Some(here)), here), Some(Selected::Overwritten));
        assert_eq!(select(record("INSERT", Some("us-east-1"), None), here), None, "another region's event");
        assert_eq!(select(record("MODIFY", Some(here), Some("us-east-1")), here), None, "theirs, overwritten");
        assert_eq!(select(record("REMOVE", None, Some(here)), here), None);
        assert_eq!(select(record("INSERT", None, None), here), None, "no origin");
        assert_eq!(select(record("INSERT", Some("eu-west-10"), None), here), None, "exact match only");
    }

    #[test]
    fn patterns_are_sorted_json_naming_the_region_once_each() {
        assert_eq!(
            filter_patterns("eu-west-1"),
            [
                r#"{"dynamodb":{"NewImage":{"OriginRegion":{"S":["eu-west-1"]}}},"eventName":["INSERT"]}"#,
                r#"{"dynamodb":{"OldImage":{"OriginRegion":{"S":["eu-west-1"]}}},"eventName":["MODIFY"]}"#,
            ]
        );
    }
}
