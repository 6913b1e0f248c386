//! Namespace existence: the NamespaceLifecycle admission plugin refuses an object whose namespace
//! does not exist (apiserver/pkg/admission/plugin/namespace/lifecycle/admission.go returns
//! `errors.NewNotFound(v1.Resource("namespaces"), namespace)`, i.e. `namespaces "x" not found`).
use super::{
    cluster::ClusterDescription,
    rejection::{self, Reason, Rejection, Stage},
};
use crate::manifest::Object;
use std::collections::BTreeSet;

/// The namespaces a sync can put objects in.
#[derive(Debug, Clone)]
pub struct Namespaces {
    existing: BTreeSet<String>,
    created: BTreeSet<String>,
}

impl Namespaces {
    /// Namespaces of the cluster description (and the default ones), plus those the sync
    /// creates: `Namespace` objects among `objects`, and `dest_namespace` when the application
    /// has `CreateNamespace=true` (Argo CD creates it first, as a PreSync task, §2.1.4).
    pub fn new(
        cluster: &ClusterDescription,
        objects: &[Object],
        dest_namespace: &str,
        create_namespace: bool,
    ) -> Self {
        let mut existing: BTreeSet<String> = super::cluster::DEFAULT_NAMESPACES
            .iter()
            .map(|s| s.to_string())
            .collect();
        existing.extend(cluster.namespaces.iter().cloned());
        let mut created: BTreeSet<String> = objects
            .iter()
            .filter(|o| o.group().is_empty() && o.kind() == "Namespace")
            .map(|o| o.name().to_string())
            .collect();
        if create_namespace && !dest_namespace.is_empty() {
            created.insert(dest_namespace.to_string());
        }
        Self { existing, created }
    }

    /// Whether `ns` exists before the sync or is created by it.
    pub fn known(&self, ns: &str) -> bool {
        self.existing.contains(ns) || self.created.contains(ns)
    }

    /// Whether `ns` exists before the sync.
    pub fn exists_before(&self, ns: &str) -> bool {
        self.existing.contains(ns)
    }

    /// Checks a namespaced object (`namespaced` from discovery); an object without a namespace
    /// goes to `dest_namespace`. Cluster-scoped objects always pass.
    pub fn check(
        &self,
        obj: &Object,
        namespaced: bool,
        dest_namespace: &str,
    ) -> Result<(), Rejection> {
        if !namespaced {
            return Ok(());
        }
        let ns = if obj.namespace().is_empty() {
            dest_namespace
        } else {
            obj.namespace()
        };
        if self.known(ns) {
            return Ok(());
        }
        Err(Rejection::new(
            Reason::NamespaceNotFound,
            Stage::Apply,
            rejection::not_found("", "namespaces", ns),
        )
        .with_hint(format!(
            "nothing creates namespace `{ns}`: add a Namespace object to the source, list it in \
             syncsim.yaml `cluster.namespaces` if the cluster already has it, or sync with \
             CreateNamespace=true and destination namespace `{ns}`"
        )))
    }
}
