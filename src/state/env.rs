//! [`Environment`]: one app's simulated cluster across syncs. Opens a fresh environment or
//! adopts a kept one, runs sync operations with prune tasks against it, and ends it either kept
//! (record written, controllers detached) or torn down (record removed).
use super::record::{EnvRecord, LastOperation, RECORD_VERSION};
use super::store::StateError;
use crate::{
    cluster::{ClusterOptions, DockerCluster, TeardownReport},
    engine::{self, EngineOptions, RunEvent, SyncReport},
    manifest::{Object, ObjectKey},
    plan::{self, Plan, Task},
    runtime::{self, ContainerRuntime},
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
}

impl Environment {
    /// Adopts the app's kept environment when its record and network exist, else creates a
    /// fresh one. A record whose network is gone is stale: it is removed and a fresh
    /// environment is created.
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
            match DockerCluster::adopt(rt.clone(), opts.clone(), desired, &rec.objects).await {
                Ok(cluster) => {
                    return Ok(Self {
                        cluster,
                        app,
                        adopted: true,
                        adopted_objects: rec.objects.len(),
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
        }
        let network = format!("syncsim-{app}");
        match DockerCluster::new(rt, opts, desired).await {
            Ok(cluster) => Ok(Self {
                cluster,
                app,
                adopted: false,
                adopted_objects: 0,
            }),
            Err(source) => Err(EnvError::Unrecorded {
                app,
                network,
                source,
            }),
        }
    }

    /// Prune tasks for `plan` (§2.1.1): non-hook objects of the environment without a target.
    pub fn prune_tasks(&self, plan: &Plan, app_prune_last: bool) -> Vec<Task> {
        let live: Vec<(Object, bool)> = self
            .cluster
            .snapshot()
            .iter()
            .map(|r| (r.to_object(), r.hook))
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
        self.cluster.set_desired(desired);
        let prunes = self.prune_tasks(plan, false);
        engine::run_with_prunes(plan, &prunes, &self.cluster, opts, shutdown, on_event).await
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
            Some(r) => Some(LastOperation::from_report(r)),
            None => EnvRecord::load(&self.app)?.and_then(|r| r.last_operation),
        };
        let record = EnvRecord {
            version: RECORD_VERSION,
            app: self.app.clone(),
            network: self.cluster.network().to_string(),
            source: source.to_string(),
            dest_namespace: dest_namespace.to_string(),
            images: images.to_vec(),
            saved_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            last_operation,
            objects: self.cluster.snapshot(),
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
}
