//! Applying, dry-running and deleting objects: what the engine's `Cluster` calls (see `api.rs`)
//! do to the store and the containers, with typed errors.
use super::{
    controller::{self, Controller},
    error::Error,
    kinds::{self, has_controller, only_recorded, resource_name, spec_of, static_status, Update},
    sim::{Entry, Retiring},
    storage::{self, Binding},
    DockerCluster,
};
use crate::{
    apiserver::{self, KindCheck, UpdateAction},
    engine::ApplyOutcome,
    manifest::{Object, ObjectKey, Origin},
    plan::Task,
};
use serde_json::Value;
use std::{sync::Arc, time::Duration};

impl DockerCluster {
    /// Argo CD's client-side dry run of one task (§2.7 B): a workload's pod template parses and
    /// every container names an image. Whether the image can be pulled is the kubelet's concern
    /// (the pod stays Pending with `ImagePullBackOff`, Argo CD waits); the rehearsal checks images
    /// before the operation.
    pub(super) async fn dry_run_task(&self, task: &Task) -> Result<(), Error> {
        let (group, kind) = (task.group(), task.kind());
        if !has_controller(group, kind) {
            return Ok(());
        }
        let pod = controller::pod_template(&task.object.value)
            .map_err(|e| e.about(task.object.display_name()))?;
        for c in pod
            .init_containers
            .iter()
            .flatten()
            .chain(pod.containers.iter())
        {
            if c.image.as_deref().unwrap_or("").is_empty() {
                return Err(Error::NoImage {
                    object: task.object.display_name(),
                    container: c.name.clone(),
                });
            }
        }
        Ok(())
    }

    /// What the API server says to an apply of the task's object (§2.7 B: the real apply, not
    /// the client-side dry run): strict decoding, the namespace, and for an existing object
    /// whether the update is allowed and how it is written ([`apiserver::update_action`]).
    fn admit(&self, task: &Task) -> Result<UpdateAction, Error> {
        let reject = |r| Error::Rejected(Box::new(r));
        apiserver::check_object(&task.object).map_err(reject)?;
        let rules = self.api_rules();
        if let Some(rules) = &rules {
            let namespaced = match rules
                .discovery
                .check_kind(&task.object, &rules.dest_namespace)
            {
                KindCheck::Served { namespaced } | KindCheck::SkipDryRun { namespaced } => {
                    namespaced
                }
                KindCheck::Invalid(_) => !task.namespace().is_empty(),
            };
            rules
                .namespaces
                .check(&task.object, namespaced, &rules.dest_namespace)
                .map_err(reject)?;
        }
        let opts = rules.map(|r| r.update).unwrap_or_default();
        let live = self.live_object(&task.key()).map(|v| {
            Object::new(
                v,
                Origin {
                    file: format!("(live {})", task.key()),
                    document: 0,
                    line: None,
                },
            )
        });
        apiserver::update_action(live.as_ref(), &task.object, &opts).map_err(reject)
    }

    /// Applies the task's object: creates it, or updates it as [`kinds::update`] decides once
    /// the API server admitted it ([`Self::admit`]).
    pub(super) async fn apply_task(&self, task: &Task) -> Result<ApplyOutcome, Error> {
        let action = self.admit(task)?;
        let key = task.key();
        self.inner.applied_now(&key);
        let (group, kind) = (task.group().to_string(), task.kind().to_string());
        let value = kinds::with_defaults(&group, &kind, task.object.value.clone());
        let res = format!("{}/{}", resource_name(&group, &kind), task.name());
        let opts = &task.sync_options;
        // Re-apply over an existing object (§6.2, §7).
        let existing = self.inner.store().get(&key).map(|e| {
            (
                spec_of(&e.object),
                e.controller.as_ref().is_some_and(|c| c.is_lost()),
            )
        });
        let existing = existing.as_ref().map(|(old, lost)| (old, *lost));
        // kubectl's verbs: `replace` (Replace=true, with or without --force) prints "replaced";
        // `apply --force` re-creating over a refused update still prints "configured".
        let changed_verb = if opts.replace || matches!(action, UpdateAction::Replace) {
            "replaced"
        } else {
            "configured"
        };
        let mut rolling_from: Option<Controller> = None;
        let update = match action {
            // Deleted and created again (Force=true over a refused update, or
            // `kubectl replace --force`).
            UpdateAction::Recreate if existing.is_some() => Update::Recreate,
            _ => kinds::update(&group, &kind, existing, &value),
        };
        let verb = match update {
            Update::Create => "created",
            Update::Unchanged => {
                if let Some(e) = self.inner.store().get_mut(&key) {
                    e.hook = task.hook;
                }
                return Ok(ApplyOutcome {
                    message: format!("{res} unchanged"),
                    simulated: only_recorded(&group, &kind),
                });
            }
            Update::RepairDrift => {
                // Drift: a pod lost a container. Re-create what realises the object.
                self.delete_object(&key).await?;
                "configured"
            }
            Update::InPlace => {
                if let Some(e) = self.inner.store().get_mut(&key) {
                    e.object = value.clone();
                    e.hook = task.hook;
                    // A Job keeps its pods' status, a claim its binding.
                    if e.controller.is_none()
                        && e.binding.is_none()
                        && (group.as_str(), kind.as_str()) != ("batch", "Job")
                    {
                        e.static_status = static_status(&group, &kind, &value);
                    }
                }
                if (group.as_str(), kind.as_str()) == ("", "Service") {
                    self.realise_service(&key, &value).await?;
                }
                return Ok(ApplyOutcome {
                    message: format!("{res} {changed_verb}"),
                    simulated: only_recorded(&group, &kind),
                });
            }
            Update::Rolling => {
                let old = self.inner.store().remove(&key);
                rolling_from = old.and_then(|e| e.controller);
                changed_verb
            }
            Update::Recreate => {
                self.delete_object(&key).await?;
                changed_verb
            }
        };
        let mut entry = Entry::new(value.clone(), task.hook);
        let mut simulated = false;
        if has_controller(&group, &kind) {
            let c = controller::spawn(self.inner.clone(), key.clone(), value)
                .map_err(|e| e.about(&res))?;
            entry.controller = Some(c);
        } else {
            entry.static_status = static_status(&group, &kind, &value);
            if (group.as_str(), kind.as_str()) == ("", "PersistentVolumeClaim") {
                let name = self.inner.volume_name(task.namespace(), task.name());
                self.inner.create_volume(&name, &key.to_string()).await?;
                entry.volume = Some(name);
                let binding = storage::binding_at_apply(&self.inner.opts.storage_classes, &value);
                if let Binding::Unbindable(why) = &binding {
                    tracing::info!("{res} stays Pending: {why}");
                }
                entry.static_status = Some(storage::status(&binding));
                entry.binding = Some(binding);
            }
            simulated = only_recorded(&group, &kind);
        }
        self.inner.store().insert(key.clone(), entry);
        if (group.as_str(), kind.as_str()) == ("", "Service") {
            self.realise_service(&key, &task.object.value).await?;
        }
        if let Some(old) = rolling_from {
            self.retire_when_ready(key, old);
        }
        Ok(ApplyOutcome {
            message: format!("{res} {verb}"),
            simulated,
        })
    }

    /// Creates ahead, in the background, the containers of the pods that the workloads of the
    /// steps `upcoming` (in order, the next first) will start once created (see
    /// `kubelet/prepared.rs`). A workload's pods are prepared once, from the first step that
    /// announces them: the next step's at once, a later step's when the machine has room.
    pub(super) fn prepare_ahead(&self, upcoming: &[Vec<&Task>]) {
        let prepared = &self.inner.prepared;
        // The Services applied up to each step, which its pods see.
        let mut services = Vec::new();
        for (k, step) in upcoming.iter().enumerate() {
            services.extend(
                step.iter()
                    .filter(|t| (t.group(), t.kind()) == ("", "Service"))
                    .map(|t| t.object.clone()),
            );
            let workloads: Vec<&Task> = {
                let store = self.inner.store();
                step.iter()
                    .filter(|t| {
                        has_controller(t.group(), t.kind()) && !store.contains_key(&t.key())
                    })
                    .copied()
                    .collect()
            };
            for t in workloads {
                let key = t.key();
                // Announced before: nothing to copy again.
                let Some(when) = prepared.when(&key, k == 0) else {
                    continue;
                };
                let value = kinds::with_defaults(t.group(), t.kind(), t.object.value.clone());
                let pods = controller::pods_ahead(&self.inner, &[(key, value)]);
                prepared.prepare(&self.inner, pods, services.clone(), when);
            }
        }
    }

    /// Deletes an object and everything realising it; deleting a missing object is success.
    /// Containers and pod volumes that cannot be removed are logged (teardown sweeps them);
    /// a PVC's volume that cannot be removed is an error.
    pub(super) async fn delete_object(&self, key: &ObjectKey) -> Result<(), Error> {
        let entry = self.inner.store().remove(key);
        let Some(entry) = entry else { return Ok(()) };
        if key.group.is_empty() && key.kind == "Service" {
            self.forget_service(key).await;
        }
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
            self.inner.rt.remove_volume(&v).await?;
            self.inner.ledger.forget(&v);
        }
        Ok(())
    }

    /// The live object with its status, or `None` when it does not exist.
    pub(super) fn live_object(&self, key: &ObjectKey) -> Option<Value> {
        let store = self.inner.store();
        let entry = store.get(key)?;
        Some(kinds::with_status(entry.object.clone(), entry.status()))
    }

    /// The last `tail` log lines of the object's most recent pod (a line saying why when the
    /// runtime cannot give them).
    pub(super) async fn logs_of(&self, key: &ObjectKey, tail: usize) -> Vec<String> {
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
