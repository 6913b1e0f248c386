//! Deployments, ReplicaSets, DaemonSets, Pods and StatefulSets: keep the replicas running.
use super::{
    template::{int_at, pod_input},
    PodSink,
};
use crate::health::DEFAULT_PROGRESS_DEADLINE_SECONDS;
use crate::{
    cluster::{
        error::Error,
        kubelet::{self, RunningPod},
        sim::Inner,
    },
    manifest::ObjectKey,
};
use k8s_openapi::api::core::v1::PodSpec;
use serde_json::{json, Value};
use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, SystemTime},
};

/// Deployment, ReplicaSet, DaemonSet (one pod), Pod, StatefulSet (`ordered`: pod `i` starts
/// only once pod `i-1` is Ready, unless `podManagementPolicy: Parallel`).
pub(super) async fn run_replicas(
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
    let hash = inner.names.next(&key, 10);
    let mut progress = Progress::new(
        format!("{}-{hash}", key.name),
        Duration::from_secs(
            int_at(&obj, "/spec/progressDeadlineSeconds")
                .unwrap_or(DEFAULT_PROGRESS_DEADLINE_SECONDS as i64)
                .max(0) as u64,
        ),
    );
    let mut pods: Vec<RunningPod> = adopted;
    if kind == "Deployment" && pods.is_empty() {
        // The deployment controller records the new rollout before any pod exists.
        sink.set_status(json!({
            "observedGeneration": 1, "replicas": 0, "updatedReplicas": 0,
            "readyReplicas": 0, "availableReplicas": 0,
            "conditions": [progress.observe(0, 0, replicas)],
        }));
    }
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
                            format!("{}-{hash}-{}", key.name, inner.names.next(&key, 5)),
                            BTreeMap::new(),
                        ),
                        _ => (
                            format!("{}-{}", key.name, inner.names.next(&key, 5)),
                            BTreeMap::new(),
                        ),
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
                if kind == "Deployment" {
                    let p = progress.observe(pods.len(), ready as usize, replicas);
                    s["conditions"] = json!([
                        {"type": "Available", "status": if ready as usize >= replicas { "True" } else { "False" },
                         "reason": if ready as usize >= replicas { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" }},
                        p,
                    ]);
                }
                s
            }
        };
        sink.set_status(status);
        kubelet::sleep_until_due(&inner, &pods).await;
    }
}

/// The `Progressing` condition of a Deployment, kept as Kubernetes' deployment controller keeps
/// it (`syncRolloutStatus` in its pkg/controller/deployment/progress.go): its `lastUpdateTime`
/// moves whenever more replicas are updated or ready; `progressDeadlineSeconds` after the last
/// progress without completing, it turns `ProgressDeadlineExceeded`; complete, it is
/// `NewReplicaSetAvailable`.
struct Progress {
    replica_set: String,
    deadline: Duration,
    /// `lastUpdateTime`, in whole seconds as the API server stores it; the deadline counts
    /// from it, as Kubernetes' `DeploymentTimedOut` does.
    last_at: SystemTime,
    updated: usize,
    ready: usize,
    complete: bool,
}

impl Progress {
    fn new(replica_set: String, deadline: Duration) -> Self {
        Self {
            replica_set,
            deadline,
            last_at: whole_seconds(SystemTime::now()),
            updated: 0,
            ready: 0,
            complete: false,
        }
    }

    /// The condition after observing `updated` pods of which `ready` are Ready, of `replicas`.
    fn observe(&mut self, updated: usize, ready: usize, replicas: usize) -> Value {
        let rs = &self.replica_set;
        let now = SystemTime::now();
        if !self.complete && updated >= replicas && ready >= replicas {
            self.complete = true;
            self.last_at = whole_seconds(now);
        }
        let (status, reason, message) = if self.complete {
            (
                "True",
                "NewReplicaSetAvailable",
                format!("ReplicaSet {rs:?} has successfully progressed."),
            )
        } else if updated > self.updated || ready > self.ready {
            self.last_at = whole_seconds(now);
            (
                "True",
                "ReplicaSetUpdated",
                format!("ReplicaSet {rs:?} is progressing."),
            )
        } else if now > self.last_at + self.deadline {
            (
                "False",
                "ProgressDeadlineExceeded",
                format!("ReplicaSet {rs:?} has timed out progressing."),
            )
        } else {
            (
                "True",
                "ReplicaSetUpdated",
                format!("ReplicaSet {rs:?} is progressing."),
            )
        };
        (self.updated, self.ready) = (updated, ready);
        json!({"type": "Progressing", "status": status, "reason": reason, "message": message,
               "lastUpdateTime": humantime::format_rfc3339_seconds(self.last_at).to_string()})
    }
}

/// `t` without its fraction of a second (`metav1.Time` has whole seconds).
fn whole_seconds(t: SystemTime) -> SystemTime {
    let since = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    std::time::UNIX_EPOCH + Duration::from_secs(since.as_secs())
}

/// Docker volumes for a StatefulSet pod's volumeClaimTemplates (`<tmpl>-<pod>`), created when
/// missing and kept across syncs of the same app.
pub(super) async fn stateful_claims(
    inner: &Inner,
    key: &ObjectKey,
    obj: &Value,
    pod: &str,
) -> Result<BTreeMap<String, String>, Error> {
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
