//! Containers: the create body (mounts, ports, network mode, limits, user), and the
//! container verbs of the runtime (start, inspect, exec, logs, stop, remove).
use super::{
    client::{to_docker_labels, DockerRuntime},
    errors::{classify, message, not_found_or, status},
};
use crate::runtime::{
    ContainerSpec, ContainerState, ContainerStatus, Error, ExecResult, Mount, NetworkAttachment,
    Privileges, Result,
};
use bollard::{
    container::LogOutput,
    exec::{CreateExecOptions, StartExecResults},
    models::{
        ContainerCreateBody, ContainerStateStatusEnum, EndpointSettings, HostConfig,
        Mount as BollardMount, MountType, MountVolumeOptions, NetworkingConfig, PortBinding,
    },
    query_parameters::{
        CreateContainerOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
        StopContainerOptionsBuilder, WaitContainerOptionsBuilder,
    },
    ClientVersion,
};
use futures_util::StreamExt;
use std::{
    collections::{BTreeMap, HashMap},
    time::Duration,
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
            // Docker refuses host entries in a shared network namespace: the owner's file holds them.
            extra_hosts: (!shares_netns && !spec.extra_hosts.is_empty())
                .then(|| spec.extra_hosts.clone()),
            sysctls: (!shares_netns && !spec.sysctls.is_empty())
                .then(|| spec.sysctls.iter().cloned().collect()),
            dns_search: (!shares_netns && !spec.dns_search.is_empty())
                .then(|| spec.dns_search.clone()),
            dns_options: (!shares_netns && !spec.dns_options.is_empty())
                .then(|| spec.dns_options.clone()),
            cap_add: (!spec.privileges.cap_add.is_empty()).then(|| spec.privileges.cap_add.clone()),
            cap_drop: (!spec.privileges.cap_drop.is_empty())
                .then(|| spec.privileges.cap_drop.clone()),
            privileged: spec.privileges.privileged.then_some(true),
            security_opt: security_opt(&spec.privileges),
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

pub(super) async fn create(rt: &DockerRuntime, spec: &ContainerSpec) -> Result<String> {
    if spec.read_only_rootfs {
        Box::pin(super::files::set_volume_roots(rt, spec)).await?;
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

/// Docker's `SecurityOpt` for `privileges`.
fn security_opt(privileges: &Privileges) -> Option<Vec<String>> {
    let mut opts = Vec::new();
    if privileges.no_new_privileges {
        opts.push("no-new-privileges:true".to_string());
    }
    if privileges.seccomp_unconfined {
        opts.push("seccomp=unconfined".to_string());
    }
    (!opts.is_empty()).then_some(opts)
}
