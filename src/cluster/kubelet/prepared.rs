//! Containers created ahead of their pod: while a step is waited for, the pods the next step
//! will start get their main containers created (not started), so the step pays only for
//! starting them once its gate opens.
//!
//! A created container is invisible to everything else on the cluster: it has no process, no
//! address and no DNS name until it starts (Docker connects a container to its network at
//! start), so creating it early changes nothing an app can observe. What is used is checked at
//! use: the kubelet takes a prepared container only when its whole spec (image, command, env,
//! files from ConfigMaps and Secrets, mounts, network and DNS names, labels) equals what it
//! would create now. Anything that changed in between (a ConfigMap re-applied, a Service that
//! adds a name) discards the prepared container and the pod is created as usual. Prepared
//! containers are in the ledger from the moment they exist; those never used are removed when
//! the environment is kept, and by teardown otherwise.
use super::PodInput;
use crate::{cluster::sim::Inner, runtime::ContainerSpec};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

/// One container being created ahead, or created: `None` once the create failed or the
/// container was taken.
type Slot = Arc<tokio::sync::Mutex<Option<(ContainerSpec, String)>>>;

/// The containers created ahead of their pods, by Docker container name.
#[derive(Default)]
pub(crate) struct Prepared {
    slots: Mutex<HashMap<String, Slot>>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Prepared {
    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<String, Slot>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates the main containers of the pods `inputs` in the background (see the module
    /// docs). Pods that cannot be prepared exactly (volumes or claims to create, missing
    /// ConfigMaps, Secrets or images) are left to the kubelet.
    pub(crate) fn prepare(&self, inner: &Arc<Inner>, inputs: Vec<PodInput>) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        tasks.retain(|t| !t.is_finished());
        for input in inputs {
            let inner = inner.clone();
            tasks.push(tokio::spawn(
                async move { prepare_pod(&inner, input).await },
            ));
        }
    }

    /// Waits for the containers being created ahead (teardown and detach record every one).
    pub(crate) async fn settle(&self) {
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|e| e.into_inner()));
        for t in tasks {
            let _ = t.await;
        }
    }

    /// The id of the container prepared as `spec`, taken: it is the kubelet's from now on.
    /// `None` when none was prepared under that name, or when it differs from `spec` (then it
    /// is removed, freeing its name).
    pub(crate) async fn take(&self, inner: &Inner, spec: &ContainerSpec) -> Option<String> {
        let slot = self.slots().remove(&spec.name)?;
        // Waits for a create still in flight.
        let (prepared, id) = slot.lock().await.take()?;
        if prepared == *spec {
            return Some(id);
        }
        tracing::debug!("container {}: changed since it was prepared", spec.name);
        remove(inner, &id).await;
        None
    }

    /// Removes the prepared containers nobody took (a kept environment keeps only its pods').
    pub(crate) async fn discard(&self, inner: &Inner) {
        self.settle().await;
        let slots: Vec<Slot> = self.slots().drain().map(|(_, s)| s).collect();
        for slot in slots {
            if let Some((_, id)) = slot.lock().await.take() {
                remove(inner, &id).await;
            }
        }
    }
}

async fn remove(inner: &Inner, id: &str) {
    match inner.rt.remove_container(id).await {
        Ok(()) => inner.ledger.forget(id),
        Err(e) => tracing::debug!("prepared container {id}: not removed ({e}); teardown will"),
    }
}

/// Creates the main containers of `input` ahead of its start, when that can be done without
/// side effects.
async fn prepare_pod(inner: &Inner, input: PodInput) {
    // Claims are bound when the pod starts; emptyDir volumes are created with it.
    let claims = input
        .spec
        .volumes
        .iter()
        .flatten()
        .any(|v| v.persistent_volume_claim.is_some() || v.ephemeral.is_some());
    if claims || !input.claim_volumes.is_empty() {
        return;
    }
    let Ok(mut plan) = super::translate(inner, &input) else {
        return;
    };
    if !plan.volumes.is_empty() {
        return;
    }
    // A missing image fails the create (the kubelet, which checks images first, reports it);
    // one known to be unavailable is not even tried.
    for c in &plan.containers {
        if inner.image_known_unavailable(&c.spec.image).await {
            return;
        }
    }
    // Every slot is claimed before the first create, so the kubelet waits for them rather
    // than creating a container under the same name.
    let slots: Vec<(Slot, tokio::sync::OwnedMutexGuard<_>)> = {
        let mut map = inner.prepared.slots();
        if plan
            .containers
            .iter()
            .any(|c| map.contains_key(&c.spec.name))
        {
            return;
        }
        plan.containers
            .iter()
            .map(|c| {
                let slot: Slot = Default::default();
                let guard = slot
                    .clone()
                    .try_lock_owned()
                    .expect("a new slot is unlocked");
                map.insert(c.spec.name.clone(), slot.clone());
                (slot, guard)
            })
            .collect()
    };
    for (i, (_, mut guard)) in slots.into_iter().enumerate() {
        let spec = plan.containers[i].spec.clone();
        match inner.rt.create_container(&spec).await {
            Ok(id) => {
                inner.ledger.record_container(&id, &spec.name);
                if i == 0 {
                    plan.join_first(&id);
                }
                *guard = Some((spec, id));
            }
            // The rest are created by the kubelet (their slots stay empty).
            Err(e) => {
                tracing::debug!("pod {}: not prepared: {e}", input.pod_name);
                return;
            }
        }
    }
}
