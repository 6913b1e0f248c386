//! Argo CD's sync operation (docs/argo-cd-semantics.md §2.6–§4) as an explicit state machine.
//!
//! The engine never talks to Docker and never prints: it drives a [`Cluster`] (the simulated
//! API server) one *step* at a time, exactly like Argo CD's `Sync()`, and emits [`RunEvent`]s for
//! reporters. Health decisions come from the pure [`crate::health`] module.
mod cluster;
mod events;
mod operation;
mod outcome;
mod retry;
mod run;
mod state;

#[cfg(any(test, feature = "test-support"))]
pub mod fake;

pub use cluster::{ApplyOutcome, Cluster, ClusterError};
pub use events::RunEvent;
pub use operation::{tail_bytes, Operation, DEFAULT_HOOK_LOG_BYTES};
pub use outcome::{Outcome, Shortened, SyncReport};
pub use retry::RetryPolicy;
pub use run::{run, run_with_prunes, EngineOptions};
pub use state::{OperationPhase, ResultCode, StepRecord, StepStatus, TaskRun};
