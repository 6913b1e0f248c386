//! Exponential backoff: `base × factor^n`, capped. Pure.
use std::time::Duration;

/// An exponential backoff. `delay(0)` is `base`; each step multiplies by `factor`; no delay
/// exceeds `cap` (a zero cap means none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub factor: u32,
    pub cap: Duration,
}

impl Backoff {
    pub const fn new(base: Duration, factor: u32, cap: Duration) -> Self {
        Self { base, factor, cap }
    }

    /// The delay after `n` steps: `base × factor^n`, at most `cap`. Saturates instead of
    /// overflowing.
    pub fn delay(&self, n: u32) -> Duration {
        let mult = u64::from(self.factor.max(1)).saturating_pow(n);
        let nanos = u64::try_from(self.base.as_nanos())
            .unwrap_or(u64::MAX)
            .saturating_mul(mult);
        let d = Duration::from_nanos(nanos);
        if self.cap.is_zero() {
            d
        } else {
            d.min(self.cap)
        }
    }
}

/// A [`Backoff`] with its step count: `next()` returns the current delay and advances,
/// `reset()` starts over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stepper {
    pub backoff: Backoff,
    pub step: u32,
}

impl Stepper {
    pub const fn new(backoff: Backoff) -> Self {
        Self { backoff, step: 0 }
    }

    /// The current delay; the next call returns the one after it.
    pub fn next_delay(&mut self) -> Duration {
        let d = self.backoff.delay(self.step);
        self.step = self.step.saturating_add(1);
        d
    }

    pub fn reset(&mut self) {
        self.step = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_by_the_factor_and_stops_at_the_cap() {
        let b = Backoff::new(Duration::from_secs(2), 3, Duration::from_secs(300));
        let d: Vec<u64> = (0..7).map(|n| b.delay(n).as_secs()).collect();
        assert_eq!(d, [2, 6, 18, 54, 162, 300, 300]);
    }

    #[test]
    fn zero_cap_means_none_and_huge_steps_saturate() {
        let b = Backoff::new(Duration::from_secs(5), 2, Duration::ZERO);
        assert_eq!(b.delay(7), Duration::from_secs(640));
        assert!(b.delay(200) >= Duration::from_secs(1 << 30));
    }

    #[test]
    fn stepper_advances_and_resets() {
        let mut s = Stepper::new(Backoff::new(Duration::from_secs(1), 2, Duration::ZERO));
        assert_eq!(s.next_delay(), Duration::from_secs(1));
        assert_eq!(s.next_delay(), Duration::from_secs(2));
        s.reset();
        assert_eq!(s.next_delay(), Duration::from_secs(1));
    }
}
