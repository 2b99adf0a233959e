//! The emulator the kit starts keeps what DynamoDB guarantees where moto alone does not: a
//! cancelled TransactWriteItems undoes only its own writes, and the table's stream goes on for
//! the shard iterators handed out before it (moto 5.2.5 swaps in a copy of the table, stream
//! included, so such an iterator never sees another record); and it writes the hot operations' answers
//! as moto itself would, only faster.
#![allow(clippy::unwrap_used)]

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use engine::testing::{aws, emulator};

fn item(key: &str) -> std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    [("Id".to_owned(), aws_sdk_dynamodb::types::AttributeValue::S(key.to_owned()))].into()
}

fn put(table: &str, key: &str, only_if_new: bool) -> TransactWriteItem {
    let put = Put::builder().table_name(table).set_item(Some(item(key)));
    let put = if only_if_new { put.condition_expression("attribute_not_exists(Id)") } else { put };
    TransactWriteItem::builder().put(put.build().unwrap()).build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_transaction_undoes_only_its_writes_and_the_tables_stream_flows_on() {
    let emulator = emulator();
    let aws = aws(&emulator).await;
    let (dynamodb, streams) = (aws.dynamodb("us-east-1"), aws.dynamodb_streams("us-east-1"));
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let table = format!("txn-{}-{nanos}", std::process::id());
    let arn = test_support::aws::create_streamed_table(&dynamodb, &table, "Id").await;
    dynamodb.put_item().table_name(&table).set_item(Some(item("taken"))).send().await.unwrap();
    let described = streams.describe_stream().stream_arn(&arn).send().await.unwrap();
    let shard = described.stream_description.unwrap().shards.unwrap().remove(0).shard_id.unwrap();
    let iterator = streams
        .get_shard_iterator()
        .stream_arn(&arn)
        .shard_id(shard)
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap()
        .shard_iterator
        .unwrap();
    let first = streams.get_records().shard_iterator(iterator).send().await.unwrap();
    assert_eq!(first.records.unwrap_or_default().len(), 1, "the write before");

    // The first put goes through in moto before the second one's condition fails.
    let cancelled = dynamodb
        .transact_write_items()
        .transact_items(put(&table, "new", false))
        .transact_items(put(&table, "taken", true))
        .send()
        .await;
    assert!(cancelled.is_err(), "the second put's condition fails: the whole transaction is cancelled");
    let undone = dynamodb.get_item().table_name(&table).set_key(Some(item("new"))).send().await.unwrap();
    assert!(undone.item.is_none(), "nothing of a cancelled transaction stays");

    dynamodb.put_item().table_name(&table).set_item(Some(item("after"))).send().await.unwrap();
    let next = streams.get_records().shard_iterator(first.next_shard_iterator.unwrap()).send().await.unwrap();
    let keys: Vec<String> = next
        .records
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r.dynamodb.as_ref()?.keys.as_ref()?.get("Id")?.as_s().ok().cloned())
        .collect();
    assert_eq!(keys, ["after"], "the iterator from before sees the write after, and no record of the cancelled one");
    let stored = dynamodb.scan().table_name(&table).send().await.unwrap().count;
    assert_eq!(stored, 2, "the write before and the write after");
}

/// The launcher writes the answers of the hot data-plane operations with `json.dumps` instead of
/// moto's shape walk; its self-test runs each of them through boto3 on moto and compares both.
#[test]
fn the_emulators_quick_answers_are_the_json_moto_itself_writes() {
    let root = engine::emulator::workspace_root();
    let output = std::process::Command::new(root.join(engine::emulator::PYTHON))
        .arg(root.join(engine::emulator::LAUNCHER))
        .arg("--self-test")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{printed}{}", String::from_utf8_lossy(&output.stderr));
    assert!(printed.contains("16 operations compared, all the same"), "{printed}");
}
