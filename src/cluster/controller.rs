//! Workload controllers: each applied Deployment, ReplicaSet, DaemonSet, StatefulSet, Pod or Job
//! gets a tokio task that realises its pods through the kubelet and publishes a
//! Kubernetes-like `status` for the health checks.
use super::{
    kubelet::{PodInput, PodPhase, RunningPod},
    sim::Inner,
};
use crate::{manifest::ObjectKey, state::PodRecord};
use k8s_openapi::api::core::v1::PodSpec;
use serde_json::{json, Value};
use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::time::Instant;

/// The pod spec of a workload object (its template's, or a Pod's own).
pub(crate) fn pod_template(obj: &Value) -> Result<PodSpec, String> {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let spec = if kind == "Pod" {
        obj.get("spec")
    } else {
        obj.pointer("/spec/template/spec")
    };
    let spec = spec.ok_or_else(|| "has no pod template (spec.template.spec)".to_string())?;
    serde_json::from_value(spec.clone()).map_err(|e| format!("invalid pod spec: {e}"))
}

fn template_meta(obj: &Value, field: &str) -> BTreeMap<String, String> {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let meta = if kind == "Pod" {
        obj.get("metadata")
    } else {
        obj.pointer("/spec/template/metadata")
    };
    meta.and_then(|m| m.get(field))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// What a controller shares with the cluster.
#[derive(Debug, Default)]
struct Shared {
    status: Value,
    /// Docker ids of every container of every pod created so far (oldest first).
    containers: Vec<String>,
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
}

/// Handle to a running controller.
pub(crate) struct Controller {
    shared: Arc<Mutex<Shared>>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Remove containers one at a time, newest first (StatefulSet pods go in reverse ordinal
    /// order, as the StatefulSet controller deletes them).
    ordered_removal: bool,
}

impl Controller {
    pub fn status(&self) -> Value {
        lock(&self.shared).status.clone()
    }

    pub fn container_ids(&self) -> Vec<String> {
        lock(&self.shared).containers.clone()
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
            let s = lock(&self.shared);
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
struct PodSink {
    shared: Arc<Mutex<Shared>>,
}

impl PodSink {
    fn track(&self, pod: &RunningPod) {
        let mut s = lock(&self.shared);
        for id in pod.container_ids() {
            if !s.containers.contains(&id) {
                s.containers.push(id);
            }
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
        if pod.lost() {
            s.lost.insert(pod.name().to_string());
        } else {
            s.lost.remove(pod.name());
        }
    }

    fn set_status(&self, status: Value) {
        lock(&self.shared).status = status;
    }

    fn mark_settled(&self) {
        lock(&self.shared).settled = true;
    }
}

/// Starts the controller for a workload object.
pub(crate) fn spawn(inner: Arc<Inner>, key: ObjectKey, obj: Value) -> Result<Controller, String> {
    spawn_with(inner, key, obj, Vec::new())
}

/// Starts the controller of a kept workload over its recorded pods (no new container unless a
/// replica is missing). Jobs are never adopted this way: a kept Job keeps its final status.
pub(crate) async fn adopt(
    inner: Arc<Inner>,
    key: ObjectKey,
    obj: Value,
    pods: &[PodRecord],
) -> Result<Controller, String> {
    let spec = pod_template(&obj)?;
    let mut adopted = Vec::new();
    for rec in pods {
        let claims = if key.kind == "StatefulSet" {
            stateful_claims(&inner, &key, &obj, &rec.name).await?
        } else {
            BTreeMap::new()
        };
        let input = pod_input(&key, &obj, &spec, rec.name.clone(), claims);
        adopted.push(RunningPod::adopt(&inner, input, rec).await);
    }
    spawn_with(inner, key, obj, adopted)
}

fn spawn_with(
    inner: Arc<Inner>,
    key: ObjectKey,
    obj: Value,
    adopted: Vec<RunningPod>,
) -> Result<Controller, String> {
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
    let task = tokio::spawn(async move {
        let kind = key.kind.clone();
        match kind.as_str() {
            "Job" => run_job(inner, key, obj, spec, sink).await,
            "StatefulSet" => run_replicas(inner, key, obj, spec, sink, true, adopted).await,
            _ => run_replicas(inner, key, obj, spec, sink, false, adopted).await,
        }
    });
    Ok(Controller {
        shared,
        task: Mutex::new(Some(task)),
        ordered_removal,
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

fn int_at(obj: &Value, ptr: &str) -> Option<i64> {
    obj.pointer(ptr).and_then(Value::as_i64)
}

/// A short random suffix like Kubernetes' generated names.
fn suffix(n: usize) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    id.chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        .take(n)
        .collect()
}

fn pod_input(
    key: &ObjectKey,
    obj: &Value,
    spec: &PodSpec,
    pod_name: String,
    claims: BTreeMap<String, String>,
) -> PodInput {
    let mut spec = spec.clone();
    // A StatefulSet pod mounts its volumeClaimTemplates as claims named `<template>-<pod>`.
    let templates = obj
        .pointer("/spec/volumeClaimTemplates")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for t in templates {
        let Some(tmpl) = t.pointer("/metadata/name").and_then(Value::as_str) else {
            continue;
        };
        let volumes = spec.volumes.get_or_insert_with(Vec::new);
        if !volumes.iter().any(|v| v.name == tmpl) {
            volumes.push(k8s_openapi::api::core::v1::Volume {
                name: tmpl.to_string(),
                persistent_volume_claim: Some(
                    k8s_openapi::api::core::v1::PersistentVolumeClaimVolumeSource {
                        claim_name: format!("{tmpl}-{pod_name}"),
                        read_only: None,
                    },
                ),
                ..Default::default()
            });
        }
    }
    PodInput {
        owner: key.clone(),
        pod_name,
        namespace: key.namespace.clone(),
        labels: template_meta(obj, "labels"),
        annotations: template_meta(obj, "annotations"),
        spec,
        claim_volumes: claims,
    }
}

/// Deployment, ReplicaSet, DaemonSet (one pod), Pod, StatefulSet (`ordered`: pod `i` starts
/// only once pod `i-1` is Ready, unless `podManagementPolicy: Parallel`).
async fn run_replicas(
    inner: Arc<Inner>,
    key: ObjectKey,
    obj: Value,
    spec: PodSpec,
    sink: PodSink,
    stateful: bool,
    adopted: Vec<RunningPod>,
) {
    let kind = key.kind.as_str();
    let replicas = match kind {
        "Pod" | "DaemonSet" => 1,
        _ => int_at(&obj, "/spec/replicas").unwrap_or(1).max(0) as usize,
    };
    let ordered = stateful
        && obj
            .pointer("/spec/podManagementPolicy")
            .and_then(Value::as_str)
            != Some("Parallel");
    let hash = suffix(10);
    let started = Instant::now();
    let progress_deadline = Duration::from_secs(
        int_at(&obj, "/spec/progressDeadlineSeconds")
            .unwrap_or(600)
            .max(0) as u64,
    );
    let mut pods: Vec<RunningPod> = adopted;
    loop {
        // Start the next pod(s).
        if pods.len() < replicas {
            let can_start = !ordered || pods.last().is_none_or(RunningPod::is_ready);
            if can_start {
                let batch = if ordered { 1 } else { replicas - pods.len() };
                let mut inputs = Vec::new();
                for _ in 0..batch {
                    let i = pods.len() + inputs.len();
                    let (name, claims) = match kind {
                        "Pod" => (key.name.clone(), BTreeMap::new()),
                        "StatefulSet" => {
                            let pod = format!("{}-{i}", key.name);
                            let claims = match stateful_claims(&inner, &key, &obj, &pod).await {
                                Ok(c) => c,
                                Err(e) => {
                                    tracing::warn!("{key}: {e}");
                                    BTreeMap::new()
                                }
                            };
                            (pod, claims)
                        }
                        "Deployment" => (
                            format!("{}-{hash}-{}", key.name, suffix(5)),
                            BTreeMap::new(),
                        ),
                        _ => (format!("{}-{}", key.name, suffix(5)), BTreeMap::new()),
                    };
                    inputs.push(pod_input(&key, &obj, &spec, name, claims));
                }
                let starts = inputs
                    .into_iter()
                    .map(|input| RunningPod::start(&inner, input));
                for pod in futures_util::future::join_all(starts).await {
                    sink.track(&pod);
                    pods.push(pod);
                }
            }
        }
        sink.mark_settled();
        for pod in pods.iter_mut() {
            pod.poll(&inner).await;
            sink.track(pod);
        }
        let ready = pods.iter().filter(|p| p.is_ready()).count() as i64;
        let status = match kind {
            "Pod" => pods
                .first()
                .map(RunningPod::status_json)
                .unwrap_or_else(|| json!({"phase": "Pending"})),
            "StatefulSet" => json!({
                "observedGeneration": 1, "replicas": pods.len(), "readyReplicas": ready,
                "currentReplicas": pods.len(), "updatedReplicas": pods.len(),
                "currentRevision": format!("{}-1", key.name), "updateRevision": format!("{}-1", key.name),
            }),
            "DaemonSet" => json!({
                "observedGeneration": 1, "desiredNumberScheduled": 1, "currentNumberScheduled": pods.len(),
                "updatedNumberScheduled": pods.len(), "numberReady": ready, "numberAvailable": ready,
            }),
            _ => {
                let mut s = json!({
                    "observedGeneration": 1, "replicas": pods.len(), "updatedReplicas": pods.len(),
                    "readyReplicas": ready, "availableReplicas": ready,
                });
                if kind == "Deployment"
                    && (ready as usize) < replicas
                    && started.elapsed() > progress_deadline
                {
                    s["conditions"] = json!([{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                        "message": format!("Deployment \"{}\" has timed out progressing.", key.name)}]);
                }
                s
            }
        };
        sink.set_status(status);
        tokio::time::sleep(inner.opts.poll_interval).await;
    }
}

/// Docker volumes for a StatefulSet pod's volumeClaimTemplates (`<tmpl>-<pod>`), created when
/// missing and kept across syncs of the same app.
async fn stateful_claims(
    inner: &Inner,
    key: &ObjectKey,
    obj: &Value,
    pod: &str,
) -> Result<BTreeMap<String, String>, String> {
    let mut claims = BTreeMap::new();
    let templates = obj
        .pointer("/spec/volumeClaimTemplates")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for t in templates {
        let Some(tmpl) = t.pointer("/metadata/name").and_then(Value::as_str) else {
            continue;
        };
        let claim = format!("{tmpl}-{pod}");
        let volume = inner.volume_name(&key.namespace, &claim);
        inner
            .create_volume(
                &volume,
                &format!("/PersistentVolumeClaim/{}/{claim}", key.namespace),
            )
            .await?;
        claims.insert(claim, volume);
    }
    Ok(claims)
}

/// A Job: pods until `completions` succeeded (up to `parallelism` at once), a new pod per
/// failure with exponential backoff until more than `backoffLimit` failed, and
/// `activeDeadlineSeconds`.
async fn run_job(inner: Arc<Inner>, key: ObjectKey, obj: Value, spec: PodSpec, sink: PodSink) {
    let completions = int_at(&obj, "/spec/completions").unwrap_or(1).max(1) as u32;
    let parallelism = int_at(&obj, "/spec/parallelism").unwrap_or(1).max(1) as u32;
    let backoff_limit = int_at(&obj, "/spec/backoffLimit").unwrap_or(6).max(0) as u32;
    let deadline =
        int_at(&obj, "/spec/activeDeadlineSeconds").map(|s| Duration::from_secs(s.max(0) as u64));
    let suspended = obj.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true);
    let start = Instant::now();
    let (mut succeeded, mut failed) = (0u32, 0u32);
    let mut active: Vec<RunningPod> = Vec::new();
    let mut next_start = Instant::now();
    let start_time = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    if suspended {
        sink.set_status(json!({"conditions": [{"type": "Suspended", "status": "True", "reason": "JobSuspended"}]}));
        return;
    }
    let finish = |cond: Value, succeeded: u32, failed: u32| json!({"startTime": start_time, "succeeded": succeeded, "failed": failed, "conditions": [cond]});
    loop {
        // Deadline.
        if deadline.is_some_and(|d| start.elapsed() >= d) {
            for p in &active {
                p.kill(&inner).await;
            }
            sink.set_status(finish(
                json!({"type": "Failed", "status": "True", "reason": "DeadlineExceeded",
                       "message": "Job was active longer than specified deadline"}),
                succeeded,
                failed + active.len() as u32,
            ));
            return;
        }
        // Start pods.
        while (active.len() as u32) < parallelism
            && succeeded + (active.len() as u32) < completions
            && Instant::now() >= next_start
        {
            let name = format!("{}-{}", key.name, suffix(5));
            let pod =
                RunningPod::start(&inner, pod_input(&key, &obj, &spec, name, BTreeMap::new()))
                    .await;
            sink.track(&pod);
            active.push(pod);
        }
        sink.mark_settled();
        // Observe.
        let mut still = Vec::new();
        for mut pod in active.drain(..) {
            pod.poll(&inner).await;
            sink.track(&pod);
            failed += pod.take_failures();
            match pod.phase() {
                PodPhase::Succeeded => succeeded += 1,
                PodPhase::Failed => {
                    failed += 1;
                    // Exponential backoff before the next pod: base, 2×base, 4×base… ≤ 6 min.
                    let exp = failed.saturating_sub(1).min(16);
                    let delay =
                        (inner.opts.job_backoff_base * 2u32.pow(exp)).min(Duration::from_secs(360));
                    next_start = Instant::now() + delay;
                }
                _ => still.push(pod),
            }
        }
        active = still;
        if failed > backoff_limit {
            for p in &active {
                p.kill(&inner).await;
            }
            sink.set_status(finish(
                json!({"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                       "message": "Job has reached the specified backoff limit"}),
                succeeded,
                failed,
            ));
            return;
        }
        if succeeded >= completions {
            sink.set_status(finish(
                json!({"type": "Complete", "status": "True"}),
                succeeded,
                failed,
            ));
            return;
        }
        sink.set_status(json!({"startTime": start_time, "active": active.len(), "succeeded": succeeded, "failed": failed}));
        tokio::time::sleep(inner.opts.poll_interval).await;
    }
}
