//! The kept-environment record: what `syncsim sync --keep` leaves behind so that a later
//! `sync`, `status`, `watch` or `down` of the same app can find, compare and adopt it.
//!
//! # Why a file and not only labels
//!
//! Docker labels are fixed when a container is created and exist only on containers, networks
//! and volumes; most Kubernetes objects (ConfigMaps, Services, Secrets, completed hooks) have no
//! Docker object at all, and a re-sync must compare each *applied spec* with the new render.
//! So the record is one JSON file per app, `${SYNCSIM_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/syncsim}/<app>.json`,
//! written atomically. Labels stay the source of truth for *what exists* (`down` works without a
//! record, and adoption re-lists the app's labelled objects into the cleanup ledger); the record
//! is the source of truth for *what was applied*.
mod compare;
mod env;
mod fingerprint;
mod record;
mod store;

pub use compare::{app_sync_status, compare, Compared, SyncStatus};
pub use env::{EnvError, Environment};
pub use fingerprint::fingerprint;
pub use record::{
    spec_hash, ContainerRecord, EnvRecord, LastOperation, ObjectRecord, PodRecord, ResourceResult,
    RECORD_VERSION,
};
pub use store::{record_path, state_dir, StateError};
