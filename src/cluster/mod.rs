//! Simulated Kubernetes objects on a container runtime.
