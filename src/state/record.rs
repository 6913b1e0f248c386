//! The record's data: plain serde types, no I/O. Nothing here knows the engine: the upper
//! layer converts an operation's report into a [`LastOperation`].
use crate::manifest::{Object, ObjectKey, Origin};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Bumped when the format changes incompatibly; older records are refused with a hint.
pub const RECORD_VERSION: u32 = 1;

/// One kept environment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EnvRecord {
    pub version: u32,
    pub app: String,
    /// Docker network of the environment (`syncsim-<app>`).
    pub network: String,
    /// The SOURCE argument of the last sync, as given.
    pub source: String,
    pub dest_namespace: String,
    /// `--image FROM=TO` rewrites of the last sync (pods are recreated with the same images).
    #[serde(default)]
    pub images: Vec<(String, String)>,
    /// RFC 3339 time the record was written.
    pub saved_at: String,
    /// The last operation's result, as `argocd app get` shows it.
    pub last_operation: Option<LastOperation>,
    /// Every object that exists in the environment, as applied (Secret values hashed with
    /// `secret_salt`, see `state::secret`).
    pub objects: Vec<ObjectRecord>,
    /// Salt of the Secret value hashes (chosen when the record is first written).
    #[serde(default)]
    pub secret_salt: String,
}

impl EnvRecord {
    /// The record's object with `key`, if any.
    pub fn object(&self, key: &ObjectKey) -> Option<&ObjectRecord> {
        self.objects.iter().find(|o| &o.key() == key)
    }
}

/// One applied object and the Docker objects realising it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRecord {
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// Applied as a hook (hooks are never pruned and do not count for sync status).
    pub hook: bool,
    /// SHA-256 of the applied object without `status` (for humans and quick diffs).
    pub spec_hash: String,
    /// The object as applied (API-server defaults included, no `status`).
    pub object: Value,
    /// The last observed `status` (a finished Job keeps its Complete/Failed condition).
    #[serde(default)]
    pub status: Option<Value>,
    /// Pods realising the object (workloads, Jobs, Pods).
    #[serde(default)]
    pub pods: Vec<PodRecord>,
    /// Docker volume backing a PersistentVolumeClaim.
    #[serde(default)]
    pub volume: Option<String>,
}

impl ObjectRecord {
    pub fn key(&self) -> ObjectKey {
        ObjectKey {
            group: self.group.clone(),
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }

    /// The applied object as a manifest object (origin: the record).
    pub fn to_object(&self) -> Object {
        Object::new(
            self.object.clone(),
            Origin {
                file: format!("(kept {})", self.key()),
                document: 0,
                line: None,
            },
        )
    }
}

/// One pod: its Docker containers by Kubernetes container name.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct PodRecord {
    pub name: String,
    #[serde(default)]
    pub init_containers: Vec<String>,
    pub containers: Vec<ContainerRecord>,
    /// Pod-owned volumes (emptyDir), removed with the pod.
    #[serde(default)]
    pub volumes: Vec<String>,
    /// The pod's sandbox container, when it has one (it holds the pod's network).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ContainerRecord {
    pub name: String,
    pub id: String,
}

/// The last operation, like `status.operationState`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LastOperation {
    pub phase: String,
    pub message: String,
    pub started_at: String,
    pub finished_at: String,
    pub resources: Vec<ResourceResult>,
}

/// One entry of `syncResult.resources` (§4.5).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResourceResult {
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub status: String,
    pub hook_phase: String,
    /// The hook type for hooks, empty for resources.
    pub hook_type: String,
    pub sync_phase: String,
    pub message: String,
}

/// SHA-256 (hex) of an object without its `status`.
pub fn spec_hash(object: &Value) -> String {
    let mut v = object.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    let text = serde_json::to_string(&v).unwrap_or_default();
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spec_hash_ignores_status_and_key_order() {
        let a = json!({"kind": "Job", "spec": {"x": 1, "y": 2}, "status": {"active": 1}});
        let b = json!({"spec": {"y": 2, "x": 1}, "kind": "Job"});
        assert_eq!(spec_hash(&a), spec_hash(&b));
        assert_ne!(spec_hash(&a), spec_hash(&json!({"kind": "Job"})));
    }

    #[test]
    fn record_round_trips_through_json() {
        let r = EnvRecord {
            version: RECORD_VERSION,
            app: "a".into(),
            network: "syncsim-a".into(),
            source: "k8s".into(),
            dest_namespace: "default".into(),
            images: vec![("x".into(), "y".into())],
            saved_at: "2026-11-26T07:00:00Z".into(),
            last_operation: None,
            secret_salt: "s".into(),
            objects: vec![ObjectRecord {
                group: "apps".into(),
                kind: "Deployment".into(),
                namespace: "d".into(),
                name: "web".into(),
                hook: false,
                spec_hash: spec_hash(&json!({})),
                object: json!({"kind": "Deployment"}),
                status: None,
                pods: vec![PodRecord {
                    name: "web-1".into(),
                    containers: vec![ContainerRecord {
                        name: "c".into(),
                        id: "abc".into(),
                    }],
                    ..PodRecord::default()
                }],
                volume: None,
            }],
        };
        let text = serde_json::to_string(&r).unwrap();
        let back: EnvRecord = serde_json::from_str(&text).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.objects[0].key().to_string(), "apps/Deployment/web");
    }
}
