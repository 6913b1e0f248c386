//! `stop`: keep a workload's containers stopped while hook `whileRunning` runs. A runtime
//! action: every container of the target is stopped when the hook is created, and again
//! whenever the simulated kubelet restarts one, until the hook completes or is deleted; then
//! the kubelet brings it back (restart backoff).
use super::{crash, Env};
use crate::manifest::ObjectKey;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the target is checked for restarted containers while the window is open.
const RECHECK: Duration = Duration::from_millis(200);

/// Stops the target until `window` is cancelled. The first stop happens before this returns
/// its future's first `Pending`, so call [`stop_now`] first to have the target down before the
/// hook starts.
pub(crate) async fn hold_down(env: Env, target: ObjectKey, window: CancellationToken) {
    loop {
        tokio::select! {
            _ = window.cancelled() => return,
            _ = tokio::time::sleep(RECHECK) => {}
        }
        let n = crash::kill(&env, &target).await;
        if n > 0 {
            tracing::info!("fault stop: stopped {n} restarted container(s) of {target}");
        }
    }
}

/// Stops every running container of the target once; returns how many.
pub(crate) async fn stop_now(env: &Env, target: &ObjectKey) -> usize {
    crash::kill(env, target).await
}
