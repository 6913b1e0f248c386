//! What the engine needs from a (simulated) Kubernetes API server.
use crate::{manifest::ObjectKey, plan::Task};
use async_trait::async_trait;
use serde_json::Value;

/// Why the (simulated) API server refused a dry run, an apply or a delete. Its `Display` is the
/// message Argo CD records on the task (§2.6 step 4), word for word, so reports show it as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClusterError {
    /// The API server rejects the object or the change: an invalid manifest, an immutable field,
    /// an image that is not available (kubectl's message, e.g. `Job.batch "x" is invalid: …`).
    #[error("{0}")]
    Rejected(String),
    /// The API server refuses the object (syncsim's [`crate::apiserver`] rules): `message` is the
    /// API server's words, `hint` syncsim's advice, shown beside the task but never part of
    /// Argo CD's messages.
    #[error("{message}")]
    Refused {
        message: String,
        hint: Option<String>,
    },
    /// The container engine under the simulated API server failed (its error chain, rendered).
    #[error("{0}")]
    Runtime(String),
}

/// Result of a successful apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyOutcome {
    /// kubectl-like message, e.g. `deployment.apps/web created`.
    pub message: String,
    /// True when the kind has no runtime effect on Docker and is only recorded.
    pub simulated: bool,
}

/// The API server as the engine sees it. Implemented on Docker by [`crate::cluster`] and by
/// `engine::fake::FakeCluster` for tests (feature `test-support`).
#[async_trait]
pub trait Cluster: Send + Sync {
    /// Argo CD's client-side dry run of one task (§2.7 B): the kind is known, images exist,
    /// references resolve. `Err` carries the message recorded on the task.
    async fn dry_run(&self, task: &Task) -> Result<(), ClusterError>;
    /// Applies the task's object (create, or update when it exists).
    async fn apply(&self, task: &Task) -> Result<ApplyOutcome, ClusterError>;
    /// Deletes an object and everything realising it; deleting a missing object is success.
    async fn delete(&self, key: &ObjectKey) -> Result<(), ClusterError>;
    /// The live object with a Kubernetes-like `status`, or `None` when it does not exist.
    async fn get(&self, key: &ObjectKey) -> Option<Value>;
    /// The last `tail` log lines of the object's most recent pod, for failed hooks.
    async fn logs(&self, key: &ObjectKey, tail: usize) -> Vec<String>;
    /// Every task of the current step has been applied (the engine now waits for them): what
    /// is applied from now on belongs to a later step. `upcoming` holds the tasks of the steps
    /// that follow if this one succeeds, step by step in order (none after the last), which the
    /// cluster may prepare for without applying anything. Wrappers must pass it on.
    async fn step_applied(&self, upcoming: &[Vec<&Task>]);
}
