//! syncsim rehearses an Argo CD sync on a local Docker engine, without a Kubernetes cluster.
//!
//! # Layout
//!
//! * [`manifest`]: renders a source (kustomize overlay, plain directory, file or stdin) into
//!   [`manifest::Object`]s that remember where they came from. No Docker, no async.
//! * [`plan`]: pure functions from objects to Argo CD's ordered task list (phases, waves, kind
//!   order, hooks, delete policies) plus the warnings Argo CD would not give.
//! * [`health`]: Argo CD's health assessment (§5 of ARGO-SEMANTICS.md), pure.
//! * [`runtime`]: the `ContainerRuntime` trait (our own verbs and types); `docker` implements it on
//!   bollard (the only module that imports bollard), `fake` scripts it for tests.
//! * [`cluster`]: a tiny simulated Kubernetes: turns objects into containers, networks and volumes
//!   through a `ContainerRuntime`, and reports live objects with a Kubernetes-like `status`.
//! * [`engine`]: Argo CD's step algorithm (§2.7) as a state machine over a [`engine::Cluster`].
//! * [`state`]: the kept-environment record (`sync --keep`), read by re-syncs, `status`,
//!   `watch` and `down`.
//! * [`report`]: consumers of engine events: terminal table, JSON, JUnit.
//! * [`scenario`]: scenario files (patches, faults, expectations) and `syncsim test`.
//! * [`build`]: `syncsim.yaml` build entries: hash contexts, decide what is missing or stale,
//!   build it through the runtime (Docker builds) or a custom command, before a sync.
//! * [`cli`]: clap types and subcommands; thin.
pub mod build;
pub mod cli;
pub mod cluster;
pub mod engine;
pub mod error;
pub mod health;
pub mod manifest;
pub mod plan;
pub mod report;
pub mod runtime;
pub mod scenario;
pub mod state;
