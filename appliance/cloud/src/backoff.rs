//! When to try the control plane again after a failure: exponential backoff with jitter.
//!
//! Pure: the caller supplies the random draw, so tests pick it and need no clock. Jitter keeps
//! a fleet of appliances that lost the control plane together from returning together.

use std::time::Duration;

/// Exponential backoff between `base` and `max`, with "equal jitter": each wait is half the
/// exponential step plus a random share of the other half.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    /// A backoff starting at `base`, never waiting longer than `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max: max.max(base),
            failures: 0,
        }
    }

    /// The wait before the next attempt, after one more failure; `draw` is uniform in [0, 1).
    pub fn next_delay(&mut self, draw: f64) -> Duration {
        let step = self
            .base
            .saturating_mul(1u32 << self.failures.min(20))
            .min(self.max);
        self.failures = self.failures.saturating_add(1);
        let half = step / 2;
        half + half.mul_f64(draw.clamp(0.0, 1.0))
    }

    /// A connection got through: the next failure starts from `base` again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_with_jitter_inside_each_step_and_stop_at_the_cap() {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
        assert_eq!(backoff.next_delay(0.0), Duration::from_millis(500));
        assert_eq!(backoff.next_delay(0.999_999).as_millis(), 1999);
        assert_eq!(backoff.next_delay(0.5), Duration::from_secs(3));
        for _ in 0..30 {
            let wait = backoff.next_delay(0.25);
            assert!(wait <= Duration::from_secs(60));
        }
        assert_eq!(backoff.next_delay(1.0), Duration::from_secs(60));
        backoff.reset();
        assert_eq!(backoff.next_delay(0.0), Duration::from_millis(500));
    }
}
