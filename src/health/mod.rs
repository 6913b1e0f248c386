//! Argo CD health assessment (docs/argo-cd-semantics.md §5), pure.
//!
//! [`assess`] evaluates one live object the way Argo CD's `GetResourceHealth` does with no custom
//! Lua overrides: the deletion-timestamp rule, the built-in CronJob Lua script, then the built-in
//! Go check selected by group and kind. [`hook_phase`] and [`resource_phase`] turn that result into
//! the task outcome of §3.3. [`Customizations`] adds the `argocd-cm` health checks syncsim
//! reproduces (the Application check of an app of apps).
mod assess;
mod checks;
mod custom;
mod outcome;
mod progress;

pub use assess::{assess, Health, HealthError, HealthStatus, HOOK_FINALIZER};
pub use checks::is_hook;
pub use custom::Customizations;
pub use outcome::{hook_phase, resource_phase, HookOutcome, HookPhase, ResourcePhase};
pub use progress::{progress_deadline, DEFAULT_PROGRESS_DEADLINE_SECONDS};
