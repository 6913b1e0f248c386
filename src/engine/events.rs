//! Events the engine emits; reporters consume them (the engine never prints).
use super::state::{OperationPhase, TaskRun};
use crate::plan::Phase;

#[derive(Debug, Clone)]
pub enum RunEvent {
    /// The first-step validation (Argo's dry run) is about to run over `tasks` tasks.
    DryRun { tasks: usize },
    /// A (phase, wave) step starts: its tasks are being applied.
    StepStarted {
        phase: Phase,
        wave: i64,
        tasks: usize,
    },
    /// A task was applied, failed to apply, completed, or changed health.
    TaskUpdated(Box<TaskRun>),
    /// A hook was deleted because of a delete policy (or before re-creation).
    HookDeleted { key: String, reason: String },
    /// The operation's status message changed (`waiting for healthy state of …`).
    Status {
        phase: OperationPhase,
        message: String,
    },
    /// syncsim's advice about a task the API server refused or Argo CD found invalid (never part
    /// of Argo CD's messages).
    Hint { task: String, hint: String },
    /// The SyncFail hooks are being started.
    SyncFailStarted { hooks: usize },
}
