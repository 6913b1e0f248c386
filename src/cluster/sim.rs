//! [`DockerCluster`]: the engine's [`Cluster`] on a container runtime.
use super::{
    controller::{self, Controller},
    ledger::{Ledger, TeardownReport},
};
use crate::{
    engine::{ApplyOutcome, Cluster},
    manifest::{Object, ObjectKey},
    plan::Task,
    runtime::{
        ContainerRuntime, Labels, ListedKind, NetworkSpec, VolumeSpec, LABEL_APP, LABEL_MANAGED_BY,
        LABEL_RESOURCE, LABEL_RUN, MANAGED_BY_VALUE,
    },
    state::{spec_hash, ObjectRecord, PodRecord},
};
use async_trait::async_trait;
use serde_json::{json, Value};
use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::Duration,
};

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
    /// How often controllers inspect containers and run probes.
    pub poll_interval: Duration,
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
        }
    }
}

/// One applied object.
struct Entry {
    /// The object as applied (no status).
    object: Value,
    /// The workload controller realising it, if the kind has one.
    controller: Option<Controller>,
    /// A status that never changes (records, PVCs, Services…).
    static_status: Option<Value>,
    /// Docker volume backing a PVC.
    volume: Option<String>,
    /// Applied as a hook (kept in the environment record: hooks are never pruned).
    hook: bool,
    /// Pods of a kept object that has no controller any more (a finished Job or Pod): their
    /// containers are removed with the object.
    kept_pods: Vec<PodRecord>,
}

/// Shared state of the cluster, used by the controllers' tasks.
pub(crate) struct Inner {
    pub rt: Arc<dyn ContainerRuntime>,
    pub opts: ClusterOptions,
    pub network: String,
    /// Every Service of the desired state: pods answer to their DNS names (see the README's
    /// "differences from a real cluster").
    services: Mutex<Vec<Object>>,
    store: Mutex<BTreeMap<ObjectKey, Entry>>,
    /// Old controllers of Deployments being rolled, removed once the new pods are Ready.
    retiring: Mutex<Vec<Retiring>>,
    pub ledger: Ledger,
    image_checks: tokio::sync::Mutex<HashMap<String, Result<(), String>>>,
}

/// The old pods of a rolling update, and the task that removes them once the new pods are ready.
struct Retiring {
    old: Arc<Controller>,
    task: tokio::task::JoinHandle<()>,
}

impl Inner {
    /// Every Service of the desired state.
    pub fn services(&self) -> Vec<Object> {
        self.services
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn retiring(&self) -> std::sync::MutexGuard<'_, Vec<Retiring>> {
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

    /// The Docker volume backing PVC `claim` in `namespace`, if it was applied.
    pub fn pvc_volume(&self, namespace: &str, claim: &str) -> Option<String> {
        let key = ObjectKey {
            group: String::new(),
            kind: "PersistentVolumeClaim".into(),
            namespace: namespace.into(),
            name: claim.into(),
        };
        self.store().get(&key).and_then(|e| e.volume.clone())
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

    /// Creates a labelled volume and records it in the ledger.
    pub async fn create_volume(&self, name: &str, resource: &str) -> Result<(), String> {
        let spec = VolumeSpec {
            name: name.to_string(),
            labels: self.labels(resource),
        };
        self.rt
            .create_volume(&spec)
            .await
            .map_err(|e| crate::error::render_chain(&e))?;
        self.ledger.record(ListedKind::Volume, name);
        Ok(())
    }

    fn store(&self) -> std::sync::MutexGuard<'_, BTreeMap<ObjectKey, Entry>> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Checks (once per image) that an image is available locally, pulling it unless
    /// `imagePullPolicy: Never`.
    pub async fn ensure_image(&self, image: &str, pull_policy: Option<&str>) -> Result<(), String> {
        let mut cache = self.image_checks.lock().await;
        if let Some(r) = cache.get(image) {
            return r.clone();
        }
        let r = match self.rt.image_exists(image).await {
            Ok(true) => Ok(()),
            Ok(false) if pull_policy == Some("Never") => {
                Err("not present locally and imagePullPolicy is Never".to_string())
            }
            Ok(false) => self
                .rt
                .pull_image(image)
                .await
                .map_err(|e| crate::error::render_chain(&e)),
            Err(e) => Err(crate::error::render_chain(&e)),
        };
        cache.insert(image.to_string(), r.clone());
        r
    }
}

/// The simulated cluster. Cheap to clone.
#[derive(Clone)]
pub struct DockerCluster {
    inner: Arc<Inner>,
}

impl DockerCluster {
    /// Creates the app's network (`syncsim-<app>`), labelled and recorded in the ledger.
    pub async fn new(
        rt: Arc<dyn ContainerRuntime>,
        opts: ClusterOptions,
        desired: &[Object],
    ) -> Result<Self, crate::runtime::Error> {
        let network = format!("syncsim-{}", opts.app);
        let services = desired
            .iter()
            .filter(|o| o.kind() == "Service" && o.group().is_empty())
            .cloned()
            .collect();
        let inner = Arc::new(Inner {
            rt,
            network: network.clone(),
            services: Mutex::new(services),
            store: Mutex::new(BTreeMap::new()),
            retiring: Mutex::new(Vec::new()),
            ledger: Ledger::default(),
            image_checks: tokio::sync::Mutex::new(HashMap::new()),
            opts,
        });
        let spec = NetworkSpec {
            name: network.clone(),
            labels: inner.labels("network"),
        };
        inner.rt.create_network(&spec).await?;
        inner.ledger.record(ListedKind::Network, network);
        Ok(Self { inner })
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
        let services = desired
            .iter()
            .filter(|o| o.kind() == "Service" && o.group().is_empty())
            .cloned()
            .collect();
        let inner = Arc::new(Inner {
            rt,
            network,
            services: Mutex::new(services),
            store: Mutex::new(BTreeMap::new()),
            retiring: Mutex::new(Vec::new()),
            ledger: Ledger::default(),
            image_checks: tokio::sync::Mutex::new(HashMap::new()),
            opts,
        });
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
            let entry = Entry {
                object: rec.object.clone(),
                controller: None,
                static_status: static_status(&rec.group, &rec.kind, &rec.object),
                volume: rec.volume.clone(),
                hook: rec.hook,
                kept_pods: Vec::new(),
            };
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
            let mut entry = Entry {
                object: rec.object.clone(),
                controller: None,
                static_status: None,
                volume: None,
                hook: rec.hook,
                kept_pods: Vec::new(),
            };
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
        Ok(Self { inner })
    }

    /// Replaces the desired state's Services (pods started from now on answer to their names).
    pub fn set_desired(&self, desired: &[Object]) {
        *self
            .inner
            .services
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = desired
            .iter()
            .filter(|o| o.kind() == "Service" && o.group().is_empty())
            .cloned()
            .collect();
    }

    /// Every object as it exists now, for the environment record.
    pub fn snapshot(&self) -> Vec<ObjectRecord> {
        let store = self.inner.store();
        store
            .iter()
            .map(|(k, e)| {
                let status = match (&e.controller, &e.static_status) {
                    (Some(c), _) => Some(c.status()),
                    (None, s) => s.clone(),
                };
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
        let controllers = self.take_controllers();
        for c in &controllers {
            c.stop();
        }
        let mut report = self
            .inner
            .ledger
            .teardown(self.inner.rt.as_ref(), grace)
            .await;
        // Belt and braces: a controller aborted in the middle of a create may have left an
        // object the engine created but the ledger never heard of. Everything of this run
        // carries the run label, so sweep by label.
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
        let controllers = self.take_controllers();
        let until = tokio::time::Instant::now() + limit;
        for c in &controllers {
            c.settle(until.saturating_duration_since(tokio::time::Instant::now()))
                .await;
            c.stop();
        }
    }

    /// Docker container ids of the object's pods (newest last), for tests and fault injection.
    pub fn containers_of(&self, key: &ObjectKey) -> Vec<String> {
        self.inner
            .store()
            .get(key)
            .and_then(|e| e.controller.as_ref().map(|c| c.container_ids()))
            .unwrap_or_default()
    }
}

impl DockerCluster {
    /// Removes `old`'s pods once the object's new controller reports every replica Ready (or
    /// after its progress deadline): a rolling update with surge.
    fn retire_when_ready(&self, key: ObjectKey, old: Controller) {
        let old = Arc::new(old);
        let inner = self.inner.clone();
        let retiring = old.clone();
        let task = tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
            loop {
                let ready = {
                    let store = inner.store();
                    match store.get(&key) {
                        Some(e) => {
                            let want = e
                                .object
                                .pointer("/spec/replicas")
                                .and_then(Value::as_i64)
                                .unwrap_or(1);
                            let status = e
                                .controller
                                .as_ref()
                                .map(|c| c.status())
                                .unwrap_or_default();
                            status
                                .get("readyReplicas")
                                .and_then(Value::as_i64)
                                .unwrap_or(0)
                                >= want
                        }
                        None => true,
                    }
                };
                if ready || tokio::time::Instant::now() >= deadline {
                    break;
                }
                tokio::time::sleep(inner.opts.poll_interval).await;
            }
            retiring.remove(&inner).await;
        });
        self.inner.retiring().push(Retiring { old, task });
    }
}

/// Kinds that have no effect on Docker at all (only recorded): everything but workloads,
/// ConfigMaps and Secrets (files in pods), Services (DNS aliases) and PVCs (volumes).
fn only_recorded(group: &str, kind: &str) -> bool {
    !has_controller(group, kind)
        && !matches!(
            (group, kind),
            (
                "",
                "ConfigMap" | "Secret" | "Service" | "PersistentVolumeClaim"
            )
        )
}

/// A Deployment rolls (surge, then remove old pods) unless its strategy is `Recreate`.
fn rolling(obj: &Value) -> bool {
    obj.pointer("/spec/strategy/type").and_then(Value::as_str) != Some("Recreate")
}

/// Whether an update touches a Job's immutable fields (`spec.template`, `spec.selector`,
/// `spec.completions`), which the API server rejects.
fn job_template_changed(old: &Value, new: &Value) -> bool {
    ["/spec/template", "/spec/selector", "/spec/completions"]
        .iter()
        .any(|p| old.pointer(p) != new.pointer(p))
}

/// kubectl's resource name: `deployment.apps`, `service`, `job.batch`.
fn resource_name(group: &str, kind: &str) -> String {
    let k = kind.to_lowercase();
    if group.is_empty() {
        k
    } else {
        format!("{k}.{group}")
    }
}

/// Kinds realised as containers.
pub(crate) fn has_controller(group: &str, kind: &str) -> bool {
    matches!(
        (group, kind),
        (
            "apps",
            "Deployment" | "StatefulSet" | "ReplicaSet" | "DaemonSet"
        ) | ("", "Pod")
            | ("batch", "Job")
    )
}

/// A target object as the simulated API server stores it when applied (defaults filled in, no
/// `status`): what a kept environment's record is compared with.
pub fn applied_form(obj: &Object) -> Value {
    spec_of(&with_defaults(obj.group(), obj.kind(), obj.value.clone()))
}

/// The object without `status` and server-set metadata, for "unchanged" comparison.
fn spec_of(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    v
}

/// The API server's defaulting that health checks depend on: `spec.replicas` is 1 when absent.
fn with_defaults(group: &str, kind: &str, mut v: Value) -> Value {
    if group == "apps" && matches!(kind, "Deployment" | "StatefulSet" | "ReplicaSet") {
        if let Some(spec) = v.get_mut("spec").and_then(Value::as_object_mut) {
            spec.entry("replicas").or_insert(json!(1));
        }
    }
    v
}

/// Status for kinds that have no controller here: what a healthy cluster would report.
pub(crate) fn static_status(group: &str, kind: &str, obj: &Value) -> Option<Value> {
    match (group, kind) {
        ("", "PersistentVolumeClaim") => Some(json!({"phase": "Bound"})),
        ("", "Service")
            if obj.pointer("/spec/type").and_then(Value::as_str) == Some("LoadBalancer") =>
        {
            Some(json!({"loadBalancer": {"ingress": [{"ip": "127.0.0.1"}]}}))
        }
        ("networking.k8s.io" | "extensions", "Ingress") => {
            Some(json!({"loadBalancer": {"ingress": [{"ip": "127.0.0.1"}]}}))
        }
        ("apiregistration.k8s.io", "APIService") => {
            Some(json!({"conditions": [{"type": "Available", "status": "True"}]}))
        }
        ("autoscaling", "HorizontalPodAutoscaler") => Some(
            json!({"conditions": [{"type": "AbleToScale", "status": "True", "reason": "SucceededRescale"}]}),
        ),
        ("batch", "CronJob") => Some(json!({})),
        _ => None,
    }
}

#[async_trait]
impl Cluster for DockerCluster {
    async fn dry_run(&self, task: &Task) -> Result<(), String> {
        let (group, kind) = (task.group(), task.kind());
        if !has_controller(group, kind) {
            return Ok(());
        }
        let pod = controller::pod_template(&task.object.value)
            .map_err(|e| format!("{}: {e}", task.object.display_name()))?;
        for c in pod
            .init_containers
            .iter()
            .flatten()
            .chain(pod.containers.iter())
        {
            let image = c.image.as_deref().unwrap_or("");
            if image.is_empty() {
                return Err(format!(
                    "{}: container `{}` has no image",
                    task.object.display_name(),
                    c.name
                ));
            }
            let mapped = self.inner.map_image(image);
            if let Err(e) = self
                .inner
                .ensure_image(&mapped, c.image_pull_policy.as_deref())
                .await
            {
                let shown = if mapped == image {
                    format!("`{image}`")
                } else {
                    format!("`{mapped}` (mapped from `{image}`)")
                };
                return Err(format!(
                    "image {shown} of container `{}` in {}/{} is not available: {e} \
                     (fix: --image {image}=<local image>, `docker load -i <file>`, or build it)",
                    c.name,
                    kind,
                    task.name()
                ));
            }
        }
        Ok(())
    }

    async fn apply(&self, task: &Task) -> Result<ApplyOutcome, String> {
        let key = task.key();
        let (group, kind) = (task.group().to_string(), task.kind().to_string());
        let value = with_defaults(&group, &kind, task.object.value.clone());
        let res = format!("{}/{}", resource_name(&group, &kind), task.name());
        let opts = &task.sync_options;
        // Re-apply over an existing object (§6.2, §7).
        let existing = self.inner.store().get(&key).map(|e| {
            (
                spec_of(&e.object),
                e.controller.as_ref().is_some_and(|c| c.is_lost()),
            )
        });
        let is_job = (group.as_str(), kind.as_str()) == ("batch", "Job");
        let changed_verb = if opts.replace {
            "replaced"
        } else {
            "configured"
        };
        let mut rolling_from: Option<Controller> = None;
        let verb = match existing {
            None => "created",
            Some((old, lost)) if old == spec_of(&value) => {
                if !lost {
                    if let Some(e) = self.inner.store().get_mut(&key) {
                        e.hook = task.hook;
                    }
                    return Ok(ApplyOutcome {
                        message: format!("{res} unchanged"),
                        simulated: only_recorded(&group, &kind),
                    });
                }
                // Drift: a pod lost a container. Re-create what realises the object.
                self.delete(&key).await?;
                "configured"
            }
            Some((old, _)) if is_job && job_template_changed(&old, &value) => {
                // kubectl apply sends a patch the API server rejects; `--force` (Force=true)
                // falls back to delete + create; Replace=true alone hits the same error.
                if !opts.force {
                    return Err(format!(
                        "Job.batch \"{}\" is invalid: spec.template: Invalid value: \
                         core.PodTemplateSpec{{...}}: field is immutable",
                        task.name()
                    ));
                }
                self.delete(&key).await?;
                changed_verb
            }
            Some(_) if is_job || !has_controller(&group, &kind) => {
                // Updated in place: a PVC keeps its volume, a Job its pods and status.
                let mut store = self.inner.store();
                if let Some(e) = store.get_mut(&key) {
                    e.object = value.clone();
                    e.hook = task.hook;
                    if e.controller.is_none() && !is_job {
                        e.static_status = static_status(&group, &kind, &value);
                    }
                }
                return Ok(ApplyOutcome {
                    message: format!("{res} {changed_verb}"),
                    simulated: only_recorded(&group, &kind),
                });
            }
            Some(_) if kind == "Deployment" && rolling(&value) => {
                // RollingUpdate: the new pods start now; the old ones go once they are Ready.
                let old = self.inner.store().remove(&key);
                rolling_from = old.and_then(|e| e.controller);
                changed_verb
            }
            Some(_) => {
                // Recreate; a StatefulSet's pods go in reverse ordinal order, its claims stay.
                self.delete(&key).await?;
                changed_verb
            }
        };
        let mut entry = Entry {
            object: value.clone(),
            controller: None,
            static_status: None,
            volume: None,
            hook: task.hook,
            kept_pods: Vec::new(),
        };
        let mut simulated = false;
        if has_controller(&group, &kind) {
            let c = controller::spawn(self.inner.clone(), key.clone(), value)
                .map_err(|e| format!("{res}: {e}"))?;
            entry.controller = Some(c);
        } else {
            entry.static_status = static_status(&group, &kind, &value);
            if (group.as_str(), kind.as_str()) == ("", "PersistentVolumeClaim") {
                let name = self.inner.volume_name(task.namespace(), task.name());
                self.inner.create_volume(&name, &key.to_string()).await?;
                entry.volume = Some(name);
            }
            simulated = only_recorded(&group, &kind);
        }
        self.inner.store().insert(key.clone(), entry);
        if let Some(old) = rolling_from {
            self.retire_when_ready(key, old);
        }
        Ok(ApplyOutcome {
            message: format!("{res} {verb}"),
            simulated,
        })
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), String> {
        let entry = self.inner.store().remove(key);
        let Some(entry) = entry else { return Ok(()) };
        if let Some(c) = entry.controller {
            c.remove(&self.inner).await;
        }
        for pod in &entry.kept_pods {
            let ids = pod
                .init_containers
                .iter()
                .chain(pod.containers.iter().map(|c| &c.id));
            for id in ids {
                match self.inner.rt.remove_container(id).await {
                    Ok(()) => self.inner.ledger.forget(id),
                    Err(e) => tracing::warn!("failed to remove container {id}: {e}"),
                }
            }
            for v in &pod.volumes {
                match self.inner.rt.remove_volume(v).await {
                    Ok(()) => self.inner.ledger.forget(v),
                    Err(e) => tracing::warn!("failed to remove volume {v}: {e}"),
                }
            }
        }
        if let Some(v) = entry.volume {
            self.inner
                .rt
                .remove_volume(&v)
                .await
                .map_err(|e| crate::error::render_chain(&e))?;
            self.inner.ledger.forget(&v);
        }
        Ok(())
    }

    async fn get(&self, key: &ObjectKey) -> Option<Value> {
        let store = self.inner.store();
        let entry = store.get(key)?;
        let mut obj = entry.object.clone();
        let status = match (&entry.controller, &entry.static_status) {
            (Some(c), _) => Some(c.status()),
            (None, Some(s)) => Some(s.clone()),
            (None, None) => None,
        };
        if let (Some(s), Some(o)) = (status, obj.as_object_mut()) {
            o.insert("status".into(), s);
            // Our controllers observe every generation they are given.
            if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.insert("generation".into(), json!(1));
            }
        }
        Some(obj)
    }

    async fn logs(&self, key: &ObjectKey, tail: usize) -> Vec<String> {
        let id = {
            let store = self.inner.store();
            store
                .get(key)
                .and_then(|e| e.controller.as_ref().and_then(|c| c.log_container()))
        };
        match id {
            Some(id) => self
                .inner
                .rt
                .logs(&id, tail)
                .await
                .unwrap_or_else(|e| vec![format!("(logs unavailable: {e})")]),
            None => Vec::new(),
        }
    }
}
