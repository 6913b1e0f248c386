//! Argo CD step algorithm.
