//! The driver loop: steps the operation until it ends, the deadline passes or shutdown fires.
use super::{
    cluster::Cluster,
    events::RunEvent,
    operation::{Operation, StepEffect},
    outcome::{Outcome, SyncReport},
    state::OperationPhase,
};
use crate::{
    apiserver::Discovery,
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
            health: crate::health::Customizations::default(),
        }
    }
}

/// Argo CD's default wave delay, for the "would have added" figure.
pub const ARGO_DEFAULT_WAVE_DELAY: Duration = Duration::from_secs(2);

/// Runs a whole sync operation of `plan` against `cluster`.
///
/// Returns when the operation is terminal, when `opts.timeout` expires (Argo CD would still be
/// `Running`), or when `shutdown` is cancelled. Never cleans up: the caller owns teardown.
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
    let deadline = start + opts.timeout;
    let mut op =
        Operation::with_tasks(plan, &opts.extra_tasks, prunes, opts.prune, opts.wave_delay);
    if let Some(d) = &opts.discovery {
        op.check_kinds(d.clone(), &opts.dest_namespace);
    }
    op.customize_health(opts.health);
    let outcome = loop {
        if shutdown.is_cancelled() {
            break Outcome::Interrupted;
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
            _ = tokio::time::sleep_until(deadline) => {
                break Outcome::TimedOut { waiting: op.message().to_string() };
            }
            _ = shutdown.cancelled() => break Outcome::Interrupted,
        }
    };
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
    }
}
