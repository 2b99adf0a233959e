//! DynamoDB Streams images (the DynamoDB Streams SDK's attribute values) in DynamoDB JSON
//! (`{"S": "..."}`), as Lambda delivers them in a DynamoDB stream event and as filter patterns
//! match them: keys sorted, binary values base64. The one converter for every reader of a table
//! stream: the publisher's replay of a stream and the local runtime's mappings and replication.

use aws_sdk_dynamodbstreams::types::AttributeValue;
use base64::Engine;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};

/// An item image as a stream record carries it.
pub type StreamImage = HashMap<String, AttributeValue>;

/// An image in DynamoDB JSON, keys sorted (`{"Id": {"N": "101"}}`), as Lambda delivers it.
pub fn image_json(image: &StreamImage) -> Value {
    let sorted: BTreeMap<&String, &AttributeValue> = image.iter().collect();
    Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), value_json(v))).collect::<Map<_, _>>())
}

/// One attribute value in DynamoDB JSON; binary values are base64, as in Lambda's events.
pub fn value_json(value: &AttributeValue) -> Value {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    match value {
        AttributeValue::S(s) => json!({"S": s}),
        AttributeValue::N(n) => json!({"N": n}),
        AttributeValue::Bool(b) => json!({"BOOL": b}),
        AttributeValue::Null(b) => json!({"NULL": b}),
        AttributeValue::B(b) => json!({"B": b64(b.as_ref())}),
        AttributeValue::Ss(v) => json!({"SS": v}),
        AttributeValue::Ns(v) => json!({"NS": v}),
        AttributeValue::Bs(v) => json!({"BS": v.iter().map(|b| b64(b.as_ref())).collect::<Vec<_>>()}),
        AttributeValue::M(m) => json!({"M": image_json(m)}),
        AttributeValue::L(l) => json!({"L": l.iter().map(value_json).collect::<Vec<_>>()}),
        // A type newer than this SDK: keep the record deliverable, say what it was.
        other => json!({"NULL": true, "Unknown": format!("{other:?}")}),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use aws_sdk_dynamodbstreams::primitives::Blob;

    #[test]
    fn images_render_as_lambda_delivers_them_with_sorted_keys_and_base64_binaries() {
        let image: StreamImage = [
            ("Id".to_owned(), AttributeValue::N("101".into())),
            ("Blob".to_owned(), AttributeValue::B(Blob::new(b"hi".to_vec()))),
            ("Tags".to_owned(), AttributeValue::L(vec![AttributeValue::S("a".into()), AttributeValue::Bool(true)])),
            ("Nested".to_owned(), AttributeValue::M([("k".to_owned(), AttributeValue::Null(true))].into())),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            image_json(&image).to_string(),
            r#"{"Blob":{"B":"aGk="},"Id":{"N":"101"},"Nested":{"M":{"k":{"NULL":true}}},"Tags":{"L":[{"S":"a"},{"BOOL":true}]}}"#
        );
    }
}
