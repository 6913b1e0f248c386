//! The driver loop: steps the operation until it ends, the deadline passes or shutdown fires.
use super::{
    cluster::Cluster,
    events::RunEvent,
    operation::{Operation, StepEffect, DEFAULT_HOOK_LOG_BYTES},
    outcome::{Outcome, SyncReport},
    state::OperationPhase,
};
use crate::{
    apiserver::Discovery,
    manifest::ObjectKey,
    plan::{Plan, Task},
};
use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};
use tokio_util::sync::CancellationToken;

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub app: String,
    /// Sleep after each non-final wave (Argo's `ARGOCD_SYNC_WAVE_DELAY`, default 2 s in Argo CD,
    /// 0 s in syncsim).
    pub wave_delay: Duration,
    /// How long to keep waiting where Argo CD would wait forever.
    pub timeout: Duration,
    /// How often to step while waiting (Argo re-steps on every watched change).
    pub poll_interval: Duration,
    /// Delete prune tasks (`argocd app sync --prune`, `automated.prune`); otherwise they end
    /// `PruneSkipped` (§6.1).
    pub prune: bool,
    /// What the API server serves, for Argo CD's check of every task's kind (§2.1.6); `None`
    /// serves every kind.
    pub discovery: Option<Arc<Discovery>>,
    /// Argo CD's destination namespace (named in the messages of invalid tasks).
    pub dest_namespace: String,
    /// Tasks Argo CD adds to the plan: the Namespace of `CreateNamespace=true` (§2.1.4).
    pub extra_tasks: Vec<Task>,
    /// Size cap of each hook's captured log: the tail is kept (0: no logs).
    pub hook_log_bytes: usize,
    /// The `argocd-cm` health customizations (`--argocd-cm`, §5.5).
    pub health: crate::health::Customizations,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            app: "app".into(),
            wave_delay: Duration::ZERO,
            timeout: Duration::from_secs(600),
            poll_interval: Duration::from_millis(100),
            prune: false,
            discovery: None,
            dest_namespace: "default".into(),
            extra_tasks: Vec::new(),
            hook_log_bytes: DEFAULT_HOOK_LOG_BYTES,
            health: crate::health::Customizations::default(),
        }
    }
}

/// Argo CD's default wave delay, for the "would have added" figure.
pub const ARGO_DEFAULT_WAVE_DELAY: Duration = Duration::from_secs(2);

/// How long after a Deployment's progress deadline the engine still waits for the controller
/// to mark it `ProgressDeadlineExceeded`.
const DEADLINE_GRACE: Duration = Duration::from_secs(2);

/// The latest progress deadline still to come among the resources the operation waits for
/// (Deployments that stopped progressing, see [`crate::health::progress_deadline`]).
async fn pending_progress_deadline<C: Cluster + ?Sized>(
    op: &Operation,
    cluster: &C,
) -> Option<(ObjectKey, SystemTime)> {
    let now = SystemTime::now();
    let mut latest: Option<(ObjectKey, SystemTime)> = None;
    for key in op.waited_resources() {
        let Some(live) = cluster.get(&key).await else {
            continue;
        };
        // Pending until the controller had time to notice (it polls, it does not watch).
        let pending = |at: &SystemTime| *at + DEADLINE_GRACE > now;
        if let Some(at) = crate::health::progress_deadline(&live).filter(pending) {
            if latest.as_ref().is_none_or(|(_, l)| at > *l) {
                latest = Some((key, at));
            }
        }
    }
    latest
}

/// Runs a whole sync operation of `plan` against `cluster`.
///
/// Returns when the operation is terminal, when `opts.timeout` expires (Argo CD would still be
/// `Running`; extended while a waited Deployment's progress deadline is still to come), or when
/// `shutdown` is cancelled. Never cleans up: the caller owns teardown.
pub async fn run<C: Cluster + ?Sized>(
    plan: &Plan,
    cluster: &C,
    opts: &EngineOptions,
    shutdown: &CancellationToken,
    on_event: &mut dyn FnMut(RunEvent),
) -> SyncReport {
    run_with_prunes(plan, &[], cluster, opts, shutdown, on_event).await
}

/// [`run`] with prune tasks (from [`crate::plan::prune_tasks`]): live objects that no longer
/// have a manifest. They are deleted in their (mirrored) wave when `opts.prune` is set, and end
/// `PruneSkipped` otherwise (§2.5, §6.1).
pub async fn run_with_prunes<C: Cluster + ?Sized>(
    plan: &Plan,
    prunes: &[crate::plan::Task],
    cluster: &C,
    opts: &EngineOptions,
    shutdown: &CancellationToken,
    on_event: &mut dyn FnMut(RunEvent),
) -> SyncReport {
    let started_at = SystemTime::now();
    let start = tokio::time::Instant::now();
    let mut deadline = start + opts.timeout;
    let mut op =
        Operation::with_tasks(plan, &opts.extra_tasks, prunes, opts.prune, opts.wave_delay);
    if let Some(d) = &opts.discovery {
        op.check_kinds(d.clone(), &opts.dest_namespace);
    }
    op.set_hook_log_bytes(opts.hook_log_bytes);
    op.customize_health(opts.health);
    let outcome = loop {
        if shutdown.is_cancelled() {
            break Outcome::Interrupted;
        }
        if tokio::time::Instant::now() >= deadline {
            // `--timeout` stands for Argo CD's endless wait (§4.6). A Deployment that stopped
            // progressing does not make Argo CD wait for ever: at its progress deadline it turns
            // Degraded and fails the sync, so syncsim waits for that moment (§5.4).
            match pending_progress_deadline(&op, cluster).await {
                Some((key, at)) => {
                    let left = at.duration_since(SystemTime::now()).unwrap_or_default();
                    deadline = tokio::time::Instant::now() + left + DEADLINE_GRACE;
                    on_event(RunEvent::Hint {
                        task: key.to_string(),
                        hint: format!(
                            "--timeout passed, but Argo CD would not wait for ever: its progressDeadlineSeconds runs out in {}, when Kubernetes marks it ProgressDeadlineExceeded and Argo CD fails the sync; waiting for that",
                            humantime::format_duration(Duration::from_secs(left.as_secs()))
                        ),
                    });
                }
                None => {
                    break Outcome::TimedOut {
                        waiting: op.message().to_string(),
                    }
                }
            }
        }
        // A step may be cut short by the deadline or by shutdown: dropping it mid-apply is
        // safe because every Docker object is labelled and recorded, and teardown sweeps.
        let effect = tokio::select! {
            e = op.step(cluster, shutdown, on_event) => e,
            _ = tokio::time::sleep_until(deadline) => {
                break Outcome::TimedOut { waiting: op.message().to_string() };
            }
            _ = shutdown.cancelled() => break Outcome::Interrupted,
        };
        match op.phase() {
            OperationPhase::Succeeded => break Outcome::Succeeded,
            OperationPhase::Failed | OperationPhase::Error => break Outcome::Failed,
            _ => {}
        }
        if shutdown.is_cancelled() {
            break Outcome::Interrupted;
        }
        if effect == StepEffect::Progressed {
            // Step again at once: the next step observes what this one applied.
            tokio::task::yield_now().await;
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(opts.poll_interval) => {}
            // Checked (and maybe extended) at the top of the loop.
            _ = tokio::time::sleep_until(deadline) => {}
            _ = shutdown.cancelled() => break Outcome::Interrupted,
        }
    };
    if matches!(outcome, Outcome::TimedOut { .. }) {
        // Hooks still running: their logs, before the caller's teardown removes them.
        op.capture_running_hook_logs(cluster).await;
    }
    op.abandon();
    let duration = start.elapsed();
    SyncReport {
        app: opts.app.clone(),
        outcome,
        phase: op.phase(),
        message: op.message().to_string(),
        started_at,
        finished_at: SystemTime::now(),
        duration,
        tasks: op.tasks().to_vec(),
        steps: op.steps().to_vec(),
        wave_delay_total: opts.wave_delay * op.wave_delays,
        argo_default_wave_delay_total: ARGO_DEFAULT_WAVE_DELAY * op.wave_delays,
        predicted_cluster_duration: None,
        shortened: Vec::new(),
        readiness_lag: None,
    }
}
