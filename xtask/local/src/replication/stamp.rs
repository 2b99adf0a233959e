//! Last writer wins, as DynamoDB global tables (version 2019.11.21, multi-Region eventual
//! consistency) resolve concurrent writes: "DynamoDB global tables use a last writer wins
//! reconciliation between concurrent updates, in which DynamoDB makes a best effort to
//! determine the last writer" (DynamoDB developer guide, "How DynamoDB global tables work",
//! conflict resolution; the same guide's consistency-modes page: the write with the latest
//! internal timestamp wins, per item). Streams carry no such timestamp (`ApproximateCreationDateTime`
//! is rounded down to the second), so the emulation stamps each local write when its region's
//! stream shows it, with the region as tie-breaker: causally later writes always get later
//! stamps, and concurrent ones are ordered by whoever was seen last, a best effort like AWS's.

use std::time::{SystemTime, UNIX_EPOCH};

/// When a write happened and where: the total order last-writer-wins uses.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp {
    /// Nanoseconds since the Unix epoch.
    pub nanos: u128,
    /// The region of the write (breaks ties deterministically).
    pub region: String,
}

impl Stamp {
    /// A stamp for a write seen now in `region`.
    pub fn now(region: &str) -> Stamp {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        Stamp { nanos, region: region.to_owned() }
    }
}

/// What the target replica does with a write replicated to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Apply it: it is later than what the replica holds. `conflict` when the replica's own
    /// version was not known to the writer (a concurrent write, which the replica's stream
    /// shows as a MODIFY overwriting it).
    Apply {
        /// The overwritten version was written concurrently.
        conflict: bool,
    },
    /// Skip it: the replica holds a later write.
    Superseded,
}

/// Last writer wins: `incoming` (which replaced `incoming_replaced` where it was written)
/// against `held`, the stamp of the version the target holds (`None`: never written).
pub fn judge(incoming: &Stamp, incoming_replaced: Option<&Stamp>, held: Option<&Stamp>) -> Verdict {
    match held {
        None => Verdict::Apply { conflict: false },
        Some(held) if held >= incoming => Verdict::Superseded,
        Some(held) => Verdict::Apply { conflict: incoming_replaced != Some(held) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(nanos: u128, region: &str) -> Stamp {
        Stamp { nanos, region: region.into() }
    }

    #[test]
    fn the_later_write_wins_and_ties_go_to_the_greater_region() {
        let (early, late) = (stamp(1, "us-east-1"), stamp(2, "eu-west-1"));
        assert_eq!(judge(&late, None, Some(&early)), Verdict::Apply { conflict: true });
        assert_eq!(judge(&early, None, Some(&late)), Verdict::Superseded);
        let (a, b) = (stamp(5, "eu-west-1"), stamp(5, "us-east-1"));
        assert_eq!(judge(&b, None, Some(&a)), Verdict::Apply { conflict: true });
        assert_eq!(judge(&a, None, Some(&b)), Verdict::Superseded);
        assert_eq!(judge(&a, None, Some(&a)), Verdict::Superseded, "the same write twice is not re-applied");
    }

    #[test]
    fn an_update_made_on_top_of_the_held_version_is_no_conflict() {
        let (first, second) = (stamp(1, "us-east-1"), stamp(2, "eu-west-1"));
        assert_eq!(judge(&second, Some(&first), Some(&first)), Verdict::Apply { conflict: false });
        assert_eq!(judge(&first, None, None), Verdict::Apply { conflict: false });
    }
}
