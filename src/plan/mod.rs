//! Argo CD's sync plan, computed as pure functions from rendered objects (docs/argo-cd-semantics.md §1–§3).
//!
//! No I/O, no async: `build(&objects, &options) -> Plan`. The pieces are public so that the
//! engine can reuse them (e.g. [`wave`] and [`reverse_prune_waves`] for prune tasks).
pub mod annotations;
mod build;
mod classify;
mod error;
mod json;
mod lint;
mod order;
mod parse;
mod prune;
mod types;
mod validate;

pub use build::{build, build_owned, hook_name};
pub use classify::{classify, Class, HookType, IgnoreReason, HELM_HOOK_VALUES};
pub use error::Error;
pub use json::{PlanJson, StepJson, TaskJson};
pub use order::{
    adjust_dependencies, is_step_order, kind_rank, prune_last_wave, reverse_prune_waves,
    sort_tasks, KIND_ORDER,
};
pub use parse::{delete_policies, parse_int, split_list, sync_options, wave};
pub use prune::{prune_candidates, prune_tasks, selective};
pub use types::*;
pub use validate::{config_map_key_errors, rejected_data_keys};
