//! Hook deletion by policy (§3.4): BeforeHookCreation when a hook's wave runs (§2.6 step 3,
//! §3.5), HookSucceeded / HookFailed when the operation ends.
use super::Operation;
use crate::{
    engine::{cluster::Cluster, events::RunEvent, state::OperationPhase},
    plan::DeletePolicy,
};

/// What the BeforeHookCreation deletions of a wave did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum BeforeCreation {
    /// No hook of the wave exists yet: apply the wave.
    NothingToDelete,
    /// Old hooks are being deleted: wait (`waiting for deletion of hook …`), apply nothing.
    Deleting(String),
    /// A delete failed: the hook ends `Error` and the wave fails, nothing is applied.
    Failed,
}

impl Operation {
    /// §2.6 step 3: deletes the existing live object of every hook in `current` that has the
    /// BeforeHookCreation policy. Every delete is attempted; one failure fails the wave. The
    /// failed hook gets no result code, hook phase `Error` and the message gitops-engine's
    /// `runTasks` records (`pkg/sync/sync_context.go`): its `deleteResource` wraps the API error
    /// in `failed to delete resource: …` and `runTasks` wraps that once more.
    pub(super) async fn delete_before_creation<C: Cluster + ?Sized>(
        &mut self,
        current: &[usize],
        cluster: &C,
        ev: &mut dyn FnMut(RunEvent),
    ) -> BeforeCreation {
        let mut deleting: Option<String> = None;
        let mut failed = false;
        for &i in current {
            let t = &self.tasks[i].task;
            if !t.hook || !t.has_policy(DeletePolicy::BeforeHookCreation) {
                continue;
            }
            let key = t.key();
            if cluster.get(&key).await.is_none() {
                continue;
            }
            match cluster.delete(&key).await {
                Ok(()) => {
                    ev(RunEvent::HookDeleted {
                        key: key.to_string(),
                        reason: DeletePolicy::BeforeHookCreation.to_string(),
                    });
                    deleting.get_or_insert(format!("waiting for deletion of hook {key}"));
                }
                Err(e) => {
                    failed = true;
                    let now = self.origin.elapsed();
                    let t = &mut self.tasks[i];
                    t.hook_phase = Some(OperationPhase::Error);
                    t.message =
                        format!("failed to delete resource: failed to delete resource: {e}");
                    t.finished_at = Some(now);
                    self.emit_task(i, ev);
                }
            }
        }
        match (failed, deleting) {
            (true, _) => BeforeCreation::Failed,
            (false, Some(msg)) => BeforeCreation::Deleting(msg),
            (false, None) => BeforeCreation::NothingToDelete,
        }
    }

    /// Deletes every hook that has `policy`, still exists and is not running (§2.7 G, §3.4).
    pub(super) async fn delete_hooks_with<C: Cluster + ?Sized>(
        &mut self,
        policy: DeletePolicy,
        cluster: &C,
        ev: &mut dyn FnMut(RunEvent),
    ) {
        for i in 0..self.tasks.len() {
            let t = &self.tasks[i];
            if !t.task.hook
                || !t.task.has_policy(policy)
                || t.is_running()
                || t.deleted_by.is_some()
            {
                continue;
            }
            if t.is_pending() {
                continue;
            }
            let key = t.task.key();
            if cluster.get(&key).await.is_none() {
                continue;
            }
            match cluster.delete(&key).await {
                Ok(()) => {
                    self.tasks[i].deleted_by = Some(policy);
                    ev(RunEvent::HookDeleted {
                        key: key.to_string(),
                        reason: policy.to_string(),
                    });
                    self.emit_task(i, ev);
                }
                Err(e) => tracing::warn!("failed to delete hook {key}: {e}"),
            }
        }
    }
}
