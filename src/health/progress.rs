//! When a Deployment that stopped progressing turns Degraded on its own (§5.4).
//!
//! Kubernetes' deployment controller keeps a `Progressing` condition whose `lastUpdateTime`
//! moves whenever the rollout makes progress (new replicas updated, old ones scaled down, more
//! ready or available). Once `spec.progressDeadlineSeconds` passes after that time without
//! progress, it sets `reason: ProgressDeadlineExceeded`, and Argo CD's health check reads the
//! Deployment as Degraded, which fails a sync that waits for it. [`progress_deadline`] reads that
//! moment from a live Deployment, so that syncsim never stops waiting before it.
use serde_json::Value;
use std::time::{Duration, SystemTime};

/// Kubernetes' default `spec.progressDeadlineSeconds` (set by the API server's defaulting).
pub const DEFAULT_PROGRESS_DEADLINE_SECONDS: u64 = 600;

/// When the deployment controller would mark `live` (a Deployment with a status) as
/// `ProgressDeadlineExceeded` if it makes no further progress; `None` when it never will: not a
/// Deployment, paused, complete, already timed out, or without a `Progressing` condition to
/// count from.
pub fn progress_deadline(live: &Value) -> Option<SystemTime> {
    if live.get("kind").and_then(Value::as_str) != Some("Deployment") {
        return None;
    }
    if live.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    let seconds = match live.pointer("/spec/progressDeadlineSeconds") {
        None | Some(Value::Null) => DEFAULT_PROGRESS_DEADLINE_SECONDS,
        Some(v) => v.as_u64()?,
    };
    let progressing = live
        .pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some("Progressing"))?;
    let reason = progressing.get("reason").and_then(Value::as_str);
    if matches!(
        reason,
        Some("NewReplicaSetAvailable" | "ProgressDeadlineExceeded")
    ) {
        return None;
    }
    let from = progressing.get("lastUpdateTime").and_then(Value::as_str)?;
    let from = humantime::parse_rfc3339_weak(from).ok()?;
    Some(from + Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    //! The rules of `DeploymentTimedOut` in Kubernetes'
    //! pkg/controller/deployment/util/deployment_util.go.
    use super::*;
    use serde_json::json;
    use test_case::test_case;

    fn deployment(spec: Value, reason: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": spec,
            "status": {"conditions": [
                {"type": "Available", "status": "False", "lastUpdateTime": "2026-01-01T00:00:00Z"},
                {"type": "Progressing", "status": "True", "reason": reason,
                 "lastUpdateTime": "2026-01-01T00:10:00Z"},
            ]},
        })
    }

    fn at(s: &str) -> SystemTime {
        humantime::parse_rfc3339(s).unwrap()
    }

    #[test_case(json!({"progressDeadlineSeconds": 30}), "ReplicaSetUpdated", Some("2026-01-01T00:10:30Z"); "counted from the last progress")]
    #[test_case(json!({}), "NewReplicaSetCreated", Some("2026-01-01T00:20:00Z"); "600 s when unset")]
    #[test_case(json!({"progressDeadlineSeconds": 30}), "NewReplicaSetAvailable", None; "a complete rollout never times out")]
    #[test_case(json!({"progressDeadlineSeconds": 30}), "ProgressDeadlineExceeded", None; "already timed out")]
    #[test_case(json!({"progressDeadlineSeconds": 30, "paused": true}), "ReplicaSetUpdated", None; "a paused Deployment is not checked")]
    fn deadline(spec: Value, reason: &str, want: Option<&str>) {
        assert_eq!(progress_deadline(&deployment(spec, reason)), want.map(at));
    }

    #[test]
    fn other_kinds_and_objects_without_the_condition_have_none() {
        let mut sts = deployment(json!({}), "ReplicaSetUpdated");
        sts["kind"] = json!("StatefulSet");
        assert_eq!(progress_deadline(&sts), None);
        let bare = json!({"kind": "Deployment", "spec": {}, "status": {}});
        assert_eq!(progress_deadline(&bare), None);
    }
}
