//! A scripted in-memory [`Cluster`] for engine tests: no Docker, deterministic under
//! `#[tokio::test(start_paused = true)]`.
//!
//! Each object's behaviour after apply is scripted by name; `get` synthesises a live object with
//! a Kubernetes-like `status` from the time elapsed since its apply, so health is assessed by
//! the real [`crate::health`] code.
//!
//! ```
//! # use syncsim::engine::fake::{FakeCluster, Script};
//! # use std::time::Duration;
//! let cluster = FakeCluster::new()
//!     .script("postgres", Script::ready_after(Duration::from_secs(3)))
//!     .script("flyway-shortlink", Script::fails_after(Duration::from_secs(1)));
//! ```
use super::cluster::{ApplyOutcome, Cluster, ClusterError};
use crate::{manifest::ObjectKey, plan::Task};
use async_trait::async_trait;
use serde_json::{json, Value};
use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::time::Instant;

/// What an object does once applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    /// Becomes healthy / completes this long after apply (`None`: never).
    pub ready_after: Option<Duration>,
    /// Fails (Job Failed, Deployment ProgressDeadlineExceeded, Pod Failed) this long after apply.
    pub fail_after: Option<Duration>,
    /// Apply returns this error.
    pub apply_error: Option<String>,
    /// Dry run returns this error.
    pub dry_run_error: Option<String>,
    /// Logs returned for the object.
    pub logs: Vec<String>,
    /// Report the object as gone this long after apply (deleted behind Argo's back).
    pub vanish_after: Option<Duration>,
    /// Health evaluates to Unknown (an Argo Workflow in a phase Argo does not know).
    pub unknown_health: bool,
    /// Health cannot be evaluated (an apiVersion the built-in check does not support).
    pub health_error: bool,
    /// Delete returns this error (a failing prune or BeforeHookCreation delete).
    pub delete_error: Option<String>,
}

impl Default for Script {
    fn default() -> Self {
        Self {
            ready_after: Some(Duration::ZERO),
            fail_after: None,
            apply_error: None,
            dry_run_error: None,
            logs: Vec::new(),
            vanish_after: None,
            unknown_health: false,
            health_error: false,
            delete_error: None,
        }
    }
}

impl Script {
    pub fn ready_after(d: Duration) -> Self {
        Self {
            ready_after: Some(d),
            ..Self::default()
        }
    }
    pub fn never_ready() -> Self {
        Self {
            ready_after: None,
            ..Self::default()
        }
    }
    pub fn fails_after(d: Duration) -> Self {
        Self {
            ready_after: None,
            fail_after: Some(d),
            ..Self::default()
        }
    }
    pub fn apply_error(msg: &str) -> Self {
        Self {
            apply_error: Some(msg.into()),
            ..Self::default()
        }
    }
    pub fn dry_run_error(msg: &str) -> Self {
        Self {
            dry_run_error: Some(msg.into()),
            ..Self::default()
        }
    }
    pub fn with_logs(mut self, lines: &[&str]) -> Self {
        self.logs = lines.iter().map(|s| s.to_string()).collect();
        self
    }
    pub fn vanishes_after(d: Duration) -> Self {
        Self {
            ready_after: None,
            vanish_after: Some(d),
            ..Self::default()
        }
    }
    pub fn unknown_health() -> Self {
        Self {
            unknown_health: true,
            ..Self::default()
        }
    }
    pub fn delete_error(msg: &str) -> Self {
        Self {
            delete_error: Some(msg.into()),
            ..Self::default()
        }
    }
    pub fn health_error() -> Self {
        Self {
            health_error: true,
            ..Self::default()
        }
    }
}

/// One recorded call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    DryRun(String),
    Apply(String),
    Delete(String),
}

#[derive(Debug)]
struct LiveObject {
    object: Value,
    applied: Instant,
}

#[derive(Debug, Default)]
struct Inner {
    live: BTreeMap<ObjectKey, LiveObject>,
    calls: Vec<Call>,
}

/// See the module documentation.
#[derive(Debug, Clone, Default)]
pub struct FakeCluster {
    scripts: Arc<BTreeMap<String, Script>>,
    inner: Arc<Mutex<Inner>>,
}

impl FakeCluster {
    pub fn new() -> Self {
        Self::default()
    }

    /// Scripts the object named `name` (any kind).
    pub fn script(mut self, name: &str, script: Script) -> Self {
        Arc::make_mut(&mut self.scripts).insert(name.to_string(), script);
        self
    }

    /// Pretends `task`'s object already exists (left by an earlier sync).
    pub fn with_existing(self, kind: &str, namespace: &str, name: &str, group: &str) -> Self {
        let key = ObjectKey {
            group: group.into(),
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
        };
        let object = json!({"apiVersion": if group.is_empty() {"v1".to_string()} else {format!("{group}/v1")}, "kind": kind, "metadata": {"name": name, "namespace": namespace}});
        self.lock().live.insert(
            key,
            LiveObject {
                object,
                applied: Instant::now(),
            },
        );
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn script_for(&self, name: &str) -> Script {
        self.scripts.get(name).cloned().unwrap_or_default()
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// Names applied, in order.
    pub fn applied(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::Apply(n) => Some(n),
                _ => None,
            })
            .collect()
    }

    /// Names deleted, in order.
    pub fn deleted(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::Delete(n) => Some(n),
                _ => None,
            })
            .collect()
    }

    /// Names of objects that currently exist.
    pub fn existing(&self) -> Vec<String> {
        self.lock().live.keys().map(|k| k.name.clone()).collect()
    }
}

/// A live object for `kind` whose status reflects the script at `elapsed`.
fn synthesize(mut obj: Value, script: &Script, elapsed: Duration) -> Value {
    let ready = script.ready_after.is_some_and(|d| elapsed >= d);
    let failed = script.fail_after.is_some_and(|d| elapsed >= d);
    let kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if script.health_error {
        obj["apiVersion"] = json!("apps/v1beta1");
    }
    if script.unknown_health {
        obj["status"] = json!({"phase": "Bogus"});
        return obj;
    }
    let status = match kind.as_str() {
        "Job" => {
            if failed {
                json!({"conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]})
            } else if ready {
                json!({"conditions": [{"type": "Complete", "status": "True"}], "succeeded": 1})
            } else {
                json!({"active": 1})
            }
        }
        "Deployment" => {
            obj["metadata"]["generation"] = json!(1);
            let replicas = obj
                .pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            let avail = if ready { replicas } else { 0 };
            let mut s = json!({"observedGeneration": 1, "replicas": replicas, "updatedReplicas": replicas,
                               "readyReplicas": avail, "availableReplicas": avail});
            if failed {
                s["conditions"] = json!([{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]);
            }
            s
        }
        "StatefulSet" => {
            obj["metadata"]["generation"] = json!(1);
            let replicas = obj
                .pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            json!({"observedGeneration": 1, "replicas": replicas, "readyReplicas": if ready { replicas } else { 0 },
                   "currentRevision": "r1", "updateRevision": "r1"})
        }
        "Pod" => {
            let phase = if failed {
                "Failed"
            } else if ready {
                let always = obj
                    .pointer("/spec/restartPolicy")
                    .and_then(Value::as_str)
                    .unwrap_or("Always")
                    == "Always";
                if always {
                    "Running"
                } else {
                    "Succeeded"
                }
            } else {
                "Pending"
            };
            json!({"phase": phase, "conditions": [{"type": "Ready", "status": if ready && !failed {"True"} else {"False"}}]})
        }
        _ => return obj,
    };
    obj["status"] = status;
    obj
}

#[async_trait]
impl Cluster for FakeCluster {
    async fn dry_run(&self, task: &Task) -> Result<(), ClusterError> {
        self.lock()
            .calls
            .push(Call::DryRun(task.name().to_string()));
        match self.script_for(task.name()).dry_run_error {
            Some(e) => Err(ClusterError::Rejected(e)),
            None => Ok(()),
        }
    }

    async fn apply(&self, task: &Task) -> Result<ApplyOutcome, ClusterError> {
        let script = self.script_for(task.name());
        let mut inner = self.lock();
        inner.calls.push(Call::Apply(task.name().to_string()));
        if let Some(e) = script.apply_error {
            return Err(ClusterError::Rejected(e));
        }
        let key = task.key();
        let verb = if inner.live.contains_key(&key) {
            "configured"
        } else {
            "created"
        };
        inner.live.insert(
            key,
            LiveObject {
                object: task.object.value.clone(),
                applied: Instant::now(),
            },
        );
        let group = task.group();
        let kind = task.kind().to_lowercase();
        let res = if group.is_empty() {
            kind
        } else {
            format!("{kind}.{group}")
        };
        Ok(ApplyOutcome {
            message: format!("{res}/{} {verb}", task.name()),
            simulated: false,
        })
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), ClusterError> {
        let script = self.script_for(&key.name);
        let mut inner = self.lock();
        inner.calls.push(Call::Delete(key.name.clone()));
        if let Some(e) = script.delete_error {
            return Err(ClusterError::Runtime(e));
        }
        inner.live.remove(key);
        Ok(())
    }

    async fn get(&self, key: &ObjectKey) -> Option<Value> {
        let script = self.script_for(&key.name);
        let inner = self.lock();
        let live = inner.live.get(key)?;
        let elapsed = live.applied.elapsed();
        if script.vanish_after.is_some_and(|d| elapsed >= d) {
            return None;
        }
        Some(synthesize(live.object.clone(), &script, elapsed))
    }

    async fn logs(&self, key: &ObjectKey, tail: usize) -> Vec<String> {
        // A deleted object's pod is gone, and its logs with it.
        if !self.lock().live.contains_key(key) {
            return Vec::new();
        }
        let logs = self.script_for(&key.name).logs;
        let skip = logs.len().saturating_sub(tail);
        logs.into_iter().skip(skip).collect()
    }

    /// Scripted objects do not depend on the step they were applied in.
    async fn step_applied(&self, _upcoming: &[Vec<&Task>]) {}
}
