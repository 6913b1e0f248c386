//! The two timing models of a rehearsal, and the cluster duration predicted from a fast run.
//!
//! * [`Timing::Fast`] (the default): readiness and startup probes run from the container's
//!   start and are polled adaptively ([`FAST_FIRST_POLL`] growing to [`FAST_MAX_POLL`] for exec
//!   probes, at most [`FAST_MAX_POLL_NETWORK`] for httpGet and tcpSocket) until they pass;
//!   liveness probes keep `initialDelaySeconds`. Failure budgets keep their cluster
//!   length (`failureThreshold × periodSeconds` after `initialDelaySeconds`), so a probe that
//!   never passes fails when it would on a cluster. Only waiting is cut.
//! * [`Timing::Cluster`]: the kubelet's schedule: `initialDelaySeconds`, then one probe every
//!   `periodSeconds`; Job backoff from 10 s; Argo CD's 2 s wave delay (set by the caller).
//!
//! Both record [`Observation`]s: for each probe that gated a container's readiness, how much
//! longer the kubelet's schedule would have waited than this run did (zero in cluster timing),
//! and for each Job retry, how much longer Kubernetes' backoff would have been.
//! [`predicted_cluster_duration`] turns them, with the run's steps, into the predicted duration
//! of the same sync on a cluster.
use super::Probe;
use crate::engine::{Shortened, SyncReport};
use std::{
    fmt,
    str::FromStr,
    time::{Duration, SystemTime},
};

/// First poll interval of a probe that has not passed yet in fast timing.
pub const FAST_FIRST_POLL: Duration = Duration::from_millis(20);
/// Largest poll interval of an exec probe that has not passed yet in fast timing: each one is a
/// `docker exec`, about 75 ms of the engine's CPU here, competing with the container it probes.
pub const FAST_MAX_POLL: Duration = Duration::from_millis(75);
/// Largest poll interval of an httpGet or tcpSocket probe that has not passed yet in fast
/// timing: a connection from syncsim's host costs the engine nothing, so it is polled closely.
pub const FAST_MAX_POLL_NETWORK: Duration = Duration::from_millis(25);
/// Largest poll interval of a liveness probe in fast timing (`periodSeconds` if shorter); a
/// readiness or startup probe that passed is polled every `periodSeconds`.
pub const FAST_SETTLED_POLL: Duration = Duration::from_secs(1);
/// Kubernetes' Job pod backoff base (doubling, capped at [`CLUSTER_JOB_BACKOFF_MAX`]).
pub const CLUSTER_JOB_BACKOFF: Duration = Duration::from_secs(10);
/// Kubernetes' Job pod backoff cap.
pub const CLUSTER_JOB_BACKOFF_MAX: Duration = Duration::from_secs(360);
/// Argo CD's default delay after each non-final wave (`ARGOCD_SYNC_WAVE_DELAY`).
pub const CLUSTER_WAVE_DELAY: Duration = Duration::from_secs(2);
/// Slack for scheduling jitter when placing an observed probe on the kubelet's schedule.
const TICK_SLACK: Duration = Duration::from_millis(50);

/// How a rehearsal spends waiting time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Timing {
    /// Probe as soon and as often as useful; keep failure budgets (the default).
    #[default]
    Fast,
    /// The kubelet's and Argo CD's schedule.
    Cluster,
}

impl Timing {
    /// The Job backoff base of this model when the user sets none.
    pub fn job_backoff(self) -> Duration {
        match self {
            Timing::Fast => Duration::from_secs(1),
            Timing::Cluster => CLUSTER_JOB_BACKOFF,
        }
    }

    /// How often controllers inspect containers (Job exits, crashes); probes run when due.
    pub fn controller_poll(self) -> Duration {
        match self {
            Timing::Fast => Duration::from_millis(50),
            Timing::Cluster => Duration::from_millis(150),
        }
    }

    /// How often the engine re-steps while a step waits (Argo CD reacts to watch events).
    pub fn engine_poll(self) -> Duration {
        match self {
            Timing::Fast => Duration::from_millis(20),
            Timing::Cluster => Duration::from_millis(100),
        }
    }

    /// The wave delay of this model when the user sets none.
    pub fn wave_delay(self) -> Duration {
        match self {
            Timing::Fast => Duration::ZERO,
            Timing::Cluster => CLUSTER_WAVE_DELAY,
        }
    }
}

impl fmt::Display for Timing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Timing::Fast => "fast",
            Timing::Cluster => "cluster",
        })
    }
}

impl FromStr for Timing {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "fast" => Ok(Timing::Fast),
            "cluster" => Ok(Timing::Cluster),
            other => Err(format!(
                "unknown timing `{other}` (expected fast or cluster)"
            )),
        }
    }
}

/// Something a cluster would have waited for longer than the run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observation {
    /// A container became ready at `at`; on the kubelet's schedule it would have been `extra`
    /// later.
    Ready { at: SystemTime, extra: Duration },
    /// A Job pod failed at `at` and the next one waited `waited`, `extra` less than Kubernetes'
    /// backoff.
    Backoff {
        at: SystemTime,
        waited: Duration,
        extra: Duration,
    },
    /// A readiness probe passed after failing: it could first have passed right after the
    /// failing probe ended, and was seen `lag` after that at most (poll interval plus the
    /// passing probe's own duration).
    ReadinessLag { lag: Duration },
}

/// The median of the [`Observation::ReadinessLag`]s, `None` when there is none.
pub fn readiness_lag(observations: &[Observation]) -> Option<Duration> {
    let mut lags: Vec<Duration> = observations
        .iter()
        .filter_map(|o| match o {
            Observation::ReadinessLag { lag } => Some(*lag),
            _ => None,
        })
        .collect();
    lags.sort();
    let n = lags.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(lags[n / 2]),
        _ => Some((lags[n / 2 - 1] + lags[n / 2]) / 2),
    }
}

/// When the kubelet would first see a probe pass that passes from `passed` (since the
/// container's start, or since its startup probe passed) on: at `initialDelaySeconds`, then
/// every `periodSeconds`.
pub fn kubelet_tick(probe: &Probe, passed: Duration) -> Duration {
    let delay = probe.initial_delay;
    let period = probe.period.max(Duration::from_millis(1));
    if passed <= delay + TICK_SLACK {
        return delay;
    }
    let after = (passed - delay).saturating_sub(TICK_SLACK);
    let ticks = after.as_nanos().div_ceil(period.as_nanos());
    delay + period * u32::try_from(ticks).unwrap_or(u32::MAX)
}

/// How much later than observed the kubelet would have seen a container ready: `startup`
/// (its probe and when it passed, since the start) then `readiness` (its probe and when it
/// passed, since the start) on the kubelet's schedule, which begins readiness only once the
/// startup probe passed.
pub fn kubelet_extra(
    startup: Option<(&Probe, Duration)>,
    readiness: Option<(&Probe, Duration)>,
) -> Duration {
    let (observed_started, cluster_started) = match startup {
        Some((p, passed)) => (passed, kubelet_tick(p, passed)),
        None => (Duration::ZERO, Duration::ZERO),
    };
    let (observed, cluster) = match readiness {
        Some((p, passed)) => {
            let since = passed.saturating_sub(observed_started);
            (passed, cluster_started + kubelet_tick(p, since))
        }
        None => (observed_started, cluster_started),
    };
    cluster.saturating_sub(observed)
}

/// The predicted duration of `report`'s operation on a cluster: each step ends when its last
/// container would be seen ready on the kubelet's schedule (never earlier than observed), plus
/// Kubernetes' Job backoff where a Job retried; a step followed by Argo CD's 2 s wave delay
/// lasts at least 2 s (the delay overlaps the wait for the wave's health); the time between
/// steps is taken as observed.
pub fn predicted_cluster_duration(report: &SyncReport, observations: &[Observation]) -> Duration {
    let mut total = report.duration;
    // Argo CD sleeps the wave delay right after applying a wave, overlapping the wait for its
    // health: a delayed step lasts at least the delay.
    let delayed =
        (report.argo_default_wave_delay_total.as_nanos() / CLUSTER_WAVE_DELAY.as_nanos()) as usize;
    for (i, step) in report.steps.iter().enumerate() {
        let (Some(start), Some(end)) = (step.started_at, step.finished_at) else {
            continue;
        };
        let (start, end) = (report.started_at + start, report.started_at + end);
        let within = |at: &SystemTime| *at > start && *at <= end;
        let mut later = Duration::ZERO;
        let mut backoff = Duration::ZERO;
        for o in observations {
            match o {
                Observation::Ready { at, extra } if within(at) => {
                    let seen = *at + *extra;
                    later = later.max(seen.duration_since(end).unwrap_or_default());
                }
                Observation::Backoff { at, extra, .. } if within(at) => backoff += *extra,
                _ => {}
            }
        }
        let observed = end.duration_since(start).unwrap_or_default();
        let mut predicted = observed + later + backoff;
        if i < delayed {
            predicted = predicted.max(CLUSTER_WAVE_DELAY);
        }
        total += predicted - observed;
    }
    total
}

/// Every wait `report`'s run shortened against a cluster, from what the cluster `observed`:
/// Job backoff, the probe schedule (fast timing), Argo CD's wave delay. Empty when nothing was
/// shortened (cluster timing with Argo CD's wave delay).
pub fn shortened(report: &SyncReport, observations: &[Observation]) -> Vec<Shortened> {
    let mut out = Vec::new();
    let (mut retries, mut waited, mut cluster) = (0, Duration::ZERO, Duration::ZERO);
    for o in observations {
        if let Observation::Backoff {
            waited: w, extra, ..
        } = o
        {
            retries += 1;
            waited += *w;
            cluster += *w + *extra;
        }
    }
    if cluster > waited {
        out.push(Shortened {
            what: "Job backoff",
            count: retries,
            rehearsed: waited,
            cluster,
            default: "Kubernetes re-creates a failed Job pod after 10s, doubling up to 6m (--job-backoff)",
        });
    }
    let sooner: Vec<Duration> = observations
        .iter()
        .filter_map(|o| match o {
            Observation::Ready { extra, .. } if !extra.is_zero() => Some(*extra),
            _ => None,
        })
        .collect();
    if let Some(most) = sooner.iter().max() {
        out.push(Shortened {
            what: "probe schedule",
            count: sooner.len() as u32,
            rehearsed: Duration::ZERO,
            cluster: *most,
            default: "the kubelet probes at initialDelaySeconds, then every periodSeconds (--timing cluster)",
        });
    }
    if report.argo_default_wave_delay_total > report.wave_delay_total {
        out.push(Shortened {
            what: "wave delay",
            count: (report.argo_default_wave_delay_total.as_nanos() / CLUSTER_WAVE_DELAY.as_nanos())
                as u32,
            rehearsed: report.wave_delay_total,
            cluster: report.argo_default_wave_delay_total,
            default: "Argo CD sleeps 2s after each wave but the last (--wave-delay)",
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::probe::{ProbeAction, ProbeKind};

    fn probe(initial: u64, period: u64) -> Probe {
        Probe {
            kind: ProbeKind::Readiness,
            action: ProbeAction::Tcp { port: 80 },
            initial_delay: Duration::from_secs(initial),
            period: Duration::from_secs(period),
            timeout: Duration::from_secs(1),
            success_threshold: 1,
            failure_threshold: 3,
        }
    }

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn a_probe_passing_before_the_initial_delay_is_seen_at_the_delay() {
        assert_eq!(kubelet_tick(&probe(5, 5), ms(600)), ms(5000));
        assert_eq!(kubelet_extra(None, Some((&probe(5, 5), ms(600)))), ms(4400));
    }

    #[test]
    fn a_probe_passing_later_is_seen_at_the_next_period_tick() {
        // delay 2 s, period 5 s: ticks at 2, 7, 12 s.
        assert_eq!(kubelet_tick(&probe(2, 5), ms(2600)), ms(7000));
        assert_eq!(kubelet_tick(&probe(2, 5), ms(7400)), ms(12000));
        assert_eq!(
            kubelet_extra(None, Some((&probe(2, 5), ms(2600)))),
            ms(4400)
        );
    }

    #[test]
    fn an_observation_on_a_tick_costs_nothing_more() {
        // What cluster timing observes: the probe run on the tick, a few ms late.
        assert_eq!(kubelet_tick(&probe(2, 5), ms(2000)), ms(2000));
        assert_eq!(kubelet_tick(&probe(2, 5), ms(7010)), ms(7000));
        assert_eq!(
            kubelet_extra(None, Some((&probe(2, 5), ms(7010)))),
            Duration::ZERO
        );
    }

    #[test]
    fn readiness_starts_on_the_kubelet_schedule_after_the_startup_probe() {
        // startup passes at 1.2 s (ticks 0, 3, 6 s: seen at 3 s); readiness passes 0.3 s after
        // startup in the run: on the cluster its first tick is 3 s + 2 s delay.
        let startup = probe(0, 3);
        let extra = kubelet_extra(Some((&startup, ms(1200))), Some((&probe(2, 5), ms(1500))));
        assert_eq!(extra, ms(5000 - 1500));
    }

    #[test]
    fn timing_parses_its_names() {
        assert_eq!("fast".parse(), Ok(Timing::Fast));
        assert_eq!("cluster".parse(), Ok(Timing::Cluster));
        assert!("slow".parse::<Timing>().is_err());
        assert_eq!(Timing::Cluster.job_backoff(), Duration::from_secs(10));
        assert_eq!(Timing::Cluster.wave_delay(), Duration::from_secs(2));
        assert_eq!(Timing::Fast.wave_delay(), Duration::ZERO);
    }

    #[test]
    fn prediction_adds_the_kubelet_wait_and_lets_the_wave_delay_overlap_the_step() {
        use crate::engine::{OperationPhase, Outcome, StepRecord, StepStatus};
        use crate::plan::Phase;
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let step = |a: u64, b: u64| StepRecord {
            phase: Phase::Sync,
            wave: 0,
            started_at: Some(ms(a)),
            finished_at: Some(ms(b)),
            status: StepStatus::Succeeded,
        };
        let report = SyncReport {
            app: "a".into(),
            outcome: Outcome::Succeeded,
            phase: OperationPhase::Succeeded,
            message: String::new(),
            started_at: t0,
            finished_at: t0 + ms(4000),
            duration: ms(4000),
            tasks: Vec::new(),
            // a 1 s step (ready at 1 s, 4 s later on the kubelet's schedule), then a 0.5 s
            // step followed by a wave delay, then the final 2 s step.
            steps: vec![step(0, 1000), step(1000, 1500), step(1500, 3500)],
            wave_delay_total: Duration::ZERO,
            argo_default_wave_delay_total: ms(4000),
            predicted_cluster_duration: None,
            shortened: Vec::new(),
            readiness_lag: None,
        };
        let obs = [Observation::Ready {
            at: t0 + ms(1000),
            extra: ms(4000),
        }];
        // +4 s (kubelet), +1.5 s (the second step lasts the 2 s delay), +0 (final step).
        assert_eq!(predicted_cluster_duration(&report, &obs), ms(9500));
    }

    #[test]
    fn readiness_lag_is_the_median_of_the_lags_and_none_without_any() {
        let ms = Duration::from_millis;
        let lag = |l| Observation::ReadinessLag { lag: ms(l) };
        let ready = Observation::Ready {
            at: SystemTime::now(),
            extra: ms(900),
        };
        assert_eq!(readiness_lag(&[ready]), None);
        assert_eq!(
            readiness_lag(&[lag(120), ready, lag(40), lag(70)]),
            Some(ms(70))
        );
        assert_eq!(readiness_lag(&[lag(40), lag(60)]), Some(ms(50)));
    }

    #[test]
    fn every_shortened_wait_is_named_with_the_cluster_figure() {
        use crate::engine::{OperationPhase, Outcome};
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut report = SyncReport {
            app: "a".into(),
            outcome: Outcome::Succeeded,
            phase: OperationPhase::Succeeded,
            message: String::new(),
            started_at: t0,
            finished_at: t0,
            duration: Duration::ZERO,
            tasks: Vec::new(),
            steps: Vec::new(),
            wave_delay_total: Duration::ZERO,
            argo_default_wave_delay_total: ms(6000),
            predicted_cluster_duration: None,
            shortened: Vec::new(),
            readiness_lag: None,
        };
        let obs = [
            Observation::Backoff {
                at: t0,
                waited: ms(1000),
                extra: ms(9000),
            },
            Observation::Backoff {
                at: t0,
                waited: ms(2000),
                extra: ms(18000),
            },
            Observation::Ready {
                at: t0,
                extra: ms(4400),
            },
            Observation::Ready {
                at: t0,
                extra: ms(1200),
            },
            Observation::Ready {
                at: t0,
                extra: Duration::ZERO,
            },
        ];
        let got = shortened(&report, &obs);
        let figures: Vec<_> = got
            .iter()
            .map(|s| (s.what, s.count, s.rehearsed, s.cluster))
            .collect();
        assert_eq!(
            figures,
            [
                ("Job backoff", 2, ms(3000), ms(30000)),
                ("probe schedule", 2, Duration::ZERO, ms(4400)),
                ("wave delay", 3, Duration::ZERO, ms(6000)),
            ]
        );
        // Cluster timing: nothing shortened, nothing named.
        report.wave_delay_total = ms(6000);
        let cluster = [Observation::Backoff {
            at: t0,
            waited: ms(10000),
            extra: Duration::ZERO,
        }];
        assert!(shortened(&report, &cluster).is_empty());
    }
}
