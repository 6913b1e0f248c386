//! `syncsim diff`: what changed between two plans or two runs, step by step. Pure: JSON in
//! ([`Doc::from_json`] reads `syncsim plan -o json` and `syncsim sync -o json`), a [`Diff`] out,
//! rendered as text, JSON or HTML ([`render`]).
//!
//! Reported per step (phase, wave), in Argo CD's step order:
//! * tasks added, removed, moved to another step, or reordered inside their step (kind order);
//! * a task that became or stopped being a hook, changed delete policies or sync options;
//! * results of runs: status, hookPhase, health and message of each task, each step's status;
//! * step durations that changed by at least [`Options::percent`] and [`Options::min_seconds`].
//!
//! Operation-level changes (outcome, phase, message, total duration) come first.
mod compare;
pub mod input;
mod model;
pub mod render;
#[cfg(test)]
mod tests;

pub use compare::compare;
pub use model::{Doc, DocKind, OperationM, StepM, TaskM};

use serde::Serialize;

/// Thresholds of duration changes: a change counts when it is at least `percent` % of the
/// first duration AND at least `min_seconds`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    pub percent: f64,
    pub min_seconds: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            percent: 20.0,
            min_seconds: 0.5,
        }
    }
}

/// A step, by phase and wave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepRef {
    pub phase: String,
    pub wave: i64,
}

impl std::fmt::Display for StepRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} wave {}", self.phase, self.wave)
    }
}

/// A task, by object identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskRef {
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for TaskRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)?;
        if !self.namespace.is_empty() {
            write!(f, " (ns {})", self.namespace)?;
        }
        Ok(())
    }
}

/// One difference. Task changes are listed under the step the task is in on side B (under its
/// step on side A when it was removed).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "change",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Change {
    Added {
        task: TaskRef,
    },
    Removed {
        task: TaskRef,
    },
    /// In another step (phase and/or wave).
    Moved {
        task: TaskRef,
        from: StepRef,
        to: StepRef,
    },
    /// Same step, another place relative to the tasks both sides have there (1-based
    /// positions in the step).
    Reordered {
        task: TaskRef,
        from: usize,
        to: usize,
    },
    /// Became a hook, or stopped being one.
    Hook {
        task: TaskRef,
        from: bool,
        to: bool,
    },
    DeletePolicies {
        task: TaskRef,
        from: Vec<String>,
        to: Vec<String>,
    },
    SyncOptions {
        task: TaskRef,
        from: serde_json::Value,
        to: serde_json::Value,
    },
    /// A task's `status`, `hookPhase`, `health` or `message` (runs).
    Result {
        task: TaskRef,
        field: &'static str,
        from: Option<String>,
        to: Option<String>,
    },
    StepStatus {
        from: String,
        to: String,
    },
    /// Seconds, of the step (under a step) or of the operation (in `operation`).
    Duration {
        from: f64,
        to: f64,
    },
    /// The operation's `outcome`, `phase` or `message` (runs).
    Operation {
        field: &'static str,
        from: String,
        to: String,
    },
}

/// The changes of one step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepDiff {
    #[serde(flatten)]
    pub step: StepRef,
    pub changes: Vec<Change>,
}

/// Everything that differs between A and B.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diff {
    pub a_kind: DocKind,
    pub b_kind: DocKind,
    pub operation: Vec<Change>,
    pub steps: Vec<StepDiff>,
}

impl Diff {
    /// How many differences there are.
    pub fn count(&self) -> usize {
        self.operation.len() + self.steps.iter().map(|s| s.changes.len()).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.count() == 0
    }
}
