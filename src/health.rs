//! Argo CD health assessment (ARGO-SEMANTICS.md §5), pure.
//! PROVISIONAL minimal version for the engine; replaced by the full implementation on merge.
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum HealthStatus {
    Healthy,
    Suspended,
    Progressing,
    Missing,
    Degraded,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Health {
    pub status: HealthStatus,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct HealthError(pub String);

fn h(status: HealthStatus, m: &str) -> Option<Health> {
    Some(Health {
        status,
        message: m.into(),
    })
}

pub fn assess(live: &Value) -> Result<Option<Health>, HealthError> {
    let kind = live.get("kind").and_then(Value::as_str).unwrap_or("");
    let av = live.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let i = |p: &str| live.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    Ok(match (av, kind) {
        ("batch/v1", "Job") => {
            let conds = live
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if conds.iter().any(|c| c["type"] == "Failed") {
                h(HealthStatus::Degraded, "failed")
            } else if conds.iter().any(|c| c["type"] == "Complete") {
                h(HealthStatus::Healthy, "")
            } else {
                h(HealthStatus::Progressing, "")
            }
        }
        ("apps/v1", "Deployment") => {
            let conds = live
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if conds
                .iter()
                .any(|c| c["reason"] == "ProgressDeadlineExceeded")
            {
                h(HealthStatus::Degraded, "")
            } else if i("/status/availableReplicas") < i("/status/updatedReplicas") {
                h(HealthStatus::Progressing, "")
            } else {
                h(HealthStatus::Healthy, "")
            }
        }
        ("apps/v1", "StatefulSet") => {
            if i("/status/readyReplicas")
                < live
                    .pointer("/spec/replicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(1)
            {
                h(HealthStatus::Progressing, "")
            } else {
                h(HealthStatus::Healthy, "")
            }
        }
        (_, "Deployment") | (_, "StatefulSet") => h(HealthStatus::Unknown, "unsupported"),
        ("v1", "Pod") => match live.pointer("/status/phase").and_then(Value::as_str) {
            Some("Succeeded") => h(HealthStatus::Healthy, ""),
            Some("Failed") => h(HealthStatus::Degraded, ""),
            _ => h(HealthStatus::Progressing, ""),
        },
        _ => None,
    })
}
