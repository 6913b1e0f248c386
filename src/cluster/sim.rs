//! The simulated cluster's state: its options, the store of applied objects and what the
//! controllers share ([`Inner`]), behind the cheap handle [`DockerCluster`].
//!
//! The rest of [`DockerCluster`] lives beside this file: creating, adopting, settling and
//! tearing down in `lifecycle.rs`, applying and deleting in `apply.rs`, the per-kind rules in
//! `kinds.rs`, and the engine's `Cluster` trait in `api.rs`.
use super::{
    controller::Controller,
    error::{Error, ImageError},
    ledger::Ledger,
    probe::{Observation, Timing},
    service::{self, Endpoint, RealisedService},
    storage::{self, Binding, StorageClass},
};
use crate::{
    manifest::{Object, ObjectKey},
    runtime::{
        ContainerRuntime, ContainerSpec, Labels, ListedKind, VolumeSpec, LABEL_APP,
        LABEL_MANAGED_BY, LABEL_RESOURCE, LABEL_RUN, MANAGED_BY_VALUE,
    },
    state::PodRecord,
    util::Backoff,
};
use serde_json::Value;
use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::time::Instant;
/// Settings of the simulated cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Application name: the network is `syncsim-<app>`, every object is labelled with it.
    pub app: String,
    /// Unique id of this run (label `dev.syncsim.run`).
    pub run_id: String,
    /// Image rewrites (`--image FROM=TO`), applied to every container.
    pub images: Vec<(String, String)>,
    /// Base of the Job pod backoff (Kubernetes uses 10 s, doubling, capped at 6 min).
    pub job_backoff_base: Duration,
    /// Base of the container restart backoff for long-running pods (Kubernetes: 10 s).
    pub restart_backoff_base: Duration,
    /// How often controllers inspect containers (probes run when due, see [`Timing`]).
    pub poll_interval: Duration,
    /// How probes and backoffs spend waiting time.
    pub timing: Timing,
    /// The cluster's StorageClasses (default: [`StorageClass::defaults`], `standard`, binding on
    /// first consumer). The place for a `cluster.storageClasses` section of `syncsim.yaml`.
    pub storage_classes: Vec<StorageClass>,
    /// The image of the containers that realise Services needing a proxy (port remapping,
    /// readiness; see `cluster::service`).
    pub service_proxy_image: String,
    /// The node's `--allowed-unsafe-sysctls` (names or `prefix*`): pods asking for other
    /// sysctls than the safe ones are rejected (`cluster::pod::sysctl`).
    pub allowed_unsafe_sysctls: Vec<String>,
    /// ServiceAccounts that exist before the sync, as `namespace/name`.
    pub service_accounts: Vec<String>,
    /// The kubelet's `seccompDefault` (off by default).
    pub seccomp_default: bool,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            app: "app".into(),
            run_id: uuid::Uuid::new_v4().simple().to_string(),
            images: Vec::new(),
            job_backoff_base: Duration::from_secs(1),
            restart_backoff_base: Duration::from_secs(1),
            poll_interval: Duration::from_millis(150),
            timing: Timing::default(),
            storage_classes: StorageClass::defaults(),
            service_proxy_image: service::DEFAULT_PROXY_IMAGE.to_string(),
            allowed_unsafe_sysctls: Vec::new(),
            service_accounts: Vec::new(),
            seccomp_default: false,
        }
    }
}

/// One applied object.
pub(super) struct Entry {
    /// The object as applied (no status).
    pub object: Value,
    /// The workload controller realising it, if the kind has one.
    pub controller: Option<Controller>,
    /// A status that never changes (records, PVCs, Services…).
    pub static_status: Option<Value>,
    /// Docker volume backing a PVC.
    pub volume: Option<String>,
    /// How a PVC binds (its status follows it).
    pub binding: Option<Binding>,
    /// Applied as a hook (kept in the environment record: hooks are never pruned).
    pub hook: bool,
    /// Pods of a kept object that has no controller any more (a finished Job or Pod): their
    /// containers are removed with the object.
    pub kept_pods: Vec<PodRecord>,
}

impl Entry {
    /// An entry for `object` with nothing realising it yet.
    pub fn new(object: Value, hook: bool) -> Self {
        Entry {
            object,
            controller: None,
            static_status: None,
            volume: None,
            binding: None,
            hook,
            kept_pods: Vec::new(),
        }
    }

    /// The live status: the controller's, else the static one.
    pub fn status(&self) -> Option<Value> {
        match (&self.controller, &self.static_status) {
            (Some(c), _) => Some(c.status()),
            (None, s) => s.clone(),
        }
    }
}

/// Shared state of the cluster, used by the controllers' tasks.
pub(crate) struct Inner {
    pub rt: Arc<dyn ContainerRuntime>,
    pub opts: ClusterOptions,
    pub network: String,
    /// The pod templates of the desired state (which Services can skip their proxy).
    desired_pods: Mutex<Vec<service::DesiredPod>>,
    /// The applied Services and how they are realised.
    services: Mutex<BTreeMap<ObjectKey, RealisedService>>,
    store: Mutex<BTreeMap<ObjectKey, Entry>>,
    /// Old controllers of Deployments being rolled, removed once the new pods are Ready.
    retiring: Mutex<Vec<Retiring>>,
    pub ledger: Arc<Ledger>,
    /// Creates in flight (see [`Inner::create_container`]): teardown waits for them.
    creates: tokio_util::task::TaskTracker,
    /// Whether probes dial pods' addresses (see [`Inner::reach_pods`]).
    pods_reachable: tokio::sync::OnceCell<bool>,
    image_checks: tokio::sync::Mutex<HashMap<String, ImageCheck>>,
    /// The users images run as, once inspected (see [`Inner::image_user`]).
    image_users: tokio::sync::Mutex<HashMap<String, String>>,
    /// What a cluster would have waited longer for (see `probe/timing.rs`).
    timeline: Mutex<Vec<Observation>>,
    /// The API server's rules for the current operation (see `api.rs`).
    pub(super) api: Mutex<Option<Arc<super::api::ApiRules>>>,
    /// Pods the kubelet cannot start yet (Pending).
    pub(super) waiting_pods: super::kubelet::WaitingPods,
    /// The engine's current step (see [`Inner::next_step`]).
    step: std::sync::atomic::AtomicU64,
    /// The step each object was last applied in.
    applied_in: Mutex<HashMap<ObjectKey, u64>>,
    /// Containers created ahead of the next step's pods (`kubelet/prepared.rs`).
    pub(super) prepared: super::kubelet::Prepared,
    /// Pod names drawn ahead for them (`controller/names.rs`).
    pub(super) names: super::controller::ReservedNames,
}

/// The old pods of a rolling update, and the task that removes them once the new pods are ready.
pub(super) struct Retiring {
    pub old: Arc<Controller>,
    pub task: tokio::task::JoinHandle<()>,
}

impl Inner {
    /// An empty store for the app's `network`, with the Services of `desired`.
    pub(super) fn new(
        rt: Arc<dyn ContainerRuntime>,
        opts: ClusterOptions,
        network: String,
        desired: &[Object],
    ) -> Self {
        Inner {
            rt,
            network,
            desired_pods: Mutex::new(service::desired_pods(desired)),
            services: Mutex::new(BTreeMap::new()),
            store: Mutex::new(BTreeMap::new()),
            retiring: Mutex::new(Vec::new()),
            ledger: Arc::default(),
            creates: tokio_util::task::TaskTracker::new(),
            pods_reachable: tokio::sync::OnceCell::new(),
            image_checks: tokio::sync::Mutex::new(HashMap::new()),
            image_users: tokio::sync::Mutex::new(HashMap::new()),
            timeline: Mutex::new(Vec::new()),
            api: Mutex::new(None),
            waiting_pods: Default::default(),
            step: Default::default(),
            applied_in: Default::default(),
            prepared: Default::default(),
            names: Default::default(),
            opts,
        }
    }

    /// The engine has applied every task of a step: what is applied next belongs to a later
    /// one. Pods use it to wait for the Service proxies of earlier steps only (see
    /// `service::proxies_set_up`).
    pub(crate) fn next_step(&self) {
        self.step.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// The current step.
    pub(crate) fn step(&self) -> u64 {
        self.step.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Records that `key` is being applied in the current step.
    pub(crate) fn applied_now(&self, key: &ObjectKey) {
        let step = self.step();
        self.applied_in
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.clone(), step);
    }

    /// The step `key` was last applied in (the current one when it never was: a kept object).
    pub(crate) fn applied_in(&self, key: &ObjectKey) -> u64 {
        self.applied_in
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .copied()
            .unwrap_or_else(|| self.step())
    }

    /// Whether every controller of an object applied in `step` has started the pods it can
    /// start right away.
    pub(crate) fn controllers_settled_in(&self, step: u64) -> bool {
        let keys: Vec<ObjectKey> = {
            let applied = self.applied_in.lock().unwrap_or_else(|e| e.into_inner());
            applied
                .iter()
                .filter(|(_, s)| **s == step)
                .map(|(k, _)| k.clone())
                .collect()
        };
        let store = self.store();
        keys.iter()
            .filter_map(|k| store.get(k).and_then(|e| e.controller.as_ref()))
            .all(|c| c.is_settled())
    }

    /// Records something a cluster would have waited longer for.
    pub(crate) fn observe(&self, o: Observation) {
        self.timeline
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(o);
    }

    /// Everything recorded by [`Self::observe`] so far.
    pub(crate) fn timeline(&self) -> Vec<Observation> {
        self.timeline
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the pod templates of the desired state.
    pub(super) fn set_desired_pods(&self, desired: &[Object]) {
        *self.desired_pods.lock().unwrap_or_else(|e| e.into_inner()) =
            service::desired_pods(desired);
    }

    /// The pod templates of the desired state.
    pub(super) fn desired_pods(&self) -> Vec<service::DesiredPod> {
        self.desired_pods
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The applied Services.
    pub(super) fn services(
        &self,
    ) -> std::sync::MutexGuard<'_, BTreeMap<ObjectKey, RealisedService>> {
        self.services.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every pod of every workload (rolling-update leftovers included), as Service endpoints.
    pub fn endpoints(&self) -> Vec<Endpoint> {
        let mut out: Vec<Endpoint> = self
            .store()
            .values()
            .filter_map(|e| e.controller.as_ref())
            .flat_map(|c| c.endpoints())
            .collect();
        out.extend(self.retiring().iter().flat_map(|r| r.old.endpoints()));
        out
    }

    pub(super) fn retiring(&self) -> std::sync::MutexGuard<'_, Vec<Retiring>> {
        self.retiring.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Labels for a Docker object realising `resource` (`<group>/<kind>/<ns>/<name>`).
    pub fn labels(&self, resource: &str) -> Labels {
        let mut l = Labels::new();
        l.insert(LABEL_MANAGED_BY.into(), MANAGED_BY_VALUE.into());
        l.insert(LABEL_APP.into(), self.opts.app.clone());
        l.insert(LABEL_RUN.into(), self.opts.run_id.clone());
        l.insert(LABEL_RESOURCE.into(), resource.into());
        l
    }

    /// Every applied core object of `kind` (ConfigMap, Secret) in `namespace`.
    pub fn configs(&self, kind: &str, namespace: &str) -> Vec<Object> {
        self.store()
            .iter()
            .filter(|(k, _)| k.group.is_empty() && k.kind == kind && k.namespace == namespace)
            .map(|(k, e)| {
                Object::new(
                    e.object.clone(),
                    crate::manifest::Origin {
                        file: format!("(live {k})"),
                        document: 0,
                        line: None,
                    },
                )
            })
            .collect()
    }

    /// The Docker volume backing PVC `claim` in `namespace`, if it was applied. A pod is being
    /// scheduled with it: a claim waiting for its first consumer binds now.
    pub fn consume_pvc(&self, namespace: &str, claim: &str) -> Option<String> {
        let key = ObjectKey {
            group: String::new(),
            kind: "PersistentVolumeClaim".into(),
            namespace: namespace.into(),
            name: claim.into(),
        };
        let mut store = self.store();
        let entry = store.get_mut(&key)?;
        if entry.binding == Some(Binding::WaitingForConsumer) {
            entry.binding = Some(Binding::Bound);
            entry.static_status = Some(storage::status(&Binding::Bound));
        }
        entry.volume.clone()
    }

    /// The image to run for `image`, after `--image` rewrites.
    pub fn map_image(&self, image: &str) -> String {
        self.opts
            .images
            .iter()
            .find(|(from, _)| from == image)
            .map(|(_, to)| to.clone())
            .unwrap_or_else(|| image.to_string())
    }

    /// Docker volume name for a PVC (stable per app, so `--keep` environments reuse data).
    pub fn volume_name(&self, namespace: &str, claim: &str) -> String {
        format!("syncsim-{}-{}-{}", self.opts.app, namespace, claim)
    }

    /// Creates a labelled volume and records it in the ledger (as
    /// [`Inner::create_container`] does).
    pub async fn create_volume(&self, name: &str, resource: &str) -> Result<(), Error> {
        let spec = VolumeSpec {
            name: name.to_string(),
            labels: self.labels(resource),
        };
        let (rt, ledger) = (self.rt.clone(), self.ledger.clone());
        self.recorded(name, async move {
            rt.create_volume(&spec).await?;
            ledger.record(ListedKind::Volume, &spec.name);
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// Creates a container and records it in the ledger, whatever becomes of the caller: the
    /// create runs on a task of its own, so a controller aborted while it waits for the engine
    /// (teardown aborts them) still has its container recorded, and teardown, which waits for
    /// the creates in flight ([`Inner::creates_settled`]), removes it. Dropping the HTTP request
    /// instead would not stop the engine from creating the container, unrecorded.
    pub async fn create_container(&self, spec: &ContainerSpec) -> crate::runtime::Result<String> {
        let (rt, ledger, spec) = (self.rt.clone(), self.ledger.clone(), spec.clone());
        let name = spec.name.clone();
        self.recorded(&name, async move {
            let id = rt.create_container(&spec).await?;
            ledger.record_container(&id, &spec.name);
            Ok(id)
        })
        .await
    }

    async fn recorded<T: Send + 'static>(
        &self,
        object: &str,
        create: impl std::future::Future<Output = crate::runtime::Result<T>> + Send + 'static,
    ) -> crate::runtime::Result<T> {
        match self.creates.spawn(create).await {
            Ok(r) => r,
            Err(e) => Err(crate::runtime::Error::Operation {
                op: "create",
                object: object.to_string(),
                source: Box::new(e),
            }),
        }
    }

    /// Finds out, once, whether this process reaches the pods' addresses on the network, as a
    /// kubelet reaches a pod's IP: then probes dial them and nothing is published on the
    /// engine's 127.0.0.1 (Docker's port publishing costs each start a proxy process and
    /// firewall rules). Called before the first pod is translated.
    pub(super) async fn reach_pods(&self) {
        self.pods_reachable
            .get_or_init(|| self.rt.reaches_network(&self.network))
            .await;
    }

    /// What [`Inner::reach_pods`] found (`false` before).
    pub(super) fn pods_reachable(&self) -> bool {
        self.pods_reachable.get() == Some(&true)
    }

    /// Waits for the creates in flight: from then on the ledger holds everything created.
    pub(super) async fn creates_settled(&self) {
        self.creates.close();
        self.creates.wait().await;
    }

    pub(super) fn store(&self) -> std::sync::MutexGuard<'_, BTreeMap<ObjectKey, Entry>> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes `image` unavailable for the rest of the run, whatever the engine holds.
    pub(super) async fn refuse_image(&self, image: &str, why: &str) {
        self.image_checks.lock().await.insert(
            image.to_string(),
            ImageCheck {
                result: Err(ImageError::Refused(why.to_string())),
                retry_at: None,
                failures: 0,
            },
        );
    }

    /// Whether `image` is known to be unavailable right now (looked for and missing, or
    /// refused by a scenario), without looking again.
    pub(super) async fn image_known_unavailable(&self, image: &str) -> bool {
        self.image_checks
            .lock()
            .await
            .get(image)
            .is_some_and(|c| c.result.is_err())
    }

    /// The user a present image runs as (its config's `User`, empty for none), inspected once
    /// per image and run; `Err` names why the engine could not say.
    pub(super) async fn image_user(&self, image: &str) -> Result<String, String> {
        let mut users = self.image_users.lock().await;
        if let Some(u) = users.get(image) {
            return Ok(u.clone());
        }
        match self.rt.image_user(image).await {
            Ok(Some(u)) => {
                users.insert(image.to_string(), u.clone());
                Ok(u)
            }
            Ok(None) => Err(format!("image \"{image}\" not found")),
            Err(e) => Err(crate::error::render_chain(&e)),
        }
    }

    /// Checks that an image is available locally, pulling it unless `imagePullPolicy: Never`.
    /// A found image is remembered; a missing one is looked for again after the kubelet's
    /// image back-off ([`IMAGE_BACKOFF`]), so a pod starts once the image arrives.
    pub async fn ensure_image(
        &self,
        image: &str,
        pull_policy: Option<&str>,
    ) -> Result<(), ImageError> {
        let mut cache = self.image_checks.lock().await;
        let failures = match cache.get(image) {
            Some(c) if c.retry_at.is_none_or(|at| Instant::now() < at) => return c.result.clone(),
            Some(c) => c.failures,
            None => 0,
        };
        let r = match self.rt.image_exists(image).await {
            Ok(true) => Ok(()),
            Ok(false) if pull_policy == Some("Never") => Err(ImageError::NeverPulled),
            Ok(false) => self
                .rt
                .pull_image(image)
                .await
                .map_err(|e| ImageError::Runtime(Arc::new(e))),
            Err(e) => Err(ImageError::Runtime(Arc::new(e))),
        };
        let retry_at = r
            .is_err()
            .then(|| Instant::now() + IMAGE_BACKOFF.delay(failures));
        cache.insert(
            image.to_string(),
            ImageCheck {
                result: r.clone(),
                retry_at,
                failures: failures + u32::from(r.is_err()),
            },
        );
        r
    }
}

/// The kubelet's back-off between attempts to find or pull a missing image: 10 s doubling up
/// to 5 min (`backOffPeriod` and `MaxContainerBackOff` in Kubernetes' pkg/kubelet/kubelet.go).
pub const IMAGE_BACKOFF: Backoff =
    Backoff::new(Duration::from_secs(10), 2, Duration::from_secs(300));

/// What [`Inner::ensure_image`] found for one image, and when to look again.
struct ImageCheck {
    result: Result<(), ImageError>,
    /// `None`: final (found, or refused by a scenario fault).
    retry_at: Option<Instant>,
    failures: u32,
}

/// The simulated cluster. Cheap to clone.
#[derive(Clone)]
pub struct DockerCluster {
    pub(super) inner: Arc<Inner>,
}
