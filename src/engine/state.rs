//! Per-task and per-step state of an operation.
use crate::{
    health::Health,
    plan::{DeletePolicy, Phase, Task},
};
use serde::Serialize;
use std::time::Duration;

/// Argo CD's operation phase; also used as a task's hook phase (§4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum OperationPhase {
    Running,
    Terminating,
    Failed,
    Error,
    Succeeded,
}

impl OperationPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "Running",
            Self::Terminating => "Terminating",
            Self::Failed => "Failed",
            Self::Error => "Error",
            Self::Succeeded => "Succeeded",
        }
    }
    pub fn is_completed(self) -> bool {
        matches!(self, Self::Failed | Self::Error | Self::Succeeded)
    }
    pub fn is_unsuccessful(self) -> bool {
        matches!(self, Self::Failed | Self::Error)
    }
}

impl std::fmt::Display for OperationPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A task's result code (§4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ResultCode {
    Synced,
    SyncFailed,
    Pruned,
    PruneSkipped,
}

impl ResultCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Synced => "Synced",
            Self::SyncFailed => "SyncFailed",
            Self::Pruned => "Pruned",
            Self::PruneSkipped => "PruneSkipped",
        }
    }
}

/// One task of the operation and everything observed about it.
#[derive(Debug, Clone)]
pub struct TaskRun {
    pub task: Task,
    /// `None` until the task was applied (or failed its dry run). Stays `None` for a hook whose
    /// BeforeHookCreation delete failed (`hook_phase` is then `Error`, §3.5).
    pub result: Option<ResultCode>,
    /// Argo's `hookPhase`, filled for resources too: `Running` after a successful apply.
    pub hook_phase: Option<OperationPhase>,
    pub message: String,
    /// Last observed health (`None` = not observed, or the kind has no health check).
    pub health: Option<Health>,
    /// When it was applied, as an offset from the operation start.
    pub applied_at: Option<Duration>,
    /// When it completed (or failed to apply), as an offset from the operation start.
    pub finished_at: Option<Duration>,
    /// The delete policy that removed this hook, if one did.
    pub deleted_by: Option<DeletePolicy>,
    /// Applied only as a record (no container).
    pub simulated: bool,
    /// A hook's log (its last lines, at most the engine's `hook_log_bytes`), captured when it
    /// completes, before any delete policy removes it; empty for resources.
    pub log_tail: Vec<String>,
    /// Whether the head of the hook's log was dropped to keep `log_tail` within the cap.
    pub log_truncated: bool,
    /// A prune task (§2.1.1): `task.object` is the live object that has no target any more.
    pub prune: bool,
}

impl TaskRun {
    pub fn new(task: Task) -> Self {
        Self {
            task,
            result: None,
            hook_phase: None,
            message: String::new(),
            health: None,
            applied_at: None,
            finished_at: None,
            deleted_by: None,
            simulated: false,
            log_tail: Vec::new(),
            log_truncated: false,
            prune: false,
        }
    }

    /// A prune task for a live object without a target (§2.1.1).
    pub fn prune(task: Task) -> Self {
        Self {
            prune: true,
            ..Self::new(task)
        }
    }
    pub fn phase_wave(&self) -> (Phase, i64) {
        (self.task.phase, self.task.wave)
    }
    /// Whether Argo CD has recorded a result for the task: a result code, or only a hook phase
    /// (a hook whose BeforeHookCreation delete failed ends `Error` without a code, §3.5).
    pub fn is_recorded(&self) -> bool {
        self.result.is_some() || self.hook_phase.is_some()
    }
    /// Argo CD's `pending()`: nothing recorded yet.
    pub fn is_pending(&self) -> bool {
        !self.is_recorded()
    }
    pub fn is_running(&self) -> bool {
        self.hook_phase == Some(OperationPhase::Running)
    }
    pub fn is_completed(&self) -> bool {
        self.hook_phase.is_some_and(OperationPhase::is_completed)
    }
    pub fn completed_unsuccessfully(&self) -> bool {
        self.hook_phase.is_some_and(OperationPhase::is_unsuccessful)
    }
}

/// How a (phase, wave) step went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum StepStatus {
    NotStarted,
    Running,
    Succeeded,
    Failed,
}

/// One (phase, wave) step as the reports show it.
#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    pub phase: Phase,
    pub wave: i64,
    /// Offsets from the operation start.
    #[serde(skip)]
    pub started_at: Option<Duration>,
    #[serde(skip)]
    pub finished_at: Option<Duration>,
    pub status: StepStatus,
}
