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
}

/// Shared state of the cluster, used by the controllers' tasks.
pub(crate) struct Inner {
    pub rt: Arc<dyn ContainerRuntime>,
    pub opts: ClusterOptions,
    pub network: String,
    /// Every Service of the desired state: pods answer to their DNS names (see the README's
    /// "differences from a real cluster").
    pub services: Vec<Object>,
    store: Mutex<BTreeMap<ObjectKey, Entry>>,
    pub ledger: Ledger,
    image_checks: tokio::sync::Mutex<HashMap<String, Result<(), String>>>,
}

impl Inner {
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
            services,
            store: Mutex::new(BTreeMap::new()),
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

    /// Stops every controller and removes every Docker object this cluster created, giving
    /// containers `grace` to stop first (zero: remove at once).
    pub async fn teardown(&self, grace: Duration) -> TeardownReport {
        let controllers: Vec<Controller> = {
            let mut store = self.inner.store();
            store
                .values_mut()
                .filter_map(|e| e.controller.take())
                .collect()
        };
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
            let r = match l.kind {
                ListedKind::Container => self
                    .inner
                    .rt
                    .remove_container(&l.id)
                    .await
                    .map(|_| report.containers += 1),
                ListedKind::Network => self
                    .inner
                    .rt
                    .remove_network(&l.id)
                    .await
                    .map(|_| report.networks += 1),
                ListedKind::Volume => self
                    .inner
                    .rt
                    .remove_volume(&l.id)
                    .await
                    .map(|_| report.volumes += 1),
            };
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

    /// Stops controllers without removing anything (`--keep`): containers keep running. Waits
    /// (at most `limit`) for each controller to start the pods it can start right away: an
    /// operation that does not wait for its last wave ends before those pods exist.
    pub async fn detach(&self, limit: Duration) {
        let controllers: Vec<Controller> = {
            let mut store = self.inner.store();
            store
                .values_mut()
                .filter_map(|e| e.controller.take())
                .collect()
        };
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
fn has_controller(group: &str, kind: &str) -> bool {
    matches!(
        (group, kind),
        (
            "apps",
            "Deployment" | "StatefulSet" | "ReplicaSet" | "DaemonSet"
        ) | ("", "Pod")
            | ("batch", "Job")
    )
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
fn static_status(group: &str, kind: &str, obj: &Value) -> Option<Value> {
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
        // Re-apply over an existing object.
        let existing = self.inner.store().get(&key).map(|e| spec_of(&e.object));
        let verb = match existing {
            Some(old) if old == spec_of(&value) => {
                return Ok(ApplyOutcome {
                    message: format!("{res} unchanged"),
                    simulated: !has_controller(&group, &kind),
                });
            }
            Some(_)
                if (group.as_str(), kind.as_str()) == ("batch", "Job")
                    && !task.sync_options.force =>
            {
                return Err(format!(
                    "Job.batch \"{}\" is invalid: spec.template: Invalid value: field is immutable",
                    task.name()
                ));
            }
            Some(_) => {
                self.delete(&key).await?;
                "configured"
            }
            None => "created",
        };
        let mut entry = Entry {
            object: value.clone(),
            controller: None,
            static_status: None,
            volume: None,
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
            simulated = !matches!(
                (group.as_str(), kind.as_str()),
                (
                    "",
                    "ConfigMap" | "Secret" | "Service" | "PersistentVolumeClaim"
                )
            );
        }
        self.inner.store().insert(key, entry);
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
