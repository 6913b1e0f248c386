//! [`ProbeTracker`]: the pure decision over a stream of probe results (see the module docs).
use super::{
    Probe, ProbeAction, ProbeKind, ProbeResult, Timing, DEFAULT_POLL_INTERVAL, FAST_FIRST_POLL,
    FAST_MAX_POLL, FAST_MAX_POLL_NETWORK, FAST_SETTLED_POLL,
};
use std::time::Duration;
use tokio::time::Instant;

/// What a tracker concludes so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeStatus {
    /// Still within `initialDelaySeconds`: nothing probed yet.
    Waiting,
    /// Readiness: the container is ready. Liveness: alive. Startup: started (terminal).
    Ready,
    /// Not (or no longer) ready; liveness/startup: failing but within the failure budget.
    NotReady,
    /// Liveness or startup failed for the whole failure budget: kubelet would kill the container.
    Failed { message: String },
}

/// How often a tracker asks to be probed.
#[derive(Debug, Clone, Copy)]
enum Poll {
    /// Every so often, whatever the results.
    Every(Duration),
    /// Fast timing: [`FAST_FIRST_POLL`] growing by half each miss up to `max` until the probe
    /// passes; then every `periodSeconds`, as the kubelet does.
    Adaptive { max: Duration },
}

/// Pure tracker for one probe of one container start. Feed it results with the instant they were
/// taken; it applies `initialDelaySeconds`, `successThreshold` and `failureThreshold` as time
/// budgets (see the module docs).
#[derive(Debug, Clone)]
pub struct ProbeTracker {
    kind: ProbeKind,
    initial_delay: Duration,
    period: Duration,
    success_threshold: u32,
    failure_threshold: u32,
    poll: Poll,
    /// When probing may begin: container start + initial delay (fast timing: the start, for
    /// readiness and startup probes).
    begins: Instant,
    /// Results since the last success (fast timing grows its interval with them).
    misses: u32,
    /// Start of the current run of successes.
    success_since: Option<Instant>,
    /// Last success, or `begins` if none: failures are budgeted from here.
    failures_from: Instant,
    last_probe: Option<Instant>,
    status: ProbeStatus,
}

impl ProbeTracker {
    /// A tracker for `probe` on a container that started at `started`.
    pub fn new(probe: &Probe, started: Instant) -> Self {
        let begins = started + probe.initial_delay;
        Self {
            kind: probe.kind,
            initial_delay: probe.initial_delay,
            period: probe.period,
            success_threshold: probe.success_threshold.max(1),
            failure_threshold: probe.failure_threshold.max(1),
            poll: Poll::Every(DEFAULT_POLL_INTERVAL.min(probe.period)),
            begins,
            misses: 0,
            success_since: None,
            // Kept when fast timing probes before the delay: budgets have cluster length.
            failures_from: begins,
            last_probe: None,
            status: ProbeStatus::Waiting,
        }
    }

    /// A tracker for `probe` on a container that started at `started`, in the `timing` model
    /// (see `timing.rs`): `Cluster` probes at `initialDelaySeconds` then every `periodSeconds`;
    /// `Fast` probes readiness and startup from the start, adaptively, and liveness after its
    /// delay every `min(periodSeconds, 1 s)`. Failure budgets start after the initial delay in
    /// both.
    pub fn with_timing(probe: &Probe, started: Instant, timing: Timing) -> Self {
        let mut t = Self::new(probe, started);
        match timing {
            Timing::Cluster => t.poll = Poll::Every(probe.period.max(Duration::from_millis(1))),
            Timing::Fast => match probe.kind {
                ProbeKind::Readiness | ProbeKind::Startup => {
                    // An exec probe costs the engine a `docker exec`; a connection costs nothing.
                    let max = match probe.action {
                        ProbeAction::Exec(_) => FAST_MAX_POLL,
                        ProbeAction::Tcp { .. } | ProbeAction::Http { .. } => FAST_MAX_POLL_NETWORK,
                    };
                    t.poll = Poll::Adaptive { max };
                    t.begins = started;
                }
                ProbeKind::Liveness => {
                    t.poll = Poll::Every(probe.period.min(FAST_SETTLED_POLL));
                }
            },
        }
        t
    }

    /// Polls every `interval` instead of [`DEFAULT_POLL_INTERVAL`] (use `probe.period` for
    /// Kubernetes' pace). Zero is raised to 1 ms.
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll = Poll::Every(interval.max(Duration::from_millis(1)));
        self
    }

    /// The wait after the last probe.
    fn interval(&self) -> Duration {
        match self.poll {
            Poll::Every(d) => d,
            // Passed: the kubelet's own pace. Nothing waits for a Ready container to change
            // quickly, and an exec probe is a `docker exec` competing with the containers.
            Poll::Adaptive { .. } if self.status == ProbeStatus::Ready => self.period,
            Poll::Adaptive { max } => {
                let grown = FAST_FIRST_POLL.as_secs_f64()
                    * 1.5f64.powi(self.misses.saturating_sub(1).min(16) as i32);
                Duration::from_secs_f64(grown).min(max)
            }
        }
    }

    /// When the caller should run the next probe.
    pub fn next_probe_at(&self) -> Instant {
        match self.last_probe {
            None => self.begins,
            Some(last) => (last + self.interval()).max(self.begins),
        }
    }

    /// Whether probing is over for this container start: a startup probe that succeeded, or a
    /// liveness/startup probe that failed.
    pub fn is_settled(&self) -> bool {
        matches!(self.status, ProbeStatus::Failed { .. })
            || (self.kind == ProbeKind::Startup && self.status == ProbeStatus::Ready)
    }

    /// When the last result was recorded (`None`: never probed).
    pub fn last_probe(&self) -> Option<Instant> {
        self.last_probe
    }

    pub fn status(&self) -> &ProbeStatus {
        &self.status
    }

    /// The status at `now` without a new result: only `Waiting` turns into `NotReady` once the
    /// initial delay is over.
    pub fn status_at(&self, now: Instant) -> ProbeStatus {
        match &self.status {
            ProbeStatus::Waiting if now >= self.begins => ProbeStatus::NotReady,
            s => s.clone(),
        }
    }

    /// Records a result taken at `at` and returns the new status. Results taken before the initial
    /// delay elapsed, or after the tracker settled, are ignored.
    pub fn record(&mut self, at: Instant, result: &ProbeResult) -> &ProbeStatus {
        if at < self.begins || self.is_settled() {
            return &self.status;
        }
        self.last_probe = Some(at);
        match result {
            ProbeResult::Success { .. } => {
                self.misses = 0;
                let since = *self.success_since.get_or_insert(at);
                self.failures_from = at;
                let needed = self.period * (self.success_threshold - 1);
                if at.duration_since(since) >= needed {
                    self.status = ProbeStatus::Ready;
                } else if self.status == ProbeStatus::Waiting {
                    self.status = ProbeStatus::NotReady;
                }
            }
            ProbeResult::Failure { message } => {
                self.misses = self.misses.saturating_add(1);
                self.success_since = None;
                let budget = self.period * self.failure_threshold;
                if at.duration_since(self.failures_from) >= budget {
                    self.status = match self.kind {
                        ProbeKind::Readiness => ProbeStatus::NotReady,
                        ProbeKind::Liveness | ProbeKind::Startup => ProbeStatus::Failed {
                            message: format!(
                                "{} probe failed {} times in a row over {:?}: {message}",
                                self.kind, self.failure_threshold, budget
                            ),
                        },
                    };
                } else if self.status == ProbeStatus::Waiting {
                    self.status = ProbeStatus::NotReady;
                }
            }
        }
        &self.status
    }

    /// The initial delay this tracker applies.
    pub fn initial_delay(&self) -> Duration {
        self.initial_delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(kind: ProbeKind, initial: u64, period: u64, success: u32, failure: u32) -> Probe {
        Probe {
            kind,
            action: ProbeAction::Tcp { port: 80 },
            initial_delay: Duration::from_secs(initial),
            period: Duration::from_secs(period),
            timeout: Duration::from_secs(1),
            success_threshold: success,
            failure_threshold: failure,
        }
    }

    fn ok() -> ProbeResult {
        ProbeResult::Success {
            message: String::new(),
        }
    }

    fn bad() -> ProbeResult {
        ProbeResult::Failure {
            message: "refused".into(),
        }
    }

    #[test]
    fn initial_delay_is_waited_and_early_results_ignored() {
        let start = Instant::now();
        let mut now = start;
        let mut t = ProbeTracker::new(&probe(ProbeKind::Readiness, 5, 10, 1, 3), start);
        assert_eq!(t.next_probe_at(), start + Duration::from_secs(5));
        assert_eq!(t.status_at(start), ProbeStatus::Waiting);
        now += Duration::from_secs(1);
        assert_eq!(t.record(now, &ok()), &ProbeStatus::Waiting);
        now += Duration::from_secs(4);
        assert_eq!(t.status_at(now), ProbeStatus::NotReady);
        assert_eq!(t.record(now, &ok()), &ProbeStatus::Ready);
    }

    #[test]
    fn polls_faster_than_the_period() {
        let start = Instant::now();
        let mut t = ProbeTracker::new(&probe(ProbeKind::Readiness, 0, 10, 1, 3), start);
        t.record(start, &bad());
        assert_eq!(t.next_probe_at(), start + DEFAULT_POLL_INTERVAL);
        let t = t.with_poll_interval(Duration::from_secs(10));
        assert_eq!(t.next_probe_at(), start + Duration::from_secs(10));
    }

    #[test]
    fn fast_failures_do_not_exhaust_the_failure_threshold() {
        let start = Instant::now();
        let mut now = start;
        let mut t = ProbeTracker::new(&probe(ProbeKind::Liveness, 0, 10, 1, 3), start);
        // 100 failures at 200 ms = 20 s < 3 × 10 s: still within budget.
        for _ in 0..100 {
            assert_eq!(t.record(now, &bad()), &ProbeStatus::NotReady);
            now += Duration::from_millis(200);
        }
        now += Duration::from_secs(10);
        let status = t.record(now, &bad()).clone();
        assert!(
            matches!(&status, ProbeStatus::Failed { message } if message.contains("refused")),
            "{status:?}"
        );
        assert!(t.is_settled());
        // Settled: later results change nothing.
        assert_eq!(t.record(now, &ok()), &status);
    }

    #[test]
    fn a_success_resets_the_failure_budget() {
        let start = Instant::now();
        let mut now = start;
        let mut t = ProbeTracker::new(&probe(ProbeKind::Liveness, 0, 1, 1, 2), start);
        t.record(start, &ok());
        now += Duration::from_millis(1500);
        assert_eq!(t.record(now, &bad()), &ProbeStatus::Ready);
        now += Duration::from_millis(400);
        t.record(now, &ok());
        now += Duration::from_millis(1900);
        assert_eq!(t.record(now, &bad()), &ProbeStatus::Ready);
        now += Duration::from_millis(100);
        assert!(matches!(t.record(now, &bad()), ProbeStatus::Failed { .. }));
    }

    #[test]
    fn readiness_stays_ready_within_budget_then_becomes_not_ready_and_recovers() {
        let start = Instant::now();
        let mut now = start;
        let mut t = ProbeTracker::new(&probe(ProbeKind::Readiness, 0, 1, 1, 3), start);
        assert_eq!(t.record(start, &ok()), &ProbeStatus::Ready);
        now += Duration::from_secs(2);
        assert_eq!(t.record(now, &bad()), &ProbeStatus::Ready);
        now += Duration::from_secs(1);
        assert_eq!(t.record(now, &bad()), &ProbeStatus::NotReady);
        assert!(!t.is_settled(), "readiness never settles");
        now += Duration::from_secs(1);
        assert_eq!(t.record(now, &ok()), &ProbeStatus::Ready);
    }

    #[test]
    fn success_threshold_counts_in_real_periods() {
        let start = Instant::now();
        let mut now = start;
        let mut t = ProbeTracker::new(&probe(ProbeKind::Readiness, 0, 2, 3, 3), start);
        assert_eq!(t.record(start, &ok()), &ProbeStatus::NotReady);
        now += Duration::from_millis(3900);
        assert_eq!(t.record(now, &ok()), &ProbeStatus::NotReady);
        now += Duration::from_millis(100);
        assert_eq!(t.record(now, &ok()), &ProbeStatus::Ready);
    }

    #[test]
    fn a_failure_restarts_the_success_streak() {
        let start = Instant::now();
        let mut now = start;
        let mut t = ProbeTracker::new(&probe(ProbeKind::Readiness, 0, 1, 2, 3), start);
        t.record(start, &ok());
        now += Duration::from_millis(500);
        t.record(now, &bad());
        now += Duration::from_millis(600);
        assert_eq!(t.record(now, &ok()), &ProbeStatus::NotReady);
        now += Duration::from_secs(1);
        assert_eq!(t.record(now, &ok()), &ProbeStatus::Ready);
    }

    #[test]
    fn startup_fails_after_its_budget_from_the_initial_delay_and_settles_on_success() {
        let start = Instant::now();
        let mut now = start;
        let mut failing = ProbeTracker::new(&probe(ProbeKind::Startup, 2, 1, 1, 3), start);
        now += Duration::from_secs(4);
        assert_eq!(failing.record(now, &bad()), &ProbeStatus::NotReady);
        now += Duration::from_secs(1);
        assert!(matches!(
            failing.record(now, &bad()),
            ProbeStatus::Failed { .. }
        ));

        let mut passing = ProbeTracker::new(&probe(ProbeKind::Startup, 0, 1, 1, 3), start);
        assert_eq!(passing.record(now, &ok()), &ProbeStatus::Ready);
        assert!(passing.is_settled());
    }

    #[test]
    fn fast_timing_probes_readiness_from_the_start_adaptively_then_backs_off() {
        let exec = ProbeAction::Exec(vec!["true".into()]);
        let http = ProbeAction::Http {
            port: 80,
            path: "/".into(),
            scheme: crate::cluster::probe::HttpScheme::Http,
            host: None,
            headers: Vec::new(),
        };
        // An exec probe is a `docker exec`: its gaps grow to 75 ms. A connection costs the
        // engine nothing: at most 25 ms.
        for (action, want) in [
            (exec, [20, 30, 45, 67, 75, 75, 75, 75]),
            (
                ProbeAction::Tcp { port: 80 },
                [20, 25, 25, 25, 25, 25, 25, 25],
            ),
            (http, [20, 25, 25, 25, 25, 25, 25, 25]),
        ] {
            let start = Instant::now();
            let p = Probe {
                action: action.clone(),
                ..probe(ProbeKind::Readiness, 5, 5, 1, 3)
            };
            let mut t = ProbeTracker::with_timing(&p, start, Timing::Fast);
            assert_eq!(t.next_probe_at(), start);
            assert_eq!(t.status_at(start), ProbeStatus::NotReady);
            let mut now = start;
            let mut gaps = Vec::new();
            for _ in 0..8 {
                t.record(now, &bad());
                let next = t.next_probe_at();
                gaps.push(next.duration_since(now).as_millis());
                now = next;
            }
            assert_eq!(gaps, want, "{action:?}");
            assert_eq!(t.record(now, &ok()), &ProbeStatus::Ready);
            assert_eq!(t.next_probe_at(), now + p.period, "then the kubelet's pace");
        }
    }

    #[test]
    fn fast_timing_keeps_the_cluster_failure_budget_after_the_initial_delay() {
        let start = Instant::now();
        // delay 5 s, period 1 s, threshold 3: a startup probe that never passes fails at 8 s.
        let p = probe(ProbeKind::Startup, 5, 1, 1, 3);
        let mut t = ProbeTracker::with_timing(&p, start, Timing::Fast);
        let mut now = start;
        while now < start + Duration::from_millis(7900) {
            assert_eq!(t.record(now, &bad()), &ProbeStatus::NotReady, "{now:?}");
            now = t.next_probe_at();
        }
        now = start + Duration::from_secs(8);
        assert!(matches!(t.record(now, &bad()), ProbeStatus::Failed { .. }));
    }

    #[test]
    fn fast_timing_keeps_the_liveness_delay_and_cluster_timing_the_period() {
        let start = Instant::now();
        let live = probe(ProbeKind::Liveness, 10, 10, 1, 3);
        let mut t = ProbeTracker::with_timing(&live, start, Timing::Fast);
        assert_eq!(t.next_probe_at(), start + Duration::from_secs(10));
        t.record(start + Duration::from_secs(10), &ok());
        assert_eq!(t.next_probe_at(), start + Duration::from_secs(11));

        let ready = probe(ProbeKind::Readiness, 2, 5, 1, 3);
        let mut t = ProbeTracker::with_timing(&ready, start, Timing::Cluster);
        assert_eq!(t.next_probe_at(), start + Duration::from_secs(2));
        t.record(start + Duration::from_secs(2), &bad());
        assert_eq!(t.next_probe_at(), start + Duration::from_secs(7));
    }
}
