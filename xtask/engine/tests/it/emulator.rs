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

/// moto's Kinesis shard numbers each record after the shard's highest; two PutRecords at once
/// could take one number and keep only the second record, both answering success. Served one
/// at a time, every record a PutRecords acknowledges is on the shard once, under a sequence
/// number of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_concurrent_put_records_acknowledge_is_on_the_shard_once() {
    const WRITERS: usize = 4;
    const CALLS: usize = 5;
    const PER_CALL: usize = 500;
    let emulator = emulator();
    let kinesis = aws(&emulator).await.kinesis("us-east-1");
    let stream = test_support::aws::create_stream(&kinesis, 1).await;
    let writers = (0..WRITERS).map(|writer| {
        let (kinesis, stream) = (kinesis.clone(), stream.clone());
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for call in 0..CALLS {
                let entries = (0..PER_CALL).map(|n| {
                    let data = format!("{writer}-{call}-{n}");
                    aws_sdk_kinesis::types::PutRecordsRequestEntry::builder()
                        .data(aws_sdk_kinesis::primitives::Blob::new(data.clone()))
                        .partition_key(data)
                        .build()
                        .unwrap()
                });
                let put = kinesis.put_records().stream_name(&stream).set_records(Some(entries.collect())).send();
                let put = put.await.unwrap();
                assert_eq!(put.failed_record_count, Some(0));
                acknowledged.extend(put.records.into_iter().filter_map(|r| r.sequence_number));
            }
            acknowledged
        })
    });
    let mut acknowledged = Vec::new();
    for writer in writers.collect::<Vec<_>>() {
        acknowledged.extend(writer.await.unwrap());
    }

    let shard = kinesis.list_shards().stream_name(&stream).send().await.unwrap().shards.unwrap().remove(0);
    let mut iterator = kinesis
        .get_shard_iterator()
        .stream_name(&stream)
        .shard_id(shard.shard_id)
        .shard_iterator_type(aws_sdk_kinesis::types::ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap()
        .shard_iterator;
    let mut stored = Vec::new();
    for _ in 0..WRITERS * CALLS * PER_CALL {
        let Some(current) = iterator.take() else { break };
        let page = kinesis.get_records().shard_iterator(current).limit(1_000).send().await.unwrap();
        if page.records.is_empty() {
            break;
        }
        stored.extend(page.records.into_iter().map(|r| String::from_utf8(r.data.into_inner()).unwrap()));
        iterator = page.next_shard_iterator;
    }
    let distinct: std::collections::HashSet<&String> = stored.iter().collect();
    assert_eq!(acknowledged.len(), WRITERS * CALLS * PER_CALL, "every entry acknowledged");
    assert_eq!(distinct.len(), stored.len(), "no record twice");
    assert_eq!(stored.len(), acknowledged.len(), "every acknowledged record is on the shard");
    let numbers: Vec<u128> = acknowledged.iter().map(|s| s.parse().unwrap()).collect();
    assert_eq!(
        numbers.iter().collect::<std::collections::HashSet<_>>().len(),
        numbers.len(),
        "one sequence number each"
    );
}
