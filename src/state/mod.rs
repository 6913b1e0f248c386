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
//!
//! # Layer
//!
//! Below `cluster` (which fills the records) and `rehearsal` (which reads, writes and compares
//! them): plain data and its file, importing only `manifest`. The engine's report becomes a
//! [`LastOperation`] in `rehearsal::last_operation`.
mod fingerprint;
mod lock;
mod record;
pub mod secret;
mod store;

pub use fingerprint::fingerprint;
pub use lock::{AppLock, Holder};
pub use record::{
    spec_hash, ContainerRecord, EnvRecord, LastOperation, ObjectRecord, PodRecord, ResourceResult,
    RECORD_VERSION,
};
pub use store::{ensure_dir, record_path, state_dir, StateError};
