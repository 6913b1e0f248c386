//! Simulated Kubernetes objects on a container runtime.
pub mod pod;
pub mod probe;
pub mod quantity;
