//! DynamoDB attribute values as the three shapes the runtime needs: the DynamoDB Streams SDK's
//! (what a stream record carries), the DynamoDB SDK's (what a replicated write sends), and
//! DynamoDB JSON (`{"S": "..."}`, what Lambda puts in a stream event and what filters match;
//! the converter is the domain's, shared with the publisher's stream replay).

use aws_sdk_dynamodb::primitives::Blob as TableBlob;
use aws_sdk_dynamodb::types::AttributeValue as TableValue;
use aws_sdk_dynamodbstreams::types::AttributeValue as StreamValue;
use std::collections::HashMap;

pub use domain::stream_image::{StreamImage, image_json};

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
    fn an_image_becomes_the_same_item_for_a_write_and_one_canonical_text() {
        let image: StreamImage = [
            ("Id".to_owned(), StreamValue::N("101".into())),
            ("Blob".to_owned(), StreamValue::B(Blob::new(b"hi".to_vec()))),
            ("Tags".to_owned(), StreamValue::L(vec![StreamValue::S("a".into()), StreamValue::Bool(true)])),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            canonical(&image),
            r#"{"Blob":{"B":"aGk="},"Id":{"N":"101"},"Tags":{"L":[{"S":"a"},{"BOOL":true}]}}"#
        );
        let item = table_item(&image);
        assert_eq!(item["Id"], TableValue::N("101".into()));
        assert_eq!(item["Blob"], TableValue::B(TableBlob::new(b"hi".to_vec())));
        assert_eq!(item["Tags"], TableValue::L(vec![TableValue::S("a".into()), TableValue::Bool(true)]));
    }
}
