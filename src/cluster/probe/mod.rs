//! Container probes: parsed from a pod's `Probe`, executed once against a running container, and
//! a pure tracker that turns a stream of results into Ready / NotReady / Failed.
//!
//! The decision is kept apart from the waiting: [`run_once`] performs one probe,
//! [`ProbeTracker`] decides, and the caller's poll loop only sleeps until
//! [`ProbeTracker::next_probe_at`].
//!
//! # Timing
//!
//! Two models ([`Timing`], `timing.rs`): `cluster` probes on the kubelet's schedule; `fast`
//! (the default) probes readiness and startup from the container's start, every
//! [`FAST_FIRST_POLL`] growing to [`FAST_MAX_POLL`], and liveness after its delay.
//! [`ProbeTracker::new`] alone polls every [`DEFAULT_POLL_INTERVAL`].
//!
//! syncsim polls faster than Kubernetes' `periodSeconds` so that a rehearsal does not wait 10 s for a pod that is ready after 300 ms. Counting
//! fast polls against `failureThreshold` would then fail a container `period / poll` times too
//! early, so the thresholds are converted into **time budgets in real periods**:
//!
//! * a probe fails (liveness/startup `Failed`, readiness back to `NotReady`) once every result
//!   for `failureThreshold × periodSeconds` since the last success (or since probing began, after
//!   `initialDelaySeconds`) was a failure, which is when kubelet would have seen its
//!   `failureThreshold`-th consecutive failure;
//! * a probe succeeds once results have been successful for `(successThreshold − 1) ×
//!   periodSeconds`, i.e. immediately for the usual `successThreshold: 1`.
mod http;
mod run;
mod spec;
mod timing;
mod tracker;

pub use run::{run_once, ProbeResult};
pub use spec::{HttpScheme, Probe, ProbeAction, ProbeError, ProbeKind};
pub use timing::{
    kubelet_extra, kubelet_tick, predicted_cluster_duration, readiness_lag, shortened, Observation,
    Timing, CLUSTER_JOB_BACKOFF, CLUSTER_JOB_BACKOFF_MAX, CLUSTER_WAVE_DELAY, FAST_FIRST_POLL,
    FAST_MAX_POLL, FAST_MAX_POLL_NETWORK, FAST_SETTLED_POLL,
};
pub use tracker::{ProbeStatus, ProbeTracker};

use std::time::Duration;

/// How often syncsim probes by default, whatever `periodSeconds` says (see the module docs).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(200);
