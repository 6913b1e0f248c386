//! Docker implementation of the runtime (bollard). The only module of the crate that imports
//! bollard: everything else speaks [`ContainerRuntime`] and our own types.
//!
//! Engine facts this relies on (see `ENVIRONMENT.md`): the engine may only speak API 1.41, so the
//! client negotiates its version at [`DockerRuntime::connect`]; only user-defined networks give
//! DNS names; images' `VOLUME` lines create anonymous volumes, removed with their container.
//!
//! Decisions:
//! - **`subPath`**: volume sub-path mounts need Docker API 1.45 (Engine 26). On an older engine
//!   `create_container` fails with a clear error naming the mount; there is no silent fallback
//!   (mounting the whole volume would be wrong in a way that surfaces much later).
//! - **Memory limits** disable swap (`MemorySwap = Memory`), as Kubernetes does, so exceeding the
//!   limit OOM-kills the container and [`ContainerStatus::Exited`] reports `oom_killed`.
//! - **Files** are uploaded as one tar archive at `/` after create, before start. Parent
//!   directories that do not exist yet get explicit `0755` entries; existing ones are left alone
//!   (a directory entry would reset the metadata of e.g. `/tmp`).
//! - **Ports** are published on `127.0.0.1` with a random host port, except for containers that
//!   share another container's network namespace (Docker refuses port bindings there; the
//!   namespace owner publishes them) or have no network at all.
//! - **Builds** use the legacy builder (`version=1`, what a 20.10 engine without BuildKit has),
//!   never pull (`pull` unset: `FROM` images must exist locally, there is no registry) and remove
//!   intermediate containers even on failure (`forcerm`). The daemon's error of a failed step and
//!   the last lines of output become a [`BuildFailure`]. A rebuild removes the image it replaced
//!   when nothing else uses it (no other tag, no container), so rebuilds leave no dangling images.
use super::{
    BuildContext, BuildFailure, BuildSpec, ContainerRuntime, ContainerSpec, ContainerState,
    ContainerStatus, Error, ExecResult, Labels, Listed, ListedKind, Mount, NetworkAttachment,
    NetworkSpec, Result, VolumeSpec, BUILD_OUTPUT_TAIL,
};
use async_trait::async_trait;
use bollard::{
    body_full,
    container::LogOutput,
    errors::Error as BollardError,
    exec::{CreateExecOptions, StartExecResults},
    models::{
        ContainerCreateBody, ContainerStateStatusEnum, EndpointSettings, HostConfig,
        Mount as BollardMount, MountType, MountVolumeOptions, NetworkCreateRequest,
        NetworkDisconnectRequest, NetworkingConfig, PortBinding, VolumeCreateRequest,
    },
    query_parameters::{
        BuildImageOptionsBuilder, ContainerArchiveInfoOptionsBuilder,
        CreateContainerOptionsBuilder, CreateImageOptionsBuilder, ListContainersOptionsBuilder,
        ListNetworksOptionsBuilder, ListVolumesOptionsBuilder, LogsOptionsBuilder,
        RemoveContainerOptionsBuilder, RemoveImageOptionsBuilder, RemoveVolumeOptionsBuilder,
        StopContainerOptionsBuilder, UploadToContainerOptionsBuilder,
    },
    ClientVersion, Docker,
};
use futures_util::StreamExt;
use std::{
    collections::{BTreeMap, BTreeSet, HashMap, VecDeque},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// Oldest API version that supports volume sub-path mounts (`VolumeOptions.Subpath`).
const SUBPATH_API: (usize, usize) = (1, 45);

/// A [`ContainerRuntime`] talking to a Docker engine.
#[derive(Debug, Clone)]
pub struct DockerRuntime {
    docker: Docker,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

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
        let docker = match host {
            Some(host) => Docker::connect_with_host(&host),
            None => Docker::connect_with_local_defaults(),
        }
        .map_err(unreachable)?;
        let docker = docker.negotiate_version().await.map_err(unreachable)?;
        Ok(Self { docker })
    }

    /// The API version negotiated with the engine, e.g. `1.41`.
    pub fn api_version(&self) -> String {
        let v = self.docker.client_version();
        format!("{}.{}", v.major_version, v.minor_version)
    }

    /// The id of a local image, `None` when missing or when the engine cannot say.
    async fn image_id(&self, image: &str) -> Option<String> {
        self.docker
            .inspect_image(image)
            .await
            .ok()
            .and_then(|i| i.id)
    }

    fn supports_subpath(&self) -> bool {
        let ClientVersion {
            major_version,
            minor_version,
        } = self.docker.client_version();
        (major_version, minor_version) >= SUBPATH_API
    }

    /// Builds the engine's create body for `spec` (no I/O).
    fn create_body(&self, spec: &ContainerSpec) -> Result<ContainerCreateBody> {
        let shares_netns = matches!(spec.network, NetworkAttachment::Container { .. });
        let publishes = matches!(spec.network, NetworkAttachment::Network { .. });
        let mut mounts = Vec::with_capacity(spec.mounts.len());
        for m in &spec.mounts {
            mounts.push(self.mount(spec, m)?);
        }
        let (network_mode, networking_config) = match &spec.network {
            NetworkAttachment::None => ("none".to_string(), None),
            NetworkAttachment::Container { id } => (format!("container:{id}"), None),
            NetworkAttachment::Network { name, aliases } => {
                let endpoint = EndpointSettings {
                    aliases: (!aliases.is_empty()).then(|| aliases.clone()),
                    ..Default::default()
                };
                (
                    name.clone(),
                    Some(NetworkingConfig {
                        endpoints_config: Some(HashMap::from([(name.clone(), endpoint)])),
                    }),
                )
            }
        };
        let ports: Vec<String> = if publishes {
            spec.ports.iter().map(|p| format!("{p}/tcp")).collect()
        } else {
            Vec::new()
        };
        let port_bindings = (!ports.is_empty()).then(|| {
            ports
                .iter()
                .map(|p| {
                    let binding = PortBinding {
                        host_ip: Some("127.0.0.1".to_string()),
                        host_port: Some(String::new()),
                    };
                    (p.clone(), Some(vec![binding]))
                })
                .collect::<HashMap<_, _>>()
        });
        let host_config = HostConfig {
            network_mode: Some(network_mode),
            port_bindings,
            mounts: (!mounts.is_empty()).then_some(mounts),
            memory: spec.memory_limit_bytes,
            memory_swap: spec.memory_limit_bytes,
            nano_cpus: spec.nano_cpus,
            ..Default::default()
        };
        Ok(ContainerCreateBody {
            image: Some(spec.image.clone()),
            entrypoint: spec.entrypoint.clone(),
            cmd: spec.cmd.clone(),
            env: (!spec.env.is_empty())
                .then(|| spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            working_dir: spec.working_dir.clone(),
            hostname: if shares_netns {
                None
            } else {
                spec.hostname.clone()
            },
            labels: Some(to_docker_labels(&spec.labels)),
            exposed_ports: (!ports.is_empty()).then_some(ports),
            host_config: Some(host_config),
            networking_config,
            ..Default::default()
        })
    }

    fn mount(&self, spec: &ContainerSpec, m: &Mount) -> Result<BollardMount> {
        let volume_options = match &m.sub_path {
            None => None,
            Some(sub) if self.supports_subpath() => Some(MountVolumeOptions {
                subpath: Some(sub.clone()),
                ..Default::default()
            }),
            Some(sub) => {
                return Err(Error::Operation {
                    op: "create container",
                    object: spec.name.clone(),
                    source: format!(
                        "mount of volume `{}` at `{}` uses subPath `{sub}`, which needs Docker \
                         API {}.{} or newer; this engine speaks API {}",
                        m.volume,
                        m.target,
                        SUBPATH_API.0,
                        SUBPATH_API.1,
                        self.api_version()
                    )
                    .into(),
                })
            }
        };
        Ok(BollardMount {
            typ: Some(MountType::VOLUME),
            source: Some(m.volume.clone()),
            target: Some(m.target.clone()),
            read_only: Some(m.read_only),
            volume_options,
            ..Default::default()
        })
    }

    /// Uploads `spec.files` into the created container `id`.
    async fn upload_files(&self, id: &str, spec: &ContainerSpec) -> Result<()> {
        let fail = |source: BoxError| Error::Operation {
            op: "copy files into container",
            object: spec.name.clone(),
            source,
        };
        let mut dirs = BTreeSet::new();
        let mut files = Vec::with_capacity(spec.files.len());
        for f in &spec.files {
            let rel = relative_path(&f.path).map_err(fail)?;
            let parts: Vec<&str> = rel.split('/').collect();
            for depth in 1..parts.len() {
                dirs.insert(parts[..depth].join("/"));
            }
            files.push((rel, f));
        }
        // Only directories that are missing get an entry (BTreeSet order: parents first).
        let mut missing: Vec<String> = Vec::new();
        for dir in dirs {
            let parent_missing = missing
                .iter()
                .any(|m| dir.starts_with(m.as_str()) && dir[m.len()..].starts_with('/'));
            if parent_missing
                || !self
                    .path_exists(id, &format!("/{dir}"))
                    .await
                    .map_err(fail)?
            {
                missing.push(dir);
            }
        }
        let archive = build_tar(&missing, &files).map_err(|e| fail(Box::new(e)))?;
        let options = UploadToContainerOptionsBuilder::new().path("/").build();
        self.docker
            .upload_to_container(id, Some(options), body_full(archive.into()))
            .await
            .map_err(|e| classify(e, "copy files into container", &spec.name))
    }

    async fn path_exists(&self, id: &str, path: &str) -> Result<bool, BoxError> {
        let options = ContainerArchiveInfoOptionsBuilder::new().path(path).build();
        match self
            .docker
            .get_container_archive_info(id, Some(options))
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if status(&e) == Some(404) => Ok(false),
            Err(e) => Err(Box::new(e)),
        }
    }

    async fn exec_inner(&self, id: &str, cmd: &[String]) -> Result<ExecResult> {
        let object = || format!("{id}: {}", cmd.join(" "));
        let created = self
            .docker
            .create_exec(
                id,
                CreateExecOptions {
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    cmd: Some(cmd.to_vec()),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| not_found_or(e, "exec in container", id))?;
        let started = self
            .docker
            .start_exec(&created.id, None)
            .await
            .map_err(|e| classify(e, "exec in container", &object()))?;
        let mut output = Vec::new();
        if let StartExecResults::Attached {
            output: mut stream, ..
        } = started
        {
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| classify(e, "exec in container", &object()))?;
                output.extend_from_slice(chunk.as_ref());
            }
        }
        // The output stream ends when the process exits; the exit code may lag slightly.
        loop {
            let inspect = self
                .docker
                .inspect_exec(&created.id)
                .await
                .map_err(|e| classify(e, "inspect exec in container", &object()))?;
            match (inspect.running, inspect.exit_code) {
                (Some(false), Some(code)) => {
                    return Ok(ExecResult {
                        exit_code: code,
                        output: String::from_utf8_lossy(&output).into_owned(),
                    })
                }
                _ => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }
}

/// `"/etc/app/x.conf"` → `"etc/app/x.conf"`; rejects relative paths and `..`.
fn relative_path(path: &str) -> Result<String, BoxError> {
    let Some(rel) = path.strip_prefix('/') else {
        return Err(format!("file path `{path}` is not absolute").into());
    };
    let parts: Vec<&str> = rel
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.is_empty() || parts.contains(&"..") {
        return Err(format!("file path `{path}` does not name a file").into());
    }
    Ok(parts.join("/"))
}

fn build_tar(dirs: &[String], files: &[(String, &super::FileSpec)]) -> std::io::Result<Vec<u8>> {
    let mtime = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut builder = tar::Builder::new(Vec::new());
    for dir in dirs {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_mode(0o755);
        header.set_size(0);
        header.set_mtime(mtime);
        builder.append_data(&mut header, format!("{dir}/"), std::io::empty())?;
    }
    for (rel, file) in files {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(file.mode & 0o7777);
        header.set_size(file.content.len() as u64);
        header.set_mtime(mtime);
        builder.append_data(&mut header, rel, file.content.as_slice())?;
    }
    builder.into_inner()
}

/// HTTP status of an engine answer, if the error is one.
fn status(e: &BollardError) -> Option<u16> {
    match e {
        BollardError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

fn message(e: &BollardError) -> &str {
    match e {
        BollardError::DockerResponseServerError { message, .. } => message,
        _ => "",
    }
}

/// Whether the error means the engine could not be reached at all.
fn is_unreachable(e: &BollardError) -> bool {
    match e {
        BollardError::SocketNotFoundError(_) | BollardError::HyperLegacyError { .. } => true,
        BollardError::IOError { err } => matches!(
            err.kind(),
            std::io::ErrorKind::ConnectionRefused
                | std::io::ErrorKind::NotFound
                | std::io::ErrorKind::PermissionDenied
                | std::io::ErrorKind::ConnectionReset
        ),
        _ => false,
    }
}

/// Maps a bollard error to ours: unreachable engine or a failed operation on `object`.
fn classify(e: BollardError, op: &'static str, object: &str) -> Error {
    if is_unreachable(&e) {
        Error::Unreachable {
            source: Box::new(e),
        }
    } else {
        Error::Operation {
            op,
            object: object.to_string(),
            source: Box::new(e),
        }
    }
}

/// Like [`classify`], but a 404 is [`Error::NotFound`] for the container `id`.
fn not_found_or(e: BollardError, op: &'static str, id: &str) -> Error {
    if status(&e) == Some(404) {
        Error::NotFound {
            object: format!("container `{id}`"),
        }
    } else {
        classify(e, op, id)
    }
}

/// Splits `repo[:tag]` (a `:` after the last `/`) for the pull API, which pulls *every* tag of a
/// repository when none is given. Digests (`@sha256:…`) are passed through whole.
fn split_image(image: &str) -> (&str, &str) {
    if image.contains('@') {
        return (image, "");
    }
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[last_slash..].rfind(':') {
        Some(i) => (&image[..last_slash + i], &image[last_slash + i + 1..]),
        None => (image, "latest"),
    }
}

fn parse_status(state: Option<&bollard::models::ContainerState>) -> ContainerStatus {
    let Some(state) = state else {
        return ContainerStatus::Created;
    };
    let exited = || ContainerStatus::Exited {
        code: state.exit_code.unwrap_or(-1),
        oom_killed: state.oom_killed.unwrap_or(false),
    };
    match state.status {
        Some(ContainerStateStatusEnum::CREATED) => ContainerStatus::Created,
        Some(
            ContainerStateStatusEnum::RUNNING
            | ContainerStateStatusEnum::PAUSED
            | ContainerStateStatusEnum::RESTARTING
            | ContainerStateStatusEnum::STOPPING,
        ) => ContainerStatus::Running,
        Some(
            ContainerStateStatusEnum::EXITED
            | ContainerStateStatusEnum::DEAD
            | ContainerStateStatusEnum::REMOVING,
        ) => exited(),
        Some(ContainerStateStatusEnum::EMPTY) | None => {
            if state.running == Some(true) {
                ContainerStatus::Running
            } else if state
                .finished_at
                .as_deref()
                .is_some_and(|f| !f.starts_with("0001"))
            {
                exited()
            } else {
                ContainerStatus::Created
            }
        }
    }
}

fn to_labels(labels: Option<HashMap<String, String>>) -> BTreeMap<String, String> {
    labels.unwrap_or_default().into_iter().collect()
}

#[async_trait]
impl ContainerRuntime for DockerRuntime {
    async fn ping(&self) -> Result<String> {
        let v = self
            .docker
            .version()
            .await
            .map_err(|e| Error::Unreachable {
                source: Box::new(e),
            })?;
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

    async fn image_exists(&self, image: &str) -> Result<bool> {
        match self.docker.inspect_image(image).await {
            Ok(_) => Ok(true),
            Err(e) if status(&e) == Some(404) => Ok(false),
            Err(e) => Err(classify(e, "inspect image", image)),
        }
    }

    async fn pull_image(&self, image: &str) -> Result<()> {
        let (repo, tag) = split_image(image);
        let mut options = CreateImageOptionsBuilder::new().from_image(repo);
        if !tag.is_empty() {
            options = options.tag(tag);
        }
        let mut stream = self.docker.create_image(Some(options.build()), None, None);
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(detail) = info.error_detail.and_then(|d| d.message) {
                        return Err(Error::ImageUnavailable {
                            image: image.to_string(),
                            source: Some(detail.into()),
                        });
                    }
                }
                Err(e) if is_unreachable(&e) => {
                    return Err(Error::Unreachable {
                        source: Box::new(e),
                    })
                }
                Err(e) => {
                    return Err(Error::ImageUnavailable {
                        image: image.to_string(),
                        source: Some(Box::new(e)),
                    })
                }
            }
        }
        if self.image_exists(image).await? {
            Ok(())
        } else {
            Err(Error::ImageUnavailable {
                image: image.to_string(),
                source: Some("the pull finished but the image is not present".into()),
            })
        }
    }

    async fn create_network(&self, spec: &NetworkSpec) -> Result<String> {
        // API 1.41 happily creates a second network with the same name (CheckDuplicate is gone
        // from current request models), which would make names ambiguous: refuse instead.
        match self.docker.inspect_network(&spec.name, None).await {
            Ok(existing) if existing.name.as_deref() == Some(spec.name.as_str()) => {
                return Err(Error::Operation {
                    op: "create network",
                    object: spec.name.clone(),
                    source: "a network with this name already exists".into(),
                });
            }
            Ok(_) => {}
            Err(e) if status(&e) == Some(404) => {}
            Err(e) => return Err(classify(e, "create network", &spec.name)),
        }
        let request = NetworkCreateRequest {
            name: spec.name.clone(),
            driver: Some("bridge".into()),
            labels: Some(to_docker_labels(&spec.labels)),
            ..Default::default()
        };
        let created = self
            .docker
            .create_network(request)
            .await
            .map_err(|e| classify(e, "create network", &spec.name))?;
        Ok(created.id)
    }

    async fn remove_network(&self, name: &str) -> Result<()> {
        match self.docker.remove_network(name).await {
            Ok(()) => Ok(()),
            Err(e) if status(&e) == Some(404) => Ok(()),
            Err(e) => Err(classify(e, "remove network", name)),
        }
    }

    async fn create_volume(&self, spec: &VolumeSpec) -> Result<String> {
        let request = VolumeCreateRequest {
            name: Some(spec.name.clone()),
            labels: Some(to_docker_labels(&spec.labels)),
            ..Default::default()
        };
        let volume = self
            .docker
            .create_volume(request)
            .await
            .map_err(|e| classify(e, "create volume", &spec.name))?;
        Ok(volume.name)
    }

    async fn remove_volume(&self, name: &str) -> Result<()> {
        let options = RemoveVolumeOptionsBuilder::new().force(false).build();
        match self.docker.remove_volume(name, Some(options)).await {
            Ok(()) => Ok(()),
            Err(e) if status(&e) == Some(404) => Ok(()),
            Err(e) => Err(classify(e, "remove volume", name)),
        }
    }

    async fn create_container(&self, spec: &ContainerSpec) -> Result<String> {
        let body = self.create_body(spec)?;
        let options = CreateContainerOptionsBuilder::new()
            .name(&spec.name)
            .build();
        let created = self
            .docker
            .create_container(Some(options), body)
            .await
            .map_err(|e| classify(e, "create container", &spec.name))?;
        if !spec.files.is_empty() {
            if let Err(e) = self.upload_files(&created.id, spec).await {
                // The caller never learns the id of a failed create: do not leak the container.
                let _ = self.remove_container(&created.id).await;
                return Err(e);
            }
        }
        Ok(created.id)
    }

    async fn start_container(&self, id: &str) -> Result<()> {
        self.docker
            .start_container(id, None)
            .await
            .map_err(|e| not_found_or(e, "start container", id))
    }

    async fn inspect_container(&self, id: &str) -> Result<ContainerState> {
        let info = self
            .docker
            .inspect_container(id, None)
            .await
            .map_err(|e| not_found_or(e, "inspect container", id))?;
        let settings = info.network_settings.unwrap_or_default();
        let ip = settings
            .networks
            .unwrap_or_default()
            .into_values()
            .filter_map(|endpoint| endpoint.ip_address)
            .find(|ip| !ip.is_empty());
        let mut host_ports = BTreeMap::new();
        for (port, bindings) in settings.ports.unwrap_or_default() {
            let Some(Ok(container_port)) = port.split('/').next().map(str::parse::<u16>) else {
                continue;
            };
            let bindings = bindings.unwrap_or_default();
            let host_port = bindings
                .iter()
                .filter(|b| b.host_ip.as_deref() == Some("127.0.0.1"))
                .chain(bindings.iter())
                .find_map(|b| b.host_port.as_deref().and_then(|p| p.parse::<u16>().ok()));
            if let Some(host_port) = host_port {
                host_ports.insert(container_port, host_port);
            }
        }
        Ok(ContainerState {
            id: info.id.unwrap_or_else(|| id.to_string()),
            status: parse_status(info.state.as_ref()),
            ip,
            host_ports,
        })
    }

    async fn exec(&self, id: &str, cmd: &[String], timeout: Duration) -> Result<ExecResult> {
        match tokio::time::timeout(timeout, self.exec_inner(id, cmd)).await {
            Ok(result) => result,
            // Docker cannot kill an exec'd process; it keeps running until it ends by itself.
            Err(_) => Err(Error::Operation {
                op: "exec in container",
                object: format!("{id}: {}", cmd.join(" ")),
                source: format!("no result within {}", humantime::format_duration(timeout)).into(),
            }),
        }
    }

    async fn logs(&self, id: &str, tail: usize) -> Result<Vec<String>> {
        let options = LogsOptionsBuilder::new()
            .stdout(true)
            .stderr(true)
            .tail(&tail.to_string())
            .build();
        let mut stream = self.docker.logs(id, Some(options));
        let mut text = Vec::new();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(LogOutput::StdOut { message } | LogOutput::StdErr { message })
                | Ok(LogOutput::Console { message }) => text.extend_from_slice(&message),
                Ok(LogOutput::StdIn { .. }) => {}
                Err(e) => return Err(not_found_or(e, "read logs of container", id)),
            }
        }
        let text = String::from_utf8_lossy(&text);
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        let skip = lines.len().saturating_sub(tail);
        Ok(lines.into_iter().skip(skip).collect())
    }

    async fn stop_container(&self, id: &str, grace: Duration) -> Result<()> {
        let secs = grace.as_secs() + u64::from(grace.subsec_nanos() > 0);
        let options = StopContainerOptionsBuilder::new()
            .t(i32::try_from(secs).unwrap_or(i32::MAX))
            .build();
        // 304 (already stopped) is a success answer in bollard.
        match self.docker.stop_container(id, Some(options)).await {
            Ok(()) => Ok(()),
            Err(e) if status(&e) == Some(404) => Ok(()),
            Err(e) => Err(classify(e, "stop container", id)),
        }
    }

    async fn remove_container(&self, id: &str) -> Result<()> {
        let options = RemoveContainerOptionsBuilder::new()
            .force(true)
            .v(true)
            .build();
        match self.docker.remove_container(id, Some(options)).await {
            Ok(()) => Ok(()),
            Err(e) if status(&e) == Some(404) => Ok(()),
            Err(e) if status(&e) == Some(409) && message(&e).contains("already in progress") => {
                Ok(())
            }
            Err(e) => Err(classify(e, "remove container", id)),
        }
    }

    async fn disconnect_network(&self, network: &str, id: &str) -> Result<()> {
        let request = NetworkDisconnectRequest {
            container: id.to_string(),
            force: Some(true),
        };
        match self.docker.disconnect_network(network, request).await {
            Ok(()) => Ok(()),
            Err(e) if status(&e) == Some(404) => Ok(()),
            Err(e) if message(&e).contains("is not connected") => Ok(()),
            Err(e) => Err(classify(
                e,
                "disconnect container from network",
                &format!("{id}` from `{network}"),
            )),
        }
    }

    async fn list_labelled(&self, labels: &[(String, String)]) -> Result<Vec<Listed>> {
        let object = labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        if labels.is_empty() {
            // An empty filter would match every object on the engine, including `bridge`.
            return Err(Error::Operation {
                op: "list objects labelled",
                object,
                source: "refusing to list without a label filter".into(),
            });
        }
        let filters = HashMap::from([(
            "label",
            labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>(),
        )]);
        let op = "list objects labelled";
        let mut listed = Vec::new();
        let containers = self
            .docker
            .list_containers(Some(
                ListContainersOptionsBuilder::new()
                    .all(true)
                    .filters(&filters)
                    .build(),
            ))
            .await
            .map_err(|e| classify(e, op, &object))?;
        for c in containers {
            let id = c.id.unwrap_or_default();
            let name = c
                .names
                .and_then(|n| n.into_iter().next())
                .map(|n| n.trim_start_matches('/').to_string())
                .unwrap_or_else(|| id.clone());
            listed.push(Listed {
                kind: ListedKind::Container,
                id,
                name,
                labels: to_labels(c.labels),
            });
        }
        let networks = self
            .docker
            .list_networks(Some(
                ListNetworksOptionsBuilder::new().filters(&filters).build(),
            ))
            .await
            .map_err(|e| classify(e, op, &object))?;
        for n in networks {
            let id = n.id.unwrap_or_default();
            listed.push(Listed {
                kind: ListedKind::Network,
                name: n.name.unwrap_or_else(|| id.clone()),
                id,
                labels: to_labels(n.labels),
            });
        }
        let volumes = self
            .docker
            .list_volumes(Some(
                ListVolumesOptionsBuilder::new().filters(&filters).build(),
            ))
            .await
            .map_err(|e| classify(e, op, &object))?;
        for v in volumes.volumes.unwrap_or_default() {
            listed.push(Listed {
                kind: ListedKind::Volume,
                id: v.name.clone(),
                name: v.name,
                labels: v.labels.into_iter().collect(),
            });
        }
        listed.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
        Ok(listed)
    }

    async fn image_labels(&self, image: &str) -> Result<Option<Labels>> {
        match self.docker.inspect_image(image).await {
            Ok(info) => Ok(Some(to_labels(info.config.and_then(|c| c.labels)))),
            Err(e) if status(&e) == Some(404) => Ok(None),
            Err(e) => Err(classify(e, "inspect image", image)),
        }
    }

    async fn build_image(
        &self,
        spec: &BuildSpec,
        progress: &mut (dyn for<'l> FnMut(&'l str) + Send),
    ) -> Result<()> {
        let op = "build image";
        let archive = match &spec.context {
            BuildContext::Tar(bytes) => bytes.clone(),
            BuildContext::Dir(dir) => tar_dir(dir).map_err(|e| Error::Operation {
                op,
                object: spec.tag.clone(),
                source: format!("cannot archive the build context `{}`: {e}", dir.display()).into(),
            })?,
        };
        let dockerfile = if spec.dockerfile.is_empty() {
            "Dockerfile"
        } else {
            spec.dockerfile.as_str()
        };
        let build_args: HashMap<&str, &str> = spec
            .build_args
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let labels: HashMap<&str, &str> = spec
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let options = BuildImageOptionsBuilder::new()
            .dockerfile(dockerfile)
            .t(&spec.tag)
            .rm(true)
            .forcerm(true)
            .buildargs(&build_args)
            .labels(&labels)
            .build();
        let replaced = self.image_id(&spec.tag).await;
        let mut stream = self
            .docker
            .build_image(options, None, Some(body_full(archive.into())));
        let mut lines = OutputLines::default();
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(text) = info.stream.as_deref() {
                        lines.push(text, progress);
                    } else if let Some(status) = info.status.as_deref() {
                        lines.push(&format!("{status}\n"), progress);
                    }
                }
                Err(BollardError::DockerStreamError { error }) => {
                    lines.flush(progress);
                    return Err(Error::Operation {
                        op,
                        object: spec.tag.clone(),
                        source: Box::new(BuildFailure {
                            message: error,
                            output_tail: lines.tail.into(),
                        }),
                    });
                }
                Err(e) if is_unreachable(&e) => {
                    return Err(Error::Unreachable {
                        source: Box::new(e),
                    })
                }
                Err(e) => {
                    lines.flush(progress);
                    let message = match message(&e) {
                        "" => e.to_string(),
                        m => m.to_string(),
                    };
                    return Err(Error::Operation {
                        op,
                        object: spec.tag.clone(),
                        source: Box::new(BuildFailure {
                            message,
                            output_tail: lines.tail.into(),
                        }),
                    });
                }
            }
        }
        lines.flush(progress);
        let built = self.image_id(&spec.tag).await;
        if built.is_none() {
            return Err(Error::Operation {
                op,
                object: spec.tag.clone(),
                source: Box::new(BuildFailure {
                    message: "the build finished but the image is not tagged".into(),
                    output_tail: lines.tail.into(),
                }),
            });
        }
        if let Some(old) = replaced.filter(|old| Some(old) != built.as_ref()) {
            // Not forced: the engine refuses while another tag or a container uses it.
            let options = RemoveImageOptionsBuilder::new().build();
            if let Err(e) = self.docker.remove_image(&old, Some(options), None).await {
                tracing::debug!("kept the image `{old}` that {} replaced: {e}", spec.tag);
            }
        }
        Ok(())
    }
}

/// Splits the builder's output chunks (which may hold several lines or end mid-line) into lines,
/// passes each to the progress callback and keeps the last [`BUILD_OUTPUT_TAIL`] non-empty ones.
#[derive(Default)]
struct OutputLines {
    partial: String,
    tail: VecDeque<String>,
}

impl OutputLines {
    fn push(&mut self, chunk: &str, progress: &mut (dyn FnMut(&str) + Send)) {
        self.partial.push_str(chunk);
        while let Some(i) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=i).collect();
            self.emit(line.trim_end_matches(['\n', '\r']), progress);
        }
    }

    fn flush(&mut self, progress: &mut (dyn FnMut(&str) + Send)) {
        let rest = std::mem::take(&mut self.partial);
        if !rest.is_empty() {
            self.emit(rest.trim_end_matches('\r'), progress);
        }
    }

    fn emit(&mut self, line: &str, progress: &mut (dyn FnMut(&str) + Send)) {
        // The legacy builder colours a step's stderr (`ESC[91m` … `ESC[0m`).
        let line = strip_ansi(line);
        let line = line.as_str();
        progress(line);
        if line.trim().is_empty() {
            return;
        }
        if self.tail.len() == BUILD_OUTPUT_TAIL {
            self.tail.pop_front();
        }
        self.tail.push_back(line.to_string());
    }
}

/// `line` without ANSI CSI escape sequences (`ESC [ params final-byte`).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            // Parameter and intermediate bytes, then one final byte in '@'..='~'.
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Archives every file under `dir` (no `.dockerignore`: callers that need it send a tar).
fn tar_dir(dir: &std::path::Path) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    builder.append_dir_all(".", dir)?;
    builder.into_inner()
}

/// Our labels as the map type bollard's request bodies take.
fn to_docker_labels(labels: &Labels) -> std::collections::HashMap<String, String> {
    labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
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

    #[test]
    fn build_output_is_split_into_lines_and_the_tail_is_kept() {
        let mut seen = Vec::new();
        let mut progress = |l: &str| seen.push(l.to_string());
        let mut lines = OutputLines::default();
        lines.push("Step 1/2 : FROM x\n ---> abc", &mut progress);
        lines.push("123\nStep 2/2 : RUN false\n\n", &mut progress);
        for i in 0..BUILD_OUTPUT_TAIL {
            lines.push(&format!("line {i}\n"), &mut progress);
        }
        lines.push("\u{1b}[91mno newline", &mut progress);
        lines.flush(&mut progress);
        assert_eq!(
            seen[..4],
            [
                "Step 1/2 : FROM x",
                " ---> abc123",
                "Step 2/2 : RUN false",
                ""
            ]
        );
        assert_eq!(seen.last().unwrap(), "no newline");
        assert_eq!(lines.tail.len(), BUILD_OUTPUT_TAIL);
        assert_eq!(lines.tail.back().unwrap(), "no newline");
        assert_eq!(lines.tail.front().unwrap(), "line 1");
        assert_eq!(
            strip_ansi("\u{1b}[0mabout \u{1b}[1;31mto\u{1b}[0m fail"),
            "about to fail"
        );
    }

    #[test]
    fn splits_image_references() {
        assert_eq!(split_image("busybox"), ("busybox", "latest"));
        assert_eq!(split_image("busybox:1"), ("busybox", "1"));
        assert_eq!(
            split_image("localhost:5000/team/app:2.1"),
            ("localhost:5000/team/app", "2.1")
        );
        assert_eq!(
            split_image("localhost:5000/team/app"),
            ("localhost:5000/team/app", "latest")
        );
        assert_eq!(split_image("app@sha256:abc"), ("app@sha256:abc", ""));
    }

    #[test]
    fn file_paths_must_be_absolute_and_plain() {
        assert_eq!(relative_path("/etc//app/./x").unwrap(), "etc/app/x");
        assert!(relative_path("etc/x").is_err());
        assert!(relative_path("/etc/../x").is_err());
        assert!(relative_path("/").is_err());
    }

    #[test]
    fn tar_has_missing_dirs_then_files_with_modes() {
        let file = super::super::FileSpec {
            path: "/a/b/run.sh".into(),
            content: b"echo hi\n".to_vec(),
            mode: 0o755,
        };
        let bytes = build_tar(&["a".into(), "a/b".into()], &[("a/b/run.sh".into(), &file)])
            .expect("tar builds");
        let mut archive = tar::Archive::new(bytes.as_slice());
        let entries: Vec<(String, u32, bool)> = archive
            .entries()
            .expect("entries")
            .map(|e| {
                let e = e.expect("entry");
                let path = e.path().expect("path").display().to_string();
                (
                    path,
                    e.header().mode().expect("mode"),
                    e.header().entry_type().is_dir(),
                )
            })
            .collect();
        assert_eq!(
            entries,
            vec![
                ("a/".to_string(), 0o755, true),
                ("a/b/".to_string(), 0o755, true),
                ("a/b/run.sh".to_string(), 0o755, false),
            ]
        );
    }
}
