//! Global-table replication emulation between three regions' tables in moto: replication with
//! lag, last writer wins on a concurrent write (the MODIFY on the loser's stream), no ping-pong,
//! deletes, and a region outage stopping replication both ways until the region returns.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::{clients, create_table, eventually, item, put, unique};
use local::clients::Clients;
use local::outage::Outages;
use local::replication::{GlobalTable, Replication, ReplicationSettings};
use serde_json::Value;
use std::time::{Duration, Instant};

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];
const WAIT: Duration = Duration::from_secs(20);

async fn global_table(lag: Duration, outages: &Outages) -> (Clients, String, Vec<String>, Replication) {
    let clients = clients();
    let name = unique("global");
    let mut streams = Vec::new();
    for region in REGIONS {
        streams.push(create_table(&clients, region, &name).await);
    }
    let table = GlobalTable { name: name.clone(), regions: REGIONS.map(str::to_owned).to_vec() };
    let settings =
        ReplicationSettings { lag, poll: Duration::from_millis(20), shard_discovery: Duration::from_millis(200) };
    let replication =
        Replication::start(&clients, &[table], outages.clone(), &local::writes::Writes::new(), settings).await.unwrap();
    (clients, name, streams, replication)
}

async fn get(clients: &Clients, region: &str, table: &str, pk: &str) -> Option<String> {
    let key = common::item(pk, 1, &[]);
    let output = clients
        .dynamodb(region)
        .get_item()
        .table_name(table)
        .set_key(Some(key))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    output.item.and_then(|i| i.get("Writer").and_then(|w| w.as_s().ok().cloned()))
}

async fn stream(clients: &Clients, region: &str, arn: &str) -> Vec<Value> {
    test_support::streams::dynamodb_stream_records(&clients.streams(region), arn).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_reaches_every_other_region_after_the_lag_and_is_not_replicated_again() {
    let lag = Duration::from_millis(700);
    let (clients, table, streams, replication) = global_table(lag, &Outages::new()).await;
    let written = Instant::now();
    put(&clients, REGIONS[0], &table, item("k", 1, &[("Writer", "us")])).await;
    tokio::time::sleep(lag / 2).await;
    assert_eq!(get(&clients, REGIONS[1], &table, "k").await, None, "not before the lag");
    for region in &REGIONS[1..] {
        eventually(WAIT, "replicated", || async { get(&clients, region, &table, "k").await.is_some() }).await;
    }
    assert!(written.elapsed() >= lag);
    // Give a ping-pong every chance to show, then count the writes on each stream.
    tokio::time::sleep(lag * 3).await;
    for (region, arn) in REGIONS.iter().zip(&streams) {
        let records = stream(&clients, region, arn).await;
        let names: Vec<&str> = records.iter().map(|r| r["eventName"].as_str().unwrap()).collect();
        assert_eq!(names, ["INSERT"], "{region}: one write, never re-replicated");
    }
    let stats = replication.stats();
    assert_eq!((stats.local_writes, stats.applied, stats.conflicts), (1, 2, 0));
    let pair = stats.pairs[&(REGIONS[0].to_owned(), REGIONS[1].to_owned())];
    assert!(pair.max_latency >= lag, "applied after the lag: {pair:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_converge_on_the_last_writer_and_the_losers_stream_shows_the_modify() {
    let (clients, table, streams, replication) = global_table(Duration::from_millis(300), &Outages::new()).await;
    let (a, b) = (REGIONS[0], REGIONS[1]);
    let (first, second) = tokio::join!(
        put(&clients, a, &table, item("k", 1, &[("Writer", a)])),
        put(&clients, b, &table, item("k", 1, &[("Writer", b)])),
    );
    let _ = (first, second);
    eventually(WAIT, "every replica agrees", || async {
        let values = [
            get(&clients, a, &table, "k").await,
            get(&clients, b, &table, "k").await,
            get(&clients, REGIONS[2], &table, "k").await,
        ];
        values[0].is_some() && values.iter().all(|v| *v == values[0])
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let winner = get(&clients, a, &table, "k").await.unwrap();
    let loser = if winner == a { b } else { a };
    let loser_stream = &streams[REGIONS.iter().position(|r| *r == loser).unwrap()];
    let records = stream(&clients, loser, loser_stream).await;
    let names: Vec<&str> = records.iter().map(|r| r["eventName"].as_str().unwrap()).collect();
    assert_eq!(names, ["INSERT", "MODIFY"], "the loser's own write, then the winner over it");
    assert_eq!(records[1]["dynamodb"]["OldImage"]["Writer"]["S"], loser);
    assert_eq!(records[1]["dynamodb"]["NewImage"]["Writer"]["S"], winner.as_str());
    let winner_stream = &streams[REGIONS.iter().position(|r| *r == winner).unwrap()];
    let names: Vec<String> = stream(&clients, &winner, winner_stream)
        .await
        .iter()
        .map(|r| r["eventName"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["INSERT"], "the winner keeps its write");
    let stats = replication.stats();
    assert_eq!((stats.local_writes, stats.conflicts, stats.superseded), (2, 1, 1), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_replicate_too() {
    let (clients, table, _, _replication) = global_table(Duration::from_millis(100), &Outages::new()).await;
    put(&clients, REGIONS[0], &table, item("k", 1, &[("Writer", "us")])).await;
    eventually(WAIT, "replicated", || async { get(&clients, REGIONS[2], &table, "k").await.is_some() }).await;
    let key = item("k", 1, &[]);
    clients.dynamodb(REGIONS[1]).delete_item().table_name(&table).set_key(Some(key)).send().await.unwrap();
    for region in [REGIONS[0], REGIONS[2]] {
        eventually(WAIT, "deleted everywhere", || async { get(&clients, region, &table, "k").await.is_none() }).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_region_neither_sends_nor_receives_writes_until_its_return_then_both_go_through() {
    let outages = Outages::new();
    let (clients, table, _, replication) = global_table(Duration::from_millis(100), &outages).await;
    let (alive, dead, other) = (REGIONS[0], REGIONS[1], REGIONS[2]);
    put(&clients, alive, &table, item("before", 1, &[("Writer", alive)])).await;
    eventually(WAIT, "replicated before the kill", || async { get(&clients, dead, &table, "before").await.is_some() })
        .await;
    let _timer = outages.kill_at(dead, tokio::time::Instant::now() + Duration::from_millis(100));
    outages.wait_down(dead).await;
    put(&clients, alive, &table, item("to-dead", 1, &[("Writer", alive)])).await;
    // Writes the dead region holds unpropagated (as if made just before it went down); one of
    // them is written again, later, by a region that is up.
    put(&clients, dead, &table, item("from-dead", 1, &[("Writer", dead)])).await;
    put(&clients, dead, &table, item("contested", 1, &[("Writer", dead)])).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    put(&clients, alive, &table, item("contested", 1, &[("Writer", alive)])).await;
    eventually(WAIT, "replicated between the living", || async {
        get(&clients, other, &table, "to-dead").await.is_some()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(get(&clients, dead, &table, "to-dead").await, None, "nothing reaches the dead region");
    assert_eq!(get(&clients, alive, &table, "from-dead").await, None, "nothing leaves the dead region");
    assert_eq!(get(&clients, other, &table, "from-dead").await, None);
    assert_eq!(replication.stats().local_writes, 3, "the dead region's stream is no longer read");

    // Its return: what it held goes out, what the others wrote comes in, the later write wins.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    outages.restore(dead);
    tokio::time::timeout(WAIT, outages.wait_up(dead)).await.expect("it serves once its replica caught up");
    assert_eq!(get(&clients, dead, &table, "to-dead").await.as_deref(), Some(alive), "caught up before serving");
    for region in [alive, other] {
        let arrived = || async { get(&clients, region, &table, "from-dead").await.as_deref() == Some(dead) };
        eventually(WAIT, "the held write propagated on the return", arrived).await;
    }
    for region in REGIONS {
        let settled = || async { get(&clients, region, &table, "contested").await.as_deref() == Some(alive) };
        eventually(WAIT, "the write made later wins everywhere", settled).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_of_the_survivors_converge_while_a_region_is_down_and_after_its_return() {
    let outages = Outages::new();
    let (clients, table, _, replication) = global_table(Duration::from_millis(300), &outages).await;
    let (a, b, dead) = (REGIONS[0], REGIONS[1], REGIONS[2]);
    outages.kill(dead);
    let keys: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
    let mut writes = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let stagger = Duration::from_millis((i as u64 * 37) % 600);
        let (clients, table, key) = (clients.clone(), table.clone(), key.clone());
        writes.push(tokio::spawn(async move {
            let first = put(&clients, a, &table, item(&key, 1, &[("Writer", a)]));
            let second = async {
                tokio::time::sleep(stagger).await;
                put(&clients, b, &table, item(&key, 1, &[("Writer", b)])).await;
            };
            tokio::join!(first, second);
        }));
    }
    for write in writes {
        write.await.unwrap();
    }
    for key in &keys {
        eventually(WAIT, &format!("the survivors agree on {key}"), || async {
            let (x, y) = (get(&clients, a, &table, key).await, get(&clients, b, &table, key).await);
            x.is_some() && x == y
        })
        .await;
    }
    outages.restore(dead);
    tokio::time::timeout(WAIT, outages.wait_up(dead)).await.expect("it serves once its replica caught up");
    for key in &keys {
        let expected = get(&clients, a, &table, key).await;
        eventually(WAIT, &format!("every replica agrees on {key}"), || async {
            get(&clients, dead, &table, key).await == expected && get(&clients, b, &table, key).await == expected
        })
        .await;
    }
    let stats = replication.stats();
    assert!(stats.local_writes >= 80, "every write of the survivors was sent on: {stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_queued_for_a_returning_region_count_until_every_one_is_in_its_replica() {
    let outages = Outages::new();
    let (clients, table, _, replication) = global_table(Duration::from_millis(100), &outages).await;
    let (alive, other, dead) = (REGIONS[0], REGIONS[1], REGIONS[2]);
    outages.kill(dead);
    let keys: Vec<String> = (0..60).map(|i| format!("q{i}")).collect();
    for key in &keys {
        put(&clients, alive, &table, item(key, 1, &[("Writer", alive)])).await;
    }
    for key in &keys {
        eventually(WAIT, &format!("{key} reached the other survivor"), || async {
            get(&clients, other, &table, key).await.is_some()
        })
        .await;
    }
    eventually(WAIT, "nothing queued for the regions replication reaches", || async { replication.queued() == 0 })
        .await;

    outages.restore(dead);
    assert!(replication.queued() > 0, "what the survivors wrote meanwhile is queued for the returning region");
    eventually(WAIT, "the returning region's queue drained", || async { replication.queued() == 0 }).await;
    for key in &keys {
        assert_eq!(get(&clients, dead, &table, key).await.as_deref(), Some(alive), "{key} is in the replica");
    }
}
