//! What a test scripts: operations ([`Op`]) and recorded [`Call`]s, container [`Script`]s and
//! exec results ([`ExecScript`]).
use std::{fmt, time::Duration};

/// Exit code of a fake container stopped by `stop_container` (SIGTERM: 128 + 15).
pub const STOP_EXIT_CODE: i64 = 143;

/// One runtime operation, as recorded and as targeted by [`FakeRuntime::fail_op`].
///
/// [`FakeRuntime::fail_op`]: super::FakeRuntime::fail_op
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
    pub(super) fn error_op(self) -> &'static str {
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
    ///
    /// [`FakeRuntime::is_ready`]: super::FakeRuntime::is_ready
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
