//! The container runtime behind syncsim: our own verbs and types, so that everything above it
//! can be tested without a Docker daemon.
//!
//! `docker` implements [`ContainerRuntime`] on bollard (the only module that imports bollard);
//! `fake` is a scripted implementation that records calls, for tests (unit tests, and other
//! crates and integration tests through the `test-support` feature; never in a release build).
mod types;

pub mod docker;
#[cfg(any(test, feature = "test-support"))]
pub mod fake;

pub use types::*;

use async_trait::async_trait;
use std::time::Duration;

/// Labels every Docker object syncsim creates carries.
pub const LABEL_MANAGED_BY: &str = "dev.syncsim.managed-by";
pub const MANAGED_BY_VALUE: &str = "syncsim";
pub const LABEL_APP: &str = "dev.syncsim.app";
pub const LABEL_RUN: &str = "dev.syncsim.run";
pub const LABEL_RESOURCE: &str = "dev.syncsim.resource";

/// What syncsim needs from a container engine. Every method is one engine operation; errors name
/// the object. "Already gone" on stop/remove is success, not an error.
#[async_trait]
pub trait ContainerRuntime: Send + Sync + 'static {
    /// Checks the engine answers; returns a one-line description (`Docker 20.10.24, API 1.41`).
    async fn ping(&self) -> Result<String>;

    /// Whether `image` exists locally.
    async fn image_exists(&self, image: &str) -> Result<bool>;
    /// Pulls `image` from its registry.
    async fn pull_image(&self, image: &str) -> Result<()>;

    async fn create_network(&self, spec: &NetworkSpec) -> Result<String>;
    /// Removes a network by name or id; a missing network is success.
    async fn remove_network(&self, name: &str) -> Result<()>;

    async fn create_volume(&self, spec: &VolumeSpec) -> Result<String>;
    /// Removes a volume by name; a missing volume is success.
    async fn remove_volume(&self, name: &str) -> Result<()>;

    /// Creates (does not start) a container and copies `spec.files` into it. Returns its id.
    async fn create_container(&self, spec: &ContainerSpec) -> Result<String>;
    async fn start_container(&self, id: &str) -> Result<()>;
    async fn inspect_container(&self, id: &str) -> Result<ContainerState>;
    /// Resolves once the container is not running (it exited, or it is gone); an error when the
    /// engine cannot say. Lets callers react to an exit at once instead of at their next poll.
    /// The default never resolves: callers keep polling.
    async fn wait_exit(&self, id: &str) -> Result<()> {
        let _ = id;
        std::future::pending().await
    }
    /// Runs `cmd` inside a running container and waits for it (at most `timeout`).
    async fn exec(&self, id: &str, cmd: &[String], timeout: Duration) -> Result<ExecResult>;
    /// The last `tail` lines of stdout+stderr, interleaved as the engine returns them.
    async fn logs(&self, id: &str, tail: usize) -> Result<Vec<String>>;
    /// Stops a container with a grace period (SIGTERM, then SIGKILL); a missing or already
    /// stopped container is success.
    async fn stop_container(&self, id: &str, grace: Duration) -> Result<()>;
    /// Force-removes a container together with its anonymous volumes; missing is success.
    async fn remove_container(&self, id: &str) -> Result<()>;
    /// Disconnects a container from a network (used by fault injection); missing is success.
    async fn disconnect_network(&self, network: &str, id: &str) -> Result<()>;

    /// Whether the engine's machine has spare CPU time now: a hint for work that may be done
    /// ahead or later, never for what a rehearsal does. The default cannot tell: `true`.
    async fn spare_cpu(&self) -> bool {
        true
    }

    /// Whether this process can connect to the addresses containers have on `network`, as a
    /// kubelet connects to a pod's IP: the network's bridge is on this machine, in this network
    /// namespace. When it is not (an engine in a VM, a rootless engine, a remote one), probes go
    /// through ports published on the engine's 127.0.0.1. The default cannot tell: `false`.
    async fn reaches_network(&self, network: &str) -> bool {
        let _ = network;
        false
    }

    /// Every object carrying all the given labels (`key=value`).
    async fn list_labelled(&self, labels: &[(String, String)]) -> Result<Vec<Listed>>;

    /// Removes one object of any kind by id (containers with their anonymous volumes); missing is
    /// success. Remove containers before networks and volumes.
    async fn remove_listed(&self, kind: ListedKind, id: &str) -> Result<()> {
        match kind {
            ListedKind::Container => self.remove_container(id).await,
            ListedKind::Network => self.remove_network(id).await,
            ListedKind::Volume => self.remove_volume(id).await,
        }
    }

    /// The labels of a local image, `None` when the image is not present. The default
    /// implementation only knows presence (an empty set of labels).
    async fn image_labels(&self, image: &str) -> Result<Option<Labels>> {
        Ok(self.image_exists(image).await?.then(Labels::new))
    }

    /// The user a local image runs as (its config's `User`, empty when it sets none); `None`
    /// when the image is not present. The default implementation knows no user (root).
    async fn image_user(&self, image: &str) -> Result<Option<String>> {
        Ok(self.image_exists(image).await?.then(String::new))
    }

    /// Builds and tags an image, passing each line of the builder's output to `progress` as it
    /// arrives. A failed step is an [`Error::Operation`] (`build image`) whose source is a
    /// [`BuildFailure`]. The default implementation refuses (a runtime that cannot build).
    async fn build_image(
        &self,
        spec: &BuildSpec,
        progress: &mut (dyn for<'l> FnMut(&'l str) + Send),
    ) -> Result<()> {
        let _ = progress;
        Err(Error::Operation {
            op: "build image",
            object: spec.tag.clone(),
            source: "this container runtime cannot build images".into(),
        })
    }
}
