//! The life of a [`DockerCluster`]: created or adopted from a kept environment, observed
//! (snapshot, drift), settled, and detached or torn down.
use super::{
    controller::{self, Controller},
    kinds::{has_controller, spec_of, static_status},
    ledger::TeardownReport,
    sim::{ClusterOptions, Entry, Inner, Retiring},
    DockerCluster,
};
use crate::{
    manifest::{Object, ObjectKey},
    runtime::{
        ContainerRuntime, ListedKind, NetworkSpec, LABEL_APP, LABEL_MANAGED_BY, LABEL_RUN,
        MANAGED_BY_VALUE,
    },
    state::{spec_hash, ObjectRecord},
};
use serde_json::{json, Value};
use std::{collections::BTreeSet, sync::Arc, time::Duration};

impl DockerCluster {
    /// Creates the app's network (`syncsim-<app>`), labelled and recorded in the ledger.
    pub async fn new(
        rt: Arc<dyn ContainerRuntime>,
        opts: ClusterOptions,
        desired: &[Object],
    ) -> Result<Self, crate::runtime::Error> {
        let network = format!("syncsim-{}", opts.app);
        let inner = Arc::new(Inner::new(rt, opts, network.clone(), desired));
        let spec = NetworkSpec {
            name: network.clone(),
            labels: inner.labels("network"),
        };
        inner.rt.create_network(&spec).await?;
        inner.ledger.record(ListedKind::Network, network);
        Ok(Self { inner })
    }

    /// A cluster for one more app on an existing `network` (the children of an app of apps
    /// share their parent's network, as they share one cluster). The network is not this
    /// cluster's: its teardown leaves it to the cluster that created it.
    pub fn join(
        rt: Arc<dyn ContainerRuntime>,
        opts: ClusterOptions,
        network: &str,
        desired: &[Object],
    ) -> Self {
        let inner = Arc::new(Inner::new(rt, opts, network.to_string(), desired));
        Self { inner }
    }

    pub fn network(&self) -> &str {
        &self.inner.network
    }

    /// Re-attaches to an environment kept by an earlier `sync --keep` (its network must still
    /// exist): the recorded objects become the store, running workloads get controllers over
    /// their existing containers (same ids, nothing restarted), finished Jobs keep their status.
    /// Every Docker object labelled with the app goes into the cleanup ledger, so a run without
    /// `--keep` tears the adopted environment down too.
    ///
    /// # Errors
    ///
    /// [`crate::runtime::Error::NotFound`] when the network is gone (the record is stale),
    /// or the engine's error listing the app's objects.
    pub async fn adopt(
        rt: Arc<dyn ContainerRuntime>,
        opts: ClusterOptions,
        desired: &[Object],
        kept: &[ObjectRecord],
    ) -> Result<Self, crate::runtime::Error> {
        let network = format!("syncsim-{}", opts.app);
        let labels = [
            (LABEL_MANAGED_BY.to_string(), MANAGED_BY_VALUE.to_string()),
            (LABEL_APP.to_string(), opts.app.clone()),
        ];
        let listed = rt.list_labelled(&labels).await?;
        if !listed
            .iter()
            .any(|l| l.kind == ListedKind::Network && l.name == network)
        {
            return Err(crate::runtime::Error::NotFound {
                object: format!("network `{network}`"),
            });
        }
        let inner = Arc::new(Inner::new(rt, opts, network, desired));
        for l in listed {
            let id = match l.kind {
                ListedKind::Container => l.id,
                ListedKind::Network | ListedKind::Volume => l.name,
            };
            inner.ledger.record(l.kind, id);
        }
        // Records first, workloads second: pods read ConfigMaps, Secrets and PVCs from the store.
        let (workloads, records): (Vec<&ObjectRecord>, Vec<&ObjectRecord>) =
            kept.iter().partition(|r| has_controller(&r.group, &r.kind));
        for rec in records {
            let mut entry = Entry::new(rec.object.clone(), rec.hook);
            entry.static_status = static_status(&rec.group, &rec.kind, &rec.object);
            entry.volume = rec.volume.clone();
            inner.store().insert(rec.key(), entry);
        }
        for rec in workloads {
            let key = rec.key();
            let phase = rec
                .status
                .as_ref()
                .and_then(|s| s.get("phase"))
                .and_then(Value::as_str);
            let finished = rec.kind == "Job"
                || (rec.kind == "Pod" && matches!(phase, Some("Succeeded" | "Failed")));
            let mut entry = Entry::new(rec.object.clone(), rec.hook);
            if finished {
                entry.static_status = Some(rec.status.clone().unwrap_or_else(|| json!({})));
                entry.kept_pods = rec.pods.clone();
            } else {
                match controller::adopt(inner.clone(), key.clone(), rec.object.clone(), &rec.pods)
                    .await
                {
                    Ok(c) => entry.controller = Some(c),
                    Err(e) => {
                        tracing::warn!("{key}: cannot adopt the kept pods: {e}");
                        entry.static_status = rec.status.clone();
                        entry.kept_pods = rec.pods.clone();
                    }
                }
            }
            inner.store().insert(key, entry);
        }
        let cluster = Self { inner };
        cluster.realise_kept_services().await;
        Ok(cluster)
    }

    /// Replaces the desired state (whose pod templates decide which Services need a proxy).
    pub fn set_desired(&self, desired: &[Object]) {
        self.inner.set_desired_pods(desired);
    }

    /// Every object as it exists now, for the environment record.
    pub fn snapshot(&self) -> Vec<ObjectRecord> {
        let store = self.inner.store();
        store
            .iter()
            .map(|(k, e)| {
                let status = e.status();
                ObjectRecord {
                    group: k.group.clone(),
                    kind: k.kind.clone(),
                    namespace: k.namespace.clone(),
                    name: k.name.clone(),
                    hook: e.hook,
                    spec_hash: spec_hash(&e.object),
                    object: spec_of(&e.object),
                    status,
                    pods: e
                        .controller
                        .as_ref()
                        .map(|c| c.pods())
                        .unwrap_or_else(|| e.kept_pods.clone()),
                    volume: e.volume.clone(),
                }
            })
            .collect()
    }

    /// Workloads that no longer realise their spec: a pod lost a container (removed behind
    /// syncsim's back). These are out of sync; a self-heal sync re-applies them.
    pub fn drifted(&self) -> Vec<ObjectKey> {
        self.inner
            .store()
            .iter()
            .filter(|(_, e)| !e.hook && e.controller.as_ref().is_some_and(|c| c.is_lost()))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Keys of every object in the store.
    pub fn keys(&self) -> Vec<ObjectKey> {
        self.inner.store().keys().cloned().collect()
    }

    /// Finishes rolling updates at once (removes the old pods), so that what is kept is exactly
    /// what the store says.
    pub async fn finish_rollouts(&self) {
        let retiring: Vec<Retiring> = std::mem::take(&mut *self.inner.retiring());
        for r in retiring {
            r.task.abort();
            let _ = r.task.await;
            r.old.remove(&self.inner).await;
        }
    }

    /// Ends every rollout in progress and takes the controllers out of the store, so nothing
    /// reconciles any more.
    fn take_controllers(&self) -> Vec<Controller> {
        self.stop_service_proxies();
        for r in std::mem::take(&mut *self.inner.retiring()) {
            r.task.abort();
            r.old.stop();
        }
        let mut store = self.inner.store();
        store
            .values_mut()
            .filter_map(|e| e.controller.take())
            .collect()
    }

    /// Stops every controller and removes every Docker object this cluster created, giving
    /// containers `grace` to stop first (zero: remove at once).
    pub async fn teardown(&self, grace: Duration) -> TeardownReport {
        // Nothing begins to create from here on. Synchronous, before the first await: a
        // teardown abandoned there (a second Ctrl-C starts a forced one) has still stopped
        // every creator. Controllers are aborted; a proxy not set up yet never will be.
        self.inner.prepared.close();
        for c in &self.take_controllers() {
            c.stop();
        }
        // Creates already in flight are awaited: a proxy being set up, containers created
        // ahead, and every create an aborted controller left running (each is in the ledger
        // once it returns, see `Inner::create_container`).
        self.proxies_set_up().await;
        self.inner.prepared.settle().await;
        self.inner.creates_settled().await;
        let mut report = self
            .inner
            .ledger
            .teardown(self.inner.rt.as_ref(), grace)
            .await;
        // Belt and braces: everything of this run carries the run label, so sweep by label
        // what the ledger may still have missed.
        self.sweep_run(&mut report).await;
        report
    }

    async fn sweep_run(&self, report: &mut TeardownReport) {
        let labels = [
            (LABEL_MANAGED_BY.to_string(), MANAGED_BY_VALUE.to_string()),
            (LABEL_RUN.to_string(), self.inner.opts.run_id.clone()),
        ];
        let mut left = match self.inner.rt.list_labelled(&labels).await {
            Ok(l) => l,
            Err(e) => {
                report.errors.push(crate::error::render_chain(&e));
                return;
            }
        };
        left.sort_by_key(|l| l.kind);
        for l in left {
            tracing::debug!("sweeping {:?} {} left outside the ledger", l.kind, l.name);
            let r = self
                .inner
                .rt
                .remove_listed(l.kind, &l.id)
                .await
                .map(|_| report.count(l.kind));
            if let Err(e) = r {
                report.errors.push(crate::error::render_chain(&e));
            }
        }
        // Errors of the ledger pass that the sweep resolved (a network still attached to a
        // container the ledger did not know) are not worth a warning: only report errors when
        // something of this run is really left.
        if let Ok(still) = self.inner.rt.list_labelled(&labels).await {
            if still.is_empty() {
                report.errors.clear();
            }
        }
    }

    /// Waits (at most `limit`) until every controller has started the pods it can start right
    /// away, without stopping anything: what [`Self::snapshot`] then records is what stays.
    pub async fn settle(&self, limit: Duration) {
        let until = tokio::time::Instant::now() + limit;
        loop {
            let settled = {
                let store = self.inner.store();
                store
                    .values()
                    .filter_map(|e| e.controller.as_ref())
                    .all(|c| c.is_settled())
            };
            if settled || tokio::time::Instant::now() >= until {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops controllers without removing anything (`--keep`): containers keep running. Waits
    /// (at most `limit`) for each controller to start the pods it can start right away: an
    /// operation that does not wait for its last wave ends before those pods exist.
    pub async fn detach(&self, limit: Duration) {
        self.proxies_set_up().await;
        let controllers = self.take_controllers();
        let until = tokio::time::Instant::now() + limit;
        for c in &controllers {
            c.settle(until.saturating_duration_since(tokio::time::Instant::now()))
                .await;
            c.stop();
        }
        // What was created ahead for pods that never started is not part of the environment.
        self.inner.prepared.discard(&self.inner).await;
    }

    /// How late readiness was seen at most after its probe could first have passed (median;
    /// see [`crate::engine::SyncReport::readiness_lag`]).
    pub fn readiness_lag(&self) -> Option<Duration> {
        super::probe::readiness_lag(&self.inner.timeline())
    }

    /// The predicted duration of `report`'s operation on a cluster, from what this cluster
    /// observed (see `probe/timing.rs`).
    pub fn predicted_cluster_duration(&self, report: &crate::engine::SyncReport) -> Duration {
        super::probe::predicted_cluster_duration(report, &self.inner.timeline())
    }

    /// Every wait `report`'s run shortened against a cluster (see `probe/timing.rs`).
    pub fn shortened(&self, report: &crate::engine::SyncReport) -> Vec<crate::engine::Shortened> {
        super::probe::shortened(report, &self.inner.timeline())
    }

    /// Docker container ids of the object's pods (newest last), for tests and fault injection:
    /// the containers that run the pods' processes, without their sandboxes.
    pub fn containers_of(&self, key: &ObjectKey) -> Vec<String> {
        self.containers_of_but(key, |sandboxes, _| sandboxes)
    }

    /// The containers of the object's pods that are attached to the network themselves: all
    /// but those that joined a pod's sandbox (see [`DockerCluster::containers_of`]).
    pub fn network_owners_of(&self, key: &ObjectKey) -> Vec<String> {
        self.containers_of_but(key, |_, joined| joined)
    }

    fn containers_of_but(
        &self,
        key: &ObjectKey,
        but: impl FnOnce(BTreeSet<String>, BTreeSet<String>) -> BTreeSet<String>,
    ) -> Vec<String> {
        let Some((mut ids, (sandboxes, joined))) = self.inner.store().get(key).and_then(|e| {
            e.controller
                .as_ref()
                .map(|c| (c.container_ids(), c.sandboxes_and_joined()))
        }) else {
            return Vec::new();
        };
        let but = but(sandboxes, joined);
        ids.retain(|id| !but.contains(id));
        ids
    }
}
