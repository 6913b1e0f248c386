//! Pod sandboxes started ahead of their step.
//!
//! Starting a container that owns a network endpoint is most of what `docker start` costs on a
//! loaded engine (the namespace, the veth pair, the embedded DNS, a proxy per published port);
//! starting one that joins an existing network namespace costs a fraction of it. A cluster's
//! kubelet splits a pod the same way: a sandbox (the pause container) holds the pod's network
//! and the app containers join it.
//!
//! So while a step is waited for, a pod of the next step that [`Prepared`](super::Prepared)
//! creates ahead may get its sandbox *started* too: a container of the proxy image that only
//! sleeps (`syncsim-<app>-POD-<pod>`: upper case, so no pod's containers share its prefix),
//! holding the pod's address, hostname, DNS names and published ports. Its main
//! containers are created joined to it, and the step pays only for starting them.
//!
//! A started sandbox is visible in one way a created container is not: its DNS names resolve.
//! So only pods whose names nobody can know in advance get one: pods whose names end in a
//! generated suffix (those of a Deployment, ReplicaSet or Job) and that answer to no Service
//! name themselves (a Service realised without a proxy gives its pods its names). StatefulSet
//! pods (`web-0`) and bare Pods keep the first main container as the network owner.
//!
//! Starting a sandbox ahead moves work out of the next step's gate into the current step's
//! wait, which pays only when the machine has room for it: a step whose containers keep every
//! CPU busy (databases initialising) would be slowed by as much as the next one gains. So a
//! sandbox is started ahead only when the engine's machine has spare CPU time
//! ([`ContainerRuntime::spare_cpu`](crate::runtime::ContainerRuntime::spare_cpu)). Otherwise the
//! pod's containers are created ahead owning their network, and the machine is looked at again
//! while the step is waited for: the CPUs are busiest when a step begins (its pods start, which
//! is when the next step is prepared) and often idle long before its gate opens. Once there is
//! room, the pod is prepared again: its sandbox started, its containers removed and created
//! again joined to it, all before the gate (a create is cheap; a start owning the network is
//! what the gate would pay).
//!
//! A pod of several main containers always gets a sandbox: when none was started ahead, one is
//! started with the pod. Docker tears a container's network endpoint down when it stops, so
//! containers joined to the first would lose the pod's address at its first restart (a sidecar
//! then unreachable through its Service), where the kubelet restarts a container inside the
//! pod's sandbox and the others keep it. Such a pod is prepared ahead only together with a
//! started sandbox. Only where the sandbox cannot run (its image missing) does the first main
//! container own the network.
//!
//! The sandbox belongs to the pod: it keeps the pod's address across container restarts (as
//! on a cluster), is stopped once the pod has finished (a Job's) and is removed with the pod.
use super::PodInput;
use crate::{
    cluster::{pod::PodPlan, sim::Inner},
    runtime::{ContainerSpec, ContainerStatus, NetworkAttachment},
};
use std::collections::BTreeMap;

/// A pod's started sandbox, as the kubelet uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sandbox {
    pub id: String,
    /// The pod's IP.
    pub ip: Option<String>,
    /// Host port (on 127.0.0.1) per published container port: the probes' way in.
    pub host_ports: BTreeMap<u16, u16>,
    /// Stopped once the pod finished (Succeeded or Failed), as the kubelet does.
    pub stopped: bool,
}

/// Owners whose pods are named with a generated suffix.
const GENERATED_NAMES: &[&str] = &["Deployment", "ReplicaSet", "Job"];

/// The sandbox `plan`'s pod would get, when it may have one (see the module docs).
pub(super) fn spec(inner: &Inner, input: &PodInput, plan: &PodPlan) -> Option<ContainerSpec> {
    if !GENERATED_NAMES.contains(&input.owner.kind.as_str()) {
        return None;
    }
    match &plan.containers.first()?.spec.network {
        NetworkAttachment::Network { aliases, .. }
            if aliases == std::slice::from_ref(&input.pod_name) => {}
        _ => return None,
    }
    plan.sandbox(name(inner, input), &inner.opts.service_proxy_image)
}

/// The Docker name of the pod's sandbox.
pub(super) fn name(inner: &Inner, input: &PodInput) -> String {
    format!("syncsim-{}-POD-{}", inner.opts.app, input.pod_name)
}

/// Reads a started sandbox's address and ports; `None` when it is not running.
pub(super) async fn inspect(inner: &Inner, id: &str) -> Option<Sandbox> {
    let state = inner.rt.inspect_container(id).await.ok()?;
    (state.status == ContainerStatus::Running).then(|| Sandbox {
        id: id.to_string(),
        ip: state.ip,
        host_ports: state.host_ports,
        stopped: false,
    })
}

/// Creates and starts the sandbox of a pod about to start, whatever its owner (its DNS names
/// are about to resolve anyway); `None` (and nothing left behind) when it does not run, and
/// the first main container owns the network then.
pub(super) async fn start_for(inner: &Inner, input: &PodInput, plan: &PodPlan) -> Option<Sandbox> {
    let spec = plan.sandbox(name(inner, input), &inner.opts.service_proxy_image)?;
    if inner.image_known_unavailable(&spec.image).await {
        return None;
    }
    let id = start(inner, &spec).await?;
    let sb = inspect(inner, &id).await;
    if sb.is_none() {
        remove(inner, &id).await;
    }
    sb
}

/// Creates and starts a sandbox; `None` (and nothing left behind) when it does not run.
pub(super) async fn start(inner: &Inner, spec: &ContainerSpec) -> Option<String> {
    let id = match inner.create_container(spec).await {
        Ok(id) => id,
        Err(e) => {
            tracing::debug!("sandbox {}: not created: {e}", spec.name);
            return None;
        }
    };
    if let Err(e) = inner.rt.start_container(&id).await {
        tracing::debug!("sandbox {}: not started: {e}", spec.name);
        remove(inner, &id).await;
        return None;
    }
    Some(id)
}

async fn remove(inner: &Inner, id: &str) {
    match inner.rt.remove_container(id).await {
        Ok(()) => inner.ledger.forget(id),
        Err(e) => tracing::debug!("sandbox {id}: not removed ({e}); teardown will"),
    }
}
