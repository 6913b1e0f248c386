//! Builds the images a sync needs before it runs, like Skaffold or Tilt: the `build` list of a
//! `syncsim.yaml` (see the README, "Building images before a sync"), each entry a Docker build or a custom command.
//!
//! * [`config`]: finds and parses `syncsim.yaml`, resolves its paths; errors name file:line.
//! * [`context`]: the files of a build context (`.dockerignore` applied), their hash and tar.
//! * [`dockerignore`]: Docker's `.dockerignore` rules (read from moby's source).
//! * [`decide`]: pure: image state + context hash -> build or skip, and why.
//! * [`run`]: executes the decisions through a [`crate::runtime::ContainerRuntime`] (Docker
//!   builds) or a child process (custom commands), reporting [`BuildEvent`]s.
pub mod config;
pub mod context;
pub mod decide;
pub mod dockerignore;
mod error;
pub mod run;

pub use config::{find_config, BuildSource, Config, Entry, CONFIG_FILE_NAME};
pub use decide::{decide, plan, BuildAction, Decision, Reason, SkipReason, LABEL_CONTEXT_HASH};
pub use error::Error;
pub use run::{build_all, prepare, BuildEvent, BuildOptions, BuildSummary, Prepared};
