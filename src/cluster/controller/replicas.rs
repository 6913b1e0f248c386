//! Deployments, ReplicaSets, DaemonSets, Pods and StatefulSets: keep the replicas running.
use super::{
    template::{int_at, pod_input, suffix},
    PodSink,
};
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
use std::{collections::BTreeMap, sync::Arc, time::Duration};
use tokio::time::Instant;

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
        kubelet::sleep_until_due(&inner, &pods).await;
    }
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
