//! Which shards may be read now: a shard whose parents are all finished (or no longer listed,
//! trimmed away) and that is not started yet. Reading children only after their parents keeps
//! each key's records in order across a split or merge.

use super::ShardInfo;
use std::collections::BTreeSet;

/// Shards of `listed` that can start: not in `started`, every parent finished or not listed.
pub fn ready<'a>(
    listed: &'a [ShardInfo],
    started: &BTreeSet<String>,
    finished: &BTreeSet<String>,
) -> Vec<&'a ShardInfo> {
    let known: BTreeSet<&str> = listed.iter().map(|s| s.id.as_str()).collect();
    listed
        .iter()
        .filter(|shard| !started.contains(&shard.id))
        .filter(|shard| shard.parents.iter().all(|p| finished.contains(p) || !known.contains(p.as_str())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(id: &str, parents: &[&str]) -> ShardInfo {
        ShardInfo { id: id.into(), parents: parents.iter().map(|p| (*p).to_owned()).collect() }
    }

    fn ids(shards: Vec<&ShardInfo>) -> Vec<&str> {
        shards.into_iter().map(|s| s.id.as_str()).collect()
    }

    #[test]
    fn children_wait_for_every_parent_and_trimmed_parents_do_not_block() {
        let listed = [shard("a", &[]), shard("b", &["a"]), shard("c", &["a", "x"]), shard("d", &["gone"])];
        let none = BTreeSet::new();
        assert_eq!(ids(ready(&listed, &none, &none)), ["a", "d"]);
        let started: BTreeSet<String> = ["a".to_owned(), "d".to_owned()].into();
        assert!(ready(&listed, &started, &none).is_empty(), "a is not finished yet");
        let finished: BTreeSet<String> = ["a".to_owned()].into();
        assert_eq!(ids(ready(&listed, &started, &finished)), ["b", "c"], "x is not listed: trimmed");
    }
}
