//! The one retry schedule of the service: exponential, doubling from a first delay up to a
//! ceiling, with jitter (`backon`), for reconnect loops, registration retries, pulls and
//! jobs that failed for now.

use std::time::Duration;

use backon::{BackoffBuilder as _, ExponentialBuilder};

/// An exponential, jittered schedule of delays.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    first: Duration,
    ceiling: Duration,
}

impl Backoff {
    pub const fn new(first: Duration, ceiling: Duration) -> Self {
        Self { first, ceiling }
    }

    /// The endless delays before each retry: the `n`th is `first · 2ⁿ⁻¹` up to the ceiling,
    /// plus up to as much again at random.
    pub fn delays(&self) -> impl Iterator<Item = Duration> + use<> {
        ExponentialBuilder::default()
            .with_min_delay(self.first)
            .with_max_delay(self.ceiling)
            .with_jitter()
            .without_max_times()
            .build()
    }

    /// The delay before retry number `retry` (1: the first).
    pub fn delay(&self, retry: u64) -> Duration {
        let index = usize::try_from(retry.saturating_sub(1)).unwrap_or(usize::MAX);
        self.delays().nth(index).unwrap_or(self.ceiling)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_ceiling_with_jitter() {
        let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        let first = backoff.delay(1);
        assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(200));
        let third = backoff.delay(3);
        assert!(third >= Duration::from_millis(400) && third <= Duration::from_millis(800));
        assert!(backoff.delay(50) <= Duration::from_secs(2));
        assert_eq!(backoff.delays().take(100).count(), 100);
    }
}
