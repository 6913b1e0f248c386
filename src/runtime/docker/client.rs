//! The client: connecting (API version negotiation), and the [`ContainerRuntime`] impl, whose
//! methods live with their concern in `containers`, `images` and `objects`.
use super::{containers, host, images, objects};
use crate::runtime::{
    BuildSpec, ContainerRuntime, ContainerSpec, ContainerState, Error, ExecResult, Labels, Listed,
    NetworkSpec, Result, VolumeSpec,
};
use async_trait::async_trait;
use bollard::{errors::Error as BollardError, Docker};
use std::{
    collections::{BTreeMap, HashMap},
    time::Duration,
};

/// The deadline of one short engine call (create, start, inspect, remove, list …): an engine
/// that stops answering mid-run fails the call, and so the step, instead of hanging the run.
pub const CALL_DEADLINE: Duration = Duration::from_secs(60);
/// The deadline of a ping (the engine answers it at once when it is healthy).
pub const PING_DEADLINE: Duration = Duration::from_secs(10);
/// The deadline of an image pull.
pub const PULL_DEADLINE: Duration = Duration::from_secs(15 * 60);
/// The deadline of an image build.
pub const BUILD_DEADLINE: Duration = Duration::from_secs(60 * 60);

/// `call` unless it takes longer than `limit`: then [`Error::Operation`] naming the call and
/// the engine's silence.
async fn within<T>(
    limit: Duration,
    op: &'static str,
    object: &str,
    call: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    match tokio::time::timeout(limit, call).await {
        Ok(r) => r,
        Err(_) => Err(Error::Operation {
            op,
            object: object.to_string(),
            source: format!(
                "the Docker engine did not answer within {} (hung or overloaded? check `docker info`; `syncsim down --app <app>` removes what was created)",
                humantime::format_duration(limit)
            )
            .into(),
        }),
    }
}

/// A [`ContainerRuntime`] talking to a Docker engine.
#[derive(Debug, Clone)]
pub struct DockerRuntime {
    pub(super) docker: Docker,
    /// Starts the engine is still carrying out (see `containers::start`).
    pub(super) starting: std::sync::Arc<containers::Starting>,
    /// Whether [`ContainerRuntime::spare_cpu`] reads this machine's CPU load: the engine runs
    /// here (a unix socket), so its work shows there.
    cpu_from_proc: bool,
    /// Whether [`ContainerRuntime::reaches_network`] may answer `true` (see
    /// [`DockerRuntime::publish_ports`]).
    direct_probes: bool,
}

impl DockerRuntime {
    /// Connects with local defaults: `DOCKER_HOST` when set (unix://, tcp://, http://),
    /// `/var/run/docker.sock` otherwise, and negotiates the API version with the engine (which
    /// may be older than bollard's default). Fails with [`Error::Unreachable`] when the engine does
    /// not answer.
    pub async fn connect() -> Result<Self> {
        Self::connect_to(std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty())).await
    }

    async fn connect_to(host: Option<String>) -> Result<Self> {
        let unreachable = |e: BollardError| Error::Unreachable {
            source: Box::new(e),
        };
        let cpu_from_proc = host.as_deref().is_none_or(|h| h.starts_with("unix://"));
        let docker = match host {
            Some(host) => Docker::connect_with_host(&host),
            None => Docker::connect_with_local_defaults(),
        }
        .map_err(unreachable)?;
        let docker = docker.negotiate_version().await.map_err(unreachable)?;
        Ok(Self {
            docker,
            starting: Default::default(),
            cpu_from_proc,
            direct_probes: true,
        })
    }

    /// Answers `true` to every [`ContainerRuntime::spare_cpu`]: work that may be done ahead is
    /// always done ahead (tests of that work, whatever the machine's load).
    #[must_use]
    pub fn assume_spare_cpu(mut self) -> Self {
        self.cpu_from_proc = false;
        self
    }

    /// Answers `false` to every [`ContainerRuntime::reaches_network`]: pods' ports are
    /// published on 127.0.0.1 and probed there, as with an engine whose containers this machine
    /// cannot reach (tests of that path on a local engine).
    #[must_use]
    pub fn publish_ports(mut self) -> Self {
        self.direct_probes = false;
        self
    }

    /// The API version negotiated with the engine, e.g. `1.41`.
    pub fn api_version(&self) -> String {
        let v = self.docker.client_version();
        format!("{}.{}", v.major_version, v.minor_version)
    }
}

#[async_trait]
impl ContainerRuntime for DockerRuntime {
    async fn ping(&self) -> Result<String> {
        let v = match tokio::time::timeout(PING_DEADLINE, self.docker.version()).await {
            Ok(v) => v.map_err(|e| Error::Unreachable {
                source: Box::new(e),
            })?,
            Err(_) => {
                return Err(Error::Unreachable {
                    source: format!(
                        "no answer to a version request within {}",
                        humantime::format_duration(PING_DEADLINE)
                    )
                    .into(),
                })
            }
        };
        let engine = v.version.unwrap_or_else(|| "(unknown version)".into());
        let api = v.api_version.unwrap_or_else(|| "?".into());
        let client = self.api_version();
        if client == api {
            Ok(format!("Docker {engine} (API {api})"))
        } else {
            Ok(format!(
                "Docker {engine} (API {api}, client speaks {client})"
            ))
        }
    }

    async fn spare_cpu(&self) -> bool {
        !self.cpu_from_proc || host::spare_cpu().await
    }

    async fn reaches_network(&self, network: &str) -> bool {
        if !self.direct_probes {
            return false;
        }
        let reached = within(
            CALL_DEADLINE,
            "inspect network",
            network,
            objects::reaches_network(self, network),
        )
        .await;
        reached.unwrap_or_else(|e| {
            tracing::debug!("network {network}: {e}; probing through published ports");
            false
        })
    }

    async fn image_exists(&self, image: &str) -> Result<bool> {
        within(
            CALL_DEADLINE,
            "inspect image",
            image,
            images::exists(self, image),
        )
        .await
    }

    async fn pull_image(&self, image: &str) -> Result<()> {
        within(
            PULL_DEADLINE,
            "pull image",
            image,
            images::pull(self, image),
        )
        .await
    }

    async fn create_network(&self, spec: &NetworkSpec) -> Result<String> {
        within(
            CALL_DEADLINE,
            "create network",
            &spec.name,
            objects::create_network(self, spec),
        )
        .await
    }

    async fn remove_network(&self, name: &str) -> Result<()> {
        within(
            CALL_DEADLINE,
            "remove network",
            name,
            objects::remove_network(self, name),
        )
        .await
    }

    async fn create_volume(&self, spec: &VolumeSpec) -> Result<String> {
        within(
            CALL_DEADLINE,
            "create volume",
            &spec.name,
            objects::create_volume(self, spec),
        )
        .await
    }

    async fn remove_volume(&self, name: &str) -> Result<()> {
        within(
            CALL_DEADLINE,
            "remove volume",
            name,
            objects::remove_volume(self, name),
        )
        .await
    }

    async fn create_container(&self, spec: &ContainerSpec) -> Result<String> {
        within(
            CALL_DEADLINE,
            "create container",
            &spec.name,
            containers::create(self, spec),
        )
        .await
    }

    async fn start_container(&self, id: &str) -> Result<()> {
        within(
            CALL_DEADLINE,
            "start container",
            id,
            containers::start(self, id),
        )
        .await
    }

    async fn inspect_container(&self, id: &str) -> Result<ContainerState> {
        within(
            CALL_DEADLINE,
            "inspect container",
            id,
            containers::inspect(self, id),
        )
        .await
    }

    async fn wait_exit(&self, id: &str) -> Result<()> {
        // No deadline: a container may run for as long as its workload does. The connection
        // ends with the process (callers drop the future when they stop caring).
        containers::wait_exit(self, id).await
    }

    async fn exec(&self, id: &str, cmd: &[String], timeout: Duration) -> Result<ExecResult> {
        within(
            timeout + CALL_DEADLINE,
            "exec in container",
            id,
            containers::exec(self, id, cmd, timeout),
        )
        .await
    }

    async fn logs(&self, id: &str, tail: usize) -> Result<Vec<String>> {
        within(
            CALL_DEADLINE,
            "read the logs of container",
            id,
            containers::logs(self, id, tail),
        )
        .await
    }

    async fn stop_container(&self, id: &str, grace: Duration) -> Result<()> {
        within(
            grace + CALL_DEADLINE,
            "stop container",
            id,
            containers::stop(self, id, grace),
        )
        .await
    }

    async fn remove_container(&self, id: &str) -> Result<()> {
        within(
            CALL_DEADLINE,
            "remove container",
            id,
            containers::remove(self, id),
        )
        .await
    }

    async fn disconnect_network(&self, network: &str, id: &str) -> Result<()> {
        within(
            CALL_DEADLINE,
            "disconnect from network",
            network,
            objects::disconnect_network(self, network, id),
        )
        .await
    }

    async fn list_labelled(&self, labels: &[(String, String)]) -> Result<Vec<Listed>> {
        within(
            CALL_DEADLINE,
            "list objects labelled",
            "syncsim's labels",
            objects::list_labelled(self, labels),
        )
        .await
    }

    async fn image_labels(&self, image: &str) -> Result<Option<Labels>> {
        within(
            CALL_DEADLINE,
            "inspect image",
            image,
            images::labels(self, image),
        )
        .await
    }

    async fn image_user(&self, image: &str) -> Result<Option<String>> {
        within(
            CALL_DEADLINE,
            "inspect image",
            image,
            images::user(self, image),
        )
        .await
    }

    async fn build_image(
        &self,
        spec: &BuildSpec,
        progress: &mut (dyn for<'l> FnMut(&'l str) + Send),
    ) -> Result<()> {
        within(
            BUILD_DEADLINE,
            "build image",
            &spec.tag,
            images::build(self, spec, progress),
        )
        .await
    }
}

/// Our labels as the map type bollard's request bodies take.
pub(super) fn to_docker_labels(labels: &Labels) -> HashMap<String, String> {
    labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// Labels of an engine answer as ours.
pub(super) fn to_labels(labels: Option<HashMap<String, String>>) -> BTreeMap<String, String> {
    labels.unwrap_or_default().into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_socket_is_unreachable() {
        let err = DockerRuntime::connect_to(Some("unix:///nonexistent/docker.sock".into()))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "cannot reach the Docker engine (is it running? is DOCKER_HOST right?)"
        );
    }
}
