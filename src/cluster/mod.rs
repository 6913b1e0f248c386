//! A tiny simulated Kubernetes on a container runtime.
//!
//! [`DockerCluster`] implements the engine's [`crate::engine::Cluster`]: it keeps the applied
//! objects, realises workloads as containers (through [`crate::runtime::ContainerRuntime`]) with
//! small controllers (ReplicaSet-like, StatefulSet OrderedReady, Job with backoff) and reports
//! live objects with a Kubernetes-like `status`, from which [`crate::health`] decides.
mod controller;
mod kubelet;
mod ledger;
mod observe;
mod sim;

pub mod pod;
pub mod probe;
pub mod quantity;

pub use ledger::{Ledger, TeardownReport};
pub use observe::observed_object;
pub use sim::{applied_form, ClusterOptions, DockerCluster};
