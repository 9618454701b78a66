//! The delivery policy: when to try a notice again, and when to give up
//! and dead-letter it. Pure: the time is an argument, so it is tested
//! without waiting.

use std::time::{Duration, SystemTime};

/// Tries and exponential backoff of one endpoint's deliveries.
///
/// The first try is immediate; after the `n`th failed try (n from 1) the
/// next waits `initial_backoff * 2^(n-1)`, at most `max_backoff`. After
/// `max_tries` failed tries the notice is dead-lettered and the endpoint
/// goes on with the next one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries before a notice is dead-lettered (at least 1).
    pub max_tries: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// 20 tries, from 1 s doubling up to 10 min: about 1 h 57 min of
    /// trying before a dead letter, so an endpoint down for an hour loses
    /// nothing and is not even dead-lettered.
    fn default() -> Self {
        Self {
            max_tries: 20,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(600),
        }
    }
}

/// What to do after a failed try.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again at this time.
    RetryAt(SystemTime),
    /// Every try failed: dead-letter the notice and go on.
    DeadLetter,
}

impl RetryPolicy {
    /// The wait after the `failed_tries`th failed try (1 for the first).
    pub fn backoff(&self, failed_tries: u32) -> Duration {
        let doublings = failed_tries.saturating_sub(1).min(31);
        self.initial_backoff
            .saturating_mul(1u32 << doublings)
            .min(self.max_backoff)
    }

    /// What follows the `failed_tries`th failed try, made at `now`.
    pub fn after_failure(&self, failed_tries: u32, now: SystemTime) -> AfterFailure {
        if failed_tries >= self.max_tries.max(1) {
            return AfterFailure::DeadLetter;
        }
        AfterFailure::RetryAt(now + self.backoff(failed_tries))
    }

    /// How long a notice is tried, from its first try to its dead letter
    /// (the sum of the waits), for the docs and the settings' check.
    pub fn patience(&self) -> Duration {
        (1..self.max_tries.max(1))
            .map(|n| self.backoff(n))
            .fold(Duration::ZERO, Duration::saturating_add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn policy(max_tries: u32) -> RetryPolicy {
        RetryPolicy {
            max_tries,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
        }
    }

    #[test]
    fn each_wait_doubles_up_to_the_maximum() {
        let policy = policy(20);
        let waits: Vec<u64> = (1..=8).map(|n| policy.backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(policy.backoff(u32::MAX), Duration::from_secs(60));
    }

    #[test]
    fn a_failed_try_is_retried_after_its_backoff_from_the_time_it_failed() {
        let policy = policy(5);
        assert_eq!(
            policy.after_failure(1, at(1000)),
            AfterFailure::RetryAt(at(1001))
        );
        assert_eq!(
            policy.after_failure(3, at(2000)),
            AfterFailure::RetryAt(at(2004))
        );
        assert_eq!(
            policy.after_failure(4, at(2000)),
            AfterFailure::RetryAt(at(2008))
        );
    }

    #[test]
    fn the_nth_failed_try_dead_letters() {
        let five = policy(5);
        assert_eq!(five.after_failure(5, at(0)), AfterFailure::DeadLetter);
        assert_eq!(five.after_failure(6, at(0)), AfterFailure::DeadLetter);
        assert_eq!(policy(1).after_failure(1, at(0)), AfterFailure::DeadLetter);
        // Zero tries is read as one: a notice is always tried.
        assert_eq!(policy(0).after_failure(1, at(0)), AfterFailure::DeadLetter);
    }

    #[test]
    fn the_default_outlasts_an_hour_long_outage() {
        let patience = RetryPolicy::default().patience();
        assert!(patience > Duration::from_secs(3600), "{patience:?}");
        assert_eq!(policy(4).patience(), Duration::from_secs(1 + 2 + 4));
    }
}
