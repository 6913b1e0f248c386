//! Argo CD's sync plan, computed as pure functions from rendered objects (ARGO-SEMANTICS.md §1–§3).
//!
//! No I/O, no async: `build(&objects, &options) -> Plan`.
mod types;

pub use types::*;
