//! Workload controllers: each applied Deployment, ReplicaSet, DaemonSet, StatefulSet, Pod or Job
//! gets a tokio task that realises its pods through the kubelet and publishes a
//! Kubernetes-like `status` for the health checks.
//!
//! This file holds the handle ([`Controller`]) and what a controller shares with the cluster;
//! `template.rs` reads the pod template, `replicas.rs` runs Deployments, ReplicaSets,
//! DaemonSets, Pods and StatefulSets, and `job.rs` runs Jobs.
mod job;
mod names;
mod replicas;
mod template;

pub(crate) use names::ReservedNames;
pub(crate) use template::pod_template;

use super::{
    error::Error,
    kubelet::{self, RunningPod},
    service::Endpoint,
    sim::Inner,
};
use crate::{manifest::ObjectKey, state::PodRecord};
use serde_json::{json, Value};
use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
    time::Duration,
};
use template::pod_input;
use tokio::time::Instant;

/// What a controller shares with the cluster.
#[derive(Debug, Default)]
struct Shared {
    status: Value,
    /// Docker ids of every container of every pod created so far (oldest first), sandboxes
    /// included.
    containers: Vec<String>,
    /// The pods' sandboxes among `containers` (they hold a pod's network, run no app).
    sandboxes: BTreeSet<String>,
    /// The containers among `containers` that joined a sandbox's network.
    joined: BTreeSet<String>,
    /// Volumes created for pods (emptyDir), removed with the object.
    volumes: Vec<String>,
    /// Main container of the most recent pod, for logs.
    log_container: Option<String>,
    /// Every pod created or adopted so far, for the environment record.
    pods: Vec<PodRecord>,
    /// Pods that lost a container (removed behind our back).
    lost: BTreeSet<String>,
    /// The controller has started the pods it can start right away (see [`Controller::settle`]).
    settled: bool,
    /// Per pod: Ready, and its IP once known (Service endpoints).
    readiness: BTreeMap<String, (bool, Option<String>)>,
}

/// What every pod of a controller shares as a Service endpoint.
#[derive(Debug, Default, Clone)]
struct EndpointMeta {
    namespace: String,
    labels: BTreeMap<String, String>,
    named_ports: BTreeMap<String, u16>,
}

/// Handle to a running controller.
pub(crate) struct Controller {
    shared: Arc<Mutex<Shared>>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Remove containers one at a time, newest first (StatefulSet pods go in reverse ordinal
    /// order, as the StatefulSet controller deletes them).
    ordered_removal: bool,
    endpoint: EndpointMeta,
}

impl Controller {
    /// The controller's pods as Service endpoints.
    pub fn endpoints(&self) -> Vec<Endpoint> {
        let m = &self.endpoint;
        lock(&self.shared)
            .readiness
            .iter()
            .map(|(pod, (ready, ip))| Endpoint {
                namespace: m.namespace.clone(),
                pod: pod.clone(),
                address: ip.clone().unwrap_or_else(|| pod.clone()),
                labels: m.labels.clone(),
                named_ports: m.named_ports.clone(),
                ready: *ready,
            })
            .collect()
    }

    pub fn status(&self) -> Value {
        lock(&self.shared).status.clone()
    }

    /// Every container of the object's pods, sandboxes included (what removal removes).
    pub fn container_ids(&self) -> Vec<String> {
        lock(&self.shared).containers.clone()
    }

    /// Among [`Controller::container_ids`]: the pods' sandboxes, and the containers that
    /// joined one.
    pub fn sandboxes_and_joined(&self) -> (BTreeSet<String>, BTreeSet<String>) {
        let s = lock(&self.shared);
        (s.sandboxes.clone(), s.joined.clone())
    }

    pub fn log_container(&self) -> Option<String> {
        lock(&self.shared).log_container.clone()
    }

    /// The pods realising the object, for the environment record.
    pub fn pods(&self) -> Vec<PodRecord> {
        lock(&self.shared).pods.clone()
    }

    /// Whether a pod lost a container: the object no longer realises its spec (drift).
    pub fn is_lost(&self) -> bool {
        !lock(&self.shared).lost.is_empty()
    }

    /// Whether the controller has started the pods it can start right away (or has ended).
    pub fn is_settled(&self) -> bool {
        let finished = self
            .task
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_none_or(|t| t.is_finished());
        finished || lock(&self.shared).settled
    }

    /// Waits (at most `limit`) until the controller has started the pods it can start right
    /// away, so that stopping it afterwards leaves them running (`--keep` right after an
    /// operation that did not wait for its last wave).
    pub async fn settle(&self, limit: Duration) {
        let until = Instant::now() + limit;
        loop {
            let finished = self
                .task
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .is_none_or(|t| t.is_finished());
            if finished || lock(&self.shared).settled || Instant::now() >= until {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops reconciling (containers keep running).
    pub fn stop(&self) {
        if let Some(t) = self.task.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            t.abort();
        }
    }

    /// Stops reconciling and removes every container and pod volume of this object.
    pub async fn remove(&self, inner: &Inner) {
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            task.abort();
            // Wait for the task to be gone so it cannot create anything after this.
            let _ = task.await;
        }
        let (containers, volumes) = {
            let mut s = lock(&self.shared);
            s.readiness.clear();
            (s.containers.clone(), s.volumes.clone())
        };
        let results = if self.ordered_removal {
            let mut out = Vec::new();
            for id in containers.iter().rev() {
                out.push((id, inner.rt.remove_container(id).await));
            }
            out
        } else {
            let removals = containers.iter().map(|id| inner.rt.remove_container(id));
            containers
                .iter()
                .zip(futures_util::future::join_all(removals).await)
                .collect()
        };
        for (id, r) in results {
            match r {
                Ok(()) => inner.ledger.forget(id),
                Err(e) => tracing::warn!("failed to remove container {id}: {e}"),
            }
        }
        for v in volumes {
            match inner.rt.remove_volume(&v).await {
                Ok(()) => inner.ledger.forget(&v),
                Err(e) => tracing::warn!("failed to remove volume {v}: {e}"),
            }
        }
    }
}

fn lock(s: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// Pod bookkeeping shared by all controllers.
pub(super) struct PodSink {
    shared: Arc<Mutex<Shared>>,
}

impl PodSink {
    pub(super) fn track(&self, pod: &RunningPod) {
        let mut s = lock(&self.shared);
        for id in pod.container_ids() {
            if !s.containers.contains(&id) {
                s.containers.push(id);
            }
        }
        if let Some(id) = pod.sandbox_id() {
            s.sandboxes.insert(id.to_string());
            s.joined.extend(pod.main_container_ids());
        }
        for v in pod.volumes() {
            if !s.volumes.contains(v) {
                s.volumes.push(v.clone());
            }
        }
        if let Some(id) = pod.main_container_id() {
            s.log_container = Some(id);
        }
        let rec = pod.record();
        match s.pods.iter_mut().find(|p| p.name == rec.name) {
            Some(p) => *p = rec,
            None => s.pods.push(rec),
        }
        s.readiness.insert(
            pod.name().to_string(),
            (pod.is_ready(), pod.ip().map(str::to_string)),
        );
        if pod.lost() {
            s.lost.insert(pod.name().to_string());
        } else {
            s.lost.remove(pod.name());
        }
    }

    pub(super) fn set_status(&self, status: Value) {
        lock(&self.shared).status = status;
    }

    pub(super) fn mark_settled(&self) {
        lock(&self.shared).settled = true;
    }
}

/// Starts the controller for a workload object.
pub(crate) fn spawn(inner: Arc<Inner>, key: ObjectKey, obj: Value) -> Result<Controller, Error> {
    spawn_with(inner, key, obj, Vec::new())
}

/// Starts the controller of a kept workload over its recorded pods (no new container unless a
/// replica is missing). Jobs are never adopted this way: a kept Job keeps its final status.
pub(crate) async fn adopt(
    inner: Arc<Inner>,
    key: ObjectKey,
    obj: Value,
    pods: &[PodRecord],
) -> Result<Controller, Error> {
    let spec = pod_template(&obj)?;
    let mut adopted = Vec::new();
    for rec in pods {
        let claims = if key.kind == "StatefulSet" {
            replicas::stateful_claims(&inner, &key, &obj, &rec.name).await?
        } else {
            BTreeMap::new()
        };
        let input = pod_input(&key, &obj, &spec, rec.name.clone(), claims);
        adopted.push(RunningPod::adopt(&inner, input, rec).await);
    }
    spawn_with(inner, key, obj, adopted)
}

/// The pods the workloads `objects` (about to be created) will start first, under names drawn
/// for them now, for the kubelet to create their containers ahead (`kubelet/prepared.rs`):
/// every replica of a Deployment, ReplicaSet or DaemonSet, a Pod, and the first pods of a Job
/// that is not suspended. StatefulSets are not: their pods bind claims and start in order.
pub(crate) fn pods_ahead(inner: &Inner, objects: &[(ObjectKey, Value)]) -> Vec<kubelet::PodInput> {
    let mut out = Vec::new();
    for (key, obj) in objects {
        let Ok(spec) = pod_template(obj) else {
            continue;
        };
        let names = &inner.names;
        let generated = |_| match key.kind.as_str() {
            "Pod" => key.name.clone(),
            _ => format!("{}-{}", key.name, names.reserve(key, 5)),
        };
        let pods: Vec<String> = match (key.group.as_str(), key.kind.as_str()) {
            ("apps", "Deployment") => {
                let n = template::int_at(obj, "/spec/replicas").unwrap_or(1).max(0) as usize;
                let hash = names.reserve(key, 10);
                (0..n)
                    .map(|_| format!("{}-{hash}-{}", key.name, names.reserve(key, 5)))
                    .collect()
            }
            ("apps", "ReplicaSet") => {
                let n = template::int_at(obj, "/spec/replicas").unwrap_or(1).max(0) as usize;
                (0..n).map(generated).collect()
            }
            ("apps", "DaemonSet") | ("", "Pod") => vec![generated(0)],
            ("batch", "Job") => {
                if obj.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
                    continue;
                }
                let at = |p: &str| template::int_at(obj, p).unwrap_or(1).max(1) as usize;
                let n = at("/spec/parallelism").min(at("/spec/completions"));
                (0..n).map(generated).collect()
            }
            _ => continue,
        };
        out.extend(
            pods.into_iter()
                .map(|name| pod_input(key, obj, &spec, name, BTreeMap::new())),
        );
    }
    out
}

fn spawn_with(
    inner: Arc<Inner>,
    key: ObjectKey,
    obj: Value,
    adopted: Vec<RunningPod>,
) -> Result<Controller, Error> {
    let spec = pod_template(&obj)?;
    let shared = Arc::new(Mutex::new(Shared {
        status: initial_status(&key.kind),
        ..Shared::default()
    }));
    let sink = PodSink {
        shared: shared.clone(),
    };
    for pod in &adopted {
        sink.track(pod);
    }
    let ordered_removal = key.kind == "StatefulSet";
    let endpoint = EndpointMeta {
        namespace: key.namespace.clone(),
        labels: template::template_labels(&obj),
        named_ports: spec
            .containers
            .iter()
            .flat_map(|c| c.ports.iter().flatten())
            .filter_map(|p| Some((p.name.clone()?, u16::try_from(p.container_port).ok()?)))
            .collect(),
    };
    let task = tokio::spawn(async move {
        let kind = key.kind.clone();
        match kind.as_str() {
            "Job" => job::run_job(inner, key, obj, spec, sink).await,
            "StatefulSet" => {
                replicas::run_replicas(inner, key, obj, spec, sink, true, adopted).await
            }
            _ => replicas::run_replicas(inner, key, obj, spec, sink, false, adopted).await,
        }
    });
    Ok(Controller {
        shared,
        task: Mutex::new(Some(task)),
        ordered_removal,
        endpoint,
    })
}

fn initial_status(kind: &str) -> Value {
    match kind {
        "Pod" => json!({"phase": "Pending"}),
        "Job" => json!({}),
        // Not observed yet: generation 1 > observedGeneration 0 reads as Progressing.
        _ => json!({"observedGeneration": 0}),
    }
}
