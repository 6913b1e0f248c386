//! Read-only observation of a kept environment: the live `status` of a recorded object from
//! whether its recorded containers still run, without starting controllers (so `syncsim status`
//! never creates, restarts or removes anything).
use super::kinds::{has_controller, static_status, with_status};
use crate::state::ObjectRecord;
use serde_json::{json, Value};

/// The recorded object with the `status` a cluster would report now. `running(id)` says
/// whether a container is running. Workloads count a pod Ready when all its containers run;
/// finished Jobs and Pods keep their recorded status; other kinds get their static status.
pub fn observed_object(rec: &ObjectRecord, running: &dyn Fn(&str) -> bool) -> Value {
    with_status(rec.object.clone(), status_of(rec, running))
}

fn status_of(rec: &ObjectRecord, running: &dyn Fn(&str) -> bool) -> Option<Value> {
    if !has_controller(&rec.group, &rec.kind) {
        return static_status(&rec.group, &rec.kind, &rec.object);
    }
    let phase = rec
        .status
        .as_ref()
        .and_then(|s| s.get("phase"))
        .and_then(Value::as_str);
    if rec.kind == "Job" || (rec.kind == "Pod" && matches!(phase, Some("Succeeded" | "Failed"))) {
        return rec.status.clone();
    }
    let ready = rec
        .pods
        .iter()
        .filter(|p| !p.containers.is_empty() && p.containers.iter().all(|c| running(&c.id)))
        .count() as i64;
    let pods = rec.pods.len() as i64;
    let replicas = rec
        .object
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    Some(match rec.kind.as_str() {
        "Pod" => json!({
            "phase": if ready == 1 { "Running" } else { "Pending" },
            "conditions": [{"type": "Ready", "status": if ready == 1 { "True" } else { "False" }}],
        }),
        "StatefulSet" => json!({
            "observedGeneration": 1, "replicas": pods, "readyReplicas": ready,
            "currentReplicas": pods, "updatedReplicas": pods,
            "currentRevision": format!("{}-1", rec.name), "updateRevision": format!("{}-1", rec.name),
        }),
        "DaemonSet" => json!({
            "observedGeneration": 1, "desiredNumberScheduled": 1, "currentNumberScheduled": pods,
            "updatedNumberScheduled": pods, "numberReady": ready, "numberAvailable": ready,
        }),
        _ => json!({
            "observedGeneration": 1, "replicas": pods.max(replicas), "updatedReplicas": pods,
            "readyReplicas": ready, "availableReplicas": ready,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        health::{assess, HealthStatus},
        state::{ContainerRecord, PodRecord},
    };

    fn rec(kind: &str, group: &str, status: Option<Value>, ids: &[&str]) -> ObjectRecord {
        ObjectRecord {
            group: group.into(),
            kind: kind.into(),
            namespace: "d".into(),
            name: "x".into(),
            hook: false,
            spec_hash: String::new(),
            object: json!({"apiVersion": if group.is_empty() { "v1".to_string() } else { format!("{group}/v1") },
                           "kind": kind, "metadata": {"name": "x"}, "spec": {"replicas": 1}}),
            status,
            pods: vec![PodRecord {
                name: "x-0".into(),
                containers: ids
                    .iter()
                    .map(|id| ContainerRecord {
                        name: "c".into(),
                        id: id.to_string(),
                    })
                    .collect(),
                ..PodRecord::default()
            }],
            volume: None,
        }
    }

    fn health(r: &ObjectRecord, running: &dyn Fn(&str) -> bool) -> HealthStatus {
        assess(&observed_object(r, running))
            .unwrap()
            .unwrap()
            .status
    }

    #[test]
    fn workload_is_healthy_only_while_its_containers_run() {
        let sts = rec("StatefulSet", "apps", None, &["a"]);
        assert_eq!(health(&sts, &|_| true), HealthStatus::Healthy);
        assert_eq!(health(&sts, &|_| false), HealthStatus::Progressing);
        let dep = rec("Deployment", "apps", None, &["a"]);
        assert_eq!(health(&dep, &|_| true), HealthStatus::Healthy);
        assert_eq!(health(&dep, &|_| false), HealthStatus::Progressing);
    }

    #[test]
    fn finished_job_keeps_its_recorded_status_and_pvc_is_bound() {
        let done = json!({"conditions": [{"type": "Complete", "status": "True"}]});
        let job = rec("Job", "batch", Some(done), &["gone"]);
        assert_eq!(health(&job, &|_| false), HealthStatus::Healthy);
        let pvc = rec("PersistentVolumeClaim", "", None, &[]);
        assert_eq!(health(&pvc, &|_| false), HealthStatus::Healthy);
    }
}
