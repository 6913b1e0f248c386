//! The SyncFail procedure (§4.3): how a failed operation finishes, starting its SyncFail hooks
//! first when there are any.
use super::{dedup_join, Operation, StepEffect, MSG_COMPLETED_UNSUCCESSFULLY};
use crate::{
    engine::{
        cluster::Cluster,
        events::RunEvent,
        state::{OperationPhase, ResultCode},
    },
    plan::{DeletePolicy, Phase},
};
use futures_util::future::join_all;

impl Operation {
    /// §4.3: finish a failed operation, starting SyncFail hooks first when there are any.
    pub(super) async fn sync_fail_procedure<C: Cluster + ?Sized>(
        &mut self,
        message: &str,
        cluster: &C,
        ev: &mut dyn FnMut(RunEvent),
    ) -> StepEffect {
        let message = self
            .failure_message
            .clone()
            .unwrap_or_else(|| message.to_string());
        let sync_fail: Vec<usize> = (0..self.tasks.len())
            .filter(|&i| self.tasks[i].task.phase == Phase::SyncFail)
            .collect();
        let reason = self.sync_failed_reasons_excluding_syncfail();
        let full = if reason.is_empty() {
            message.clone()
        } else {
            format!("{message}, reason: {reason}")
        };
        if sync_fail.is_empty() {
            self.set(OperationPhase::Failed, full, ev);
            return StepEffect::Progressed;
        }
        if sync_fail.iter().all(|&i| self.tasks[i].is_completed()) {
            let hook_apply_failures: Vec<String> = sync_fail
                .iter()
                .filter(|&&i| self.tasks[i].result == Some(ResultCode::SyncFailed))
                .map(|&i| self.tasks[i].message.clone())
                .collect();
            let mut msg = full;
            if !hook_apply_failures.is_empty() {
                msg.push_str(&format!(
                    "\none or more SyncFail hooks failed, reason: {}",
                    dedup_join(&hook_apply_failures)
                ));
            }
            self.delete_hooks_with(DeletePolicy::HookFailed, cluster, ev)
                .await;
            self.set(OperationPhase::Failed, msg, ev);
            return StepEffect::Progressed;
        }
        self.failure_message = Some(MSG_COMPLETED_UNSUCCESSFULLY.to_string());
        self.start_sync_fail_hooks(cluster, ev).await;
        let first = &self.tasks[sync_fail[0]].task;
        let more = sync_fail.len() - 1;
        let mut msg = format!("waiting for completion of hook {}", first.key());
        if more > 0 {
            msg.push_str(&format!(" and {more} more hooks"));
        }
        self.set(OperationPhase::Running, msg, ev);
        StepEffect::Progressed
    }

    /// Starts all pending SyncFail hooks in one batch (their waves only order the API calls).
    pub(super) async fn start_sync_fail_hooks<C: Cluster + ?Sized>(
        &mut self,
        cluster: &C,
        ev: &mut dyn FnMut(RunEvent),
    ) {
        self.failure_message
            .get_or_insert_with(|| MSG_COMPLETED_UNSUCCESSFULLY.to_string());
        let pending: Vec<usize> = (0..self.tasks.len())
            .filter(|&i| self.tasks[i].task.phase == Phase::SyncFail && self.tasks[i].is_pending())
            .collect();
        if pending.is_empty() {
            return;
        }
        ev(RunEvent::SyncFailStarted {
            hooks: pending.len(),
        });
        for &i in &pending {
            // A SyncFail hook left from an earlier run is replaced (BeforeHookCreation default).
            let key = self.tasks[i].task.key();
            if self.tasks[i]
                .task
                .has_policy(DeletePolicy::BeforeHookCreation)
                && cluster.get(&key).await.is_some()
            {
                let _ = cluster.delete(&key).await;
            }
        }
        self.mark_step_started(&pending);
        let results = join_all(pending.iter().map(|&i| cluster.apply(&self.tasks[i].task))).await;
        for (&i, r) in pending.iter().zip(results) {
            self.record_apply(i, r);
            self.emit_task(i, ev);
        }
    }
}
