//! The rehearsal layer: the story every subcommand tells, told once.
//!
//! resolve the source ([`app`], [`application`]: an Argo CD Application's settings) → render
//! and plan ([`prepare`]) → build the images of
//! `syncsim.yaml` ([`images`]) → open or adopt the environment ([`env`]) → run the operation
//! → keep or tear down, reported as events ([`sync()`], [`watch()`], [`status()`],
//! [`down()`]). The automated-sync policy of `watch` is [`autosync`]. Failures are one
//! [`Error`] per class, each with one exit code. Process plumbing used by every subcommand:
//! [`connect()`] (the Docker engine) and [`Interrupts`] (SIGINT/SIGTERM escalation).
//!
//! Above `engine`, `cluster`, `state`, `build` and `report`; below `scenario` and `cli`.
pub mod app;
pub mod application;
mod apps;
mod argocd_cm;
pub mod autosync;
mod compare;
mod connect;
mod down;
mod env;
mod error;
pub mod images;
mod signal;
pub mod source;
mod status;
mod sync;
mod watch;

pub use app::{app_name, default_app_name, recorded_source, sanitize, validate_app, MAX_APP_LEN};
pub use apps::ChildSync;
pub use argocd_cm::{ArgoCdConfig, APP_HEALTH_KEY};
pub use compare::{app_sync_status, compare, Compared, SyncStatus};
pub use connect::{connect, connect_within, endpoint, CONNECT_DEADLINE};
pub use down::{down, is_claim_volume, DownReport};
pub use env::{last_operation, EnvError, Environment};
pub use error::Error;
pub use images::{build_images, cluster_description, missing_images, Built, MissingImage};
pub use signal::{escalation, Escalation, Interrupts};
pub use source::{plan_options, Rendered};
pub use status::{status, Status};
pub use sync::{namespace_task, prepare, sync, Event, Opened, SyncRequest, Synced};
pub use watch::{retry_policy, watch, PathSource, Policy, WatchEvent, WatchRequest};
