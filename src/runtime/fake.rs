//! Scripted, in-memory [`ContainerRuntime`] for engine tests: no Docker, no real sleeping.
//!
//! It keeps containers, networks and volumes (with their labels) so `list_labelled` works and a
//! test can assert that nothing is left, records every call in order ([`FakeRuntime::calls`]), and
//! lets a test script what happens, always matched by **container name prefix** (the longest
//! matching prefix wins):
//!
//! - [`Script`] per container: runs forever (default) or exits with a code after `run_for`,
//!   optionally OOM-killed; becomes ready `ready_after` its start; prints `logs` once started.
//! - [`ExecScript`] per container: exit code, output and how long the command takes (an exec that
//!   takes longer than its timeout fails like a real timeout). Before a container is ready, every
//!   exec in it returns exit code 1 (`not ready`), so exec probes see the scripted readiness.
//! - failures per operation ([`Op`]) and object name prefix, always or a number of times.
//! - images: all present, except missing ones (pull fails with [`Error::ImageUnavailable`]) and
//!   pullable ones (absent until pulled). Present images have no labels unless given with
//!   [`FakeRuntime::with_image_labels`] or built.
//! - builds: `build_image` records the [`BuildSpec`] ([`FakeRuntime::builds`]), prints scripted
//!   output lines, and makes the tag present with the spec's labels; `fail_op(Op::Build, tag)`
//!   makes it fail like a failed Dockerfile step (a [`BuildFailure`] with the output's tail).
//!
//! Time is `tokio::time::Instant`, so tests under `#[tokio::test(start_paused = true)]` run
//! scripted durations without waiting.
//!
//! ```
//! use std::time::Duration;
//! use syncsim::runtime::fake::{FakeRuntime, Op, Script};
//!
//! let fake = FakeRuntime::new()
//!     .with_missing_image("ghcr.io/acme/api:1")
//!     .script_container(
//!         "migrate",
//!         Script::exits(1, Duration::from_secs(3)).logs(["applying V2", "error: boom"]),
//!     )
//!     .script_container("web", Script::default().ready_after(Duration::from_secs(2)))
//!     .with_exec_result("web", 0)
//!     .fail_op(Op::Start, "cache");
//! ```
//!
//! Behaviour modelled after Docker, so engine code meets the same rules: container names are
//! unique; a container joins an existing network or a *running* container's namespace (checked at
//! start); named volumes that do not exist are created on the fly without labels (as Docker does);
//! removing a network with running containers or a volume used by a container fails; stop and
//! remove of missing objects succeed; a stopped container exits with [`STOP_EXIT_CODE`].
use super::{
    BuildFailure, BuildSpec, ContainerRuntime, ContainerSpec, ContainerState, ContainerStatus,
    Error, ExecResult, Labels, Listed, ListedKind, NetworkAttachment, NetworkSpec, Result,
    VolumeSpec, BUILD_OUTPUT_TAIL,
};
use async_trait::async_trait;
use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
    sync::{Mutex, MutexGuard},
    time::Duration,
};
use tokio::time::Instant;

/// Exit code of a fake container stopped by `stop_container` (SIGTERM: 128 + 15).
pub const STOP_EXIT_CODE: i64 = 143;

/// One runtime operation, as recorded and as targeted by [`FakeRuntime::fail_op`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    Ping,
    ImageExists,
    Pull,
    CreateNetwork,
    RemoveNetwork,
    CreateVolume,
    RemoveVolume,
    Create,
    Start,
    Inspect,
    Exec,
    Logs,
    Stop,
    Remove,
    Disconnect,
    List,
    ImageLabels,
    Build,
}

impl Op {
    /// Short lowercase name used in [`Call`]'s display (`start`, `create-network`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Op::Ping => "ping",
            Op::ImageExists => "image-exists",
            Op::Pull => "pull",
            Op::CreateNetwork => "create-network",
            Op::RemoveNetwork => "remove-network",
            Op::CreateVolume => "create-volume",
            Op::RemoveVolume => "remove-volume",
            Op::Create => "create",
            Op::Start => "start",
            Op::Inspect => "inspect",
            Op::Exec => "exec",
            Op::Logs => "logs",
            Op::Stop => "stop",
            Op::Remove => "remove",
            Op::Disconnect => "disconnect",
            Op::List => "list",
            Op::ImageLabels => "image-labels",
            Op::Build => "build",
        }
    }

    /// The operation as named in [`Error::Operation`] (same words as the Docker runtime).
    fn error_op(self) -> &'static str {
        match self {
            Op::Ping => "ping",
            Op::ImageExists => "inspect image",
            Op::Pull => "pull image",
            Op::CreateNetwork => "create network",
            Op::RemoveNetwork => "remove network",
            Op::CreateVolume => "create volume",
            Op::RemoveVolume => "remove volume",
            Op::Create => "create container",
            Op::Start => "start container",
            Op::Inspect => "inspect container",
            Op::Exec => "exec in container",
            Op::Logs => "read logs of container",
            Op::Stop => "stop container",
            Op::Remove => "remove container",
            Op::Disconnect => "disconnect container from network",
            Op::List => "list objects labelled",
            Op::ImageLabels => "inspect image",
            Op::Build => "build image",
        }
    }
}

/// A recorded call. `object` is the container/network/volume/image *name* (container ids given
/// by the caller are translated back to names when known), `detail` e.g. the exec command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub op: Op,
    pub object: String,
    pub detail: Option<String>,
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.op.name(), self.object)?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

/// What a container does once started. The default runs until stopped, is ready at once and
/// prints nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Script {
    /// `Some(code)`: the main process exits with `code` `run_for` after start.
    pub exit_code: Option<i64>,
    pub run_for: Duration,
    /// Whether the exit is an OOM kill (reported with `exit_code`, typically 137).
    pub oom_killed: bool,
    /// Time from start until exec probes succeed (see [`FakeRuntime::is_ready`]).
    pub ready_after: Duration,
    /// Log lines, available once started.
    pub logs: Vec<String>,
}

impl Script {
    /// A container whose main process exits with `code` after `run_for`.
    pub fn exits(code: i64, run_for: Duration) -> Self {
        Self {
            exit_code: Some(code),
            run_for,
            ..Self::default()
        }
    }

    /// A container OOM-killed (exit code 137) after `run_for`.
    pub fn oom_killed(run_for: Duration) -> Self {
        Self {
            oom_killed: true,
            ..Self::exits(137, run_for)
        }
    }

    pub fn ready_after(mut self, ready_after: Duration) -> Self {
        self.ready_after = ready_after;
        self
    }

    pub fn logs<I: IntoIterator<Item = S>, S: Into<String>>(mut self, lines: I) -> Self {
        self.logs = lines.into_iter().map(Into::into).collect();
        self
    }
}

/// What an exec in a (ready, running) container returns. The default: exit 0 at once, no output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecScript {
    pub exit_code: i64,
    pub output: String,
    /// How long the command runs; longer than the exec timeout means a timeout error.
    pub takes: Duration,
}

#[derive(Debug, Clone)]
struct Failure {
    op: Op,
    prefix: String,
    /// `None`: fails every time.
    remaining: Option<u32>,
    message: String,
}

#[derive(Debug, Clone)]
struct FakeContainer {
    id: String,
    spec: ContainerSpec,
    script: Script,
    started_at: Option<Instant>,
    stopped: Option<Instant>,
    connected: bool,
    index: u32,
}

impl FakeContainer {
    fn status(&self, now: Instant) -> ContainerStatus {
        let Some(started) = self.started_at else {
            return ContainerStatus::Created;
        };
        let natural_end = self
            .script
            .exit_code
            .map(|code| (started + self.script.run_for, code));
        match (natural_end, self.stopped) {
            (Some((end, code)), stopped) if end <= now && stopped.is_none_or(|s| end <= s) => {
                ContainerStatus::Exited {
                    code,
                    oom_killed: self.script.oom_killed,
                }
            }
            (_, Some(_)) => ContainerStatus::Exited {
                code: STOP_EXIT_CODE,
                oom_killed: false,
            },
            _ => ContainerStatus::Running,
        }
    }

    fn ready(&self, now: Instant) -> bool {
        self.status(now) == ContainerStatus::Running
            && self
                .started_at
                .is_some_and(|s| now >= s + self.script.ready_after)
    }
}

#[derive(Debug, Default)]
struct State {
    calls: Vec<Call>,
    missing_images: BTreeSet<String>,
    pullable_images: BTreeSet<String>,
    /// Labels of present images that have any (given or built).
    image_labels: BTreeMap<String, Labels>,
    builds: Vec<BuildSpec>,
    build_output: Vec<(String, Vec<String>)>,
    scripts: Vec<(String, Script)>,
    execs: Vec<(String, ExecScript)>,
    failures: Vec<Failure>,
    containers: BTreeMap<String, FakeContainer>,
    networks: BTreeMap<String, (String, Labels)>,
    volumes: BTreeMap<String, Labels>,
    next_id: u32,
}

impl State {
    fn record(&mut self, op: Op, object: &str, detail: Option<String>) {
        self.calls.push(Call {
            op,
            object: object.to_string(),
            detail,
        });
    }

    /// Name of the container with this id or name (the argument itself when unknown).
    fn container_name(&self, id_or_name: &str) -> String {
        self.find(id_or_name)
            .map(|c| c.spec.name.clone())
            .unwrap_or_else(|| id_or_name.to_string())
    }

    fn find(&self, id_or_name: &str) -> Option<&FakeContainer> {
        self.containers
            .get(id_or_name)
            .or_else(|| self.containers.values().find(|c| c.spec.name == id_or_name))
    }

    fn find_id(&self, id_or_name: &str) -> Option<String> {
        self.find(id_or_name).map(|c| c.id.clone())
    }

    /// Takes a scripted failure for `op` on `object`, if one is due.
    fn failure(&mut self, op: Op, object: &str) -> Result<()> {
        let hit = self
            .failures
            .iter_mut()
            .filter(|f| f.op == op && object.starts_with(&f.prefix))
            .filter(|f| f.remaining != Some(0))
            .max_by_key(|f| f.prefix.len());
        match hit {
            None => Ok(()),
            Some(f) => {
                if let Some(n) = f.remaining.as_mut() {
                    *n -= 1;
                }
                Err(Error::Operation {
                    op: op.error_op(),
                    object: object.to_string(),
                    source: f.message.clone().into(),
                })
            }
        }
    }

    fn next_id(&mut self, kind: &str) -> String {
        self.next_id += 1;
        format!("fake-{kind}-{:04}", self.next_id)
    }
}

fn longest_prefix<'a, T>(entries: &'a [(String, T)], name: &str) -> Option<&'a T> {
    entries
        .iter()
        .rev()
        .filter(|(prefix, _)| name.starts_with(prefix.as_str()))
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, t)| t)
}

fn op_error(op: Op, object: &str, message: impl Into<String>) -> Error {
    Error::Operation {
        op: op.error_op(),
        object: object.to_string(),
        source: message.into().into(),
    }
}

fn not_found(id: &str) -> Error {
    Error::NotFound {
        object: format!("container `{id}`"),
    }
}

/// See the [module documentation](self).
#[derive(Debug, Default)]
pub struct FakeRuntime {
    state: Mutex<State>,
}

impl FakeRuntime {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-updated in a way that
        // matters to a test, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ----- scripting (builder style) -----

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
        let mut s = self.state();
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
            },
        );
        Ok(id)
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
        if let Some(c) = s.containers.get_mut(&key) {
            // Starting a running container is a no-op, as in Docker; restarting an exited one
            // starts its script again.
            if c.status(now) != ContainerStatus::Running {
                c.started_at = Some(now);
                c.stopped = None;
            }
        }
        Ok(())
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
                .then(|| format!("10.0.{}.{}", c.index / 250, c.index % 250 + 2)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{Mount, LABEL_RUN};

    fn labels(run: &str) -> Labels {
        Labels::from([(LABEL_RUN.to_string(), run.to_string())])
    }

    fn container(name: &str, network: &str) -> ContainerSpec {
        ContainerSpec {
            name: name.into(),
            image: "img:1".into(),
            network: NetworkAttachment::Network {
                name: network.into(),
                aliases: vec![name.into()],
            },
            ports: vec![8080],
            labels: labels("r1"),
            ..ContainerSpec::default()
        }
    }

    fn run_filter() -> Vec<(String, String)> {
        vec![(LABEL_RUN.to_string(), "r1".to_string())]
    }

    #[tokio::test(start_paused = true)]
    async fn scripted_exit_happens_after_run_for_without_sleeping_for_real() {
        let fake = FakeRuntime::new().script_container(
            "job",
            Script::exits(3, Duration::from_secs(30)).logs(["a", "b", "c"]),
        );
        let net = NetworkSpec {
            name: "n".into(),
            labels: labels("r1"),
        };
        fake.create_network(&net).await.unwrap();
        let id = fake
            .create_container(&container("job-1", "n"))
            .await
            .unwrap();
        assert_eq!(
            fake.inspect_container(&id).await.unwrap().status,
            ContainerStatus::Created
        );
        fake.start_container(&id).await.unwrap();
        let state = fake.inspect_container(&id).await.unwrap();
        assert_eq!(state.status, ContainerStatus::Running);
        assert!(state.ip.is_some());
        assert_eq!(state.host_ports.keys().copied().collect::<Vec<_>>(), [8080]);

        let real = std::time::Instant::now();
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert!(real.elapsed() < Duration::from_secs(5));
        let state = fake.inspect_container(&id).await.unwrap();
        assert_eq!(
            state.status,
            ContainerStatus::Exited {
                code: 3,
                oom_killed: false
            }
        );
        assert!(state.host_ports.is_empty());
        assert_eq!(fake.logs(&id, 2).await.unwrap(), ["b", "c"]);
    }

    #[tokio::test(start_paused = true)]
    async fn exec_reports_not_ready_then_scripted_result_and_times_out() {
        let fake = FakeRuntime::new()
            .script_container("web", Script::default().ready_after(Duration::from_secs(2)))
            .with_exec_result("web", 0)
            .with_exec_result("web-slow", 7)
            .with_exec(
                "web-hang",
                ExecScript {
                    takes: Duration::from_secs(60),
                    ..ExecScript::default()
                },
            );
        fake.create_network(&NetworkSpec {
            name: "n".into(),
            labels: labels("r1"),
        })
        .await
        .unwrap();
        let cmd = vec!["true".to_string()];
        let t = Duration::from_secs(1);
        let web = fake
            .create_container(&container("web-0", "n"))
            .await
            .unwrap();
        assert!(matches!(
            fake.exec(&web, &cmd, t).await,
            Err(Error::Operation { .. })
        ));
        fake.start_container(&web).await.unwrap();
        assert_eq!(fake.exec(&web, &cmd, t).await.unwrap().exit_code, 1);
        assert!(!fake.is_ready("web-0"));
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(fake.is_ready("web-0"));
        assert_eq!(fake.exec(&web, &cmd, t).await.unwrap().exit_code, 0);

        let slow = fake
            .create_container(&container("web-slow", "n"))
            .await
            .unwrap();
        fake.start_container(&slow).await.unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(fake.exec(&slow, &cmd, t).await.unwrap().exit_code, 7);

        let hang = fake
            .create_container(&container("web-hang", "n"))
            .await
            .unwrap();
        fake.start_container(&hang).await.unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let before = Instant::now();
        assert!(fake.exec(&hang, &cmd, t).await.is_err());
        assert_eq!(before.elapsed(), t);
    }

    #[tokio::test]
    async fn failures_images_and_cleanup_bookkeeping() {
        let fake = FakeRuntime::new()
            .with_missing_image("ghcr.io/x:1")
            .with_pullable_image("later:1")
            .fail_op(Op::Start, "db")
            .fail_op_times(Op::Create, "flaky", 1);
        assert!(!fake.image_exists("ghcr.io/x:1").await.unwrap());
        assert!(matches!(
            fake.pull_image("ghcr.io/x:1").await,
            Err(Error::ImageUnavailable { .. })
        ));
        assert!(!fake.image_exists("later:1").await.unwrap());
        fake.pull_image("later:1").await.unwrap();
        assert!(fake.image_exists("later:1").await.unwrap());

        fake.create_network(&NetworkSpec {
            name: "n".into(),
            labels: labels("r1"),
        })
        .await
        .unwrap();
        fake.create_volume(&VolumeSpec {
            name: "data".into(),
            labels: labels("r1"),
        })
        .await
        .unwrap();
        let mut db = container("db-0", "n");
        db.mounts.push(Mount {
            volume: "data".into(),
            target: "/data".into(),
            read_only: false,
            sub_path: None,
        });
        let db = fake.create_container(&db).await.unwrap();
        let err = fake.start_container(&db).await.unwrap_err();
        assert_eq!(err.to_string(), "failed to start container `db-0`");
        assert!(fake
            .create_container(&container("flaky", "n"))
            .await
            .is_err());
        let flaky = fake
            .create_container(&container("flaky", "n"))
            .await
            .unwrap();
        fake.start_container(&flaky).await.unwrap();
        assert!(fake.remove_network("n").await.is_err(), "network in use");
        assert!(fake.remove_volume("data").await.is_err(), "volume in use");
        assert_eq!(fake.list_labelled(&run_filter()).await.unwrap().len(), 4);

        fake.stop_container(&flaky, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(
            fake.inspect_container(&flaky).await.unwrap().status,
            ContainerStatus::Exited {
                code: STOP_EXIT_CODE,
                oom_killed: false
            }
        );
        for id in [&db, &flaky] {
            fake.remove_container(id).await.unwrap();
            fake.remove_container(id).await.unwrap();
        }
        assert!(matches!(
            fake.inspect_container(&db).await,
            Err(Error::NotFound { .. })
        ));
        fake.remove_volume("data").await.unwrap();
        fake.remove_network("n").await.unwrap();
        fake.remove_network("n").await.unwrap();
        assert!(fake.list_labelled(&run_filter()).await.unwrap().is_empty());
        assert!(fake.objects().is_empty());
        assert!(fake.list_labelled(&[]).await.is_err());

        let log = fake.call_log();
        assert!(log.contains(&"start db-0".to_string()), "{log:#?}");
        assert!(
            log.contains(&"stop flaky: grace 5s".to_string()),
            "{log:#?}"
        );
        assert_eq!(
            log.iter().filter(|l| *l == "create flaky: img:1").count(),
            2
        );
    }

    #[tokio::test]
    async fn shared_namespace_needs_a_running_owner() {
        let fake = FakeRuntime::new();
        fake.create_network(&NetworkSpec {
            name: "n".into(),
            labels: labels("r1"),
        })
        .await
        .unwrap();
        let owner = fake
            .create_container(&container("pod-a", "n"))
            .await
            .unwrap();
        let sidecar = ContainerSpec {
            name: "pod-b".into(),
            image: "img:1".into(),
            network: NetworkAttachment::Container { id: owner.clone() },
            ..ContainerSpec::default()
        };
        let sidecar = fake.create_container(&sidecar).await.unwrap();
        assert!(fake.start_container(&sidecar).await.is_err());
        fake.start_container(&owner).await.unwrap();
        fake.start_container(&sidecar).await.unwrap();
        let state = fake.inspect_container(&sidecar).await.unwrap();
        assert_eq!(state.status, ContainerStatus::Running);
        assert!(state.ip.is_none() && state.host_ports.is_empty());
    }
}
