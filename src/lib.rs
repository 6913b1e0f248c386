//! syncsim rehearses an Argo CD sync on a local Docker engine, without a Kubernetes cluster.
//!
//! # Layout
//!
//! * [`manifest`]: renders a source (kustomize overlay, plain directory, file or stdin) into
//!   [`manifest::Object`]s that remember where they came from. No Docker, no async.
//! * [`plan`]: pure functions from objects to Argo CD's ordered task list (phases, waves, kind
//!   order, hooks, delete policies) plus the warnings Argo CD would not give.
//! * [`health`]: Argo CD's health assessment (docs/argo-cd-semantics.md §5), pure.
//! * [`apiserver`]: what a real API server and Argo CD refuse (unknown kinds, strict decoding,
//!   namespaces, immutable fields) and the `cluster:` description of `syncsim.yaml`; pure.
//! * [`runtime`]: the `ContainerRuntime` trait (our own verbs and types); `docker` implements it on
//!   bollard (the only module that imports bollard), `fake` scripts it for tests.
//! * [`cluster`]: a tiny simulated Kubernetes: turns objects into containers, networks and volumes
//!   through a `ContainerRuntime`, and reports live objects with a Kubernetes-like `status`.
//! * [`engine`]: Argo CD's step algorithm (§2.7) as a state machine over a [`engine::Cluster`].
//! * [`util`]: a clock and an exponential backoff; imports nothing of the crate.
//! * [`state`]: the kept-environment record (`sync --keep`): plain serde data and its file;
//!   below `cluster`, which fills it, and knowing nothing of the engine.
//! * [`report`]: consumers of engine events: terminal table, JSON, JUnit, HTML timeline.
//! * [`diff`]: two plans or two runs (their JSON) compared step by step; pure.
//! * [`scenario`]: scenario files (patches, faults, expectations) and `syncsim test`.
//! * [`build`]: `syncsim.yaml` build entries: hash contexts, decide what is missing or stale,
//!   build it through the runtime (Docker builds) or a custom command, before a sync.
//! * [`rehearsal`]: the story every subcommand tells, once: render, build, open or adopt the
//!   environment, run, keep or tear down; the automated-sync policy; one exit-code mapping.
//! * [`replay`]: a sync Argo CD recorded (an Application's `status.operationState`) against
//!   syncsim's plan or a rehearsal that makes the recorded failure recur.
//! * [`cli`]: clap types and subcommands: argument parsing and printing only.
//!
//! The layering (who may import whom) is in README.md § Architecture and checked by
//! `tests/architecture.rs`.
pub mod apiserver;
pub mod build;
pub mod cli;
pub mod cluster;
pub mod diff;
pub mod digest;
pub mod engine;
pub mod error;
pub mod health;
pub mod manifest;
pub mod plan;
pub mod rehearsal;
pub mod replay;
pub mod report;
pub mod runtime;
pub mod scenario;
pub mod state;
pub mod text;
pub mod util;
pub mod yaml;
