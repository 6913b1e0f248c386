//! A tiny simulated Kubernetes on a container runtime.
//!
//! [`DockerCluster`] implements the engine's [`crate::engine::Cluster`]: it keeps the applied
//! objects, realises workloads as containers (through [`crate::runtime::ContainerRuntime`]) with
//! small controllers (ReplicaSet-like, StatefulSet OrderedReady, Job with backoff) and reports
//! live objects with a Kubernetes-like `status`, from which [`crate::health`] decides.
//!
//! | file | concern |
//! |---|---|
//! | `sim.rs` | the cluster's state: options, store of applied objects, shared `Inner` |
//! | `lifecycle.rs` | create, adopt a kept environment, snapshot, settle, detach, teardown |
//! | `apply.rs` | dry run, apply (create/update/roll), delete, live objects, logs |
//! | `api.rs` | the engine's `Cluster` trait, delegating to `apply.rs` |
//! | `kinds.rs` | the kind table (pure): controllers, defaults, static status, what is a change |
//! | `controller/` | workload controllers (replicas, StatefulSet, Job) |
//! | `kubelet/` | one pod's life on the runtime (start, poll, restart, probes) |
//! | `pod/` | pod spec → container specs (pure) |
//! | `probe/` | probe specs, one probe run, the pure probe tracker |
//! | `service/` | Services: plain DNS names or a proxy forwarding to Ready endpoints |
//! | `storage.rs` | storage classes and when a PersistentVolumeClaim binds (pure) |
//! | `error.rs` | [`Error`]: the cluster's typed errors |
pub mod api;
mod apply;
mod controller;
mod error;
mod kinds;
mod kubelet;
mod ledger;
mod lifecycle;
mod observe;
pub mod service;
mod sim;
pub mod storage;

pub mod pod;
pub mod probe;
pub mod quantity;

pub use api::ApiRules;
pub use error::{Error, ImageError, UnavailableImage};
pub use kinds::applied_form;
pub use kubelet::PodWaiting;
pub use ledger::{Ledger, TeardownReport};
pub use observe::observed_object;
pub use service::ServiceCosts;
pub use sim::{ClusterOptions, DockerCluster};
pub use storage::{StorageClass, VolumeBindingMode};
