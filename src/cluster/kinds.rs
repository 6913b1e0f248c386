//! The kind table of the simulated cluster (pure): which kinds are realised as containers, which
//! are only recorded, what the API server fills in, what a kind's fixed status is, and what
//! applying over an existing object does.
use crate::manifest::Object;
use serde_json::{json, Value};

/// Kinds realised as containers.
pub(crate) fn has_controller(group: &str, kind: &str) -> bool {
    matches!(
        (group, kind),
        (
            "apps",
            "Deployment" | "StatefulSet" | "ReplicaSet" | "DaemonSet"
        ) | ("", "Pod")
            | ("batch", "Job")
    )
}

/// Kinds that have no effect on Docker at all (only recorded): everything but workloads,
/// ConfigMaps and Secrets (files in pods), Services (DNS aliases) and PVCs (volumes).
pub(super) fn only_recorded(group: &str, kind: &str) -> bool {
    !has_controller(group, kind)
        && !matches!(
            (group, kind),
            (
                "",
                "ConfigMap" | "Secret" | "Service" | "PersistentVolumeClaim"
            )
        )
}

/// kubectl's resource name: `deployment.apps`, `service`, `job.batch`.
pub(super) fn resource_name(group: &str, kind: &str) -> String {
    let k = kind.to_lowercase();
    if group.is_empty() {
        k
    } else {
        format!("{k}.{group}")
    }
}

/// A target object as the simulated API server stores it when applied (defaults filled in, no
/// `status`): what a kept environment's record is compared with.
pub fn applied_form(obj: &Object) -> Value {
    spec_of(&with_defaults(obj.group(), obj.kind(), obj.value.clone()))
}

/// The object without `status`, for "unchanged" comparison. The store holds objects as applied
/// (server-set metadata such as `generation` is only added to what [`with_status`] returns), so
/// there is no server-set metadata to strip here; metadata the manifest itself carries is
/// compared like any other field.
pub(super) fn spec_of(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    v
}

/// The API server's defaulting that health checks depend on: `spec.replicas` is 1 when absent.
pub(super) fn with_defaults(group: &str, kind: &str, mut v: Value) -> Value {
    if group == "apps" && matches!(kind, "Deployment" | "StatefulSet" | "ReplicaSet") {
        if let Some(spec) = v.get_mut("spec").and_then(Value::as_object_mut) {
            spec.entry("replicas").or_insert(json!(1));
        }
    }
    v
}

/// The live object as the cluster reports it: the stored object with `status` and, since our
/// controllers observe every generation they are given, `metadata.generation: 1`. Without a
/// status the object is returned as stored.
pub(crate) fn with_status(mut obj: Value, status: Option<Value>) -> Value {
    if let (Some(s), Some(o)) = (status, obj.as_object_mut()) {
        o.insert("status".into(), s);
        if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("generation".into(), json!(1));
        }
    }
    obj
}

/// Status for kinds that have no controller here: what a healthy cluster would report.
pub(crate) fn static_status(group: &str, kind: &str, obj: &Value) -> Option<Value> {
    match (group, kind) {
        ("", "PersistentVolumeClaim") => Some(json!({"phase": "Bound"})),
        ("", "Service")
            if obj.pointer("/spec/type").and_then(Value::as_str) == Some("LoadBalancer") =>
        {
            Some(json!({"loadBalancer": {"ingress": [{"ip": "127.0.0.1"}]}}))
        }
        ("networking.k8s.io" | "extensions", "Ingress") => {
            Some(json!({"loadBalancer": {"ingress": [{"ip": "127.0.0.1"}]}}))
        }
        ("apiregistration.k8s.io", "APIService") => {
            Some(json!({"conditions": [{"type": "Available", "status": "True"}]}))
        }
        ("autoscaling", "HorizontalPodAutoscaler") => Some(
            json!({"conditions": [{"type": "AbleToScale", "status": "True", "reason": "SucceededRescale"}]}),
        ),
        ("batch", "CronJob") => Some(json!({})),
        _ => None,
    }
}

/// A Deployment rolls (surge, then remove old pods) unless its strategy is `Recreate`.
fn rolling(obj: &Value) -> bool {
    obj.pointer("/spec/strategy/type").and_then(Value::as_str) != Some("Recreate")
}

/// What applying an object does, given what the store holds under its key (§6.2, §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Update {
    /// Nothing under the key: create it.
    Create,
    /// Same object (status aside) and nothing lost: `unchanged`.
    Unchanged,
    /// Same object, but a pod lost a container (drift): re-create what realises it.
    RepairDrift,
    /// Changed: delete what realises the old object, then create the new one (a workload that
    /// does not roll; a StatefulSet's claims stay).
    Recreate,
    /// Changed, updated in place: records keep their volume, a Job its pods and status.
    InPlace,
    /// A Deployment's RollingUpdate: the new pods start now, the old ones go once they are Ready.
    Rolling,
}

/// Classifies an apply of `new` (already defaulted, see [`with_defaults`]) over `existing`:
/// the stored object's [`spec_of`] and whether one of its pods lost a container. Updates the
/// API server refuses (immutable fields, [`crate::apiserver::update_action`]) never get here.
pub(super) fn update(
    group: &str,
    kind: &str,
    existing: Option<(&Value, bool)>,
    new: &Value,
) -> Update {
    let is_job = (group, kind) == ("batch", "Job");
    match existing {
        None => Update::Create,
        Some((old, lost)) if *old == spec_of(new) => {
            if lost {
                Update::RepairDrift
            } else {
                Update::Unchanged
            }
        }
        Some(_) if is_job || !has_controller(group, kind) => Update::InPlace,
        Some(_) if kind == "Deployment" && rolling(new) => Update::Rolling,
        Some(_) => Update::Recreate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Origin;

    fn object(v: Value) -> Object {
        let origin = Origin {
            file: "t.yaml".into(),
            document: 0,
            line: None,
        };
        Object::new(v, origin)
    }

    #[test]
    fn workloads_have_controllers_and_other_kinds_are_recorded_or_realised() {
        for (g, k) in [
            ("apps", "Deployment"),
            ("apps", "StatefulSet"),
            ("apps", "ReplicaSet"),
            ("apps", "DaemonSet"),
            ("", "Pod"),
            ("batch", "Job"),
        ] {
            assert!(has_controller(g, k) && !only_recorded(g, k), "{g}/{k}");
        }
        for k in ["ConfigMap", "Secret", "Service", "PersistentVolumeClaim"] {
            assert!(!has_controller("", k) && !only_recorded("", k), "{k}");
        }
        for (g, k) in [
            ("batch", "CronJob"),
            ("networking.k8s.io", "Ingress"),
            ("rbac.authorization.k8s.io", "Role"),
            ("", "ServiceAccount"),
            // A Deployment outside `apps` is not ours to run.
            ("example.com", "Deployment"),
        ] {
            assert!(!has_controller(g, k) && only_recorded(g, k), "{g}/{k}");
        }
    }

    #[test]
    fn resource_names_are_kubectls() {
        assert_eq!(resource_name("apps", "Deployment"), "deployment.apps");
        assert_eq!(resource_name("", "Service"), "service");
        assert_eq!(resource_name("batch", "Job"), "job.batch");
    }

    #[test]
    fn applied_form_defaults_replicas_and_drops_status() {
        let d = object(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"}, "spec": {"template": {}}, "status": {"replicas": 3}}));
        assert_eq!(
            applied_form(&d),
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web"}, "spec": {"template": {}, "replicas": 1}})
        );
        let explicit = object(json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "db"}, "spec": {"replicas": 0}}));
        assert_eq!(
            applied_form(&explicit).pointer("/spec/replicas"),
            Some(&json!(0))
        );
        // Only apps workloads are defaulted.
        let job = object(json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "m"}, "spec": {}}));
        assert_eq!(applied_form(&job).pointer("/spec/replicas"), None);
    }

    #[test]
    fn manifest_metadata_is_part_of_the_compared_form() {
        let a = json!({"kind": "ConfigMap", "metadata": {"name": "c", "labels": {"v": "1"}}});
        let b = json!({"kind": "ConfigMap", "metadata": {"name": "c", "labels": {"v": "2"}}});
        assert_ne!(spec_of(&a), spec_of(&b));
    }

    #[test]
    fn the_live_object_carries_status_and_generation() {
        let obj = json!({"kind": "Deployment", "metadata": {"name": "web"}});
        let live = with_status(obj.clone(), Some(json!({"readyReplicas": 1})));
        assert_eq!(live["status"], json!({"readyReplicas": 1}));
        assert_eq!(live["metadata"]["generation"], json!(1));
        assert_eq!(with_status(obj.clone(), None), obj);
    }

    #[test]
    fn static_statuses_are_a_healthy_clusters() {
        let svc = |t: &str| json!({"spec": {"type": t}});
        assert_eq!(
            static_status("", "PersistentVolumeClaim", &json!({})),
            Some(json!({"phase": "Bound"}))
        );
        assert!(static_status("", "Service", &svc("LoadBalancer")).is_some());
        assert_eq!(static_status("", "Service", &svc("ClusterIP")), None);
        assert!(static_status("networking.k8s.io", "Ingress", &json!({})).is_some());
        assert_eq!(
            static_status("batch", "CronJob", &json!({})),
            Some(json!({}))
        );
        assert_eq!(static_status("", "ConfigMap", &json!({})), None);
    }

    fn job(template: &str, parallelism: i64) -> Value {
        json!({"kind": "Job", "spec": {"parallelism": parallelism,
            "template": {"spec": {"containers": [{"name": "m", "image": template}]}}}})
    }

    #[test]
    fn what_counts_as_a_change() {
        let cm = json!({"kind": "ConfigMap", "data": {"a": "1"}});
        let mut with_status = cm.clone();
        with_status["status"] = json!({"x": 1});
        let stored = spec_of(&with_status);
        // Status is not part of the comparison.
        assert_eq!(
            update("", "ConfigMap", Some((&stored, false)), &cm),
            Update::Unchanged
        );
        assert_eq!(update("", "ConfigMap", None, &cm), Update::Create);
        let changed = json!({"kind": "ConfigMap", "data": {"a": "2"}});
        assert_eq!(
            update("", "ConfigMap", Some((&stored, false)), &changed),
            Update::InPlace
        );
        // A lost container makes an unchanged workload drift.
        let pod = json!({"kind": "Pod", "spec": {}});
        assert_eq!(
            update("", "Pod", Some((&pod, true)), &pod),
            Update::RepairDrift
        );
    }

    #[test]
    fn jobs_update_in_place_once_the_api_server_let_the_change_through() {
        let old = spec_of(&job("m:1", 1));
        assert_eq!(
            update("batch", "Job", Some((&old, false)), &job("m:1", 2)),
            Update::InPlace
        );
    }

    #[test]
    fn deployments_roll_unless_recreate_and_other_workloads_are_recreated() {
        let old = json!({"kind": "Deployment", "spec": {"replicas": 1}});
        let new = json!({"kind": "Deployment", "spec": {"replicas": 2}});
        assert_eq!(
            update("apps", "Deployment", Some((&old, false)), &new),
            Update::Rolling
        );
        let recreate = json!({"kind": "Deployment", "spec": {"replicas": 2, "strategy": {"type": "Recreate"}}});
        assert_eq!(
            update("apps", "Deployment", Some((&old, false)), &recreate),
            Update::Recreate
        );
        let sts = json!({"kind": "StatefulSet", "spec": {"replicas": 2}});
        assert_eq!(
            update("apps", "StatefulSet", Some((&old, false)), &sts),
            Update::Recreate
        );
    }
}
