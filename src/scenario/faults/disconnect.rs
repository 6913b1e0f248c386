//! `disconnect`: take a workload off the app's network when hook `whileRunning` is created (its
//! DNS name stops resolving, connections fail). A runtime action.
//!
//! # Caveats
//!
//! The runtime has no "connect" verb, so the partition does not heal: the workload stays
//! disconnected until teardown (a container the kubelet creates later would be connected).
use super::Env;
use crate::manifest::ObjectKey;

/// Disconnects every container of `target` attached to the network (a pod's sandbox, not the
/// containers that joined it); returns how many.
pub(crate) async fn disconnect(env: &Env, target: &ObjectKey) -> usize {
    let mut n = 0;
    for id in env.cluster.network_owners_of(target) {
        match env.rt.disconnect_network(env.cluster.network(), &id).await {
            Ok(()) => n += 1,
            Err(e) => tracing::warn!("fault disconnect: {}", crate::error::render_chain(&e)),
        }
    }
    n
}
