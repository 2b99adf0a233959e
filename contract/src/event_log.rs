//! The event log of DESIGN.md: its attribute names, and the origin index that takeover and replay
//! read ("events of origin R since T").
//!
//! The origin index is keyed on [`ORIGIN_SHARD`] (`<region>#<shard>`), not on the region alone:
//! a key per region would put every write of a region on one index partition, and a hot index
//! partition throttles writes to the base table (DynamoDB developer guide, "GSI write
//! throttling and back pressure"). An aggregate's events all share one shard, so one Query per
//! shard returns them in order; ARCHITECTURE.md has the arithmetic.

/// Hash key: `<AggregateType>#<id>`.
pub const AGGREGATE_KEY: &str = "AggregateTypeAndId";
/// Range key: 1, 2, 3 ... per aggregate.
pub const SEQUENCE_KEY: &str = "AggregateIdSequence";
/// Globally unique, time-ordered event id (UUIDv7).
pub const EVENT_ID: &str = "EventId";
/// `TaskCreated`, ...
pub const EVENT_TYPE: &str = "EventType";
/// Schema version of the payload.
pub const EVENT_VERSION: &str = "EventVersion";
/// The event body as JSON text.
pub const PAYLOAD: &str = "Payload";
/// Region of the api function that wrote the event; the publisher filter keys on it.
pub const ORIGIN_REGION: &str = "OriginRegion";
/// RFC 3339 UTC with milliseconds, fixed width so it sorts by time.
pub const RECORDED_AT: &str = "RecordedAt";
/// The command that produced the event.
pub const COMMAND_ID: &str = "CommandId";
/// `<origin region>#<shard>`: hash key of the origin index (see [`origin_shard`]).
pub const ORIGIN_SHARD: &str = "OriginShard";

/// The origin index: hash key [`ORIGIN_SHARD`], range key [`RECORDED_AT`], every attribute
/// projected.
pub const BY_ORIGIN_INDEX: &str = "ByOriginShard";

/// Shards per origin region. Part of the stored data: changing it moves aggregates between
/// shards, so events written before the change would be looked for in the wrong place.
pub const ORIGIN_SHARDS: u32 = 16;

/// The shard of an aggregate: FNV-1a (32 bits) of its key, modulo [`ORIGIN_SHARDS`]. A fixed,
/// documented hash, so every version of every function computes the same shard.
pub fn shard_of(aggregate_key: &str) -> u32 {
    let hash =
        aggregate_key.bytes().fold(0x811c_9dc5_u32, |hash, byte| (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193));
    hash % ORIGIN_SHARDS
}

/// The [`ORIGIN_SHARD`] value of an event of `aggregate_key` recorded in `region`.
pub fn origin_shard(region: &str, aggregate_key: &str) -> String {
    shard_key(region, shard_of(aggregate_key))
}

/// Every [`ORIGIN_SHARD`] value of `region`: one Query each reads all of its events.
pub fn origin_shards(region: &str) -> impl Iterator<Item = String> + '_ {
    (0..ORIGIN_SHARDS).map(move |shard| shard_key(region, shard))
}

fn shard_key(region: &str, shard: u32) -> String {
    format!("{region}#{shard:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_fnv1a_so_shards_never_move_between_versions() {
        // FNV-1a 32-bit reference values: "" → 0x811c9dc5, "a" → 0xe40c292c.
        assert_eq!(shard_of(""), 0x811c_9dc5 % ORIGIN_SHARDS);
        assert_eq!(shard_of("a"), 0xe40c_292c % ORIGIN_SHARDS);
        assert_eq!(origin_shard("eu-west-1", "a"), "eu-west-1#12");
    }

    #[test]
    fn aggregates_spread_evenly_over_the_shards_of_a_region() {
        let mut counts = [0u32; ORIGIN_SHARDS as usize];
        for i in 0..16_000 {
            let key = format!("Task#0192a3b4-c5d6-7e8f-9a0b-{i:012}");
            counts[shard_of(&key) as usize] += 1;
        }
        // 1,000 expected per shard; a hot shard would carry several times that.
        assert!(counts.iter().all(|&c| (850..=1150).contains(&c)), "{counts:?}");
    }

    #[test]
    fn a_region_has_one_key_per_shard_and_every_event_key_is_one_of_them() {
        let keys: Vec<String> = origin_shards("us-east-1").collect();
        assert_eq!(keys.len(), ORIGIN_SHARDS as usize);
        assert_eq!(keys[0], "us-east-1#00");
        assert!(keys.contains(&origin_shard("us-east-1", "Task#x")));
    }
}
