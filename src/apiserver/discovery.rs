//! Which apiVersion/kind the cluster serves, and Argo CD's verdict on a task's kind (§2.1.6).
use super::{
    builtin::{BUILTINS, UNTYPED},
    cluster::{ClusterDescription, CustomKind, KubeVersion, Scope},
    rejection::{self, Reason, Rejection, Stage},
};
use crate::{manifest::Object, plan};

/// What the API server serves: built-in kinds of one Kubernetes version plus the custom kinds of
/// the cluster description. CRDs of the rendered source are *not* served (they are not installed
/// yet when Argo CD builds its tasks); they only excuse their kinds ([`Discovery::check_kind`]).
#[derive(Debug, Clone)]
pub struct Discovery {
    version: KubeVersion,
    custom: Vec<CustomKind>,
    /// CRDs among the objects being synced.
    render_crds: Vec<CustomKind>,
}

/// How a kind is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// A built-in kind; `typed` when syncsim decodes it strictly.
    BuiltIn { namespaced: bool, typed: bool },
    /// A custom kind of the cluster description.
    Custom { scope: Scope },
}

/// Argo CD's verdict on a task's kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KindCheck {
    /// Served: the task runs normally.
    Served { namespaced: bool },
    /// Not served, but a CRD for it is in the same sync or the object (or the app) says
    /// `SkipDryRunOnMissingResource=true`: valid, and left out of the dry run (§2.7 B).
    /// `namespaced` comes from the CRD in the sync, else from the object.
    SkipDryRun { namespaced: bool },
    /// Invalid (§2.1.6): the task is `SyncFailed` with [`Rejection::task_message`] and the
    /// operation fails with [`rejection::invalid_tasks_message`] of the [`Rejection::message`]s.
    Invalid(Rejection),
}

impl Discovery {
    /// Discovery for `cluster`, with the CRDs found among `objects` (the rendered source).
    pub fn new(cluster: &ClusterDescription, objects: &[Object]) -> Self {
        Self {
            version: cluster.kubernetes_version,
            custom: cluster.custom_kinds.clone(),
            render_crds: objects.iter().filter_map(CustomKind::from_crd).collect(),
        }
    }

    pub fn version(&self) -> KubeVersion {
        self.version
    }

    fn builtin_served(&self, since: u32, until: u32) -> bool {
        (since..=until).contains(&self.version.minor)
    }

    /// Whether the server serves `group/version` `kind`.
    pub fn lookup(&self, group: &str, version: &str, kind: &str) -> Option<Served> {
        if let Some(b) = BUILTINS.iter().find(|b| {
            b.group == group
                && b.version == version
                && b.kind == kind
                && self.builtin_served(b.since, b.until)
        }) {
            return Some(Served::BuiltIn {
                namespaced: b.namespaced,
                typed: true,
            });
        }
        if let Some(u) = UNTYPED.iter().find(|u| {
            u.group == group
                && u.version == version
                && u.kind == kind
                && self.builtin_served(u.since, u.until)
        }) {
            return Some(Served::BuiltIn {
                namespaced: u.namespaced,
                typed: false,
            });
        }
        self.custom
            .iter()
            .find(|c| {
                c.group == group
                    && c.kind == kind
                    && (c.versions.is_empty() || c.versions.iter().any(|v| v == version))
            })
            .map(|c| Served::Custom { scope: c.scope })
    }

    /// Whether any kind at all is served in `group/version` (else discovery of the group version
    /// itself fails with a 404).
    fn group_version_served(&self, group: &str, version: &str) -> bool {
        BUILTINS.iter().any(|b| {
            b.group == group && b.version == version && self.builtin_served(b.since, b.until)
        }) || UNTYPED.iter().any(|u| {
            u.group == group && u.version == version && self.builtin_served(u.since, u.until)
        }) || self.custom.iter().any(|c| {
            c.group == group && (c.versions.is_empty() || c.versions.iter().any(|v| v == version))
        })
    }

    /// A version at which `group`/`kind` is served, for Argo CD's "installed" message.
    fn served_version(&self, group: &str, kind: &str) -> Option<String> {
        BUILTINS
            .iter()
            .find(|b| b.group == group && b.kind == kind && self.builtin_served(b.since, b.until))
            .map(|b| b.version.to_string())
            .or_else(|| {
                self.custom
                    .iter()
                    .find(|c| c.group == group && c.kind == kind)
                    .and_then(|c| c.versions.first().cloned())
            })
    }

    /// Argo CD's check of a task's kind (gitops-engine `getSyncTasks`, §2.1.6). `dest_namespace`
    /// is the namespace Argo CD gives targets without one (it appears in the task message).
    pub fn check_kind(&self, obj: &Object, dest_namespace: &str) -> KindCheck {
        let (group, version, kind) = (obj.group(), obj.version(), obj.kind());
        let own_namespaced = !obj.namespace().is_empty();
        match self.lookup(group, version, kind) {
            Some(Served::BuiltIn { namespaced, .. }) => return KindCheck::Served { namespaced },
            Some(Served::Custom { scope }) => {
                return KindCheck::Served {
                    namespaced: match scope {
                        Scope::Namespaced => true,
                        Scope::Cluster => false,
                        Scope::Unknown => own_namespaced,
                    },
                }
            }
            None => {}
        }
        let crd_in_sync = self
            .render_crds
            .iter()
            .find(|c| c.group == group && c.kind == kind);
        if let Some(crd) = crd_in_sync {
            return KindCheck::SkipDryRun {
                namespaced: crd.scope != Scope::Cluster,
            };
        }
        if plan::sync_options(obj).skip_dry_run_on_missing_resource {
            return KindCheck::SkipDryRun {
                namespaced: own_namespaced,
            };
        }
        let namespace = if obj.namespace().is_empty() {
            dest_namespace
        } else {
            obj.namespace()
        };
        let gv = if group.is_empty() {
            version.to_string()
        } else {
            format!("{group}/{version}")
        };
        let (message, task_message) = if self.group_version_served(group, version) {
            // gitops-engine kube.go: NewNotFound(GroupResource{Group, Resource: Kind}, "").
            let m = rejection::not_found(group, kind, "");
            (m.clone(), m)
        } else {
            let m = rejection::group_version_not_served(&gv);
            let t = match self.served_version(group, kind) {
                Some(served) => rejection::augmented_other_version(
                    version,
                    group,
                    kind,
                    namespace,
                    obj.name(),
                    &served,
                ),
                None => rejection::augmented_missing_kind(group, kind, namespace, obj.name()),
            };
            (m, t)
        };
        let hint = format!(
            "the cluster has no {kind} in {gv} (Kubernetes {}): declare it in syncsim.yaml \
             `cluster.crds` (a CRD file, or `{}/{kind}`), or set `argocd.argoproj.io/sync-options: \
             SkipDryRunOnMissingResource=true` on the object",
            self.version,
            if group.is_empty() { "<group>" } else { group }
        );
        KindCheck::Invalid(Rejection {
            reason: Reason::UnknownKind,
            stage: Stage::Tasks,
            message,
            task_message,
            hint: Some(hint),
        })
    }

    /// Whether the object's kind has a k8s-openapi type syncsim decodes strictly.
    pub fn is_typed(&self, obj: &Object) -> bool {
        matches!(
            self.lookup(obj.group(), obj.version(), obj.kind()),
            Some(Served::BuiltIn { typed: true, .. })
        )
    }
}
