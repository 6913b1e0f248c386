//! The built-in checks of §5.3, one function per kind. Each reads the live object through
//! [`Obj`], applies its rules in order (first match wins) and returns Argo CD's status and message.
use super::assess::{condition, Condition, Health, HealthError, HealthStatus, Obj};
use HealthStatus::{Degraded, Healthy, Progressing, Suspended, Unknown};

type Checked = Result<Health, HealthError>;

fn h(status: HealthStatus, message: impl Into<String>) -> Checked {
    Ok(Health::new(status, message))
}

fn find<'c>(conditions: &'c [Condition], type_: &str) -> Option<&'c Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

pub(super) fn deployment(o: &Obj) -> Checked {
    o.require_version(&["v1"])?;
    if o.bool(&["spec", "paused"])? {
        return h(Suspended, "Deployment is paused");
    }
    if o.int(&["metadata", "generation"])? > o.int(&["status", "observedGeneration"])? {
        return h(
            Progressing,
            "Waiting for rollout to finish: observed deployment generation less than desired generation",
        );
    }
    let conditions = o.conditions(&["status", "conditions"])?;
    let replicas = o.opt_int(&["spec", "replicas"])?;
    let status_replicas = o.int(&["status", "replicas"])?;
    let updated = o.int(&["status", "updatedReplicas"])?;
    let available = o.int(&["status", "availableReplicas"])?;
    if find(&conditions, "Progressing").is_some_and(|c| c.reason == "ProgressDeadlineExceeded") {
        return h(
            Degraded,
            format!("Deployment {:?} exceeded its progress deadline", o.name),
        );
    }
    if let Some(replicas) = replicas.filter(|r| updated < *r) {
        return h(
            Progressing,
            format!(
                "Waiting for rollout to finish: {updated} out of {replicas} new replicas have been updated..."
            ),
        );
    }
    if status_replicas > updated {
        return h(
            Progressing,
            format!(
                "Waiting for rollout to finish: {} old replicas are pending termination...",
                status_replicas - updated
            ),
        );
    }
    if available < updated {
        return h(
            Progressing,
            format!("Waiting for rollout to finish: {available} of {updated} updated replicas are available..."),
        );
    }
    h(Healthy, "")
}

pub(super) fn statefulset(o: &Obj) -> Checked {
    o.require_version(&["v1"])?;
    let observed = o.int(&["status", "observedGeneration"])?;
    if observed == 0 || o.int(&["metadata", "generation"])? > observed {
        return h(
            Progressing,
            "Waiting for statefulset spec update to be observed...",
        );
    }
    let replicas = o.opt_int(&["spec", "replicas"])?;
    let ready = o.int(&["status", "readyReplicas"])?;
    let updated = o.int(&["status", "updatedReplicas"])?;
    if let Some(replicas) = replicas.filter(|r| ready < *r) {
        return h(
            Progressing,
            format!("Waiting for {} pods to be ready...", replicas - ready),
        );
    }
    let strategy = o.str(&["spec", "updateStrategy", "type"])?;
    if strategy == "RollingUpdate"
        && o.get(&["spec", "updateStrategy", "rollingUpdate"])
            .is_some()
    {
        let partition = o.opt_int(&["spec", "updateStrategy", "rollingUpdate", "partition"])?;
        if let (Some(replicas), Some(partition)) = (replicas, partition) {
            if updated < replicas - partition {
                return h(
                    Progressing,
                    format!(
                        "Waiting for partitioned roll out to finish: {updated} out of {} new pods have been updated...",
                        replicas - partition
                    ),
                );
            }
        }
        return h(
            Healthy,
            format!("partitioned roll out complete: {updated} new pods have been updated..."),
        );
    }
    if strategy == "OnDelete" {
        return h(Healthy, format!("statefulset has {ready} ready pods"));
    }
    let update_revision = o.str(&["status", "updateRevision"])?;
    let current_revision = o.str(&["status", "currentRevision"])?;
    if update_revision != current_revision {
        return h(
            Progressing,
            format!(
                "waiting for statefulset rolling update to complete {updated} pods at revision {update_revision}..."
            ),
        );
    }
    h(
        Healthy,
        format!(
            "statefulset rolling update complete {} pods at revision {current_revision}...",
            o.int(&["status", "currentReplicas"])?
        ),
    )
}

pub(super) fn daemonset(o: &Obj) -> Checked {
    o.require_version(&["v1"])?;
    if o.int(&["metadata", "generation"])? > o.int(&["status", "observedGeneration"])? {
        return h(
            Progressing,
            "Waiting for rollout to finish: observed daemon set generation less than desired generation",
        );
    }
    let updated = o.int(&["status", "updatedNumberScheduled"])?;
    let desired = o.int(&["status", "desiredNumberScheduled"])?;
    let available = o.int(&["status", "numberAvailable"])?;
    if o.str(&["spec", "updateStrategy", "type"])? == "OnDelete" {
        return h(
            Healthy,
            format!("daemon set {updated} out of {desired} new pods have been updated"),
        );
    }
    if updated < desired {
        return h(
            Progressing,
            format!(
                "Waiting for daemon set {:?} rollout to finish: {updated} out of {desired} new pods have been updated...",
                o.name
            ),
        );
    }
    if available < desired {
        return h(
            Progressing,
            format!(
                "Waiting for daemon set {:?} rollout to finish: {available} of {desired} updated pods are available...",
                o.name
            ),
        );
    }
    h(Healthy, "")
}

pub(super) fn replicaset(o: &Obj) -> Checked {
    o.require_version(&["v1"])?;
    if o.int(&["metadata", "generation"])? > o.int(&["status", "observedGeneration"])? {
        return h(
            Progressing,
            "Waiting for rollout to finish: observed replica set generation less than desired generation",
        );
    }
    let conditions = o.conditions(&["status", "conditions"])?;
    if let Some(c) = find(&conditions, "ReplicaFailure").filter(|c| c.status == "True") {
        return h(Degraded, c.message.clone());
    }
    let available = o.int(&["status", "availableReplicas"])?;
    if let Some(replicas) = o.opt_int(&["spec", "replicas"])?.filter(|r| available < *r) {
        return h(
            Progressing,
            format!("Waiting for rollout to finish: {available} out of {replicas} new replicas are available..."),
        );
    }
    h(Healthy, "")
}

/// Annotation (newer than v3.5) that makes a non-hook Pod with restartPolicy Never/OnFailure
/// count as long-running.
const IGNORE_RESTART_POLICY: &str = "argocd.argoproj.io/ignore-restart-policy";

/// Whether the object is an Argo CD (or Helm) hook: it carries either's hook annotation.
pub fn is_hook(value: &serde_json::Value) -> bool {
    let ann = |k: &str| {
        value
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(k))
            .is_some()
    };
    ann("argocd.argoproj.io/hook") || ann("helm.sh/hook")
}

pub(super) fn pod(o: &Obj) -> Checked {
    o.require_version(&["v1"])?;
    // A live Pod always has a restartPolicy (the API server defaults it to Always); treat a
    // missing one the same way.
    let restart_policy = o.opt_str(&["spec", "restartPolicy"])?.unwrap_or("Always");
    let ignore_restart_policy = !is_hook(o.value)
        && o.opt_str(&["metadata", "annotations", IGNORE_RESTART_POLICY])? == Some("true");
    let long_running = restart_policy == "Always" || ignore_restart_policy;
    let message = o.str(&["status", "message"])?.to_string();

    // Init containers are deliberately not inspected here (as in Argo CD).
    let statuses = o.list(&["status", "containerStatuses"])?;
    if long_running {
        let mut messages = Vec::new();
        for cs in statuses {
            let cs = Obj { value: cs, ..*o };
            if let Some(reason) = cs.opt_str(&["state", "waiting", "reason"])? {
                if reason.starts_with("Err")
                    || reason.ends_with("Error")
                    || reason.ends_with("BackOff")
                {
                    messages.push(cs.str(&["state", "waiting", "message"])?.to_string());
                }
            }
        }
        if !messages.is_empty() {
            return h(Degraded, messages.join(", "));
        }
    }

    match o.str(&["status", "phase"])? {
        "Pending" => h(Progressing, message),
        "Succeeded" => h(Healthy, message),
        "Failed" => {
            if !message.is_empty() {
                return h(Degraded, message);
            }
            let init = o.list(&["status", "initContainerStatuses"])?;
            for cs in init.iter().chain(statuses) {
                let cs = Obj { value: cs, ..*o };
                if cs.get(&["state", "terminated"]).is_none() {
                    continue;
                }
                let msg = cs.str(&["state", "terminated", "message"])?;
                if !msg.is_empty() {
                    return h(Degraded, msg);
                }
                if cs.str(&["state", "terminated", "reason"])? == "OOMKilled" {
                    return h(Degraded, "OOMKilled");
                }
                let code = cs.int(&["state", "terminated", "exitCode"])?;
                if code != 0 {
                    let name = cs.str(&["name"])?;
                    return h(
                        Degraded,
                        format!("container {name:?} failed with exit code {code}"),
                    );
                }
            }
            h(Degraded, "")
        }
        "Running" if long_running => {
            let conditions = o.conditions(&["status", "conditions"])?;
            if find(&conditions, "Ready").is_some_and(|c| c.status == "True") {
                return h(Healthy, message);
            }
            for cs in statuses {
                let cs = Obj { value: cs, ..*o };
                if cs.get(&["lastState", "terminated"]).is_some() {
                    return h(Degraded, message);
                }
            }
            h(Progressing, message)
        }
        // Never/OnFailure pods run to completion like a Job: typically hooks.
        "Running" if matches!(restart_policy, "Never" | "OnFailure") => h(Progressing, message),
        _ => h(Unknown, message),
    }
}

pub(super) fn job(o: &Obj) -> Checked {
    o.require_version(&["v1"])?;
    let (mut failed, mut complete, mut suspended) = (false, false, false);
    let (mut fail_msg, mut message) = (String::new(), String::new());
    // The conditions' `status` is not checked, except for Suspended (Argo CD's quirk).
    for c in o.conditions(&["status", "conditions"])? {
        match c.type_.as_str() {
            "Failed" => {
                failed = true;
                complete = true;
                fail_msg = c.message;
            }
            "Complete" => {
                complete = true;
                message = c.message;
            }
            "Suspended" => {
                complete = true;
                suspended |= c.status == "True";
                message = c.message;
            }
            _ => {}
        }
    }
    if !complete {
        h(Progressing, message)
    } else if failed {
        h(Degraded, fail_msg)
    } else if suspended {
        h(Suspended, fail_msg)
    } else {
        h(Healthy, message)
    }
}

pub(super) fn pvc(o: &Obj) -> Checked {
    o.require_version(&["v1"])?;
    match o.str(&["status", "phase"])? {
        "Lost" => h(Degraded, ""),
        "Pending" => h(Progressing, ""),
        "Bound" => h(Healthy, ""),
        _ => h(Unknown, ""),
    }
}

pub(super) fn service(o: &Obj) -> Checked {
    o.require_version(&["v1"])?;
    if o.str(&["spec", "type"])? == "LoadBalancer"
        && o.list(&["status", "loadBalancer", "ingress"])?.is_empty()
    {
        return h(Progressing, "");
    }
    h(Healthy, "")
}

pub(super) fn ingress(o: &Obj) -> Checked {
    if o.list(&["status", "loadBalancer", "ingress"])?.is_empty() {
        h(Progressing, "")
    } else {
        h(Healthy, "")
    }
}

pub(super) fn apiservice(o: &Obj) -> Checked {
    o.require_version(&["v1", "v1beta1"])?;
    if let Some(c) = find(&o.conditions(&["status", "conditions"])?, "Available") {
        let message = format!("{}: {}", c.reason, c.message);
        return h(
            if c.status == "True" {
                Healthy
            } else {
                Progressing
            },
            message,
        );
    }
    h(Progressing, "Waiting to be processed")
}

const HPA_DEGRADED: &[(&str, &str)] = &[
    ("AbleToScale", "FailedGetScale"),
    ("AbleToScale", "FailedUpdateScale"),
    ("ScalingActive", "FailedGetResourceMetric"),
    ("ScalingActive", "FailedGetObjectMetric"),
    ("ScalingActive", "FailedGetPodsMetric"),
    ("ScalingActive", "FailedGetExternalMetric"),
    ("ScalingActive", "FailedComputeMetricsReplicas"),
    ("ScalingActive", "InvalidSelector"),
];

pub(super) fn hpa(o: &Obj) -> Checked {
    o.require_version(&["v1", "v2"])?;
    let conditions = if o.version() == "v1" {
        let key = "autoscaling.alpha.kubernetes.io/conditions";
        let Some(raw) = o.opt_str(&["metadata", "annotations", key])? else {
            return h(Progressing, "Waiting to Autoscale");
        };
        let list: Vec<serde_json::Value> =
            serde_json::from_str(raw).map_err(|source| HealthError::HpaConditionsAnnotation {
                name: o.name.to_string(),
                source,
            })?;
        list.iter()
            .map(|c| {
                condition(c).ok_or_else(|| HealthError::InvalidField {
                    kind: o.kind.to_string(),
                    name: o.name.to_string(),
                    field: format!("metadata.annotations.{key}"),
                    expected: "a list of conditions",
                })
            })
            .collect::<Result<Vec<_>, _>>()?
    } else {
        o.conditions(&["status", "conditions"])?
    };
    let degraded = conditions.iter().find(|c| {
        HPA_DEGRADED
            .iter()
            .any(|(t, r)| c.type_ == *t && c.reason == *r)
    });
    if let Some(c) = degraded {
        return h(Degraded, c.message.clone());
    }
    let healthy = conditions.iter().find(|c| {
        matches!(c.type_.as_str(), "AbleToScale" | "ScalingLimited") && c.status == "True"
    });
    if let Some(c) = healthy {
        return h(Healthy, c.message.clone());
    }
    h(Progressing, "Waiting to Autoscale")
}

pub(super) fn workflow(o: &Obj) -> Checked {
    let message = o.str(&["status", "message"])?.to_string();
    match o.str(&["status", "phase"])? {
        "" | "Pending" | "Running" => h(Progressing, message),
        "Succeeded" => h(Healthy, message),
        "Failed" | "Error" => h(Degraded, message),
        _ => h(Unknown, message),
    }
}

/// Argo CD's built-in Lua health script for `batch/CronJob`, ported.
pub(super) fn cronjob(o: &Obj) -> Checked {
    if o.bool(&["spec", "suspend"])? {
        return h(Healthy, "CronJob is Suspended");
    }
    if o.get(&["status"]).is_none() {
        return h(Progressing, "Waiting for CronJob");
    }
    let Some(last_schedule) = o.opt_str(&["status", "lastScheduleTime"])? else {
        return h(Healthy, "CronJob has not been scheduled yet");
    };
    let Some(last_success) = o.opt_str(&["status", "lastSuccessfulTime"])? else {
        return h(
            Healthy,
            "The Cronjob never completed succesfully. It may not be healthy",
        );
    };
    if !o.list(&["status", "active"])?.is_empty() {
        return h(
            Healthy,
            "The job is running. Its last execution may not have been successful",
        );
    }
    // RFC 3339 UTC timestamps compare correctly as strings (the Lua script compares strings too).
    if last_success < last_schedule {
        return h(
            Degraded,
            "CronJob has not completed its last execution successfully",
        );
    }
    h(
        Healthy,
        "CronJob has completed its last execution successfully",
    )
}
