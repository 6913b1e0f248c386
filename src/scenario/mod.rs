//! Scenarios: CI end-to-end runs and failed-migration incidents as files.
//!
//! A scenario names a source, changes it (patches, ConfigMap files, faults), runs a sync on its
//! own Docker environment and checks expectations. `spec` parses the file (errors at
//! file:line); `patch` and the manifest faults in `faults` are pure transformations; runtime
//! faults act through `faults::FaultCluster`; `expect` evaluates; `run` runs one scenario;
//! `suite` finds files and renders verdicts. The format is documented in `scenarios/README.md`.
mod error;
mod expect;
mod faults;
mod patch;
mod run;
mod select;
mod spec;
mod suite;
mod value;

pub use error::Error;
pub use expect::{evaluate, Observed, Unmet};
pub use faults::FaultCluster;
pub use patch::{apply_json6902, apply_merge, set_config_map_key, strategic_merge};
pub use run::{prepare, prepare_objects, run, Prepared, RunOptions, ScenarioResult, Verdict};
pub use spec::{parse, read, Scenario, ScenarioSpec};
pub use suite::{discover, render_result, render_summary, to_junit, Partition};
