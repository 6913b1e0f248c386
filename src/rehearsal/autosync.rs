//! Argo CD's automated sync policy on a kept-alive environment (§6.3, §6.4): sync when the
//! source changes (debounced) and the app is OutOfSync; retry a failed automated sync with
//! the retry policy (`{limit: 5}`, 5 s × 2^n, at most 3 m by default); with self-heal, re-apply
//! drifted workloads by a selective sync without hooks, backing off 2 s × 3^n up to 5 m while
//! they keep drifting.
//!
//! The loop ([`run`]) takes its source through the [`Source`] trait and its environment as an
//! [`Environment`], so it runs the same on Docker and on the fake runtime under paused time.
use super::{
    compare::{app_sync_status, compare, SyncStatus},
    env::Environment,
    source::Rendered,
    Error,
};
use crate::{
    engine::{EngineOptions, Outcome, RetryPolicy, RunEvent, SyncReport},
    manifest::{source::IgnoreDifference, ObjectKey},
    plan::Plan,
    util::{backoff::Stepper, Backoff},
};
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Argo CD's self-heal backoff: 2 s, ×3, at most 5 m (reset once nothing drifts).
pub const SELF_HEAL_BACKOFF: Backoff =
    Backoff::new(Duration::from_secs(2), 3, Duration::from_secs(300));

/// Where the policy reads the source.
pub trait Source {
    /// Equal fingerprints mean nothing changed.
    fn fingerprint(&self) -> String;
    /// Renders and plans the source as it is now.
    fn render(&self) -> Result<Rendered, Error>;
}

/// How the policy behaves.
#[derive(Debug, Clone)]
pub struct PolicyOptions {
    /// Re-apply drifted workloads (`automated.selfHeal`).
    pub self_heal: bool,
    /// How often to look at the source and the containers.
    pub interval: Duration,
    /// A change is synced once the source has been quiet this long.
    pub debounce: Duration,
    pub retry: RetryPolicy,
    pub heal_backoff: Backoff,
    /// The Application's `ignoreDifferences`: fields that never make the app OutOfSync.
    pub ignore_differences: Vec<IgnoreDifference>,
}

impl Default for PolicyOptions {
    fn default() -> Self {
        Self {
            self_heal: false,
            interval: Duration::from_millis(500),
            debounce: Duration::from_millis(500),
            retry: RetryPolicy::default(),
            heal_backoff: SELF_HEAL_BACKOFF,
            ignore_differences: Vec::new(),
        }
    }
}

/// What the policy does, in order.
#[derive(Debug)]
pub enum PolicyEvent<'a> {
    /// A sync starts, and why (`initial sync`, `source changed: automated sync`, a retry).
    Syncing(&'a str),
    /// Progress of a sync or self-heal operation.
    Run(RunEvent),
    /// A sync ended.
    Synced(&'a SyncReport),
    /// A kept environment adopted at start is Synced with the source.
    AlreadySynced,
    /// The source changed but the app is still Synced (e.g. only hooks changed).
    ChangedButSynced,
    /// A plan warning of a new render.
    Warning(&'a crate::plan::Warning),
    /// The changed source does not render; the policy keeps watching.
    RenderFailed(&'a Error),
    /// The failed sync is retried after `wait` (`attempt` is 1-based).
    RetryScheduled {
        message: &'a str,
        attempt: u32,
        wait: Duration,
    },
    /// The failed sync will not be retried again after `retried` retries.
    RetriesExhausted { message: &'a str, retried: u32 },
    /// A self-heal operation ended.
    Healed {
        drifted: &'a [ObjectKey],
        report: &'a SyncReport,
    },
}

/// The retry bookkeeping of the last automated sync (pure).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetryState {
    /// Retries of the current revision so far.
    pub retried: u32,
    /// When the next retry is due.
    pub due: Option<Instant>,
}

/// The decision after an automated sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterSync {
    /// Succeeded (or interrupted, timed out): nothing to retry.
    Done,
    /// Retry number `attempt` after `wait`.
    Retry { attempt: u32, wait: Duration },
    /// Failed and out of retries (`retried` so far).
    Exhausted { retried: u32 },
}

impl RetryState {
    /// Records the outcome of a sync that ended at `now`.
    pub fn after_sync(
        &mut self,
        policy: &RetryPolicy,
        outcome: &Outcome,
        now: Instant,
    ) -> AfterSync {
        if *outcome != Outcome::Failed {
            self.due = None;
            return AfterSync::Done;
        }
        if policy.should_retry(self.retried) {
            let attempt = self.retried + 1;
            let wait = policy.delay(attempt);
            self.due = Some(now + wait);
            AfterSync::Retry { attempt, wait }
        } else {
            self.due = None;
            AfterSync::Exhausted {
                retried: self.retried,
            }
        }
    }

    /// Whether a retry is due at `now`; if so, counts it and returns its number.
    pub fn take_due(&mut self, now: Instant) -> Option<u32> {
        if self.due.is_some_and(|t| now >= t) {
            self.due = None;
            self.retried += 1;
            Some(self.retried)
        } else {
            None
        }
    }

    /// A new revision resets the retries of the previous one (§6.3).
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

/// Whether `plan` differs from what the environment holds (§6.2), leaving out the fields of
/// the Application's `ignoreDifferences`.
pub fn out_of_sync(env: &Environment, plan: &Plan, ignore: &[IgnoreDifference]) -> bool {
    app_sync_status(&compare(plan, &env.live_record(), ignore)) == SyncStatus::OutOfSync
}

/// Runs the policy until `cancel`: the initial sync (unless an adopted environment is
/// Synced), then the watch loop. Returns the last sync's report, if any ran.
pub async fn run(
    env: &Environment,
    source: &dyn Source,
    initial: Rendered,
    opts: &PolicyOptions,
    eopts: &EngineOptions,
    cancel: &CancellationToken,
    on_event: &mut dyn FnMut(PolicyEvent<'_>),
) -> Option<SyncReport> {
    let mut current = initial;
    let mut retry = RetryState::default();
    let mut last: Option<SyncReport> = None;
    if !env.adopted || out_of_sync(env, &current.plan, &opts.ignore_differences) {
        let r = sync_once(env, &current, eopts, cancel, "initial sync", on_event).await;
        after(&mut retry, opts, &r, on_event);
        last = Some(r);
    } else {
        on_event(PolicyEvent::AlreadySynced);
    }

    let mut seen = source.fingerprint();
    let mut changed_at: Option<Instant> = None;
    let mut heal_after = Instant::now();
    let mut heal = Stepper::new(opts.heal_backoff);
    while !cancel.is_cancelled() {
        tokio::select! {
            _ = tokio::time::sleep(opts.interval) => {}
            _ = cancel.cancelled() => break,
        }
        let now_fp = source.fingerprint();
        if now_fp != seen {
            seen = now_fp;
            changed_at = Some(Instant::now());
            retry.reset();
            continue;
        }
        if let Some(n) = retry.take_due(Instant::now()) {
            let why = format!("retrying the failed automated sync (attempt #{n})");
            let r = sync_once(env, &current, eopts, cancel, &why, on_event).await;
            after(&mut retry, opts, &r, on_event);
            last = Some(r);
            continue;
        }
        if changed_at.is_some_and(|t| t.elapsed() >= opts.debounce) {
            changed_at = None;
            match source.render() {
                Err(e) => on_event(PolicyEvent::RenderFailed(&e)),
                Ok(next) => {
                    for w in &next.plan.warnings {
                        on_event(PolicyEvent::Warning(w));
                    }
                    current = next;
                    if out_of_sync(env, &current.plan, &opts.ignore_differences) {
                        let why = "source changed: automated sync";
                        let r = sync_once(env, &current, eopts, cancel, why, on_event).await;
                        after(&mut retry, opts, &r, on_event);
                        last = Some(r);
                    } else {
                        on_event(PolicyEvent::ChangedButSynced);
                    }
                }
            }
            continue;
        }
        if opts.self_heal && Instant::now() >= heal_after {
            let drifted = env.cluster.drifted();
            let healed = env
                .self_heal(&current.plan, eopts, cancel, &mut |ev| {
                    on_event(PolicyEvent::Run(ev))
                })
                .await;
            match healed {
                Some(r) => {
                    on_event(PolicyEvent::Healed {
                        drifted: &drifted,
                        report: &r,
                    });
                    heal_after = Instant::now() + heal.next_delay();
                }
                None => heal.reset(),
            }
        }
    }
    last
}

async fn sync_once(
    env: &Environment,
    current: &Rendered,
    eopts: &EngineOptions,
    cancel: &CancellationToken,
    why: &str,
    on_event: &mut dyn FnMut(PolicyEvent<'_>),
) -> SyncReport {
    on_event(PolicyEvent::Syncing(why));
    let r = env
        .sync(&current.plan, &current.objects, eopts, cancel, &mut |ev| {
            on_event(PolicyEvent::Run(ev))
        })
        .await;
    on_event(PolicyEvent::Synced(&r));
    r
}

fn after(
    retry: &mut RetryState,
    opts: &PolicyOptions,
    r: &SyncReport,
    on_event: &mut dyn FnMut(PolicyEvent<'_>),
) {
    let message = r.message.trim_end_matches('.');
    match retry.after_sync(&opts.retry, &r.outcome, Instant::now()) {
        AfterSync::Done => {}
        AfterSync::Retry { attempt, wait } => on_event(PolicyEvent::RetryScheduled {
            message,
            attempt,
            wait,
        }),
        AfterSync::Exhausted { retried } => {
            on_event(PolicyEvent::RetriesExhausted { message, retried })
        }
    }
}

#[cfg(test)]
#[path = "autosync_tests.rs"]
mod tests;
