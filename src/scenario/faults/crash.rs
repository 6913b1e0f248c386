//! `crash`: kill a Sync-phase workload's running containers (SIGKILL, like an OOM or a node
//! problem), `after` a delay counted from its apply, or when hook `whileRunning` is created. A
//! runtime action: the simulated kubelet then restarts the container with its backoff, as
//! Kubernetes would.
use super::Env;
use crate::{manifest::ObjectKey, runtime::ContainerStatus};
use std::time::Duration;

/// Kills every running container of `target`; returns how many.
pub(crate) async fn kill(env: &Env, target: &ObjectKey) -> usize {
    let mut n = 0;
    for id in env.cluster.containers_of(target) {
        let running = matches!(
            env.rt.inspect_container(&id).await.map(|s| s.status),
            Ok(ContainerStatus::Running)
        );
        if running {
            match env.rt.stop_container(&id, Duration::ZERO).await {
                Ok(()) => n += 1,
                Err(e) => tracing::warn!("fault crash: {}", crate::error::render_chain(&e)),
            }
        }
    }
    n
}
