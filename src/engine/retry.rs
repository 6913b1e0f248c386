//! Argo CD's retry policy for failed operations (docs/argo-cd-semantics.md §6.3, §6.5). Pure.
//!
//! An automated sync without `spec.syncPolicy.retry` is retried with `{limit: 5}` and the
//! default backoff (5 s, factor 2, at most 3 m). A retry restarts the whole operation from
//! scratch. In Argo CD's source the wait uses the retry count *after* incrementing, so the real
//! waits with the defaults are 10 s, 20 s, 40 s, 80 s, 160 s (then 180 s).
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt; 0 = none; negative = unlimited.
    pub limit: i64,
    pub duration: Duration,
    pub factor: u32,
    /// Cap of one wait; zero = no cap.
    pub max_duration: Duration,
}

impl Default for RetryPolicy {
    /// The policy of an automated sync with no `retry` in the Application.
    fn default() -> Self {
        Self {
            limit: 5,
            duration: Duration::from_secs(5),
            factor: 2,
            max_duration: Duration::from_secs(180),
        }
    }
}

impl RetryPolicy {
    /// Whether an operation that already failed after `retried` retries is retried again.
    pub fn should_retry(&self, retried: u32) -> bool {
        self.limit < 0 || i64::from(retried) < self.limit
    }

    /// The wait before retry number `n` (1-based): `duration × factor^n`, capped.
    pub fn delay(&self, n: u32) -> Duration {
        let factor = u64::from(self.factor.max(1)).saturating_pow(n);
        let nanos = (self.duration.as_nanos() as u64).saturating_mul(factor);
        let d = Duration::from_nanos(nanos);
        if self.max_duration.is_zero() {
            d
        } else {
            d.min(self.max_duration)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test]
    fn default_waits_are_10_20_40_80_160_then_capped_at_3_minutes() {
        let p = RetryPolicy::default();
        let waits: Vec<u64> = (1..=6).map(|n| p.delay(n).as_secs()).collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 180]);
    }

    #[test_case(5, 4, true; "fifth retry allowed")]
    #[test_case(5, 5, false; "limit reached")]
    #[test_case(0, 0, false; "zero means no retry")]
    #[test_case(-1, 1000, true; "negative means unlimited")]
    fn limit_counts_retries_after_the_first_attempt(limit: i64, retried: u32, expected: bool) {
        let p = RetryPolicy {
            limit,
            ..RetryPolicy::default()
        };
        assert_eq!(p.should_retry(retried), expected);
    }

    #[test]
    fn zero_max_duration_means_no_cap() {
        let p = RetryPolicy {
            max_duration: Duration::ZERO,
            ..RetryPolicy::default()
        };
        assert_eq!(p.delay(7), Duration::from_secs(640));
    }
}
