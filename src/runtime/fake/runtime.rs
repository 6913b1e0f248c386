//! [`FakeRuntime`]: builder-style scripting, inspection for assertions, and the
//! [`ContainerRuntime`] impl over the in-memory [`State`].
use super::{
    script::{Call, ExecScript, Op, Script},
    state::{longest_prefix, not_found, op_error, Failure, FakeContainer, State},
};
use crate::runtime::{
    BuildFailure, BuildSpec, ContainerRuntime, ContainerSpec, ContainerState, ContainerStatus,
    Error, ExecResult, Labels, Listed, ListedKind, NetworkAttachment, NetworkSpec, Result,
    VolumeSpec, BUILD_OUTPUT_TAIL,
};
use async_trait::async_trait;
use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};
use tokio::time::Instant;

/// See the [module documentation](super).
#[derive(Debug, Default)]
pub struct FakeRuntime {
    /// Shared with the slow creates in flight (see [`FakeRuntime::with_slow_create`]).
    state: Arc<Mutex<State>>,
}

impl FakeRuntime {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    // ----- scripting (builder style) -----

    /// The machine has no spare CPU time (see [`ContainerRuntime::spare_cpu`]).
    pub fn with_busy_cpu(self) -> Self {
        self.state().busy_cpu = true;
        self
    }

    /// This process reaches the containers' addresses (see
    /// [`ContainerRuntime::reaches_network`]).
    pub fn with_reachable_networks(self) -> Self {
        self.state().reachable_networks = true;
        self
    }

    /// `image` is absent and cannot be pulled.
    pub fn with_missing_image(self, image: impl Into<String>) -> Self {
        self.state().missing_images.insert(image.into());
        self
    }

    /// `image` is absent until pulled; the pull succeeds.
    pub fn with_pullable_image(self, image: impl Into<String>) -> Self {
        self.state().pullable_images.insert(image.into());
        self
    }

    /// `image` is present with these labels.
    pub fn with_image_labels(self, image: impl Into<String>, labels: Labels) -> Self {
        let image = image.into();
        let mut s = self.state();
        s.missing_images.remove(&image);
        s.pullable_images.remove(&image);
        s.image_labels.insert(image, labels);
        drop(s);
        self
    }

    /// `image` is present and runs as `user` (its config's `User`).
    pub fn with_image_user(self, image: impl Into<String>, user: impl Into<String>) -> Self {
        let image = image.into();
        let mut s = self.state();
        s.missing_images.remove(&image);
        s.pullable_images.remove(&image);
        s.image_users.insert(image, user.into());
        drop(s);
        self
    }

    /// Builds of tags starting with `tag_prefix` print these lines.
    pub fn with_build_output<I, S>(self, tag_prefix: impl Into<String>, lines: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let lines = lines.into_iter().map(Into::into).collect();
        self.state().build_output.push((tag_prefix.into(), lines));
        self
    }

    /// Containers whose name starts with `name_prefix` behave as `script`.
    pub fn script_container(self, name_prefix: impl Into<String>, script: Script) -> Self {
        self.state().scripts.push((name_prefix.into(), script));
        self
    }

    /// Execs in containers whose name starts with `name_prefix` exit with `code`.
    pub fn with_exec_result(self, name_prefix: impl Into<String>, code: i64) -> Self {
        self.with_exec(
            name_prefix,
            ExecScript {
                exit_code: code,
                ..ExecScript::default()
            },
        )
    }

    /// Execs in containers whose name starts with `name_prefix` behave as `exec`.
    pub fn with_exec(self, name_prefix: impl Into<String>, exec: ExecScript) -> Self {
        self.state().execs.push((name_prefix.into(), exec));
        self
    }

    /// Creating a container whose name starts with `name_prefix` takes `takes` (the engine is
    /// slow under load); the container exists once that time has passed, whether or not the
    /// caller still waits (as Docker completes a create whose client went away).
    pub fn with_slow_create(self, name_prefix: impl Into<String>, takes: Duration) -> Self {
        self.state().slow_creates.push((name_prefix.into(), takes));
        self
    }

    /// Every `op` on an object whose name starts with `name_prefix` fails.
    pub fn fail_op(self, op: Op, name_prefix: impl Into<String>) -> Self {
        self.push_failure(op, name_prefix.into(), None)
    }

    /// The next `times` `op`s on objects whose name starts with `name_prefix` fail.
    pub fn fail_op_times(self, op: Op, name_prefix: impl Into<String>, times: u32) -> Self {
        self.push_failure(op, name_prefix.into(), Some(times))
    }

    fn push_failure(self, op: Op, prefix: String, remaining: Option<u32>) -> Self {
        self.state().failures.push(Failure {
            op,
            message: format!("scripted failure of `{}` on `{prefix}*`", op.name()),
            prefix,
            remaining,
        });
        self
    }

    // ----- changes while the cluster runs -----

    /// From now on the machine has (or has no) spare CPU time.
    pub fn set_busy_cpu(&self, busy: bool) {
        self.state().busy_cpu = busy;
    }

    // ----- inspection for assertions -----

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }

    /// Every call so far as `"op object[: detail]"` lines, e.g. `"start web-0"`.
    pub fn call_log(&self) -> Vec<String> {
        self.calls().iter().map(ToString::to_string).collect()
    }

    /// Every object that still exists, labelled or not (containers, networks, volumes).
    pub fn objects(&self) -> Vec<Listed> {
        let state = self.state();
        let mut out: Vec<Listed> = state
            .containers
            .values()
            .map(|c| Listed {
                kind: ListedKind::Container,
                id: c.id.clone(),
                name: c.spec.name.clone(),
                labels: c.spec.labels.clone(),
            })
            .collect();
        out.extend(state.networks.iter().map(|(name, (id, labels))| Listed {
            kind: ListedKind::Network,
            id: id.clone(),
            name: name.clone(),
            labels: labels.clone(),
        }));
        out.extend(state.volumes.iter().map(|(name, labels)| Listed {
            kind: ListedKind::Volume,
            id: name.clone(),
            name: name.clone(),
            labels: labels.clone(),
        }));
        out.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
        out
    }

    /// Every build so far, in order.
    pub fn builds(&self) -> Vec<BuildSpec> {
        self.state().builds.clone()
    }

    /// The spec a container (id or name) was created with.
    pub fn container_spec(&self, id_or_name: &str) -> Option<ContainerSpec> {
        self.state().find(id_or_name).map(|c| c.spec.clone())
    }

    /// Whether a container (id or name) is running and past its scripted `ready_after`: what a
    /// fake HTTP/TCP prober should answer.
    pub fn is_ready(&self, id_or_name: &str) -> bool {
        let now = Instant::now();
        self.state().find(id_or_name).is_some_and(|c| c.ready(now))
    }
}

#[async_trait]
impl ContainerRuntime for FakeRuntime {
    async fn ping(&self) -> Result<String> {
        let mut s = self.state();
        s.record(Op::Ping, "engine", None);
        s.failure(Op::Ping, "engine")?;
        Ok("fake runtime".to_string())
    }

    async fn image_exists(&self, image: &str) -> Result<bool> {
        let mut s = self.state();
        s.record(Op::ImageExists, image, None);
        s.failure(Op::ImageExists, image)?;
        Ok(!s.missing_images.contains(image) && !s.pullable_images.contains(image))
    }

    async fn pull_image(&self, image: &str) -> Result<()> {
        let mut s = self.state();
        s.record(Op::Pull, image, None);
        s.failure(Op::Pull, image)?;
        if s.missing_images.contains(image) {
            return Err(Error::ImageUnavailable {
                image: image.to_string(),
                source: Some("not found in the fake registry".into()),
            });
        }
        s.pullable_images.remove(image);
        Ok(())
    }

    async fn create_network(&self, spec: &NetworkSpec) -> Result<String> {
        let mut s = self.state();
        s.record(Op::CreateNetwork, &spec.name, None);
        s.failure(Op::CreateNetwork, &spec.name)?;
        if s.networks.contains_key(&spec.name) {
            return Err(op_error(
                Op::CreateNetwork,
                &spec.name,
                "a network with this name already exists",
            ));
        }
        let id = s.next_id("network");
        s.networks
            .insert(spec.name.clone(), (id.clone(), spec.labels.clone()));
        Ok(id)
    }

    async fn remove_network(&self, name: &str) -> Result<()> {
        let mut s = self.state();
        let key = s
            .networks
            .iter()
            .find(|(n, (id, _))| *n == name || id == name)
            .map(|(n, _)| n.clone());
        s.record(Op::RemoveNetwork, key.as_deref().unwrap_or(name), None);
        s.failure(Op::RemoveNetwork, key.as_deref().unwrap_or(name))?;
        let Some(key) = key else { return Ok(()) };
        let now = Instant::now();
        let busy = s.containers.values().any(|c| {
            c.connected
                && c.status(now) == ContainerStatus::Running
                && matches!(&c.spec.network, NetworkAttachment::Network { name, .. } if *name == key)
        });
        if busy {
            return Err(op_error(
                Op::RemoveNetwork,
                &key,
                "network has active endpoints",
            ));
        }
        s.networks.remove(&key);
        Ok(())
    }

    async fn create_volume(&self, spec: &VolumeSpec) -> Result<String> {
        let mut s = self.state();
        s.record(Op::CreateVolume, &spec.name, None);
        s.failure(Op::CreateVolume, &spec.name)?;
        // Docker returns an existing volume of the same name unchanged.
        s.volumes
            .entry(spec.name.clone())
            .or_insert_with(|| spec.labels.clone());
        Ok(spec.name.clone())
    }

    async fn remove_volume(&self, name: &str) -> Result<()> {
        let mut s = self.state();
        s.record(Op::RemoveVolume, name, None);
        s.failure(Op::RemoveVolume, name)?;
        if s.containers
            .values()
            .any(|c| c.spec.mounts.iter().any(|m| m.volume == name))
        {
            return Err(op_error(Op::RemoveVolume, name, "volume is in use"));
        }
        s.volumes.remove(name);
        Ok(())
    }

    async fn create_container(&self, spec: &ContainerSpec) -> Result<String> {
        let takes = longest_prefix(&self.state().slow_creates, &spec.name).copied();
        let Some(takes) = takes else {
            return create_in(&self.state, spec);
        };
        let (state, spec) = (self.state.clone(), spec.clone());
        let create = tokio::spawn(async move {
            tokio::time::sleep(takes).await;
            create_in(&state, &spec)
        });
        create.await.expect("the create task runs to its end")
    }

    async fn start_container(&self, id: &str) -> Result<()> {
        let mut s = self.state();
        let name = s.container_name(id);
        s.record(Op::Start, &name, None);
        s.failure(Op::Start, &name)?;
        let now = Instant::now();
        let key = s.find_id(id).ok_or_else(|| not_found(id))?;
        if let Some(c) = s.containers.get(&key) {
            if let NetworkAttachment::Container { id: owner } = &c.spec.network {
                let owner_running = s
                    .find(owner)
                    .is_some_and(|o| o.status(now) == ContainerStatus::Running);
                if !owner_running {
                    return Err(op_error(
                        Op::Start,
                        &name,
                        format!("cannot join the network namespace of {owner}: not running"),
                    ));
                }
            }
        }
        // A restart takes a fresh address (see `FakeContainer::address`).
        let restart = s
            .containers
            .get(&key)
            .is_some_and(|c| c.started_at.is_some() && c.status(now) != ContainerStatus::Running);
        if restart {
            s.next_id += 1;
        }
        let fresh = s.next_id;
        if let Some(c) = s.containers.get_mut(&key) {
            // Starting a running container is a no-op, as in Docker; restarting an exited one
            // starts its script again.
            if c.status(now) != ContainerStatus::Running {
                if restart {
                    c.address = fresh;
                }
                c.started_at = Some(now);
                c.stopped = None;
            }
        }
        Ok(())
    }

    /// Checks the container's scripted state every 50 ms (not recorded as a call): resolves
    /// once it is not running or is gone.
    async fn wait_exit(&self, id: &str) -> Result<()> {
        loop {
            let running = {
                let s = self.state();
                s.find(id)
                    .is_some_and(|c| c.status(Instant::now()) == ContainerStatus::Running)
            };
            if !running {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn inspect_container(&self, id: &str) -> Result<ContainerState> {
        let mut s = self.state();
        let name = s.container_name(id);
        s.record(Op::Inspect, &name, None);
        s.failure(Op::Inspect, &name)?;
        let c = s.find(id).ok_or_else(|| not_found(id))?;
        let status = c.status(Instant::now());
        let running = status == ContainerStatus::Running;
        let on_network = c.connected && matches!(c.spec.network, NetworkAttachment::Network { .. });
        let host_ports = if running && on_network {
            c.spec
                .ports
                .iter()
                .enumerate()
                .map(|(i, p)| (*p, 40000 + (c.index as u16 % 200) * 50 + i as u16))
                .collect()
        } else {
            BTreeMap::new()
        };
        Ok(ContainerState {
            id: c.id.clone(),
            ip: (running && on_network)
                .then(|| format!("10.0.{}.{}", c.address / 250, c.address % 250 + 2)),
            status,
            host_ports,
        })
    }

    async fn exec(&self, id: &str, cmd: &[String], timeout: Duration) -> Result<ExecResult> {
        let (result, takes) = {
            let mut s = self.state();
            let name = s.container_name(id);
            s.record(Op::Exec, &name, Some(cmd.join(" ")));
            s.failure(Op::Exec, &name)?;
            let now = Instant::now();
            let c = s.find(id).ok_or_else(|| not_found(id))?;
            if c.status(now) != ContainerStatus::Running {
                return Err(op_error(
                    Op::Exec,
                    &name,
                    format!("container {name} is not running"),
                ));
            }
            if c.ready(now) {
                let script = longest_prefix(&s.execs, &name).cloned().unwrap_or_default();
                let result = ExecResult {
                    exit_code: script.exit_code,
                    output: script.output,
                };
                (result, script.takes)
            } else {
                let not_ready = ExecResult {
                    exit_code: 1,
                    output: "not ready (fake runtime)".to_string(),
                };
                (not_ready, Duration::ZERO)
            }
        };
        if takes > timeout {
            tokio::time::sleep(timeout).await;
            let object = format!("{id}: {}", cmd.join(" "));
            return Err(op_error(
                Op::Exec,
                &object,
                format!("no result within {}", humantime::format_duration(timeout)),
            ));
        }
        if !takes.is_zero() {
            tokio::time::sleep(takes).await;
        }
        Ok(result)
    }

    async fn logs(&self, id: &str, tail: usize) -> Result<Vec<String>> {
        let mut s = self.state();
        let name = s.container_name(id);
        s.record(Op::Logs, &name, Some(format!("tail {tail}")));
        s.failure(Op::Logs, &name)?;
        let c = s.find(id).ok_or_else(|| not_found(id))?;
        if c.started_at.is_none() {
            return Ok(Vec::new());
        }
        let skip = c.script.logs.len().saturating_sub(tail);
        Ok(c.script.logs[skip..].to_vec())
    }

    async fn stop_container(&self, id: &str, grace: Duration) -> Result<()> {
        let mut s = self.state();
        let name = s.container_name(id);
        s.record(
            Op::Stop,
            &name,
            Some(format!("grace {}", humantime::format_duration(grace))),
        );
        s.failure(Op::Stop, &name)?;
        let now = Instant::now();
        if let Some(key) = s.find_id(id) {
            if let Some(c) = s.containers.get_mut(&key) {
                if c.status(now) == ContainerStatus::Running {
                    c.stopped = Some(now);
                }
            }
        }
        Ok(())
    }

    async fn remove_container(&self, id: &str) -> Result<()> {
        let mut s = self.state();
        let name = s.container_name(id);
        s.record(Op::Remove, &name, None);
        s.failure(Op::Remove, &name)?;
        if let Some(key) = s.find_id(id) {
            s.containers.remove(&key);
        }
        Ok(())
    }

    async fn disconnect_network(&self, network: &str, id: &str) -> Result<()> {
        let mut s = self.state();
        let name = s.container_name(id);
        s.record(Op::Disconnect, &name, Some(format!("from {network}")));
        s.failure(Op::Disconnect, &name)?;
        if let Some(key) = s.find_id(id) {
            if let Some(c) = s.containers.get_mut(&key) {
                if matches!(&c.spec.network, NetworkAttachment::Network { name, .. } if name == network)
                {
                    c.connected = false;
                }
            }
        }
        Ok(())
    }

    async fn image_labels(&self, image: &str) -> Result<Option<Labels>> {
        let mut s = self.state();
        s.record(Op::ImageLabels, image, None);
        s.failure(Op::ImageLabels, image)?;
        if s.missing_images.contains(image) || s.pullable_images.contains(image) {
            return Ok(None);
        }
        Ok(Some(s.image_labels.get(image).cloned().unwrap_or_default()))
    }

    async fn image_user(&self, image: &str) -> Result<Option<String>> {
        let s = self.state();
        if s.missing_images.contains(image) || s.pullable_images.contains(image) {
            return Ok(None);
        }
        Ok(Some(s.image_users.get(image).cloned().unwrap_or_default()))
    }

    async fn build_image(
        &self,
        spec: &BuildSpec,
        progress: &mut (dyn for<'l> FnMut(&'l str) + Send),
    ) -> Result<()> {
        // Not holding the lock while calling `progress`.
        let (output, failed) = {
            let mut s = self.state();
            let detail = spec
                .build_args
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ");
            s.record(Op::Build, &spec.tag, (!detail.is_empty()).then_some(detail));
            s.builds.push(spec.clone());
            let output = longest_prefix(&s.build_output, &spec.tag)
                .cloned()
                .unwrap_or_default();
            (output, s.failure(Op::Build, &spec.tag).err())
        };
        for line in &output {
            progress(line);
        }
        if let Some(err) = failed {
            let message = match &err {
                Error::Operation { source, .. } => source.to_string(),
                other => other.to_string(),
            };
            let skip = output.len().saturating_sub(BUILD_OUTPUT_TAIL);
            return Err(Error::Operation {
                op: Op::Build.error_op(),
                object: spec.tag.clone(),
                source: Box::new(BuildFailure {
                    message,
                    output_tail: output[skip..].to_vec(),
                }),
            });
        }
        let mut s = self.state();
        s.missing_images.remove(&spec.tag);
        s.pullable_images.remove(&spec.tag);
        s.image_labels.insert(spec.tag.clone(), spec.labels.clone());
        Ok(())
    }

    async fn spare_cpu(&self) -> bool {
        !self.state().busy_cpu
    }

    async fn reaches_network(&self, network: &str) -> bool {
        let s = self.state();
        s.reachable_networks && s.networks.contains_key(network)
    }

    async fn list_labelled(&self, labels: &[(String, String)]) -> Result<Vec<Listed>> {
        let filter = labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        {
            let mut s = self.state();
            s.record(Op::List, &filter, None);
            s.failure(Op::List, &filter)?;
        }
        if labels.is_empty() {
            return Err(op_error(
                Op::List,
                &filter,
                "refusing to list without a label filter",
            ));
        }
        Ok(self
            .objects()
            .into_iter()
            .filter(|o| {
                labels
                    .iter()
                    .all(|(k, v)| o.labels.get(k).is_some_and(|have| have == v))
            })
            .collect())
    }
}

/// The create itself (see `FakeRuntime::create_container`).
fn create_in(state: &Mutex<State>, spec: &ContainerSpec) -> Result<String> {
    let mut s = lock(state);
    s.record(Op::Create, &spec.name, Some(spec.image.clone()));
    s.failure(Op::Create, &spec.name)?;
    if s.containers.values().any(|c| c.spec.name == spec.name) {
        return Err(op_error(
            Op::Create,
            &spec.name,
            "the container name is already in use",
        ));
    }
    if s.missing_images.contains(&spec.image) || s.pullable_images.contains(&spec.image) {
        return Err(op_error(
            Op::Create,
            &spec.name,
            format!("no such image: {}", spec.image),
        ));
    }
    match &spec.network {
        NetworkAttachment::Network { name, .. } if !s.networks.contains_key(name) => {
            return Err(op_error(
                Op::Create,
                &spec.name,
                format!("network {name} not found"),
            ));
        }
        NetworkAttachment::Container { id } if s.find(id).is_none() => {
            return Err(op_error(
                Op::Create,
                &spec.name,
                format!("no such container: {id}"),
            ));
        }
        _ => {}
    }
    for m in &spec.mounts {
        s.volumes.entry(m.volume.clone()).or_default();
    }
    let script = longest_prefix(&s.scripts, &spec.name)
        .cloned()
        .unwrap_or_default();
    let id = s.next_id("container");
    let index = s.next_id;
    s.containers.insert(
        id.clone(),
        FakeContainer {
            id: id.clone(),
            spec: spec.clone(),
            script,
            started_at: None,
            stopped: None,
            connected: true,
            index,
            address: index,
        },
    );
    Ok(id)
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic while holding the lock cannot leave the state half-updated in a way that matters
    // to a test, so a poisoned lock is still usable.
    state.lock().unwrap_or_else(|e| e.into_inner())
}
