//! DynamoDB attribute values as the three shapes the runtime needs: the DynamoDB Streams SDK's
//! (what a stream record carries), the DynamoDB SDK's (what a replicated write sends), and
//! DynamoDB JSON (`{"S": "..."}`, what Lambda puts in a stream event and what filters match).

use aws_sdk_dynamodb::primitives::Blob as TableBlob;
use aws_sdk_dynamodb::types::AttributeValue as TableValue;
use aws_sdk_dynamodbstreams::types::AttributeValue as StreamValue;
use base64::Engine;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};

/// An item image as a stream record carries it.
pub type StreamImage = HashMap<String, StreamValue>;

/// An image in DynamoDB JSON, keys sorted (`{"Id": {"N": "101"}}`), as Lambda delivers it.
pub fn image_json(image: &StreamImage) -> Value {
    let sorted: BTreeMap<&String, &StreamValue> = image.iter().collect();
    Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), value_json(v))).collect::<Map<_, _>>())
}

/// One attribute value in DynamoDB JSON; binary values are base64, as in Lambda's events.
pub fn value_json(value: &StreamValue) -> Value {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    match value {
        StreamValue::S(s) => json!({"S": s}),
        StreamValue::N(n) => json!({"N": n}),
        StreamValue::Bool(b) => json!({"BOOL": b}),
        StreamValue::Null(b) => json!({"NULL": b}),
        StreamValue::B(b) => json!({"B": b64(b.as_ref())}),
        StreamValue::Ss(v) => json!({"SS": v}),
        StreamValue::Ns(v) => json!({"NS": v}),
        StreamValue::Bs(v) => json!({"BS": v.iter().map(|b| b64(b.as_ref())).collect::<Vec<_>>()}),
        StreamValue::M(m) => json!({"M": image_json(m)}),
        StreamValue::L(l) => json!({"L": l.iter().map(value_json).collect::<Vec<_>>()}),
        // A type newer than this SDK: keep the record deliverable, say what it was.
        other => json!({"NULL": true, "Unknown": format!("{other:?}")}),
    }
}

/// The same image as the DynamoDB SDK's item, for a `PutItem` or `DeleteItem` in another region.
pub fn table_item(image: &StreamImage) -> HashMap<String, TableValue> {
    image.iter().map(|(k, v)| (k.clone(), table_value(v))).collect()
}

fn table_value(value: &StreamValue) -> TableValue {
    match value {
        StreamValue::S(s) => TableValue::S(s.clone()),
        StreamValue::N(n) => TableValue::N(n.clone()),
        StreamValue::Bool(b) => TableValue::Bool(*b),
        StreamValue::Null(b) => TableValue::Null(*b),
        StreamValue::B(b) => TableValue::B(TableBlob::new(b.as_ref())),
        StreamValue::Ss(v) => TableValue::Ss(v.clone()),
        StreamValue::Ns(v) => TableValue::Ns(v.clone()),
        StreamValue::Bs(v) => TableValue::Bs(v.iter().map(|b| TableBlob::new(b.as_ref())).collect()),
        StreamValue::M(m) => TableValue::M(table_item(m)),
        StreamValue::L(l) => TableValue::L(l.iter().map(table_value).collect()),
        _ => TableValue::Null(true),
    }
}

/// A canonical text of an image (sorted keys), to compare images written and read back.
pub fn canonical(image: &StreamImage) -> String {
    image_json(image).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodbstreams::primitives::Blob;

    #[test]
    fn images_render_as_lambda_delivers_them_with_sorted_keys_and_base64_binaries() {
        let image: StreamImage = [
            ("Id".to_owned(), StreamValue::N("101".into())),
            ("Blob".to_owned(), StreamValue::B(Blob::new(b"hi".to_vec()))),
            ("Tags".to_owned(), StreamValue::L(vec![StreamValue::S("a".into()), StreamValue::Bool(true)])),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            image_json(&image),
            json!({"Blob": {"B": "aGk="}, "Id": {"N": "101"}, "Tags": {"L": [{"S": "a"}, {"BOOL": true}]}})
        );
        assert_eq!(
            canonical(&image),
            r#"{"Blob":{"B":"aGk="},"Id":{"N":"101"},"Tags":{"L":[{"S":"a"},{"BOOL":true}]}}"#
        );
        assert_eq!(table_item(&image)["Id"], TableValue::N("101".into()));
    }
}
