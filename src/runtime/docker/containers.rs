//! Containers: the create body (mounts, ports, network mode, limits), file upload, and the
//! container verbs of the runtime (start, inspect, exec, logs, stop, remove).
use super::{
    client::{to_docker_labels, DockerRuntime},
    errors::{classify, message, not_found_or, status, BoxError},
};
use crate::runtime::{
    ContainerSpec, ContainerState, ContainerStatus, Error, ExecResult, FileSpec, Mount,
    NetworkAttachment, Result,
};
use bollard::{
    body_full,
    container::LogOutput,
    exec::{CreateExecOptions, StartExecResults},
    models::{
        ContainerCreateBody, ContainerStateStatusEnum, EndpointSettings, HostConfig,
        Mount as BollardMount, MountType, MountVolumeOptions, NetworkingConfig, PortBinding,
    },
    query_parameters::{
        ContainerArchiveInfoOptionsBuilder, CreateContainerOptionsBuilder, LogsOptionsBuilder,
        RemoveContainerOptionsBuilder, StopContainerOptionsBuilder,
        UploadToContainerOptionsBuilder, WaitContainerOptionsBuilder,
    },
    ClientVersion,
};
use futures_util::StreamExt;
use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use tokio::sync::watch;

/// Oldest API version that supports volume sub-path mounts (`VolumeOptions.Subpath`).
const SUBPATH_API: (usize, usize) = (1, 45);

impl DockerRuntime {
    fn supports_subpath(&self) -> bool {
        let ClientVersion {
            major_version,
            minor_version,
        } = self.docker.client_version();
        (major_version, minor_version) >= SUBPATH_API
    }

    /// Builds the engine's create body for `spec` (no I/O).
    fn create_body(
        &self,
        spec: &ContainerSpec,
        user: Option<String>,
    ) -> Result<ContainerCreateBody> {
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
            readonly_rootfs: spec.read_only_rootfs.then_some(true),
            group_add: (!spec.group_add.is_empty())
                .then(|| spec.group_add.iter().map(i64::to_string).collect()),
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
            user,
            exposed_ports: (!ports.is_empty()).then_some(ports),
            host_config: Some(host_config),
            networking_config,
            ..Default::default()
        })
    }

    fn mount(&self, spec: &ContainerSpec, m: &Mount) -> Result<BollardMount> {
        let volume_options = match &m.sub_path {
            None if m.no_copy => Some(MountVolumeOptions {
                no_copy: Some(true),
                ..Default::default()
            }),
            None => None,
            Some(sub) if self.supports_subpath() => Some(MountVolumeOptions {
                subpath: Some(sub.clone()),
                no_copy: m.no_copy.then_some(true),
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

    /// Uploads `spec.files` (and the mounts' root modes) into the created container `id`. A
    /// read-only root filesystem takes nothing: each file goes into the writable mount that
    /// holds it, uploaded there.
    async fn upload_files(&self, id: &str, spec: &ContainerSpec) -> Result<()> {
        if !spec.read_only_rootfs {
            let roots: Vec<(String, u32)> = spec
                .mounts
                .iter()
                .filter_map(|m| Some((relative_path(&m.target).ok()?, m.root_mode?)))
                .collect();
            let files: Vec<&FileSpec> = spec.files.iter().collect();
            return self.upload_into(id, spec, "/", &files, &roots).await;
        }
        let writable: Vec<&Mount> = spec
            .mounts
            .iter()
            .filter(|m| !m.read_only && m.sub_path.is_none())
            .collect();
        let mut by_mount: BTreeMap<&str, Vec<&FileSpec>> = BTreeMap::new();
        for f in &spec.files {
            let holder = writable
                .iter()
                .filter(|m| under(&f.path, &m.target))
                .max_by_key(|m| m.target.len())
                .ok_or_else(|| Error::Operation {
                    op: "copy files into container",
                    object: spec.name.clone(),
                    source: format!(
                        "file `{}` lies in the read-only root filesystem, not in a writable volume",
                        f.path
                    )
                    .into(),
                })?;
            by_mount.entry(holder.target.as_str()).or_default().push(f);
        }
        for (target, files) in by_mount {
            self.upload_into(id, spec, target, &files, &[]).await?;
        }
        Ok(())
    }

    /// Uploads `files` (absolute paths under `base`) and directory modes `roots` (relative to
    /// `base`) into `base` of the created container `id`, creating missing directories.
    async fn upload_into(
        &self,
        id: &str,
        spec: &ContainerSpec,
        base: &str,
        files: &[&FileSpec],
        roots: &[(String, u32)],
    ) -> Result<()> {
        let fail = |source: BoxError| Error::Operation {
            op: "copy files into container",
            object: spec.name.clone(),
            source,
        };
        let base = base.trim_end_matches('/');
        let mut dirs = BTreeSet::new();
        let mut entries = Vec::with_capacity(files.len());
        for f in files {
            let inside = f.path.strip_prefix(base).unwrap_or(&f.path);
            let rel = relative_path(inside).map_err(fail)?;
            let parts: Vec<&str> = rel.split('/').collect();
            for depth in 1..parts.len() {
                dirs.insert(parts[..depth].join("/"));
            }
            entries.push((rel, *f));
        }
        // Only directories that are missing get an entry (BTreeSet order: parents first).
        let mut missing: Vec<String> = Vec::new();
        for dir in dirs {
            let parent_missing = missing
                .iter()
                .any(|m| dir.starts_with(m.as_str()) && dir[m.len()..].starts_with('/'));
            if parent_missing
                || !self
                    .path_exists(id, &format!("{base}/{dir}"))
                    .await
                    .map_err(fail)?
            {
                missing.push(dir);
            }
        }
        let archive =
            build_tar(&missing, roots, &entries, spec.fs_group).map_err(|e| fail(Box::new(e)))?;
        // The engine keeps the entries' owners (`copyUIDGID` would give them the container
        // user's instead, and needs that user in the image's /etc/passwd).
        let path = if base.is_empty() { "/" } else { base };
        let options = UploadToContainerOptionsBuilder::new().path(path).build();
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

/// The engine's `User` for `spec`: `uid[:gid]`; a group alone goes with the image's user (root
/// when it has none), as containerd's `generateUserString` composes it.
async fn user(rt: &DockerRuntime, spec: &ContainerSpec) -> Result<Option<String>> {
    let Some(run_as) = spec.user else {
        return Ok(None);
    };
    let user = match run_as.uid {
        Some(uid) => uid.to_string(),
        None => {
            let image_user = super::images::user(rt, &spec.image)
                .await?
                .unwrap_or_default();
            let name = image_user.split(':').next().unwrap_or_default();
            if name.is_empty() {
                "0".to_string()
            } else {
                name.to_string()
            }
        }
    };
    Ok(Some(match run_as.gid {
        Some(gid) => format!("{user}:{gid}"),
        None => user,
    }))
}

/// Whether `path` lies under the directory `dir`.
fn under(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    path.strip_prefix(dir)
        .is_some_and(|rest| rest.starts_with('/'))
}

/// Gives the mounts' roots their modes through a container that is created for it and
/// removed (never started): a read-only root filesystem refuses the upload that does it, and
/// an archive cannot change the mode of the directory it is unpacked into.
async fn set_volume_roots(rt: &DockerRuntime, spec: &ContainerSpec) -> Result<()> {
    let mut mounts = Vec::new();
    let mut roots = Vec::new();
    for (i, m) in spec.mounts.iter().enumerate() {
        if let Some(mode) = m.root_mode {
            mounts.push(Mount {
                target: format!("/syncsim-volume-{i}"),
                ..m.clone()
            });
            roots.push((format!("syncsim-volume-{i}"), mode));
        }
    }
    if roots.is_empty() {
        return Ok(());
    }
    let helper = ContainerSpec {
        name: format!("{}-volumes", spec.name),
        image: spec.image.clone(),
        cmd: Some(vec!["true".into()]),
        mounts,
        labels: spec.labels.clone(),
        fs_group: spec.fs_group,
        ..ContainerSpec::default()
    };
    let id = create(rt, &helper).await?;
    let archive = build_tar(&[], &roots, &[], spec.fs_group).map_err(|e| Error::Operation {
        op: "copy files into container",
        object: helper.name.clone(),
        source: Box::new(e),
    });
    let uploaded = match archive {
        Ok(archive) => rt
            .docker
            .upload_to_container(
                &id,
                Some(UploadToContainerOptionsBuilder::new().path("/").build()),
                body_full(archive.into()),
            )
            .await
            .map_err(|e| classify(e, "copy files into container", &helper.name)),
        Err(e) => Err(e),
    };
    let removed = remove(rt, &id).await;
    uploaded.and(removed)
}

pub(super) async fn create(rt: &DockerRuntime, spec: &ContainerSpec) -> Result<String> {
    if spec.read_only_rootfs {
        Box::pin(set_volume_roots(rt, spec)).await?;
    }
    let body = rt.create_body(spec, user(rt, spec).await?)?;
    let options = CreateContainerOptionsBuilder::new()
        .name(&spec.name)
        .build();
    let created = rt
        .docker
        .create_container(Some(options), body)
        .await
        .map_err(|e| classify(e, "create container", &spec.name))?;
    let roots = !spec.read_only_rootfs && spec.mounts.iter().any(|m| m.root_mode.is_some());
    if !spec.files.is_empty() || roots {
        if let Err(e) = rt.upload_files(&created.id, spec).await {
            // The caller never learns the id of a failed create: do not leak the container.
            let _ = remove(rt, &created.id).await;
            return Err(e);
        }
    }
    Ok(created.id)
}

/// Container starts the engine is still carrying out, by the id they were asked for.
#[derive(Debug, Default)]
pub(super) struct Starting(std::sync::Mutex<HashMap<String, watch::Receiver<bool>>>);

impl Starting {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, watch::Receiver<bool>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits (at most [`START_SETTLE_LIMIT`]) until no start of `id` is in flight.
    async fn settled(&self, id: &str) {
        let Some(mut rx) = self.lock().get(id).cloned() else {
            return;
        };
        let _ = tokio::time::timeout(START_SETTLE_LIMIT, rx.wait_for(|done| *done)).await;
    }
}

/// How long a stop or removal waits for a start of the same container still in flight.
const START_SETTLE_LIMIT: Duration = Duration::from_secs(30);

/// Starts a container. The engine's work runs to its end even when the caller stops waiting (a
/// controller aborted at teardown), and stopping or removing the container waits for it: the
/// engine (20.10) can leave a network endpoint behind, which keeps the network from being
/// removed, when a container is removed while it is being started.
pub(super) async fn start(rt: &DockerRuntime, id: &str) -> Result<()> {
    let (done, rx) = watch::channel(false);
    rt.starting.lock().insert(id.to_string(), rx);
    let (docker, starting, owned) = (rt.docker.clone(), rt.starting.clone(), id.to_string());
    let call = tokio::spawn(async move {
        let r = docker.start_container(&owned, None).await;
        starting.lock().remove(&owned);
        let _ = done.send(true);
        r
    });
    match call.await {
        Ok(r) => r.map_err(|e| not_found_or(e, "start container", id)),
        Err(e) => Err(Error::Operation {
            op: "start container",
            object: id.to_string(),
            source: Box::new(e),
        }),
    }
}

/// Docker's wait API (`POST /containers/{id}/wait?condition=not-running`): resolves when the
/// container stops. A non-zero exit is still an exit (bollard reports it as an error); a
/// missing container has exited too.
pub(super) async fn wait_exit(rt: &DockerRuntime, id: &str) -> Result<()> {
    let options = WaitContainerOptionsBuilder::new()
        .condition("not-running")
        .build();
    let mut stream = rt.docker.wait_container(id, Some(options));
    match stream.next().await {
        None | Some(Ok(_)) => Ok(()),
        Some(Err(bollard::errors::Error::DockerContainerWaitError { .. })) => Ok(()),
        Some(Err(e)) if status(&e) == Some(404) => Ok(()),
        Some(Err(e)) => Err(classify(e, "wait for container", id)),
    }
}

pub(super) async fn inspect(rt: &DockerRuntime, id: &str) -> Result<ContainerState> {
    let info = rt
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

pub(super) async fn exec(
    rt: &DockerRuntime,
    id: &str,
    cmd: &[String],
    timeout: Duration,
) -> Result<ExecResult> {
    match tokio::time::timeout(timeout, rt.exec_inner(id, cmd)).await {
        Ok(result) => result,
        // Docker cannot kill an exec'd process; it keeps running until it ends by itself.
        Err(_) => Err(Error::Operation {
            op: "exec in container",
            object: format!("{id}: {}", cmd.join(" ")),
            source: format!("no result within {}", humantime::format_duration(timeout)).into(),
        }),
    }
}

pub(super) async fn logs(rt: &DockerRuntime, id: &str, tail: usize) -> Result<Vec<String>> {
    let options = LogsOptionsBuilder::new()
        .stdout(true)
        .stderr(true)
        .tail(&tail.to_string())
        .build();
    let mut stream = rt.docker.logs(id, Some(options));
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

pub(super) async fn stop(rt: &DockerRuntime, id: &str, grace: Duration) -> Result<()> {
    rt.starting.settled(id).await;
    let secs = grace.as_secs() + u64::from(grace.subsec_nanos() > 0);
    let options = StopContainerOptionsBuilder::new()
        .t(i32::try_from(secs).unwrap_or(i32::MAX))
        .build();
    // 304 (already stopped) is a success answer in bollard.
    match rt.docker.stop_container(id, Some(options)).await {
        Ok(()) => Ok(()),
        Err(e) if status(&e) == Some(404) => Ok(()),
        Err(e) => Err(classify(e, "stop container", id)),
    }
}

pub(super) async fn remove(rt: &DockerRuntime, id: &str) -> Result<()> {
    rt.starting.settled(id).await;
    let options = RemoveContainerOptionsBuilder::new()
        .force(true)
        .v(true)
        .build();
    match rt.docker.remove_container(id, Some(options)).await {
        Ok(()) => Ok(()),
        Err(e) if status(&e) == Some(404) => Ok(()),
        Err(e) if status(&e) == Some(409) && message(&e).contains("already in progress") => Ok(()),
        Err(e) => Err(classify(e, "remove container", id)),
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

/// The archive of missing directories (`0755`), volume roots (their modes) and files. With
/// `fs_group`, every entry belongs to that group, directories get the setgid bit and files
/// group read, as the kubelet's `SetVolumeOwnership` leaves a read-only volume's.
fn build_tar(
    dirs: &[String],
    roots: &[(String, u32)],
    files: &[(String, &FileSpec)],
    fs_group: Option<i64>,
) -> std::io::Result<Vec<u8>> {
    let mtime = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let header = |kind, mode: u32, size| {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_size(size);
        header.set_mtime(mtime);
        match fs_group.and_then(|g| u64::try_from(g).ok()) {
            Some(gid) => {
                header.set_gid(gid);
                let extra = if kind == tar::EntryType::Directory {
                    0o2550
                } else {
                    0o440
                };
                header.set_mode((mode | extra) & 0o7777);
            }
            None => header.set_mode(mode & 0o7777),
        }
        header
    };
    let mut builder = tar::Builder::new(Vec::new());
    let dir_entries = dirs
        .iter()
        .map(|d| (d, 0o755))
        .chain(roots.iter().map(|(d, mode)| (d, *mode)));
    for (dir, mode) in dir_entries {
        let mut h = header(tar::EntryType::Directory, mode, 0);
        builder.append_data(&mut h, format!("{dir}/"), std::io::empty())?;
    }
    for (rel, file) in files {
        let mut h = header(
            tar::EntryType::Regular,
            file.mode,
            file.content.len() as u64,
        );
        builder.append_data(&mut h, rel, file.content.as_slice())?;
    }
    builder.into_inner()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_paths_must_be_absolute_and_plain() {
        assert_eq!(relative_path("/etc//app/./x").unwrap(), "etc/app/x");
        assert!(relative_path("etc/x").is_err());
        assert!(relative_path("/etc/../x").is_err());
        assert!(relative_path("/").is_err());
    }

    #[test]
    fn tar_has_missing_dirs_then_files_with_modes() {
        let file = FileSpec {
            path: "/a/b/run.sh".into(),
            content: b"echo hi\n".to_vec(),
            mode: 0o755,
        };
        let bytes = build_tar(
            &["a".into(), "a/b".into()],
            &[],
            &[("a/b/run.sh".into(), &file)],
            None,
        )
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
