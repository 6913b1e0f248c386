//! Docker implementation of the runtime (bollard). The only module of the crate that imports
//! bollard: everything else speaks [`ContainerRuntime`](super::ContainerRuntime) and our own types.
//!
//! Engine facts this relies on (measured on the machines syncsim is tested on): the engine may only speak API 1.41, so the
//! client negotiates its version at [`DockerRuntime::connect`]; only user-defined networks give
//! DNS names; images' `VOLUME` lines create anonymous volumes, removed with their container.
//!
//! Decisions:
//! - **`subPath`**: volume sub-path mounts need Docker API 1.45 (Engine 26). On an older engine
//!   `create_container` fails with a clear error naming the mount; there is no silent fallback
//!   (mounting the whole volume would be wrong in a way that surfaces much later).
//! - **Memory limits** disable swap (`MemorySwap = Memory`), as Kubernetes does, so exceeding the
//!   limit OOM-kills the container and [`ContainerStatus::Exited`] reports `oom_killed`.
//! - **Files** are uploaded as one tar archive at `/` after create, before start. Parent
//!   directories that do not exist yet get explicit `0755` entries; existing ones are left alone
//!   (a directory entry would reset the metadata of e.g. `/tmp`).
//! - **Ports** are published on `127.0.0.1` with a random host port, except for containers that
//!   share another container's network namespace (Docker refuses port bindings there; the
//!   namespace owner publishes them) or have no network at all.
//! - **Builds** use the legacy builder (`version=1`, what a 20.10 engine without BuildKit has),
//!   never pull (`pull` unset: `FROM` images must exist locally, there is no registry) and remove
//!   intermediate containers even on failure (`forcerm`). The daemon's error of a failed step and
//!   the last lines of output become a [`BuildFailure`]. A rebuild removes the image it replaced
//!   when nothing else uses it (no other tag, no container), so rebuilds leave no dangling images.
//!
//! Files: `client` (connect, and the trait impl that forwards to the others), `containers`,
//! `files` (ConfigMap/Secret files and volume roots written into a created container),
//! `images` (pulls and builds), `objects` (networks, volumes, labelled listing), `errors`
//! (bollard's errors mapped to ours), `host` (how busy the engine's machine is, when local).
//!
//! [`ContainerStatus::Exited`]: super::ContainerStatus::Exited
//! [`BuildFailure`]: super::BuildFailure
mod client;
mod containers;
mod errors;
mod files;
mod host;
mod images;
mod objects;

pub use client::DockerRuntime;
