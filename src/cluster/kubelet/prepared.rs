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
//!
//! A pod whose DNS names nobody can know in advance also gets its sandbox started here, and its
//! containers are created joined to it (`sandbox.rs`).
//!
//! The next step's pods are prepared at once. Those of the steps after it are prepared too, but
//! only while the machine has room, one pod at a time, so that the current step does not wait
//! for them: a short step (an app wave, a hook) leaves its successor little time, while a long
//! one (the infrastructure's) has idle CPU time for several. A pod whose step becomes the next
//! before there was room is prepared at once from then on.
use super::PodInput;
use crate::{
    cluster::{pod::PodPlan, sim::Inner},
    manifest::{Object, ObjectKey},
    runtime::ContainerSpec,
};
use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio_util::sync::CancellationToken;

/// One container being created ahead, or created: `None` once the create failed or the
/// container was taken.
type Slot = Arc<tokio::sync::Mutex<SlotContent>>;

/// A prepared container's spec and id.
type SlotContent = Option<(ContainerSpec, String)>;

/// The containers created ahead of their pods.
#[derive(Default)]
pub(crate) struct Prepared {
    slots: Mutex<Slots>,
    /// The tasks preparing pods. A tracker, not a list of handles: waiting for it consumes
    /// nothing, so a teardown dropped half-way (a second Ctrl-C) leaves the forced one the same
    /// tasks to wait for.
    tasks: tokio_util::task::TaskTracker,
    /// Cancelled by [`Prepared::close`]: wakes the preparations waiting for spare CPU time.
    closing: CancellationToken,
    /// Held by the one preparation of a later step's pod under way.
    later: tokio::sync::Mutex<()>,
}

/// When a pod is prepared (see the module docs).
#[derive(Clone)]
pub(crate) enum When {
    /// Its step is the next one: now.
    Next,
    /// It belongs to a later step: once the machine has room, or once the token is cancelled
    /// (its step is the next one now).
    Later(CancellationToken),
}

#[derive(Default)]
struct Slots {
    /// By Docker container name.
    by_name: HashMap<String, Slot>,
    /// Pods the kubelet has begun to start: too late to prepare (under the same lock as the
    /// slots, so a pod is either prepared before its start or not at all).
    begun: HashSet<String>,
    /// Teardown or detach has begun: nothing more is created ahead.
    closed: bool,
    /// The workloads of later steps whose pods are being prepared, with the token that tells
    /// them their step is the next one now.
    later: HashMap<ObjectKey, CancellationToken>,
}

impl Prepared {
    fn slots(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The kubelet begins to start `pod`: from now on it is not prepared.
    pub(crate) fn begin(&self, pod: &str) {
        self.slots().begun.insert(pod.to_string());
    }

    /// How the pods of the workload `key` are to be prepared, its step being the next one or a
    /// later one; `None` when they are being prepared already (from an earlier announcement of
    /// a later step, which this one makes the next).
    pub(crate) fn when(&self, key: &ObjectKey, next: bool) -> Option<When> {
        let mut slots = self.slots();
        if next {
            match slots.later.remove(key) {
                Some(token) => {
                    token.cancel();
                    None
                }
                None => Some(When::Next),
            }
        } else if slots.later.contains_key(key) {
            None
        } else {
            let token = CancellationToken::new();
            slots.later.insert(key.clone(), token.clone());
            Some(When::Later(token))
        }
    }

    /// Creates the main containers of the pods `inputs` in the background (see the module
    /// docs). Pods that cannot be prepared exactly (volumes or claims to create, missing
    /// ConfigMaps, Secrets or images) are left to the kubelet.
    /// `services` are the Services applied up to the pods' step, which they see.
    pub(crate) fn prepare(
        &self,
        inner: &Arc<Inner>,
        inputs: Vec<PodInput>,
        services: Vec<Object>,
        when: When,
    ) {
        if self.is_closed() {
            return;
        }
        let services = Arc::new(services);
        for input in inputs {
            let inner = inner.clone();
            let services = services.clone();
            let when = when.clone();
            self.tasks.spawn(async move {
                after_current_starts(&inner).await;
                prepare_pod(&inner, input, &services, when).await;
            });
        }
    }

    /// Nothing more is created ahead from now on (creates already in flight finish and are
    /// recorded; [`Prepared::settle`] waits for them). Synchronous, so that a teardown
    /// abandoned at its first await has still closed it.
    pub(crate) fn close(&self) {
        self.slots().closed = true;
        self.tasks.close();
        self.closing.cancel();
    }

    fn is_closed(&self) -> bool {
        self.slots().closed
    }

    /// Whether it is too late to prepare `pod`: its start has begun, or nothing more is
    /// prepared.
    fn too_late(&self, pod: &str) -> bool {
        let slots = self.slots();
        slots.closed || slots.begun.contains(pod)
    }

    /// Claims the slots `names` of `pod`, locked, in that order; `None` when it is too late to
    /// prepare it or, without `replace`, when one is already claimed. With `replace`, the slots
    /// claimed before under those names are returned, for their containers to be removed.
    fn claim(
        &self,
        pod: &str,
        names: &[String],
        replace: bool,
    ) -> Option<(Vec<tokio::sync::OwnedMutexGuard<SlotContent>>, Vec<Slot>)> {
        let mut slots = self.slots();
        if slots.closed || slots.begun.contains(pod) {
            return None;
        }
        let map = &mut slots.by_name;
        if !replace && names.iter().any(|n| map.contains_key(n)) {
            return None;
        }
        let mut replaced = Vec::new();
        let guards = names
            .iter()
            .map(|name| {
                let slot: Slot = Default::default();
                let guard = slot
                    .clone()
                    .try_lock_owned()
                    .expect("a new slot is unlocked");
                replaced.extend(map.insert(name.clone(), slot));
                guard
            })
            .collect();
        Some((guards, replaced))
    }

    /// Closes (see [`Prepared::close`]) and waits for the containers being created ahead:
    /// teardown and detach then find every one in the ledger.
    pub(crate) async fn settle(&self) {
        self.close();
        self.tasks.wait().await;
    }

    /// The id of the container prepared as `spec`, taken: it is the kubelet's from now on.
    /// `None` when none was prepared under that name, or when it differs from `spec` (then it
    /// is removed, freeing its name).
    pub(crate) async fn take(&self, inner: &Inner, spec: &ContainerSpec) -> Option<String> {
        self.take_as(inner, &spec.name, Some(spec)).await
    }

    /// Like [`Prepared::take`] for the container prepared under `name`; with no `spec` (the
    /// pod wants no such container now), one prepared is removed.
    pub(crate) async fn take_as(
        &self,
        inner: &Inner,
        name: &str,
        spec: Option<&ContainerSpec>,
    ) -> Option<String> {
        let slot = self.slots().by_name.remove(name)?;
        // Waits for a create still in flight.
        let (prepared, id) = slot.lock().await.take()?;
        if spec == Some(&prepared) {
            return Some(id);
        }
        tracing::debug!("container {name}: changed since it was prepared");
        remove(inner, &id).await;
        None
    }

    /// Removes the prepared containers nobody took (a kept environment keeps only its pods').
    pub(crate) async fn discard(&self, inner: &Inner) {
        self.settle().await;
        let slots: Vec<Slot> = self.slots().by_name.drain().map(|(_, s)| s).collect();
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

/// How long preparing waits for the current step's pods to start.
const CURRENT_STARTS_LIMIT: Duration = Duration::from_secs(3);

/// Waits (at most [`CURRENT_STARTS_LIMIT`]) until every controller has started the pods it can
/// start right away: the current step's starts are what its gate waits for, and preparing
/// the next step competes with them for the engine.
async fn after_current_starts(inner: &Inner) {
    let until = tokio::time::Instant::now() + CURRENT_STARTS_LIMIT;
    loop {
        let settled = inner
            .store()
            .values()
            .filter_map(|e| e.controller.as_ref())
            .all(|c| c.is_settled());
        if settled || inner.prepared.is_closed() || tokio::time::Instant::now() >= until {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Creates the main containers of `input` ahead of its start, when that can be done without
/// side effects.
async fn prepare_pod(inner: &Inner, input: PodInput, services: &[Object], when: When) {
    let pod = input.pod_name.as_str();
    // A later step's pod, once there is room (and then with its sandbox), unless its step
    // becomes the next one first.
    if let When::Later(promoted) = &when {
        match room_for_later(inner, pod, promoted).await {
            Room::Gone => return,
            Room::Promoted => {}
            Room::Spare(turn) => {
                if let Some((plan, sandbox)) = plan_ahead(inner, &input, services).await {
                    if sandbox.is_some() || plan.containers.len() == 1 {
                        create_ahead(inner, pod, sandbox.as_ref(), plan, false).await;
                    }
                    return;
                }
                // Not yet: what it needs comes with an earlier step. Tried again once its
                // step is the next one.
                drop(turn);
                tokio::select! {
                    () = inner.prepared.closing.cancelled() => return,
                    () = promoted.cancelled() => {}
                }
            }
        }
        // Its step is the next one now: as if announced as such.
        after_current_starts(inner).await;
    }
    let Some((plan, sandbox)) = plan_ahead(inner, &input, services).await else {
        return;
    };
    // Started now when the machine has room for it.
    if let Some(spec) = &sandbox {
        if inner.rt.spare_cpu().await {
            create_ahead(inner, pod, Some(spec), plan, false).await;
            return;
        }
        tracing::debug!("pod {pod}: no spare CPU time to start its sandbox ahead");
    }
    // Otherwise the pod is created owning its network, unless it has several containers: it
    // gets its sandbox when it starts (see above).
    if plan.containers.len() == 1 && !create_ahead(inner, pod, None, plan.clone(), false).await {
        return;
    }
    let Some(spec) = sandbox else {
        return;
    };
    // The current step keeps the CPUs busy when it begins (its pods start): the machine often
    // has room later in the wait, and the pod is prepared again with its sandbox started then.
    let never = CancellationToken::new();
    if let Wait::Room = wait_for_room(inner, pod, &never).await {
        let began = tokio::time::Instant::now();
        if create_ahead(inner, pod, Some(&spec), plan, true).await {
            tracing::debug!(
                "pod {pod}: prepared again with its sandbox started, in {} ms",
                began.elapsed().as_millis()
            );
        }
    }
}

/// What `input` would be created as now, with the sandbox it may get (`sandbox.rs`); `None`
/// when it cannot be prepared exactly (volumes or claims to create, missing ConfigMaps,
/// Secrets or images, a pod the kubelet will refuse). `services` are the Services applied up
/// to its step.
async fn plan_ahead(
    inner: &Inner,
    input: &PodInput,
    services: &[Object],
) -> Option<(PodPlan, Option<ContainerSpec>)> {
    // Claims are bound when the pod starts; emptyDir volumes are created with it.
    let claims = input
        .spec
        .volumes
        .iter()
        .flatten()
        .any(|v| v.persistent_volume_claim.is_some() || v.ephemeral.is_some());
    if claims
        || !input.claim_volumes.is_empty()
        || crate::cluster::pod::sysctl::rejection(&input.spec, &inner.opts.allowed_unsafe_sysctls)
            .is_some()
    {
        return None;
    }
    inner.reach_pods().await;
    let plan = super::translate::translate_ahead(inner, input, services).ok()?;
    if !plan.volumes.is_empty() {
        return None;
    }
    // A missing image fails the create (the kubelet, which checks images first, reports it);
    // one known to be unavailable is not even tried.
    for c in &plan.containers {
        if inner.image_known_unavailable(&c.spec.image).await {
            return None;
        }
    }
    // Nor is a pod the kubelet will refuse to run.
    if super::cannot_start::refused_as_root(inner, input)
        .await
        .is_some()
    {
        return None;
    }
    let sandbox = match super::sandbox::spec(inner, input, &plan) {
        Some(s) if !inner.image_known_unavailable(&s.image).await => Some(s),
        _ => None,
    };
    Some((plan, sandbox))
}

/// How long preparing waits between two looks for spare CPU time.
const SPARE_CPU_RETRY: Duration = Duration::from_millis(100);

/// What a later step's pod waited for.
enum Room<'a> {
    /// The machine has room, and the pod is the one preparation of a later step's pod.
    Spare(tokio::sync::MutexGuard<'a, ()>),
    /// Its step is the next one now.
    Promoted,
    /// Nothing more is prepared, or the pod has begun to start.
    Gone,
}

/// Waits until the machine has room for preparing the later step's pod `pod`, and it is the
/// one later step's pod being prepared, or until its step is the next one (`promoted`
/// cancelled).
async fn room_for_later<'a>(inner: &'a Inner, pod: &str, promoted: &CancellationToken) -> Room<'a> {
    let turn = tokio::select! {
        () = inner.prepared.closing.cancelled() => return Room::Gone,
        () = promoted.cancelled() => return Room::Promoted,
        turn = inner.prepared.later.lock() => turn,
    };
    match wait_for_room(inner, pod, promoted).await {
        Wait::Room => Room::Spare(turn),
        Wait::Promoted => Room::Promoted,
        Wait::Gone => Room::Gone,
    }
}

/// What waiting for spare CPU time ended with.
enum Wait {
    Room,
    /// `promoted` was cancelled.
    Promoted,
    /// Nothing more is prepared, or the pod has begun to start.
    Gone,
}

/// Looks at the machine every [`SPARE_CPU_RETRY`] until it has room to prepare `pod`, until
/// `promoted` is cancelled, or until it is too late to prepare `pod`.
async fn wait_for_room(inner: &Inner, pod: &str, promoted: &CancellationToken) -> Wait {
    let closing = &inner.prepared.closing;
    loop {
        if inner.prepared.too_late(pod) {
            return Wait::Gone;
        }
        tokio::select! {
            () = closing.cancelled() => return Wait::Gone,
            () = promoted.cancelled() => return Wait::Promoted,
            spare = inner.rt.spare_cpu() => if spare {
                return Wait::Room;
            },
        }
        tokio::select! {
            () = closing.cancelled() => return Wait::Gone,
            () = promoted.cancelled() => return Wait::Promoted,
            () = tokio::time::sleep(SPARE_CPU_RETRY) => {}
        }
    }
}

/// Creates the containers of `plan` (the pod `pod`) ahead, joined to `sandbox` started first
/// when there is one (they own the network when it does not start); `false` when not all of
/// them were created. With `replace`, the containers already prepared for the pod are removed
/// first (under the same claim, so the kubelet waits for the new ones).
async fn create_ahead(
    inner: &Inner,
    pod: &str,
    sandbox: Option<&ContainerSpec>,
    mut plan: PodPlan,
    replace: bool,
) -> bool {
    // Every slot is claimed before the first create, so the kubelet waits for them rather
    // than creating a container under the same name.
    let names: Vec<String> = sandbox
        .into_iter()
        .chain(plan.containers.iter().map(|c| &c.spec))
        .map(|s| s.name.clone())
        .collect();
    let Some((mut slots, replaced)) = inner.prepared.claim(pod, &names, replace) else {
        return false;
    };
    for slot in replaced {
        if let Some((_, id)) = slot.lock().await.take() {
            remove(inner, &id).await;
        }
    }
    if let Some(spec) = sandbox {
        let mut guard = slots.remove(0);
        // Without a started sandbox the pod is created owning its network (its slot stays
        // empty), unless it has several containers (see above).
        match super::sandbox::start(inner, spec).await {
            Some(id) => {
                plan.join_sandbox(&id);
                *guard = Some((spec.clone(), id));
            }
            None if plan.containers.len() > 1 => return false,
            None => {}
        }
    }
    for (i, mut guard) in slots.into_iter().enumerate() {
        let spec = plan.containers[i].spec.clone();
        match inner.create_container(&spec).await {
            Ok(id) => {
                if i == 0 {
                    plan.join_first(&id);
                }
                *guard = Some((spec, id));
            }
            // The rest are created by the kubelet (their slots stay empty).
            Err(e) => {
                tracing::debug!("pod {pod}: not prepared: {e}");
                return false;
            }
        }
    }
    true
}
