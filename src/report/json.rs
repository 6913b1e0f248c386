//! The JSON report (`syncsim sync -o json`), a stable schema.
//!
//! ```json
//! {
//!   "schemaVersion": 1,
//!   "app": "local",
//!   "outcome": "Failed",            // Succeeded | Failed | TimedOut | Interrupted
//!   "exitCode": 1,
//!   "operation": {"phase": "Failed", "message": "…", "startedAt": "RFC 3339",
//!                 "finishedAt": "RFC 3339", "durationSeconds": 12.3,
//!                 "stepSeconds": 12.0, "betweenStepsSeconds": 0.3,
//!                 "waveDelaySeconds": 0, "argoDefaultWaveDelaySeconds": 10,
//!                 "predictedClusterSeconds": 31.2|null,
//!                 "readinessObservedWithinSeconds": 0.08|null,   // median bound, see SyncReport
//!                 "shortened": [{"what": "Job backoff", "count": 2,    // | "probe schedule" | "wave delay"
//!                                "rehearsedSeconds": 3, "clusterSeconds": 30,
//!                                "default": "Kubernetes re-creates a failed Job pod after 10s, …"}]},
//!   "steps": [{"phase": "Sync", "wave": 0, "status": "Succeeded",   // NotStarted|Running|Succeeded|Failed
//!              "startedAt": "…"|null, "finishedAt": "…"|null,
//!              "durationSeconds": 1.2|null}],                // finishedAt - startedAt
//!   "resources": [{"group": "apps", "version": "v1", "kind": "StatefulSet", "namespace": "shortlink",
//!                  "name": "postgres", "syncPhase": "Sync", "wave": 0, "hook": false,
//!                  "hookType": null, "status": "Synced"|null, "health": "Healthy"|null,
//!                  "hookPhase": "Succeeded"|null, "message": "…", "simulated": false,
//!                  "deletedByPolicy": "HookSucceeded"|null, "appliedAt": "…"|null,
//!                  "finishedAt": "…"|null,
//!                  "logTail": ["…"],          // every hook's log, its last --hook-log-bytes
//!                  "logTruncated": false,     // true: the head of the log was dropped
//!                  "healthMessage": "…"|null, "deletePolicies": ["HookSucceeded"],
//!                  "generateName": "…"|null, "origin": "file:line", "prune": false,
//!                  "durationSeconds": 1.5|null}]      // finishedAt - appliedAt
//! }
//! ```
//! Fields are only ever added; `schemaVersion` changes if one is removed or changes meaning.
use crate::engine::{Outcome, SyncReport};
use serde_json::{json, Value};
use std::time::{Duration, SystemTime};

pub const JSON_SCHEMA_VERSION: u32 = 1;

fn ts(base: SystemTime, d: Option<Duration>) -> Value {
    match d {
        Some(d) => json!(humantime::format_rfc3339_millis(base + d).to_string()),
        None => Value::Null,
    }
}

/// The report as JSON (see the module docs for the schema).
pub fn to_json(r: &SyncReport) -> Value {
    let outcome = match &r.outcome {
        Outcome::Succeeded => "Succeeded",
        Outcome::Failed => "Failed",
        Outcome::TimedOut { .. } => "TimedOut",
        Outcome::Interrupted => "Interrupted",
    };
    let steps: Vec<Value> = r
        .steps
        .iter()
        .map(|s| {
            json!({"phase": s.phase, "wave": s.wave, "status": s.status,
                   "startedAt": ts(r.started_at, s.started_at), "finishedAt": ts(r.started_at, s.finished_at),
                   "durationSeconds": match (s.started_at, s.finished_at) {
                       (Some(a), Some(f)) => json!(f.saturating_sub(a).as_secs_f64()),
                       _ => Value::Null,
                   }})
        })
        .collect();
    let resources: Vec<Value> = r
        .tasks
        .iter()
        .map(|t| {
            json!({
                "group": t.task.group(), "version": t.task.object.version(), "kind": t.task.kind(),
                "namespace": t.task.namespace(), "name": t.task.name(),
                "syncPhase": t.task.phase, "wave": t.task.wave, "hook": t.task.hook,
                "hookType": if t.task.hook { json!(t.task.phase) } else { Value::Null },
                "status": t.result.map(|r| r.as_str()),
                "health": t.health.as_ref().map(|h| format!("{:?}", h.status)),
                "hookPhase": t.hook_phase.map(|p| p.as_str()),
                "message": t.message, "simulated": t.simulated,
                "deletedByPolicy": t.deleted_by.map(|p| p.as_str()),
                "appliedAt": ts(r.started_at, t.applied_at), "finishedAt": ts(r.started_at, t.finished_at),
                "logTail": t.log_tail,
                "logTruncated": t.log_truncated,
                "healthMessage": t.health.as_ref().map(|h| h.message.as_str()).filter(|m| !m.is_empty()),
                "deletePolicies": t.task.delete_policies.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
                "generateName": t.task.object.generate_name(),
                "origin": t.task.object.origin.to_string(),
                "prune": t.prune,
                "durationSeconds": match (t.applied_at, t.finished_at) {
                    (Some(a), Some(f)) => json!(f.saturating_sub(a).as_secs_f64()),
                    _ => Value::Null,
                },
            })
        })
        .collect();
    json!({
        "schemaVersion": JSON_SCHEMA_VERSION,
        "app": r.app,
        "outcome": outcome,
        "exitCode": r.outcome.exit_code(),
        "operation": {
            "phase": r.phase.as_str(),
            "message": match &r.outcome {
                Outcome::TimedOut { waiting } => format!("Argo CD would still be Running: {waiting}"),
                _ => r.message.clone(),
            },
            "startedAt": humantime::format_rfc3339_millis(r.started_at).to_string(),
            "finishedAt": humantime::format_rfc3339_millis(r.finished_at).to_string(),
            "durationSeconds": r.duration.as_secs_f64(),
            "stepSeconds": r.step_time().as_secs_f64(),
            "betweenStepsSeconds": r.between_steps().as_secs_f64(),
            "waveDelaySeconds": r.wave_delay_total.as_secs_f64(),
            "argoDefaultWaveDelaySeconds": r.argo_default_wave_delay_total.as_secs_f64(),
            "predictedClusterSeconds": r.predicted_cluster_duration.map(|d| d.as_secs_f64()),
            "readinessObservedWithinSeconds": r.readiness_lag.map(|d| d.as_secs_f64()),
            "shortened": r.shortened.iter().map(|s| json!({
                "what": s.what, "count": s.count,
                "rehearsedSeconds": s.rehearsed.as_secs_f64(),
                "clusterSeconds": s.cluster.as_secs_f64(),
                "default": s.default,
            })).collect::<Vec<_>>(),
        },
        "steps": steps,
        "resources": resources,
    })
}
