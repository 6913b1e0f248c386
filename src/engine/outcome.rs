//! The end of a run: the operation's result, and the exit code it maps to.
use super::state::{OperationPhase, StepRecord, TaskRun};
use crate::error;
use std::time::{Duration, SystemTime};

/// How the run ended, worst first when compared (`Ord` puts priority in the type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Argo CD's operation ended `Succeeded`.
    Succeeded,
    /// Argo CD's operation ended `Failed` (or `Error`).
    Failed,
    /// syncsim's `--timeout` expired while Argo CD would still be `Running`; the message is what
    /// it was waiting for.
    TimedOut { waiting: String },
    /// Ctrl-C / SIGTERM.
    Interrupted,
}

impl Outcome {
    /// Documented exit codes: 0 Succeeded, 1 Failed, 4 timed out, 130 interrupted.
    pub fn exit_code(&self) -> i32 {
        match self {
            Outcome::Succeeded => error::SUCCESS,
            Outcome::Failed => error::SYNC_FAILED,
            Outcome::TimedOut { .. } => error::TIMED_OUT,
            Outcome::Interrupted => error::INTERRUPTED,
        }
    }
}

/// Everything reporters need once the run is over.
#[derive(Debug, Clone)]
pub struct SyncReport {
    pub app: String,
    pub outcome: Outcome,
    /// Argo CD's phase: terminal, or `Running` when syncsim stopped waiting.
    pub phase: OperationPhase,
    pub message: String,
    pub started_at: SystemTime,
    pub finished_at: SystemTime,
    pub duration: Duration,
    pub tasks: Vec<TaskRun>,
    pub steps: Vec<StepRecord>,
    /// Wave delay syncsim slept in total.
    pub wave_delay_total: Duration,
    /// How much Argo CD's default 2 s wave delay would have added.
    pub argo_default_wave_delay_total: Duration,
    /// The predicted duration of this operation on a cluster (kubelet probe schedule, Job
    /// backoff, Argo CD's wave delay), filled in by the rehearsal from what the cluster observed.
    pub predicted_cluster_duration: Option<Duration>,
    /// Every default this run waited less than a cluster would have, filled in by the rehearsal.
    pub shortened: Vec<Shortened>,
    /// How late readiness was seen, at most, after the probe could first have passed (the
    /// median over containers whose readiness probe failed before it passed; `None` when none
    /// did), filled in by the rehearsal.
    pub readiness_lag: Option<Duration>,
}

/// A wait this run shortened against a cluster's default, named in the summary so that a fast
/// rehearsal never hides what a cluster would have taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortened {
    /// What was shortened, e.g. `Job backoff`.
    pub what: &'static str,
    /// How many times it happened (retries, containers, wave delays).
    pub count: u32,
    /// What this run waited (in total, or at most per container for the probe schedule).
    pub rehearsed: Duration,
    /// What a cluster would have waited in its place.
    pub cluster: Duration,
    /// The cluster's default and the flag that shortened it.
    pub default: &'static str,
}

impl SyncReport {
    /// Time spent inside steps: for each step that ran, from its start to the moment its last
    /// task completed. This is what the containers needed (start, probes, hooks running).
    pub fn step_time(&self) -> Duration {
        self.steps
            .iter()
            .filter_map(|s| Some(s.finished_at?.saturating_sub(s.started_at?)))
            .sum()
    }

    /// Time not spent inside a step: the dry run, moving from one step to the next (polling,
    /// wave delay) and deleting hooks at the end. The engine's own overhead.
    pub fn between_steps(&self) -> Duration {
        self.duration.saturating_sub(self.step_time())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case(Outcome::Succeeded, 0)]
    #[test_case(Outcome::Failed, 1)]
    #[test_case(Outcome::TimedOut { waiting: "x".into() }, 4)]
    #[test_case(Outcome::Interrupted, 130)]
    fn outcome_maps_to_documented_exit_code(o: Outcome, code: i32) {
        assert_eq!(o.exit_code(), code);
    }
}
