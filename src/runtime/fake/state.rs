//! The fake engine's in-memory state: containers, networks, volumes, images, scripted
//! failures, and the call record.
use super::script::{Call, ExecScript, Op, Script, STOP_EXIT_CODE};
use crate::runtime::{BuildSpec, ContainerSpec, ContainerStatus, Error, Labels, Result};
use std::collections::{BTreeMap, BTreeSet};
use tokio::time::Instant;

#[derive(Debug, Clone)]
pub(super) struct Failure {
    pub(super) op: Op,
    pub(super) prefix: String,
    /// `None`: fails every time.
    pub(super) remaining: Option<u32>,
    pub(super) message: String,
}

#[derive(Debug, Clone)]
pub(super) struct FakeContainer {
    pub(super) id: String,
    pub(super) spec: ContainerSpec,
    pub(super) script: Script,
    pub(super) started_at: Option<Instant>,
    pub(super) stopped: Option<Instant>,
    pub(super) connected: bool,
    pub(super) index: u32,
    /// Its network address's index: a restart takes a fresh one, as Docker may hand a
    /// restarted container another address (and its old one to the next container).
    pub(super) address: u32,
}

impl FakeContainer {
    pub(super) fn status(&self, now: Instant) -> ContainerStatus {
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

    pub(super) fn ready(&self, now: Instant) -> bool {
        self.status(now) == ContainerStatus::Running
            && self
                .started_at
                .is_some_and(|s| now >= s + self.script.ready_after)
    }
}

#[derive(Debug, Default)]
pub(super) struct State {
    pub(super) calls: Vec<Call>,
    /// [`ContainerRuntime::spare_cpu`](crate::runtime::ContainerRuntime::spare_cpu) says no.
    pub(super) busy_cpu: bool,
    /// [`ContainerRuntime::reaches_network`](crate::runtime::ContainerRuntime::reaches_network)
    /// says yes.
    pub(super) reachable_networks: bool,
    pub(super) missing_images: BTreeSet<String>,
    pub(super) pullable_images: BTreeSet<String>,
    /// Labels of present images that have any (given or built).
    pub(super) image_labels: BTreeMap<String, Labels>,
    /// Users of present images that set one (`FakeRuntime::with_image_user`).
    pub(super) image_users: BTreeMap<String, String>,
    pub(super) builds: Vec<BuildSpec>,
    pub(super) build_output: Vec<(String, Vec<String>)>,
    pub(super) scripts: Vec<(String, Script)>,
    pub(super) execs: Vec<(String, ExecScript)>,
    pub(super) failures: Vec<Failure>,
    /// Creates of containers named `prefix…` take this long (see `FakeRuntime::with_slow_create`).
    pub(super) slow_creates: Vec<(String, std::time::Duration)>,
    pub(super) containers: BTreeMap<String, FakeContainer>,
    pub(super) networks: BTreeMap<String, (String, Labels)>,
    pub(super) volumes: BTreeMap<String, Labels>,
    pub(super) next_id: u32,
}

impl State {
    pub(super) fn record(&mut self, op: Op, object: &str, detail: Option<String>) {
        self.calls.push(Call {
            op,
            object: object.to_string(),
            detail,
        });
    }

    /// Name of the container with this id or name (the argument itself when unknown).
    pub(super) fn container_name(&self, id_or_name: &str) -> String {
        self.find(id_or_name)
            .map(|c| c.spec.name.clone())
            .unwrap_or_else(|| id_or_name.to_string())
    }

    pub(super) fn find(&self, id_or_name: &str) -> Option<&FakeContainer> {
        self.containers
            .get(id_or_name)
            .or_else(|| self.containers.values().find(|c| c.spec.name == id_or_name))
    }

    pub(super) fn find_id(&self, id_or_name: &str) -> Option<String> {
        self.find(id_or_name).map(|c| c.id.clone())
    }

    /// Takes a scripted failure for `op` on `object`, if one is due.
    pub(super) fn failure(&mut self, op: Op, object: &str) -> Result<()> {
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

    pub(super) fn next_id(&mut self, kind: &str) -> String {
        self.next_id += 1;
        format!("fake-{kind}-{:04}", self.next_id)
    }
}

pub(super) fn longest_prefix<'a, T>(entries: &'a [(String, T)], name: &str) -> Option<&'a T> {
    entries
        .iter()
        .rev()
        .filter(|(prefix, _)| name.starts_with(prefix.as_str()))
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, t)| t)
}

pub(super) fn op_error(op: Op, object: &str, message: impl Into<String>) -> Error {
    Error::Operation {
        op: op.error_op(),
        object: object.to_string(),
        source: message.into().into(),
    }
}

pub(super) fn not_found(id: &str) -> Error {
    Error::NotFound {
        object: format!("container `{id}`"),
    }
}
