//! Scripted, in-memory [`ContainerRuntime`] for engine tests: no Docker, no real sleeping.
//!
//! It keeps containers, networks and volumes (with their labels) so `list_labelled` works and a
//! test can assert that nothing is left, records every call in order ([`FakeRuntime::calls`]), and
//! lets a test script what happens, always matched by **container name prefix** (the longest
//! matching prefix wins):
//!
//! - [`Script`] per container: runs forever (default) or exits with a code after `run_for`,
//!   optionally OOM-killed; becomes ready `ready_after` its start; prints `logs` once started.
//! - [`ExecScript`] per container: exit code, output and how long the command takes (an exec that
//!   takes longer than its timeout fails like a real timeout). Before a container is ready, every
//!   exec in it returns exit code 1 (`not ready`), so exec probes see the scripted readiness.
//! - failures per operation ([`Op`]) and object name prefix, always or a number of times.
//! - images: all present, except missing ones (pull fails with [`Error::ImageUnavailable`]) and
//!   pullable ones (absent until pulled). Present images have no labels unless given with
//!   [`FakeRuntime::with_image_labels`] or built.
//! - builds: `build_image` records the [`BuildSpec`] ([`FakeRuntime::builds`]), prints scripted
//!   output lines, and makes the tag present with the spec's labels; `fail_op(Op::Build, tag)`
//!   makes it fail like a failed Dockerfile step (a [`BuildFailure`] with the output's tail).
//!
//! Time is `tokio::time::Instant`, so tests under `#[tokio::test(start_paused = true)]` run
//! scripted durations without waiting.
//!
//! ```
//! use std::time::Duration;
//! use syncsim::runtime::fake::{FakeRuntime, Op, Script};
//!
//! let fake = FakeRuntime::new()
//!     .with_missing_image("ghcr.io/acme/api:1")
//!     .script_container(
//!         "migrate",
//!         Script::exits(1, Duration::from_secs(3)).logs(["applying V2", "error: boom"]),
//!     )
//!     .script_container("web", Script::default().ready_after(Duration::from_secs(2)))
//!     .with_exec_result("web", 0)
//!     .fail_op(Op::Start, "cache");
//! ```
//!
//! Behaviour modelled after Docker, so engine code meets the same rules: container names are
//! unique; a container joins an existing network or a *running* container's namespace (checked at
//! start); named volumes that do not exist are created on the fly without labels (as Docker does);
//! removing a network with running containers or a volume used by a container fails; stop and
//! remove of missing objects succeed; a stopped container exits with [`STOP_EXIT_CODE`].
//!
//! Files: `script` (what a test scripts, and the recorded [`Call`]s), `state` (the in-memory
//! engine), `runtime` ([`FakeRuntime`]: scripting, inspection and the trait impl).
//!
//! [`ContainerRuntime`]: crate::runtime::ContainerRuntime
//! [`Error::ImageUnavailable`]: crate::runtime::Error::ImageUnavailable
//! [`BuildSpec`]: crate::runtime::BuildSpec
//! [`BuildFailure`]: crate::runtime::BuildFailure
mod runtime;
mod script;
mod state;
#[cfg(test)]
mod tests;

pub use runtime::FakeRuntime;
pub use script::{Call, ExecScript, Op, Script, STOP_EXIT_CODE};
