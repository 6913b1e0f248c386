//! Small pure helpers every layer may use: a clock and an exponential backoff. No other
//! `crate::` imports.
pub mod backoff;
pub mod clock;

pub use backoff::Backoff;
pub use clock::unix_now;
