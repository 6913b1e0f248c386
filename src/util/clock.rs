//! The one place that reads the wall clock as Unix seconds.
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn unix_now() -> i64 {
    unix_seconds(SystemTime::now())
}

/// `t` as seconds since the Unix epoch (0 before it).
pub fn unix_seconds(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn seconds_since_the_epoch_and_zero_before_it() {
        assert_eq!(unix_seconds(UNIX_EPOCH + Duration::from_millis(2_500)), 2);
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_secs(1)), 0);
        assert!(unix_now() > 1_700_000_000);
    }
}
