//! `FilterCriteria` against the examples of the Lambda developer guide, "Lambda event
//! filtering" (comparison operators table, filtering examples, multi-level filtering) and
//! "Using event filtering with a Kinesis event source".

#![allow(clippy::unwrap_used, missing_docs)]

use local::mapping::filter::Filters;
use serde_json::{Value, json};

fn filters(patterns: &[Value]) -> Filters {
    let patterns: Vec<String> = patterns.iter().map(Value::to_string).collect();
    Filters::new(&patterns, "data").unwrap()
}

fn admits(pattern: Value, document: Value) -> bool {
    filters(&[pattern]).admits(&document, true)
}

#[test]
fn null_matches_only_null_and_empty_matches_only_the_empty_string() {
    assert!(admits(json!({"UserID": [null]}), json!({"UserID": null})));
    assert!(!admits(json!({"UserID": [null]}), json!({"UserID": "u1"})));
    assert!(admits(json!({"LastName": [""]}), json!({"LastName": ""})));
    assert!(!admits(json!({"LastName": [""]}), json!({"LastName": "Doe"})));
    assert!(!admits(json!({"LastName": [""]}), json!({"LastName": null})));
}

#[test]
fn equals_and_across_fields_or_within_a_field() {
    assert!(admits(json!({"Name": ["Alice"]}), json!({"Name": "Alice"})));
    assert!(!admits(json!({"Name": ["Alice"]}), json!({"Name": "alice"})), "no case folding");
    let and = json!({"Location": ["New York"], "Day": ["Monday"]});
    assert!(admits(and.clone(), json!({"Location": "New York", "Day": "Monday"})));
    assert!(!admits(and, json!({"Location": "New York", "Day": "Tuesday"})));
    let or = json!({"PaymentType": ["Credit", "Debit"]});
    assert!(admits(or.clone(), json!({"PaymentType": "Debit"})));
    assert!(!admits(or, json!({"PaymentType": "Cash"})));
}

#[test]
fn anything_but_numeric_exists_and_prefix() {
    let not = json!({"Weather": [{"anything-but": ["Raining"]}]});
    assert!(admits(not.clone(), json!({"Weather": "Sunny"})));
    assert!(!admits(not, json!({"Weather": "Raining"})));
    assert!(admits(json!({"Price": [{"numeric": ["=", 100]}]}), json!({"Price": 100})));
    let range = json!({"Price": [{"numeric": [">", 10, "<=", 20]}]});
    assert!(admits(range.clone(), json!({"Price": 20})));
    assert!(!admits(range.clone(), json!({"Price": 10})));
    assert!(!admits(range, json!({"Price": 21})));
    assert!(admits(json!({"ProductName": [{"exists": true}]}), json!({"ProductName": "x"})));
    assert!(!admits(json!({"ProductName": [{"exists": true}]}), json!({"Other": "x"})));
    assert!(admits(json!({"ProductName": [{"exists": false}]}), json!({"Other": "x"})));
    assert!(!admits(json!({"ProductName": [{"exists": false}]}), json!({"ProductName": "x"})));
    assert!(admits(json!({"Region": [{"prefix": "us-"}]}), json!({"Region": "us-east-1"})));
    assert!(!admits(json!({"Region": [{"prefix": "us-"}]}), json!({"Region": "eu-west-1"})));
}

#[test]
fn a_record_passes_when_any_filter_matches() {
    let either = filters(&[json!({"a": ["1"]}), json!({"b": ["2"]})]);
    assert!(either.admits(&json!({"a": "1", "b": "0"}), true));
    assert!(either.admits(&json!({"a": "0", "b": "2"}), true));
    assert!(!either.admits(&json!({"a": "0", "b": "0"}), true));
    assert!(Filters::new(&[], "data").unwrap().admits(&json!({}), false), "no filter: everything passes");
}

#[test]
fn the_guides_kinesis_and_dynamodb_examples() {
    // Kinesis metadata and data ("Filtering examples").
    let kinesis = json!({"partitionKey": ["1"], "data": {"Location": ["Los Angeles"]}});
    let record = |key: &str, city: &str| json!({"partitionKey": key, "data": {"Location": city}});
    assert!(admits(kinesis.clone(), record("1", "Los Angeles")));
    assert!(!admits(kinesis.clone(), record("2", "Los Angeles")));
    assert!(!admits(kinesis, record("1", "Seattle")));
    let temperature = json!({"data": {"Temperature": [{"numeric": [">", 50, "<=", 60]}]}});
    assert!(admits(temperature.clone(), json!({"data": {"Temperature": 55}})));
    assert!(!admits(temperature, json!({"data": {"Temperature": 61}})));
    let order = json!({"data": {"order": {"type": ["buy"]}}});
    assert!(admits(order, json!({"data": {"record": 12345, "order": {"type": "buy", "stock": "ANYCO"}}})));
    // DynamoDB multi-level filtering: Keys.Id.N is the string "101".
    let dynamodb = json!({"dynamodb": {"Keys": {"Id": {"N": ["101"]}}}});
    let document =
        json!({"eventName": "INSERT", "dynamodb": {"Keys": {"Id": {"N": "101"}}, "NewImage": {"Id": {"N": "101"}}}});
    assert!(Filters::new(&[dynamodb.to_string()], "dynamodb").unwrap().admits(&document, true));
}

#[test]
fn kinesis_data_that_is_not_json_fails_data_patterns_and_meets_metadata_ones() {
    let on_data = filters(&[json!({"data": {"Location": ["Los Angeles"]}})]);
    assert!(!on_data.admits(&json!({"partitionKey": "1"}), false));
    let on_metadata = filters(&[json!({"partitionKey": ["1"]})]);
    assert!(on_metadata.admits(&json!({"partitionKey": "1"}), false));
    assert!(!on_metadata.admits(&json!({"partitionKey": "2"}), false));
}

#[test]
fn the_publishers_filters_take_this_regions_inserts_and_overwritten_events() {
    let patterns = stacks::app::publisher_filters("eu-west-1");
    let publisher = Filters::new(&patterns, "dynamodb").unwrap();
    let record = |name: &str, image: &str, origin: &str| json!({"eventName": name, "dynamodb": {image: {"OriginRegion": {"S": origin}}}});
    assert!(publisher.admits(&record("INSERT", "NewImage", "eu-west-1"), true));
    assert!(!publisher.admits(&record("INSERT", "NewImage", "us-east-1"), true));
    assert!(publisher.admits(&record("MODIFY", "OldImage", "eu-west-1"), true));
    assert!(!publisher.admits(&record("MODIFY", "OldImage", "us-east-1"), true));
}

#[test]
fn invalid_patterns_are_refused_as_lambda_refuses_them() {
    assert!(Filters::new(&["not json".into()], "data").is_err());
    assert!(Filters::new(&["[1]".into()], "data").is_err());
    let eleven: Vec<String> = (0..11).map(|i| json!({"a": [i.to_string()]}).to_string()).collect();
    assert!(Filters::new(&eleven, "data").is_err());
}
