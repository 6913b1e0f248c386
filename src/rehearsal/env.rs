//! [`Environment`]: one app's simulated cluster across syncs. Opens a fresh environment or
//! adopts a kept one, runs sync operations with prune tasks against it, and ends it either kept
//! (record written, controllers detached) or torn down (record removed).
use crate::{
    apiserver::{ClusterDescription, Discovery, UpdateOptions},
    cluster::{ApiRules, ClusterOptions, DockerCluster, TeardownReport},
    engine::{self, EngineOptions, RunEvent, SyncReport},
    manifest::{Object, ObjectKey},
    plan::{self, Plan, Task},
    runtime::{self, ContainerRuntime},
    state::{secret, EnvRecord, LastOperation, ResourceResult, StateError, RECORD_VERSION},
};
use std::{collections::BTreeSet, path::PathBuf, sync::Arc, time::Duration};
use tokio_util::sync::CancellationToken;

/// Opening an environment failed.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    /// The record could not be read.
    #[error(transparent)]
    State(#[from] StateError),
    /// A network `syncsim-<app>` exists but no record says what is in it.
    #[error("network `{network}` already exists but no kept environment of app `{app}` is recorded (a crashed run or an older syncsim? remove it with `syncsim down --app {app}`)")]
    Unrecorded {
        app: String,
        network: String,
        #[source]
        source: runtime::Error,
    },
    /// The container engine failed.
    #[error("failed to open the environment of app `{app}`")]
    Runtime {
        app: String,
        #[source]
        source: runtime::Error,
    },
}

/// One app's environment. See the module documentation.
pub struct Environment {
    pub cluster: DockerCluster,
    pub app: String,
    /// Adopted from a kept environment (rather than created by this run).
    pub adopted: bool,
    /// Objects the kept environment held when it was adopted.
    pub adopted_objects: usize,
    /// Salt of the record's Secret hashes (kept across re-syncs; empty: chosen at `keep`).
    pub secret_salt: String,
    /// The target cluster whose API-server checks (kinds, strict decoding, namespaces,
    /// immutable fields) every [`Self::sync`] applies; `None`: the caller installs them.
    pub api: Option<ClusterDescription>,
    /// The application's `PruneLast=true`: every prune in the extra last wave (§2.5).
    pub prune_last: bool,
}

impl Environment {
    /// Adopts the app's kept environment when its record and network exist, else creates a
    /// fresh one. A record whose network is gone is stale: it is removed and a fresh
    /// environment is created. Without a record, objects labelled with the app are what a
    /// killed run left behind (the caller holds the app's lock, so no run owns them): they are
    /// swept first, with a warning (PersistentVolumeClaim volumes stay, as with `down`).
    ///
    /// The record holds Secret values as hashes: the values are re-read from `desired` (the
    /// source) where they are unchanged, so a container re-created later gets them.
    ///
    /// # Errors
    ///
    /// [`EnvError::Unrecorded`] when the network exists without a record; engine and record
    /// errors otherwise.
    pub async fn open(
        rt: Arc<dyn ContainerRuntime>,
        opts: ClusterOptions,
        desired: &[Object],
    ) -> Result<Self, EnvError> {
        let app = opts.app.clone();
        if let Some(rec) = EnvRecord::load(&app)? {
            let objects = restore_secrets(&rec, desired);
            match DockerCluster::adopt(rt.clone(), opts.clone(), desired, &objects).await {
                Ok(cluster) => {
                    return Ok(Self {
                        cluster,
                        app,
                        adopted: true,
                        adopted_objects: rec.objects.len(),
                        secret_salt: rec.secret_salt,
                        api: None,
                        prune_last: false,
                    })
                }
                Err(runtime::Error::NotFound { object }) => {
                    tracing::warn!(
                        "the kept environment of app `{app}` is gone ({object} not found); starting afresh"
                    );
                    EnvRecord::remove(&app)?;
                }
                Err(source) => return Err(EnvError::Runtime { app, source }),
            }
        } else {
            let swept = super::down::sweep(&*rt, &app, false)
                .await
                .map_err(|source| EnvError::Runtime {
                    app: app.clone(),
                    source,
                })?;
            if swept.removed() > 0 {
                tracing::warn!(
                    "removed {} containers, {} networks and {} volumes that an interrupted run of app `{app}` left behind",
                    swept.containers,
                    swept.networks,
                    swept.volumes
                );
            }
        }
        Self::fresh(rt, opts, desired)
            .await
            .map_err(|source| EnvError::Unrecorded {
                network: format!("syncsim-{app}"),
                app,
                source,
            })
    }

    /// Creates a fresh environment (its own network), never adopting one.
    ///
    /// # Errors
    ///
    /// The engine's error, e.g. when the network already exists.
    pub async fn fresh(
        rt: Arc<dyn ContainerRuntime>,
        opts: ClusterOptions,
        desired: &[Object],
    ) -> Result<Self, runtime::Error> {
        let app = opts.app.clone();
        let cluster = DockerCluster::new(rt, opts, desired).await?;
        Ok(Self::of(cluster, app))
    }

    /// A fresh environment on an existing `network` (a child of an app of apps joins its
    /// parent's): tearing it down leaves the network to its owner.
    pub fn join(
        rt: Arc<dyn ContainerRuntime>,
        opts: ClusterOptions,
        network: &str,
        desired: &[Object],
    ) -> Self {
        let app = opts.app.clone();
        Self::of(DockerCluster::join(rt, opts, network, desired), app)
    }

    fn of(cluster: DockerCluster, app: String) -> Self {
        Self {
            cluster,
            app,
            adopted: false,
            adopted_objects: 0,
            secret_salt: String::new(),
            api: None,
            prune_last: false,
        }
    }

    /// Prune tasks for `plan` (§2.1.1): non-hook objects of the environment without a target.
    pub fn prune_tasks(&self, plan: &Plan, app_prune_last: bool) -> Vec<Task> {
        let live: Vec<(Object, bool)> = self
            .cluster
            .snapshot()
            .iter()
            .map(|r| (r.to_object(), r.hook))
            // The namespace CreateNamespace=true made is not the application's (§2.1.4).
            .filter(|(o, _)| !super::compare::created_namespace(o))
            .collect();
        let extras = plan::prune_candidates(live.iter().map(|(o, h)| (o, *h)), plan);
        plan::prune_tasks(&extras, plan, app_prune_last)
    }

    /// Runs one sync operation of `plan` against the environment, with prune tasks for what
    /// the environment holds beyond it (`opts.prune` decides whether they are deleted).
    pub async fn sync(
        &self,
        plan: &Plan,
        desired: &[Object],
        opts: &EngineOptions,
        shutdown: &CancellationToken,
        on_event: &mut dyn FnMut(RunEvent),
    ) -> SyncReport {
        self.sync_through(&self.cluster, plan, desired, opts, shutdown, on_event)
            .await
    }

    /// [`Self::sync`] with the engine talking to `cluster`, a wrapper of this environment's
    /// (an app of apps' parent syncs its child Applications through one).
    pub async fn sync_through(
        &self,
        cluster: &dyn engine::Cluster,
        plan: &Plan,
        desired: &[Object],
        opts: &EngineOptions,
        shutdown: &CancellationToken,
        on_event: &mut dyn FnMut(RunEvent),
    ) -> SyncReport {
        self.cluster.set_desired(desired);
        let mut opts = opts.clone();
        if let Some(described) = &self.api {
            // CreateNamespace=true: the operation creates the destination namespace (§2.1.4).
            let create_namespace = opts
                .extra_tasks
                .iter()
                .any(|t| t.kind() == "Namespace" && t.name() == opts.dest_namespace.as_str());
            self.cluster.set_api_rules(ApiRules::new(
                described,
                desired,
                &opts.dest_namespace,
                create_namespace,
                UpdateOptions::default(),
            ));
            opts.discovery = Some(Arc::new(Discovery::new(described, desired)));
        }
        let prunes = self.prune_tasks(plan, self.prune_last);
        engine::run_with_prunes(plan, &prunes, cluster, &opts, shutdown, on_event).await
    }

    /// A self-heal sync (§6.4): when workloads drifted (a pod lost a container), a selective
    /// sync of only those resources of `plan`, without hooks and without prunes. `None` when
    /// nothing drifted.
    pub async fn self_heal(
        &self,
        plan: &Plan,
        opts: &EngineOptions,
        shutdown: &CancellationToken,
        on_event: &mut dyn FnMut(RunEvent),
    ) -> Option<SyncReport> {
        let drifted: BTreeSet<ObjectKey> = self.cluster.drifted().into_iter().collect();
        let selective = plan::selective(plan, &drifted);
        if selective.steps.is_empty() {
            return None;
        }
        Some(engine::run(&selective, &self.cluster, opts, shutdown, on_event).await)
    }

    /// Keeps the environment: finishes rolling updates, writes the record, stops the
    /// controllers (containers keep running). Returns the record's path.
    pub async fn keep(
        &self,
        source: &str,
        dest_namespace: &str,
        images: &[(String, String)],
        last: Option<&SyncReport>,
    ) -> Result<PathBuf, StateError> {
        self.cluster.finish_rollouts().await;
        // An operation does not wait for its last wave: let controllers start the pods they
        // can before recording what exists.
        self.cluster.settle(Duration::from_secs(30)).await;
        let last_operation = match last {
            Some(r) => Some(last_operation(r)),
            None => EnvRecord::load(&self.app)?.and_then(|r| r.last_operation),
        };
        let record = EnvRecord {
            version: RECORD_VERSION,
            app: self.app.clone(),
            network: self.cluster.network().to_string(),
            source: source.to_string(),
            dest_namespace: dest_namespace.to_string(),
            images: images.to_vec(),
            saved_at: rfc3339(std::time::SystemTime::now()),
            last_operation,
            objects: self.cluster.snapshot(),
            secret_salt: self.secret_salt.clone(),
        };
        let path = record.save()?;
        self.cluster.detach(Duration::ZERO).await;
        Ok(path)
    }

    /// Tears everything down (adopted objects included) and removes the record, giving
    /// containers `grace` to stop first.
    pub async fn teardown(&self, grace: Duration) -> TeardownReport {
        let mut t = self.cluster.teardown(grace).await;
        if let Err(e) = EnvRecord::remove(&self.app) {
            t.errors.push(crate::error::render_chain(&e));
        }
        t
    }

    /// [`Self::teardown`] with `grace`, cut short (no grace) once `force` is cancelled.
    pub async fn teardown_unless_forced(
        &self,
        grace: Duration,
        force: &CancellationToken,
    ) -> TeardownReport {
        tokio::select! {
            t = self.teardown(grace) => t,
            _ = force.cancelled() => self.teardown(Duration::ZERO).await,
        }
    }

    /// The environment's objects as a record (for comparing with a render).
    pub fn live_record(&self) -> EnvRecord {
        EnvRecord {
            version: RECORD_VERSION,
            app: self.app.clone(),
            network: self.cluster.network().to_string(),
            source: String::new(),
            dest_namespace: String::new(),
            images: Vec::new(),
            saved_at: String::new(),
            last_operation: None,
            objects: self.cluster.snapshot(),
            secret_salt: self.secret_salt.clone(),
        }
    }
}

/// The record's objects with Secret values put back from `desired` where they hash the same.
fn restore_secrets(rec: &EnvRecord, desired: &[Object]) -> Vec<crate::state::ObjectRecord> {
    let mut objects = rec.objects.clone();
    for o in objects.iter_mut().filter(|o| secret::is_secret(&o.object)) {
        let key = o.key();
        if let Some(src) = desired.iter().find(|d| d.key() == key) {
            o.object = secret::restore(&o.object, &src.value, &rec.secret_salt);
        }
    }
    objects
}

fn rfc3339(t: std::time::SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// The record's plain result of an operation, converted from the engine's report (the record
/// layer does not know the engine).
pub fn last_operation(r: &SyncReport) -> LastOperation {
    LastOperation {
        phase: r.phase.as_str().to_string(),
        message: r.message.clone(),
        started_at: rfc3339(r.started_at),
        finished_at: rfc3339(r.finished_at),
        resources: r
            .tasks
            .iter()
            .filter(|t| t.is_recorded())
            .map(|t| ResourceResult {
                group: t.task.group().to_string(),
                kind: t.task.kind().to_string(),
                namespace: t.task.namespace().to_string(),
                name: t.task.name().to_string(),
                status: t.result.map(|r| r.as_str()).unwrap_or("").to_string(),
                hook_phase: t.hook_phase.map(|p| p.as_str()).unwrap_or("").to_string(),
                hook_type: if t.task.hook {
                    t.task.phase.to_string()
                } else {
                    String::new()
                },
                sync_phase: t.task.phase.to_string(),
                message: t.message.clone(),
            })
            .collect(),
    }
}
