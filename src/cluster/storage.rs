//! Storage classes and PersistentVolumeClaim binding (pure).
//!
//! A claim names its class (`spec.storageClassName`) or gets the cluster's default class when
//! it names none, as the `DefaultStorageClass` admission plugin does. The class's
//! `volumeBindingMode` decides when the claim binds:
//!
//! - `Immediate`: at once (phase `Bound`, health Healthy).
//! - `WaitForFirstConsumer`: once the first pod that mounts it is scheduled (here: created by a
//!   controller); until then the claim is `Pending`, which Argo CD reads as Progressing (§5).
//!   A claim in an earlier sync wave than its consumer therefore never becomes healthy and the
//!   sync waits forever (§8.25), as on kind, k3d, GKE, EKS and AKS whose default class binds
//!   this way.
//!
//! A claim whose class does not exist, or that asks for no class (`storageClassName: ""`) in
//! a cluster without pre-provisioned volumes, stays `Pending` for good.
use serde_json::{json, Value};

/// When a class binds its claims (`StorageClass.volumeBindingMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VolumeBindingMode {
    Immediate,
    /// Kubernetes' default for local and cloud provisioners alike.
    #[default]
    WaitForFirstConsumer,
}

/// A StorageClass of the simulated cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageClass {
    pub name: String,
    /// Marked `storageclass.kubernetes.io/is-default-class: "true"`.
    pub default: bool,
    pub volume_binding_mode: VolumeBindingMode,
}

impl StorageClass {
    /// The classes of a kind/k3d/managed cluster: `standard`, the default, binding on first
    /// consumer.
    pub fn defaults() -> Vec<StorageClass> {
        vec![StorageClass {
            name: "standard".into(),
            default: true,
            volume_binding_mode: VolumeBindingMode::WaitForFirstConsumer,
        }]
    }
}

/// A class of the cluster description (`cluster.storageClasses` in `syncsim.yaml`). Wiring:
/// `ClusterOptions { storage_classes: description.storage_classes.iter().map(Into::into)
/// .collect(), .. }` where the options are built.
impl From<&crate::apiserver::cluster::StorageClass> for StorageClass {
    fn from(c: &crate::apiserver::cluster::StorageClass) -> Self {
        use crate::apiserver::cluster::BindingMode;
        StorageClass {
            name: c.name.clone(),
            default: c.default,
            volume_binding_mode: match c.volume_binding_mode {
                BindingMode::Immediate => VolumeBindingMode::Immediate,
                BindingMode::WaitForFirstConsumer => VolumeBindingMode::WaitForFirstConsumer,
            },
        }
    }
}

/// Where a claim stands. The reasons are the persistent volume controller's `FailedBinding` and
/// `ProvisioningFailed` event texts (kubernetes `pkg/controller/volume/persistentvolume/
/// pv_controller.go`; the missing class is the API server's NotFound error for
/// `storageclass.storage.k8s.io`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Binding {
    Bound,
    /// Bound once a pod using the claim is created.
    WaitingForConsumer,
    /// Never bound: why (the class is missing, or none applies).
    Unbindable(String),
}

/// How a claim applied now binds, in a cluster with `classes`.
pub(crate) fn binding_at_apply(classes: &[StorageClass], claim: &Value) -> Binding {
    let named = claim
        .pointer("/spec/storageClassName")
        .and_then(Value::as_str);
    let class = match named {
        Some("") => {
            return Binding::Unbindable(
                "no persistent volumes available for this claim and no storage class is set".into(),
            )
        }
        Some(name) => match classes.iter().find(|c| c.name == name) {
            Some(c) => c,
            None => {
                return Binding::Unbindable(format!(
                    "storageclass.storage.k8s.io \"{name}\" not found"
                ))
            }
        },
        None => {
            match classes.iter().find(|c| c.default) {
                Some(c) => c,
                None => return Binding::Unbindable(
                    "no persistent volumes available for this claim and no storage class is set"
                        .into(),
                ),
            }
        }
    };
    match class.volume_binding_mode {
        VolumeBindingMode::Immediate => Binding::Bound,
        VolumeBindingMode::WaitForFirstConsumer => Binding::WaitingForConsumer,
    }
}

/// The claim's `status` for a binding.
pub(crate) fn status(binding: &Binding) -> Value {
    match binding {
        Binding::Bound => json!({"phase": "Bound"}),
        Binding::WaitingForConsumer | Binding::Unbindable(_) => json!({"phase": "Pending"}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::{assess, HealthStatus};

    fn claim(class: Option<&str>) -> Value {
        let mut c = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}});
        if let Some(class) = class {
            c["spec"]["storageClassName"] = json!(class);
        }
        c
    }

    fn classes() -> Vec<StorageClass> {
        let mut c = StorageClass::defaults();
        c.push(StorageClass {
            name: "fast".into(),
            default: false,
            volume_binding_mode: VolumeBindingMode::Immediate,
        });
        c
    }

    fn health(claim: &Value, binding: &Binding) -> HealthStatus {
        let mut live = claim.clone();
        live["status"] = status(binding);
        assess(&live).unwrap().unwrap().status
    }

    #[test]
    fn the_default_class_waits_for_the_first_consumer_and_reads_as_progressing() {
        let c = claim(None);
        let b = binding_at_apply(&StorageClass::defaults(), &c);
        assert_eq!(b, Binding::WaitingForConsumer);
        assert_eq!(health(&c, &b), HealthStatus::Progressing);
        assert_eq!(
            binding_at_apply(&classes(), &claim(Some("standard"))),
            Binding::WaitingForConsumer
        );
    }

    #[test]
    fn an_immediate_class_binds_at_once_and_reads_as_healthy() {
        let c = claim(Some("fast"));
        let b = binding_at_apply(&classes(), &c);
        assert_eq!(b, Binding::Bound);
        assert_eq!(health(&c, &b), HealthStatus::Healthy);
        let immediate_default = vec![StorageClass {
            name: "local-path".into(),
            default: true,
            volume_binding_mode: VolumeBindingMode::Immediate,
        }];
        assert_eq!(
            binding_at_apply(&immediate_default, &claim(None)),
            Binding::Bound
        );
    }

    #[test]
    fn the_cluster_descriptions_default_is_the_same_class() {
        let described = crate::apiserver::cluster::ClusterDescription::default();
        let classes: Vec<StorageClass> = described.storage_classes.iter().map(Into::into).collect();
        assert_eq!(classes, StorageClass::defaults());
    }

    #[test]
    fn a_missing_class_or_no_class_never_binds() {
        assert_eq!(
            binding_at_apply(&classes(), &claim(Some("gold"))),
            Binding::Unbindable("storageclass.storage.k8s.io \"gold\" not found".into())
        );
        assert!(matches!(
            binding_at_apply(&classes(), &claim(Some(""))),
            Binding::Unbindable(_)
        ));
        assert!(matches!(
            binding_at_apply(&[], &claim(None)),
            Binding::Unbindable(_)
        ));
        assert_eq!(
            status(&Binding::Unbindable("x".into())),
            json!({"phase": "Pending"})
        );
    }
}
