//! Simulated Kubernetes objects on a container runtime.
pub mod probe;
pub mod quantity;
