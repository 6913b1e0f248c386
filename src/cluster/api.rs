//! The engine's [`Cluster`] on [`DockerCluster`]. Every method delegates to `apply.rs`; the
//! cluster's typed [`super::Error`] becomes the engine's [`ClusterError`]: a failure of the
//! container engine is `Runtime`, everything the API server would refuse is `Rejected`.
//!
//! [`ApiRules`] are what the simulated API server enforces for one operation (set with
//! [`DockerCluster::set_api_rules`]): which namespaces exist and how an existing object is
//! written (`--force`, application-level `Replace=true`). Strict decoding and immutable fields
//! are enforced whether rules are set or not.
use super::{DockerCluster, Error};
use crate::{
    apiserver::{ClusterDescription, Discovery, Namespaces, UpdateOptions},
    engine::{ApplyOutcome, Cluster, ClusterError},
    manifest::{Object, ObjectKey},
    plan::Task,
};
use async_trait::async_trait;
use serde_json::Value;
use std::sync::Arc;

/// The API server's rules for one sync operation.
#[derive(Debug, Clone)]
pub struct ApiRules {
    /// The kinds the cluster serves (for an object's scope at apply).
    pub discovery: Discovery,
    /// The namespaces that exist or that the sync creates.
    pub namespaces: Namespaces,
    /// Argo CD's destination namespace (objects without a namespace go there).
    pub dest_namespace: String,
    /// `--force` of the operation and application-level `Replace=true`.
    pub update: UpdateOptions,
}

impl ApiRules {
    /// The rules of an operation syncing `objects` to `cluster`: `create_namespace` is the
    /// application's `CreateNamespace=true` (§2.1.4).
    pub fn new(
        cluster: &ClusterDescription,
        objects: &[Object],
        dest_namespace: &str,
        create_namespace: bool,
        update: UpdateOptions,
    ) -> Self {
        Self {
            discovery: Discovery::new(cluster, objects),
            namespaces: Namespaces::new(cluster, objects, dest_namespace, create_namespace),
            dest_namespace: dest_namespace.to_string(),
            update,
        }
    }
}

impl DockerCluster {
    /// Sets the API server's rules for the next operation.
    pub fn set_api_rules(&self, rules: ApiRules) {
        *self.inner.api.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(rules));
    }

    /// Pods that started waiting (Pending: `CreateContainerConfigError`, `ImagePullBackOff`…)
    /// since the last call, for the progress.
    pub fn take_new_waiting_pods(&self) -> Vec<super::PodWaiting> {
        self.inner.waiting_pods.take_fresh()
    }

    /// Every pod waiting now, for the final "would still be waiting for" line.
    pub fn waiting_pods(&self) -> Vec<super::PodWaiting> {
        self.inner.waiting_pods.current()
    }

    /// Makes `image` unavailable (neither present nor pullable) for the rest of the run: its
    /// pods stay Pending with `ImagePullBackOff` (a scenario fault).
    pub async fn refuse_image(&self, image: &str, why: &str) {
        self.inner.refuse_image(image, why).await;
    }

    /// The rules of the current operation, if any were set.
    pub(super) fn api_rules(&self) -> Option<Arc<ApiRules>> {
        self.inner
            .api
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl From<Error> for ClusterError {
    fn from(e: Error) -> Self {
        match e {
            Error::Runtime(_) => ClusterError::Runtime(e.to_string()),
            Error::Rejected(r) => ClusterError::Refused {
                message: r.task_message,
                hint: r.hint,
            },
            other => ClusterError::Rejected(other.to_string()),
        }
    }
}

#[async_trait]
impl Cluster for DockerCluster {
    async fn dry_run(&self, task: &Task) -> Result<(), ClusterError> {
        Ok(self.dry_run_task(task).await?)
    }

    async fn apply(&self, task: &Task) -> Result<ApplyOutcome, ClusterError> {
        Ok(self.apply_task(task).await?)
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), ClusterError> {
        Ok(self.delete_object(key).await?)
    }

    async fn get(&self, key: &ObjectKey) -> Option<Value> {
        self.live_object(key)
    }

    async fn logs(&self, key: &ObjectKey, tail: usize) -> Vec<String> {
        self.logs_of(key, tail).await
    }

    async fn step_applied(&self, upcoming: &[Vec<&Task>]) {
        self.inner.next_step();
        self.prepare_ahead(upcoming);
    }
}
