//! Prune tasks of a wave (§2.6 step 2): deleted before anything of the wave is applied, or
//! skipped (`Prune=false`, or pruning not requested) with Argo CD's messages.
use super::Operation;
use crate::{
    engine::{
        cluster::Cluster,
        events::RunEvent,
        state::{OperationPhase, ResultCode},
    },
    plan::PruneOption,
};

impl Operation {
    /// Runs the prune tasks among `current`; returns whether one failed (the wave then fails
    /// without applying anything, §2.6 step 2).
    pub(super) async fn prune_wave<C: Cluster + ?Sized>(
        &mut self,
        current: &[usize],
        cluster: &C,
        ev: &mut dyn FnMut(RunEvent),
    ) -> bool {
        let prunes: Vec<usize> = current
            .iter()
            .copied()
            .filter(|&i| self.tasks[i].prune)
            .collect();
        let mut failed = false;
        for i in prunes {
            let now = self.origin.elapsed();
            let disabled = self.tasks[i].task.sync_options.prune == Some(PruneOption::Disabled);
            let (result, phase, message) = if disabled {
                (
                    ResultCode::PruneSkipped,
                    OperationPhase::Succeeded,
                    "ignored (no prune)".to_string(),
                )
            } else if !self.prune {
                (
                    ResultCode::PruneSkipped,
                    OperationPhase::Succeeded,
                    "ignored (requires pruning)".to_string(),
                )
            } else {
                match cluster.delete(&self.tasks[i].task.key()).await {
                    Ok(()) => (
                        ResultCode::Pruned,
                        OperationPhase::Succeeded,
                        "pruned".to_string(),
                    ),
                    Err(e) => {
                        failed = true;
                        (
                            ResultCode::SyncFailed,
                            OperationPhase::Failed,
                            e.to_string(),
                        )
                    }
                }
            };
            let t = &mut self.tasks[i];
            t.result = Some(result);
            t.hook_phase = Some(phase);
            t.message = message;
            t.applied_at = Some(now);
            t.finished_at = Some(self.origin.elapsed());
            self.emit_task(i, ev);
        }
        failed
    }
}
