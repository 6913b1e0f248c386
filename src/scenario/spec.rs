//! The scenario file format (`apiVersion: syncsim.dev/v1alpha1`, `kind: Scenario`), parsed.
//!
//! Every value that can be wrong is checked while deserializing (durations, patterns, step
//! references, the shape of a patch), so that `serde_yaml` reports it with the file's line and
//! column. See `scenarios/README.md` for the documented format.
use super::error::Error;
pub use super::value::{Dur, Pattern, StepRef};
use serde::Deserialize;
use serde_json::Value;
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

/// The only `apiVersion` this version of syncsim reads.
pub const API_VERSION: &str = "syncsim.dev/v1alpha1";
/// The only `kind`.
pub const KIND: &str = "Scenario";

/// A parsed scenario file, plus where it came from.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The file, as given (for messages).
    pub path: PathBuf,
    /// The file's text (to point at lines of later errors).
    pub text: String,
    /// `metadata.name`, or the file stem.
    pub name: String,
    pub spec: ScenarioSpec,
}

/// The file's content.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScenarioSpec {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub metadata: Metadata,
    /// Kustomize directory, plain directory or file, relative to the scenario file.
    pub source: String,
    #[serde(default)]
    pub sync: SyncSpec,
    /// What the cluster holds before the rehearsed sync, for a re-sync incident: the
    /// environment is first synced with this state, which must succeed.
    pub live: Option<Live>,
    /// Stop after planning: only `expect.planWarnings` (and step expectations on the plan) apply.
    #[serde(default)]
    pub plan_only: bool,
    #[serde(default)]
    pub patches: Vec<Patch>,
    #[serde(default)]
    pub files: Vec<FileEdit>,
    #[serde(default)]
    pub faults: Vec<Fault>,
    #[serde(default)]
    pub expect: Expect,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Metadata {
    pub name: Option<String>,
    pub description: Option<String>,
}

/// The live state a re-sync starts from (`live:`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Live {
    /// Its source, relative to the scenario file (default: the scenario's `source`).
    pub source: Option<String>,
    /// Patches applied to it, like the scenario's `patches`.
    #[serde(default)]
    pub patches: Vec<Patch>,
}

/// Options of the rehearsed sync (the `syncsim sync` flags).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SyncSpec {
    /// Prefix of the app name (default: the file stem); a short random suffix is always added.
    pub app: Option<String>,
    /// Namespace for objects without one (default `default`).
    pub dest_namespace: Option<String>,
    /// Sync revision, used to name generateName hooks (default `HEAD`).
    pub revision: Option<String>,
    /// Image rewrites, like `--image FROM=TO`.
    #[serde(default)]
    pub images: BTreeMap<String, String>,
    /// Like `--wave-delay` (default 0).
    pub wave_delay: Option<Dur>,
    /// Like `--timeout` (default 5m).
    pub timeout: Option<Dur>,
    /// Like `--job-backoff` (default 1s).
    pub job_backoff: Option<Dur>,
    /// How many times to sync the same environment, like pressing Sync again (default 1);
    /// expectations apply to the last operation.
    pub times: Option<u32>,
}

/// One patch applied to the rendered objects, in file order.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawPatch")]
pub enum Patch {
    /// A partial object matched by kind + name (+ namespace), merged strategically.
    Merge(Value),
    /// RFC 6902 operations on one object.
    Json6902 { target: PatchTarget, ops: Vec<Op> },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPatch {
    merge: Option<Value>,
    target: Option<PatchTarget>,
    ops: Option<Vec<Op>>,
}

impl TryFrom<RawPatch> for Patch {
    type Error = String;
    fn try_from(r: RawPatch) -> Result<Self, String> {
        match (r.merge, r.target, r.ops) {
            (Some(m), None, None) => {
                if m.get("kind").and_then(Value::as_str).is_none()
                    || m.pointer("/metadata/name").and_then(Value::as_str).is_none()
                {
                    return Err("a `merge` patch needs `kind` and `metadata.name` to find its object".into());
                }
                Ok(Patch::Merge(m))
            }
            (None, Some(target), Some(ops)) => Ok(Patch::Json6902 { target, ops }),
            _ => Err("a patch is either `merge: <partial object>` or `target: {kind, name}` with `ops: [...]` (not both)".into()),
        }
    }
}

/// The object a JSON 6902 patch applies to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchTarget {
    pub kind: Option<String>,
    pub name: String,
    pub namespace: Option<String>,
}

/// A JSON 6902 operation. `path` is a JSON pointer (`/spec/template/spec/containers/0/image`).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase", deny_unknown_fields)]
pub enum Op {
    Add {
        path: String,
        value: Value,
    },
    Remove {
        path: String,
    },
    Replace {
        path: String,
        value: Value,
    },
    /// Fails the scenario preparation when the value differs (guards a patch's assumption).
    Test {
        path: String,
        value: Value,
    },
    /// Removes the value at `from` and adds it at `path`.
    Move {
        from: String,
        path: String,
    },
    /// Adds a copy of the value at `from` at `path`.
    Copy {
        from: String,
        path: String,
    },
}

/// Adds or replaces one key of a ConfigMap.
#[derive(Debug, Clone, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    try_from = "RawFileEdit"
)]
pub struct FileEdit {
    pub config_map: String,
    pub namespace: Option<String>,
    pub key: String,
    pub content: FileContent,
}

#[derive(Debug, Clone)]
pub enum FileContent {
    Inline(String),
    /// A path relative to the scenario file, read when the scenario is prepared.
    From(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawFileEdit {
    config_map: String,
    namespace: Option<String>,
    key: String,
    content: Option<String>,
    from: Option<String>,
}

impl TryFrom<RawFileEdit> for FileEdit {
    type Error = String;
    fn try_from(r: RawFileEdit) -> Result<Self, String> {
        let content = match (r.content, r.from) {
            (Some(c), None) => FileContent::Inline(c),
            (None, Some(f)) => FileContent::From(f),
            _ => {
                return Err(format!(
                    "file `{}` needs exactly one of `content` (inline text) or `from` (a path relative to the scenario)",
                    r.key
                ))
            }
        };
        Ok(FileEdit {
            config_map: r.config_map,
            namespace: r.namespace,
            key: r.key,
            content,
        })
    }
}

/// A fault to inject. `target` is `name` or `Kind/name` of a rendered object. Written as a
/// one-key map (`- crash: {target: redis, after: 3s}`).
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawFault")]
pub enum Fault {
    /// Replace the command (and args) of a workload's container.
    HookCommand {
        target: String,
        command: Vec<String>,
        args: Option<Vec<String>>,
        container: Option<String>,
    },
    /// Run the container's own command, then exit with `code` whatever it returned.
    HookExitCode {
        target: String,
        code: i32,
        container: Option<String>,
    },
    /// Kill a Sync-phase workload's containers `after` its apply, or when hook `whileRunning`
    /// is created.
    Crash {
        target: String,
        after: Option<Dur>,
        while_running: Option<String>,
    },
    /// Make a workload become Ready `by` later.
    DelayReadiness { target: String, by: Dur },
    /// Keep a workload stopped while hook `whileRunning` runs.
    Stop {
        target: String,
        while_running: String,
    },
    /// Disconnect a workload from the app network when hook `whileRunning` is created.
    Disconnect {
        target: String,
        while_running: String,
    },
    /// Fail the dry run of every workload using this image, as if it were not available.
    ImageUnavailable(String),
    /// Set a memory limit on a workload's containers (e.g. to get a Job OOM-killed).
    MemoryLimit {
        target: String,
        limit: String,
        container: Option<String>,
    },
}

/// The file's shape of a fault: exactly one of these keys. (serde_yaml writes enums as YAML
/// tags, so the one-key map is read field by field, keeping line numbers of inner errors.)
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawFault {
    hook_command: Option<RawHookCommand>,
    hook_exit_code: Option<RawHookExitCode>,
    crash: Option<RawCrash>,
    delay_readiness: Option<RawDelay>,
    stop: Option<RawWindow>,
    disconnect: Option<RawWindow>,
    image_unavailable: Option<String>,
    memory_limit: Option<RawMemory>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawHookCommand {
    target: String,
    command: Vec<String>,
    args: Option<Vec<String>>,
    container: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawHookExitCode {
    target: String,
    code: i32,
    container: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawCrash {
    target: String,
    after: Option<Dur>,
    while_running: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawDelay {
    target: String,
    by: Dur,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawWindow {
    target: String,
    while_running: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawMemory {
    target: String,
    limit: String,
    container: Option<String>,
}

impl TryFrom<RawFault> for Fault {
    type Error = String;
    fn try_from(r: RawFault) -> Result<Self, String> {
        let mut found = Vec::new();
        if let Some(f) = r.hook_command {
            found.push(Fault::HookCommand {
                target: f.target,
                command: f.command,
                args: f.args,
                container: f.container,
            });
        }
        if let Some(f) = r.hook_exit_code {
            found.push(Fault::HookExitCode {
                target: f.target,
                code: f.code,
                container: f.container,
            });
        }
        if let Some(f) = r.crash {
            if f.after.is_some() == f.while_running.is_some() {
                return Err(
                    "`crash` needs exactly one of `after: <duration>` or `whileRunning: <hook>`"
                        .into(),
                );
            }
            found.push(Fault::Crash {
                target: f.target,
                after: f.after,
                while_running: f.while_running,
            });
        }
        if let Some(f) = r.delay_readiness {
            found.push(Fault::DelayReadiness {
                target: f.target,
                by: f.by,
            });
        }
        if let Some(f) = r.stop {
            found.push(Fault::Stop {
                target: f.target,
                while_running: f.while_running,
            });
        }
        if let Some(f) = r.disconnect {
            found.push(Fault::Disconnect {
                target: f.target,
                while_running: f.while_running,
            });
        }
        if let Some(i) = r.image_unavailable {
            found.push(Fault::ImageUnavailable(i));
        }
        if let Some(f) = r.memory_limit {
            found.push(Fault::MemoryLimit {
                target: f.target,
                limit: f.limit,
                container: f.container,
            });
        }
        match found.len() {
            1 => Ok(found.remove(0)),
            0 => Err("a fault needs one key: hookCommand, hookExitCode, crash, delayReadiness, stop, disconnect, imageUnavailable or memoryLimit".into()),
            _ => Err("one fault per list item (write each as its own `- key: …`)".into()),
        }
    }
}

impl Fault {
    /// The fault's key in the file, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Fault::HookCommand { .. } => "hookCommand",
            Fault::HookExitCode { .. } => "hookExitCode",
            Fault::Crash { .. } => "crash",
            Fault::DelayReadiness { .. } => "delayReadiness",
            Fault::Stop { .. } => "stop",
            Fault::Disconnect { .. } => "disconnect",
            Fault::ImageUnavailable(_) => "imageUnavailable",
            Fault::MemoryLimit { .. } => "memoryLimit",
        }
    }
}

/// What must be true at the end of the run. Every field is optional; every unmet one is
/// reported.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Expect {
    /// Final operation phase. `Running` means syncsim's timeout expired where Argo CD would
    /// still be waiting.
    pub phase: Option<ExpectedPhase>,
    /// Regular expression searched in the final operation message.
    pub message: Option<Pattern>,
    /// A task that completed unsuccessfully (`name` or `Kind/name`).
    pub failed_task: Option<String>,
    /// Steps that started, as `Phase/wave` (`PostSync/1`).
    #[serde(default)]
    pub steps_ran: Vec<StepRef>,
    /// Steps that never started.
    #[serde(default)]
    pub steps_not_started: Vec<StepRef>,
    /// Final hook phase per task: `Succeeded`, `Failed`, `Error`, `Running` or `NotStarted`.
    #[serde(default)]
    pub hook_phases: BTreeMap<String, HookPhase>,
    /// Objects that still exist at the end (e.g. a failed hook kept for its logs).
    #[serde(default)]
    pub remain: Vec<String>,
    /// Hooks removed by a delete policy, gone at the end.
    #[serde(default)]
    pub deleted: Vec<String>,
    /// Hooks that existed when their wave ran and were deleted and created again
    /// (BeforeHookCreation).
    #[serde(default)]
    pub recreated: Vec<String>,
    /// Log expectations: a regular expression searched in the task's logs.
    #[serde(default)]
    pub logs: Vec<LogExpect>,
    /// Commands run in a workload's container after the sync, before teardown.
    #[serde(default)]
    pub exec: Vec<ExecCheck>,
    /// Regular expressions that must each match one of the plan's warnings.
    #[serde(default)]
    pub plan_warnings: Vec<Pattern>,
    /// A task must have been applied at least this long after the operation started.
    #[serde(default)]
    pub applied_after: BTreeMap<String, Dur>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ExpectedPhase {
    Succeeded,
    Failed,
    Running,
}

impl ExpectedPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
            Self::Running => "Running",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum HookPhase {
    Succeeded,
    Failed,
    Error,
    Running,
    NotStarted,
}

impl HookPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
            Self::Error => "Error",
            Self::Running => "Running",
            Self::NotStarted => "NotStarted",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogExpect {
    pub task: String,
    pub matches: Pattern,
}

/// `{in: postgres, command: [psql, -tAc, "select 1"], equals: "1"}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExecCheck {
    /// The workload (`name` or `Kind/name`) whose newest running container runs the command.
    #[serde(rename = "in")]
    pub in_: String,
    pub command: Vec<String>,
    /// The trimmed output must equal this.
    pub equals: Option<String>,
    /// The output must contain this.
    pub contains: Option<String>,
    /// Expected exit code (default 0).
    #[serde(default)]
    pub exit_code: i64,
}

/// Parses a scenario's text. `path` is used for messages and to name the scenario.
///
/// # Errors
///
/// [`Error::Parse`] (with line and column) for YAML or schema errors, [`Error::Invalid`] for a
/// wrong `apiVersion`/`kind` or an out-of-range value.
pub fn parse(text: &str, path: &Path) -> Result<Scenario, Error> {
    let spec: ScenarioSpec = serde_yaml::from_str(text).map_err(|e| {
        let loc = e.location();
        let mut message = e.to_string();
        // The location goes in front (`file:line:column:`), not twice.
        if let Some(l) = &loc {
            let suffix = format!(" at line {} column {}", l.line(), l.column());
            if let Some(stripped) = message.strip_suffix(&suffix) {
                message = stripped.to_string();
            }
        }
        Error::Parse {
            file: path.display().to_string(),
            line: loc.as_ref().map(|l| l.line()),
            column: loc.as_ref().map(|l| l.column()),
            message,
        }
    })?;
    let invalid = |needle: &str, message: String| Error::Invalid {
        file: path.display().to_string(),
        line: line_of(text, needle),
        message,
    };
    if spec.api_version != API_VERSION {
        return Err(invalid(
            "apiVersion",
            format!(
                "apiVersion `{}` is not supported (write `apiVersion: {API_VERSION}`)",
                spec.api_version
            ),
        ));
    }
    if spec.kind != KIND {
        return Err(invalid(
            "kind",
            format!(
                "kind `{}` is not a scenario (write `kind: {KIND}`)",
                spec.kind
            ),
        ));
    }
    if spec.sync.times == Some(0) {
        return Err(invalid(
            "times",
            "`sync.times` must be at least 1".to_string(),
        ));
    }
    if spec.plan_only {
        let e = &spec.expect;
        let needs_sync = [
            ("phase", e.phase.is_some()),
            ("message", e.message.is_some()),
            ("failedTask", e.failed_task.is_some()),
            ("hookPhases", !e.hook_phases.is_empty()),
            ("remain", !e.remain.is_empty()),
            ("deleted", !e.deleted.is_empty()),
            ("recreated", !e.recreated.is_empty()),
            ("logs", !e.logs.is_empty()),
            ("exec", !e.exec.is_empty()),
            ("appliedAfter", !e.applied_after.is_empty()),
        ];
        if let Some((key, _)) = needs_sync.iter().find(|(_, set)| *set) {
            return Err(invalid(
                key,
                format!(
                    "`expect.{key}` needs a sync, but the scenario is `planOnly: true` (remove \
                     one of them; planOnly checks planWarnings, stepsRan and stepsNotStarted)"
                ),
            ));
        }
        if !spec.faults.is_empty() {
            return Err(invalid(
                "faults",
                "`faults` need a sync, but the scenario is `planOnly: true`".to_string(),
            ));
        }
    }
    for c in &spec.expect.exec {
        if c.command.is_empty() {
            return Err(invalid(
                "command",
                format!("exec check in `{}` has an empty command", c.in_),
            ));
        }
    }
    let name = spec.metadata.name.clone().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "scenario".into())
    });
    Ok(Scenario {
        path: path.to_path_buf(),
        text: text.to_string(),
        name,
        spec,
    })
}

/// Reads and parses a scenario file.
pub fn read(path: &Path) -> Result<Scenario, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse(&text, path)
}

/// 1-based line of the first line containing `needle` (to point at later errors).
pub fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.split('#').next().unwrap_or("");
            l.contains(needle)
        })
        .map(|i| i + 1)
}

impl Scenario {
    /// The directory relative paths in the file are resolved against.
    pub fn dir(&self) -> PathBuf {
        self.path
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// An error about the value `needle` of this file, pointing at its first line.
    pub fn invalid(&self, needle: &str, message: impl Into<String>) -> Error {
        Error::Invalid {
            file: self.path.display().to_string(),
            line: line_of(&self.text, needle),
            message: message.into(),
        }
    }
}

#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;
