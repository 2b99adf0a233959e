//! How often the engine asks CloudFormation how an operation is going: waits that start short
//! (an emulator, or a change set that is ready at once, answers in well under a second), grow by
//! half each time up to a cap (a replica addition takes hours: polling it every half second
//! would spend the account's API rate on nothing), and are jittered so that stacks followed at
//! once do not poll in lock step.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::time::Duration;

/// A polling schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The first wait (before jitter).
    pub first: Duration,
    /// No wait is longer than this.
    pub cap: Duration,
    /// Each wait is this many times the previous one (before jitter).
    pub factor: f64,
}

impl Backoff {
    /// Waiting for a change set to be computed (the AWS CLI polls every 5 s).
    pub const CHANGE_SET: Backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(5));
    /// Following a stack operation's events.
    pub const FOLLOW: Backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(15));
    /// Waiting for a stack busy with another operation.
    pub const BUSY_STACK: Backoff = Backoff::new(Duration::from_secs(2), Duration::from_secs(30));
    /// Waiting for a table replica to become active.
    pub const REPLICA: Backoff = Backoff::new(Duration::from_secs(2), Duration::from_secs(30));
    /// Trying again after a throttled call.
    pub const THROTTLED: Backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(20));

    /// Waits growing by half from `first` up to `cap`.
    pub const fn new(first: Duration, cap: Duration) -> Backoff {
        Backoff { first, cap, factor: 1.5 }
    }

    /// A fresh sequence of waits.
    pub fn waits(self) -> Waits {
        Waits { backoff: self, next: self.first, rng: SmallRng::from_os_rng() }
    }
}

/// The waits of one polling loop.
#[derive(Debug)]
pub struct Waits {
    backoff: Backoff,
    next: Duration,
    rng: SmallRng,
}

impl Waits {
    /// The next wait: between half and all of the scheduled one ("equal jitter"), so waits never
    /// collapse to zero and never exceed the cap.
    pub fn next_wait(&mut self) -> Duration {
        let scheduled = self.next.min(self.backoff.cap);
        self.next = scheduled.mul_f64(self.backoff.factor).min(self.backoff.cap);
        let half = scheduled / 2;
        half + half.mul_f64(self.rng.random::<f64>())
    }

    /// Sleeps for the next wait.
    pub async fn sleep(&mut self) {
        tokio::time::sleep(self.next_wait()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_to_the_cap_never_beyond_and_are_jittered() {
        let backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(10));
        let mut waits = backoff.waits();
        let sequence: Vec<Duration> = (0..40).map(|_| waits.next_wait()).collect();
        assert!(sequence[0] >= Duration::from_millis(250) && sequence[0] <= Duration::from_millis(500));
        assert!(sequence.iter().all(|w| *w <= backoff.cap), "{sequence:?}");
        assert!(sequence[30..].iter().all(|w| *w >= backoff.cap / 2), "late waits sit near the cap: {sequence:?}");
        let late: std::collections::BTreeSet<Duration> = sequence[30..].iter().copied().collect();
        assert!(late.len() > 1, "jittered, not in lock step: {sequence:?}");
        let total: Duration = sequence.iter().sum();
        assert!(total > Duration::from_secs(150), "40 polls span minutes, not 20 s: {total:?}");
    }
}
