//! What the engine needs from a (simulated) Kubernetes API server.
use crate::{manifest::ObjectKey, plan::Task};
use async_trait::async_trait;
use serde_json::Value;

/// Result of a successful apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyOutcome {
    /// kubectl-like message, e.g. `deployment.apps/web created`.
    pub message: String,
    /// True when the kind has no runtime effect on Docker and is only recorded.
    pub simulated: bool,
}

/// The API server as the engine sees it. Implemented on Docker by [`crate::cluster`] and by
/// [`super::fake::FakeCluster`] for tests.
#[async_trait]
pub trait Cluster: Send + Sync {
    /// Argo CD's client-side dry run of one task (§2.7 B): the kind is known, images exist,
    /// references resolve. `Err` carries the message recorded on the task.
    async fn dry_run(&self, task: &Task) -> Result<(), String>;
    /// Applies the task's object (create, or update when it exists).
    async fn apply(&self, task: &Task) -> Result<ApplyOutcome, String>;
    /// Deletes an object and everything realising it; deleting a missing object is success.
    async fn delete(&self, key: &ObjectKey) -> Result<(), String>;
    /// The live object with a Kubernetes-like `status`, or `None` when it does not exist.
    async fn get(&self, key: &ObjectKey) -> Option<Value>;
    /// The last `tail` log lines of the object's most recent pod, for failed hooks.
    async fn logs(&self, key: &ObjectKey, tail: usize) -> Vec<String>;
}
