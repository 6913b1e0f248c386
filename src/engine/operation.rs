//! One Argo CD sync operation, advanced one *step* at a time (§2.7).
//!
//! ```text
//!            ┌──────────── step() ────────────┐
//!  first ──► │ B dry run ─fail──────────────────┼──► Failed (no SyncFail hooks)
//!            │ C refresh running tasks          │
//!            │ D running set non-empty? ────────┼──► Running (waiting for …)
//!            │ H a task failed? ──SyncFail proc─┼──► Failed / Running (SyncFail hooks)
//!            │ I nothing pending? ──────────────┼──► Succeeded (no more tasks)
//!            │ J run current (phase, wave)      │
//!            │ K wave delay (not final)         │
//!            │ L successful/pending/failed ─────┼──► Running / Succeeded (all tasks run) / Failed
//!            └──────────────────────────────────┘
//! ```
//! Each call decides from the live state alone, like Argo CD's `Sync()`; the driver in
//! [`super::run`] calls it again after a short poll interval. Hook deletion by policy (§3.4)
//! lives in `operation/hook_deletion.rs`, the SyncFail procedure (§4.3) in
//! `operation/sync_fail.rs`, prune tasks (§2.6 step 2) in `operation/prune.rs`.
use super::{
    cluster::{ApplyOutcome, Cluster, ClusterError},
    events::RunEvent,
    state::{OperationPhase, ResultCode, StepRecord, StepStatus, TaskRun},
};
use crate::{
    apiserver::{invalid_tasks_message, Discovery, KindCheck},
    health,
    plan::{DeletePolicy, Phase, Plan, PruneOption, Task},
};
use futures_util::future::join_all;
use hook_deletion::BeforeCreation;
use std::time::Duration;
use std::{collections::BTreeMap, sync::Arc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

mod hook_deletion;
mod hook_log;
mod prune;
mod sync_fail;
mod waiting;

pub(crate) const MSG_RUNNING: &str = "one or more tasks are running";
pub(crate) const MSG_DRY_RUN_FAILED: &str = "one or more objects failed to apply (dry run)";
pub(crate) const MSG_APPLY_FAILED: &str = "one or more objects failed to apply";
pub(crate) const MSG_COMPLETED_UNSUCCESSFULLY: &str =
    "one or more synchronization tasks completed unsuccessfully";
pub(crate) const MSG_ALL_TASKS_RUN: &str = "successfully synced (all tasks run)";
pub(crate) const MSG_NO_MORE_TASKS: &str = "successfully synced (no more tasks)";
pub use hook_log::{tail_bytes, DEFAULT_HOOK_LOG_BYTES};

/// The state of one operation. Create with [`Operation::new`], then call [`Operation::step`]
/// until [`Operation::phase`] is terminal.
#[derive(Debug)]
pub struct Operation {
    pub(crate) tasks: Vec<TaskRun>,
    /// Prune tasks are deleted (`--prune`) rather than skipped.
    prune: bool,
    pub(crate) steps: Vec<StepRecord>,
    phase: OperationPhase,
    message: String,
    /// The full task list spans more than one (phase, wave) (§2.7 D).
    multi_step: bool,
    wave_delay: Duration,
    /// Number of wave delays taken (slept when the delay is non-zero).
    pub(crate) wave_delays: u32,
    /// The failure message to finish with once SyncFail hooks complete.
    failure_message: Option<String>,
    /// Start of the operation; task and step times are offsets from it (tokio time, so tests
    /// with paused time see exact figures).
    origin: Instant,
    /// Discovery and destination namespace for Argo CD's check of task kinds (§2.1.6).
    kinds: Option<(Arc<Discovery>, String)>,
    /// Size cap of each hook's captured log (`operation/hook_log.rs`).
    hook_log_bytes: usize,
    /// The `argocd-cm` health customizations in effect (§5.5).
    health: health::Customizations,
}

/// What happened in one step, besides the new phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepEffect {
    /// Something was applied or deleted: the driver should step again promptly.
    Progressed,
    /// Only waiting.
    Waiting,
}

impl Operation {
    pub fn new(plan: &Plan, wave_delay: Duration) -> Self {
        Self::with_prunes(plan, &[], false, wave_delay)
    }

    /// An operation over `plan` plus prune tasks (§2.1.1). Prune tasks join the (phase, wave)
    /// of their mirrored wave and run before the applies of that wave (§2.6 step 2); with
    /// `prune` false they end `PruneSkipped` (§6.1).
    pub fn with_prunes(plan: &Plan, prunes: &[Task], prune: bool, wave_delay: Duration) -> Self {
        Self::with_tasks(plan, &[], prunes, prune, wave_delay)
    }

    /// [`Self::with_prunes`] with `extra` tasks Argo CD adds to the plan (the Namespace of
    /// `CreateNamespace=true`, §2.1.4): they run first in their (phase, wave).
    pub fn with_tasks(
        plan: &Plan,
        extra: &[Task],
        prunes: &[Task],
        prune: bool,
        wave_delay: Duration,
    ) -> Self {
        let mut tasks: Vec<TaskRun> = prunes
            .iter()
            .cloned()
            .map(TaskRun::prune)
            .chain(extra.iter().cloned().map(TaskRun::new))
            .chain(plan.tasks().cloned().map(TaskRun::new))
            .collect();
        // Stable: plan order within a (phase, wave), prunes first (they run first anyway).
        tasks.sort_by_key(TaskRun::phase_wave);
        let mut pairs: Vec<(Phase, i64)> = tasks.iter().map(TaskRun::phase_wave).collect();
        pairs.dedup();
        let steps = pairs
            .iter()
            .map(|&(phase, wave)| StepRecord {
                phase,
                wave,
                started_at: None,
                finished_at: None,
                status: StepStatus::NotStarted,
            })
            .collect::<Vec<_>>();
        pairs.sort();
        pairs.dedup();
        Self {
            prune,
            multi_step: pairs.len() > 1,
            tasks,
            steps,
            phase: OperationPhase::Running,
            message: String::new(),
            wave_delay,
            wave_delays: 0,
            failure_message: None,
            origin: Instant::now(),
            kinds: None,
            hook_log_bytes: DEFAULT_HOOK_LOG_BYTES,
            health: health::Customizations::default(),
        }
    }

    /// Checks every task's kind against `discovery` before anything runs (§2.1.6).
    pub fn check_kinds(&mut self, discovery: Arc<Discovery>, dest_namespace: &str) {
        self.kinds = Some((discovery, dest_namespace.to_string()));
    }

    /// Assesses health with the `argocd-cm` customizations `custom` (§5.5).
    pub fn customize_health(&mut self, custom: health::Customizations) {
        self.health = custom;
    }

    pub fn phase(&self) -> OperationPhase {
        self.phase
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    pub fn tasks(&self) -> &[TaskRun] {
        &self.tasks
    }
    pub fn steps(&self) -> &[StepRecord] {
        &self.steps
    }

    fn set(
        &mut self,
        phase: OperationPhase,
        message: impl Into<String>,
        ev: &mut dyn FnMut(RunEvent),
    ) {
        let message = message.into();
        if self.phase != phase || self.message != message {
            self.phase = phase;
            self.message = message.clone();
            ev(RunEvent::Status { phase, message });
        }
        if phase.is_completed() {
            self.close_steps();
        }
    }

    /// Marks the step records from the task states.
    fn close_steps(&mut self) {
        let now = self.origin.elapsed();
        for rec in &mut self.steps {
            let tasks: Vec<&TaskRun> = self
                .tasks
                .iter()
                .filter(|t| t.task.phase == rec.phase && t.task.wave == rec.wave)
                .collect();
            let started = tasks.iter().any(|t| t.is_recorded());
            if !started {
                continue;
            }
            let failed = tasks.iter().any(|t| t.completed_unsuccessfully());
            let done = tasks.iter().all(|t| t.is_completed());
            rec.status = if failed {
                StepStatus::Failed
            } else if done || (self.phase == OperationPhase::Succeeded) {
                StepStatus::Succeeded
            } else {
                StepStatus::Running
            };
            if rec.status != StepStatus::Running {
                // When its last task completed (the final wave's resources are never waited
                // for: their apply time counts).
                let last = tasks
                    .iter()
                    .filter_map(|t| t.finished_at.or(t.applied_at))
                    .max();
                rec.finished_at = last.or(Some(now));
            }
        }
    }

    /// Argo CD's check of every task's kind (§2.1.6, gitops-engine `getSyncTasks`). `Ok` with
    /// the tasks that skip the dry run; `Err` with the operation message when a task is
    /// invalid (each invalid task is then `SyncFailed` with Argo CD's message).
    fn invalid_tasks(&mut self, ev: &mut dyn FnMut(RunEvent)) -> Result<Vec<usize>, String> {
        let Some((discovery, dest)) = self.kinds.clone() else {
            return Ok(Vec::new());
        };
        let mut skip = Vec::new();
        let mut invalid = Vec::new();
        for i in 0..self.tasks.len() {
            if self.tasks[i].prune {
                continue;
            }
            match discovery.check_kind(&self.tasks[i].task.object, &dest) {
                KindCheck::Served { .. } => {}
                KindCheck::SkipDryRun { .. } => skip.push(i),
                KindCheck::Invalid(r) => {
                    let now = self.origin.elapsed();
                    let t = &mut self.tasks[i];
                    t.result = Some(ResultCode::SyncFailed);
                    t.hook_phase = Some(OperationPhase::Failed);
                    t.message = r.task_message.clone();
                    t.finished_at = Some(now);
                    if let Some(hint) = &r.hint {
                        ev(RunEvent::Hint {
                            task: t.task.object.display_name(),
                            hint: hint.clone(),
                        });
                    }
                    self.emit_task(i, ev);
                    invalid.push(r.message);
                }
            }
        }
        if invalid.is_empty() {
            Ok(skip)
        } else {
            Err(invalid_tasks_message(invalid.iter().map(String::as_str)))
        }
    }

    fn emit_task(&self, i: usize, ev: &mut dyn FnMut(RunEvent)) {
        ev(RunEvent::TaskUpdated(Box::new(self.tasks[i].clone())));
    }

    /// Runs one step of the operation (§2.7). Returns whether anything changed in the cluster.
    pub async fn step<C: Cluster + ?Sized>(
        &mut self,
        cluster: &C,
        cancel: &CancellationToken,
        ev: &mut dyn FnMut(RunEvent),
    ) -> StepEffect {
        if self.phase.is_completed() {
            return StepEffect::Waiting;
        }
        // B. First step: dry run of every task, SyncFail hooks included.
        if self.tasks.iter().all(TaskRun::is_pending) && self.failure_message.is_none() {
            // §2.1.6: a task whose kind the server does not serve makes the operation fail
            // before anything runs (no hook, no SyncFail hook).
            let skip_dry_run = match self.invalid_tasks(ev) {
                Ok(skip) => skip,
                Err(message) => {
                    self.set(OperationPhase::Failed, message, ev);
                    return StepEffect::Progressed;
                }
            };
            ev(RunEvent::DryRun {
                tasks: self.tasks.len(),
            });
            // Prune tasks have nothing to validate: their object exists. Kinds that are not
            // served yet (a CRD in the same sync, SkipDryRunOnMissingResource) skip it (§2.7 B).
            let results = join_all(self.tasks.iter().enumerate().map(|(i, t)| {
                let skip = t.prune || skip_dry_run.contains(&i);
                async move {
                    if skip {
                        Ok(())
                    } else {
                        cluster.dry_run(&t.task).await
                    }
                }
            }))
            .await;
            let mut failed = false;
            for (i, r) in results.into_iter().enumerate() {
                if let Err(e) = r {
                    failed = true;
                    let t = &mut self.tasks[i];
                    t.result = Some(ResultCode::SyncFailed);
                    t.hook_phase = Some(OperationPhase::Failed);
                    t.message = e.to_string();
                    t.finished_at = Some(self.origin.elapsed());
                    self.emit_task(i, ev);
                }
            }
            if failed {
                let reason = self.sync_failed_reasons();
                self.set(
                    OperationPhase::Failed,
                    format!("{MSG_DRY_RUN_FAILED}, reason: {reason}"),
                    ev,
                );
                return StepEffect::Progressed;
            }
        }

        // C. Refresh running tasks from their live health.
        self.refresh_running(cluster, ev).await;

        // D. Wait for the running set.
        let waited: Vec<usize> = (0..self.tasks.len())
            .filter(|&i| self.tasks[i].is_running() && (self.multi_step || self.tasks[i].task.hook))
            .collect();
        if !waited.is_empty() {
            let mut still: Vec<usize> = Vec::new();
            for i in waited {
                let key = self.tasks[i].task.key();
                if cluster.get(&key).await.is_none() {
                    let t = &mut self.tasks[i];
                    t.result = Some(ResultCode::SyncFailed);
                    t.hook_phase = Some(OperationPhase::Error);
                    t.message = format!("Resource {key} is missing, it might have been deleted");
                    t.finished_at = Some(self.origin.elapsed());
                    self.emit_task(i, ev);
                } else {
                    still.push(i);
                }
            }
            if !still.is_empty() {
                let msg = self.waiting_message(&still);
                self.set(OperationPhase::Running, msg, ev);
                return StepEffect::Waiting;
            }
        }

        // G/H. A completed-unsuccessful non-SyncFail task fails the operation.
        let any_failed = self
            .tasks
            .iter()
            .any(|t| t.task.phase != Phase::SyncFail && t.completed_unsuccessfully());
        if any_failed {
            self.delete_hooks_with(DeletePolicy::HookFailed, cluster, ev)
                .await;
            return self
                .sync_fail_procedure(MSG_COMPLETED_UNSUCCESSFULLY, cluster, ev)
                .await;
        }

        // I. Nothing pending: success.
        let pending: Vec<usize> = (0..self.tasks.len())
            .filter(|&i| self.tasks[i].task.phase != Phase::SyncFail && self.tasks[i].is_pending())
            .collect();
        let (Some(&first), Some(&last)) = (pending.first(), pending.last()) else {
            self.delete_hooks_with(DeletePolicy::HookSucceeded, cluster, ev)
                .await;
            self.set(OperationPhase::Succeeded, MSG_NO_MORE_TASKS, ev);
            return StepEffect::Progressed;
        };

        // J. Run the first pending (phase, wave).
        let current_pw = self.tasks[first].phase_wave();
        let is_final = current_pw == self.tasks[last].phase_wave();
        let current: Vec<usize> = pending
            .iter()
            .copied()
            .filter(|&i| self.tasks[i].phase_wave() == current_pw)
            .collect();
        let remaining = pending.len() - current.len();
        // The steps after this one, in order, for the cluster to prepare while this one is
        // waited for.
        let mut upcoming: BTreeMap<_, Vec<usize>> = BTreeMap::new();
        for &i in &pending {
            let pw = self.tasks[i].phase_wave();
            if pw > current_pw {
                upcoming.entry(pw).or_default().push(i);
            }
        }
        let upcoming: Vec<Vec<usize>> = upcoming.into_values().collect();
        self.set(OperationPhase::Running, MSG_RUNNING, ev);
        let result = self.run_tasks(&current, &upcoming, cluster, ev).await;

        // K. Wave delay after a non-final wave that did not fail.
        let delayed = matches!(result, WaveResult::Successful | WaveResult::Pending(_));
        if delayed && !is_final {
            self.wave_delays += 1;
        }
        if delayed && !is_final && !self.wave_delay.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(self.wave_delay) => {}
                _ = cancel.cancelled() => {}
            }
        }

        // L. Outcome of the wave.
        match result {
            WaveResult::Successful => {
                let has_hook = current.iter().any(|&i| self.tasks[i].task.hook);
                if remaining == 0 && !has_hook {
                    self.delete_hooks_with(DeletePolicy::HookSucceeded, cluster, ev)
                        .await;
                    self.set(OperationPhase::Succeeded, MSG_ALL_TASKS_RUN, ev);
                } else {
                    let running: Vec<usize> = current
                        .iter()
                        .copied()
                        .filter(|&i| self.tasks[i].is_running())
                        .collect();
                    let msg = if running.is_empty() {
                        MSG_RUNNING.to_string()
                    } else {
                        self.waiting_message(&running)
                    };
                    self.set(OperationPhase::Running, msg, ev);
                }
            }
            WaveResult::Pending(msg) => self.set(OperationPhase::Running, msg, ev),
            WaveResult::Blocked(msg) => {
                self.set(OperationPhase::Running, msg, ev);
                return StepEffect::Waiting;
            }
            WaveResult::Failed => {
                let some_running = current.iter().any(|&i| self.tasks[i].is_running());
                if some_running {
                    // Let the running tasks settle; step H finishes the failure later.
                    self.start_sync_fail_hooks(cluster, ev).await;
                    let running: Vec<usize> = current
                        .iter()
                        .copied()
                        .filter(|&i| self.tasks[i].is_running())
                        .collect();
                    let msg = self.waiting_message(&running);
                    self.set(OperationPhase::Running, msg, ev);
                } else {
                    self.sync_fail_procedure(MSG_APPLY_FAILED, cluster, ev)
                        .await;
                    if self.phase.is_completed() {
                        self.delete_hooks_with(DeletePolicy::HookFailed, cluster, ev)
                            .await;
                    }
                }
            }
        }
        StepEffect::Progressed
    }

    /// C: updates the hook phase of running tasks from their live object's health (§3.3).
    async fn refresh_running<C: Cluster + ?Sized>(
        &mut self,
        cluster: &C,
        ev: &mut dyn FnMut(RunEvent),
    ) {
        let running: Vec<usize> = (0..self.tasks.len())
            .filter(|&i| self.tasks[i].is_running())
            .collect();
        let keys: Vec<_> = running.iter().map(|&i| self.tasks[i].task.key()).collect();
        let lives = join_all(keys.iter().map(|k| cluster.get(k))).await;
        for (i, live) in running.into_iter().zip(lives) {
            let Some(live) = live else { continue };
            let assessed = self.health.assess(&live);
            let hook = self.tasks[i].task.hook;
            let (next, message) = completion(self.tasks[i].task.name(), hook, &assessed);
            let t = &mut self.tasks[i];
            let health_now = assessed.as_ref().ok().and_then(|h| h.clone());
            let changed = t.health != health_now || next != OperationPhase::Running;
            t.health = health_now;
            if next != OperationPhase::Running {
                t.hook_phase = Some(next);
                t.finished_at = Some(self.origin.elapsed());
                if let Some(m) = message {
                    t.message = m;
                }
            }
            if hook && next != OperationPhase::Running {
                self.capture_log(i, cluster).await;
            }
            if changed {
                self.emit_task(i, ev);
            }
        }
    }

    /// §2.6: BeforeHookCreation deletions, then applies in kind groups.
    async fn run_tasks<C: Cluster + ?Sized>(
        &mut self,
        current: &[usize],
        upcoming: &[Vec<usize>],
        cluster: &C,
        ev: &mut dyn FnMut(RunEvent),
    ) -> WaveResult {
        self.mark_step_started(current);
        // 2. Prune tasks of this wave, before anything is applied (§2.6, §6.1). `Prune=confirm`
        // blocks the wave until the app is approved, even when pruning is off; syncsim has no
        // approval, so it waits like Argo CD would until --timeout.
        if let Some(&i) = current.iter().find(|&&i| {
            self.tasks[i].prune
                && self.tasks[i].is_pending()
                && self.tasks[i].task.sync_options.prune == Some(PruneOption::Confirm)
        }) {
            let key = self.tasks[i].task.key();
            return WaveResult::Blocked(format!("waiting for pruning confirmation of {key}"));
        }
        if self.prune_wave(current, cluster, ev).await {
            return WaveResult::Failed;
        }
        let current: Vec<usize> = current
            .iter()
            .copied()
            .filter(|&i| !self.tasks[i].prune)
            .collect();
        let current = current.as_slice();
        if current.is_empty() {
            return WaveResult::Successful;
        }
        // 3. BeforeHookCreation: delete existing hooks of this wave, then wait for them to go; a
        // failed delete fails the wave (§2.6 step 3, §3.5).
        match self.delete_before_creation(current, cluster, ev).await {
            BeforeCreation::NothingToDelete => {}
            BeforeCreation::Deleting(msg) => return WaveResult::Pending(msg),
            BeforeCreation::Failed => return WaveResult::Failed,
        }
        let (phase, wave) = self.tasks[current[0]].phase_wave();
        ev(RunEvent::StepStarted {
            phase,
            wave,
            tasks: current.len(),
        });
        // 4. Apply in runs of consecutive same-kind tasks; every task is attempted.
        let mut failed = false;
        let kinds: Vec<String> = current
            .iter()
            .map(|&i| self.tasks[i].task.kind().to_string())
            .collect();
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for (pos, &i) in current.iter().enumerate() {
            match groups.last_mut() {
                Some(g) if pos > 0 && kinds[pos] == kinds[pos - 1] => g.push(i),
                _ => groups.push(vec![i]),
            }
        }
        for group in &groups {
            let results = join_all(group.iter().map(|&i| cluster.apply(&self.tasks[i].task))).await;
            for (&i, r) in group.iter().zip(results) {
                if let Err(ClusterError::Refused {
                    hint: Some(hint), ..
                }) = &r
                {
                    ev(RunEvent::Hint {
                        task: self.tasks[i].task.object.display_name(),
                        hint: hint.clone(),
                    });
                }
                failed |= !self.record_apply(i, r);
                self.emit_task(i, ev);
            }
        }
        let upcoming: Vec<Vec<&Task>> = upcoming
            .iter()
            .map(|step| step.iter().map(|&i| &self.tasks[i].task).collect())
            .collect();
        cluster.step_applied(&upcoming).await;
        if failed {
            WaveResult::Failed
        } else {
            WaveResult::Successful
        }
    }

    /// Records the result of applying task `i` (§2.6 step 4): `Synced`/`Running` on success,
    /// `SyncFailed`/`Failed` with the error as message otherwise. Returns whether it succeeded.
    fn record_apply(&mut self, i: usize, r: Result<ApplyOutcome, ClusterError>) -> bool {
        let now = self.origin.elapsed();
        let t = &mut self.tasks[i];
        t.applied_at = Some(now);
        match r {
            Ok(out) => {
                t.result = Some(ResultCode::Synced);
                t.hook_phase = Some(OperationPhase::Running);
                t.message = out.message;
                t.simulated = out.simulated;
                true
            }
            Err(e) => {
                t.result = Some(ResultCode::SyncFailed);
                t.hook_phase = Some(OperationPhase::Failed);
                t.message = e.to_string();
                t.finished_at = Some(now);
                false
            }
        }
    }

    fn mark_step_started(&mut self, current: &[usize]) {
        let pw = self.tasks[current[0]].phase_wave();
        if let Some(rec) = self.steps.iter_mut().find(|s| (s.phase, s.wave) == pw) {
            rec.started_at.get_or_insert(self.origin.elapsed());
            rec.status = StepStatus::Running;
        }
    }

    fn sync_failed_reasons(&self) -> String {
        let msgs: Vec<String> = self
            .tasks
            .iter()
            .filter(|t| t.result == Some(ResultCode::SyncFailed))
            .map(|t| t.message.clone())
            .collect();
        dedup_join(&msgs)
    }

    fn sync_failed_reasons_excluding_syncfail(&self) -> String {
        let msgs: Vec<String> = self
            .tasks
            .iter()
            .filter(|t| t.task.phase != Phase::SyncFail && t.result == Some(ResultCode::SyncFailed))
            .map(|t| t.message.clone())
            .collect();
        dedup_join(&msgs)
    }

    /// Marks the operation ended by syncsim's own deadline or an interruption; records what
    /// Argo CD was waiting for.
    pub(crate) fn abandon(&mut self) {
        self.close_steps();
    }
}

fn dedup_join(msgs: &[String]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for m in msgs {
        if !seen.contains(&m.as_str()) {
            seen.push(m);
        }
    }
    seen.join(", ")
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum WaveResult {
    Successful,
    Pending(String),
    /// Nothing was done and nothing will change by itself (`Prune=confirm` without approval):
    /// the driver waits a poll interval instead of stepping again at once.
    Blocked(String),
    Failed,
}

/// §3.3: the next phase of a running task from its assessed health, and a message.
pub(crate) fn completion(
    name: &str,
    hook: bool,
    assessed: &Result<Option<health::Health>, health::HealthError>,
) -> (OperationPhase, Option<String>) {
    use health::{HookPhase, ResourcePhase};
    if hook {
        let out = health::hook_phase(name, assessed);
        let phase = match out.phase {
            HookPhase::Running => OperationPhase::Running,
            HookPhase::Succeeded => OperationPhase::Succeeded,
            HookPhase::Failed => OperationPhase::Failed,
            HookPhase::Error => OperationPhase::Error,
        };
        (phase, (!out.message.is_empty()).then_some(out.message))
    } else {
        let msg = assessed
            .as_ref()
            .ok()
            .and_then(|h| h.as_ref())
            .map(|h| h.message.clone())
            .filter(|m| !m.is_empty());
        match health::resource_phase(assessed) {
            ResourcePhase::Running => (OperationPhase::Running, None),
            ResourcePhase::Succeeded => (OperationPhase::Succeeded, None),
            ResourcePhase::Failed => (OperationPhase::Failed, msg),
        }
    }
}
