//! The built-in kinds a kube-apiserver serves by default, with their k8s-openapi type.
//!
//! Listed are the kinds of the k8s-openapi `v1_33` feature whose API version is GA (alpha and
//! beta APIs introduced after 1.24 are off by default), minus the virtual kinds that cannot be
//! applied (`Status`, `APIGroup`, subresources such as `Scale`, `Eviction`, `TokenRequest`).
//! `since`/`until` bound the minor versions that serve a kind where that changed between 1.29
//! and 1.33: `admissionregistration.k8s.io/v1` ValidatingAdmissionPolicy went GA in 1.30,
//! `networking.k8s.io/v1` IPAddress and ServiceCIDR in 1.33, and
//! `flowcontrol.apiserver.k8s.io/v1beta3` (on by default, as a beta that predates 1.24) was
//! removed in 1.32.
use super::decode::{decode_typed, Decoded};
use k8s_openapi::api;
use serde_json::Value;

/// One served built-in kind.
pub struct BuiltIn {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    /// First minor version serving it.
    pub since: u32,
    /// Last minor version serving it.
    pub until: u32,
    /// Decodes an object of this kind strictly (k8s-openapi type).
    pub decode: fn(&Value, bool) -> Decoded,
}

macro_rules! builtins {
    ($( $group:literal $version:literal $kind:literal $ns:literal $since:literal $until:literal => $ty:ty ;)*) => {
        /// Every built-in kind syncsim knows.
        pub static BUILTINS: &[BuiltIn] = &[
            $( BuiltIn {
                group: $group,
                version: $version,
                kind: $kind,
                namespaced: $ns,
                since: $since,
                until: $until,
                decode: |v, strict| decode_typed::<$ty>(v, strict),
            }, )*
        ];
    };
}

builtins! {
    "admissionregistration.k8s.io" "v1" "MutatingWebhookConfiguration" false 0 99 => api::admissionregistration::v1::MutatingWebhookConfiguration;
    "admissionregistration.k8s.io" "v1" "ValidatingAdmissionPolicy" false 30 99 => api::admissionregistration::v1::ValidatingAdmissionPolicy;
    "admissionregistration.k8s.io" "v1" "ValidatingAdmissionPolicyBinding" false 30 99 => api::admissionregistration::v1::ValidatingAdmissionPolicyBinding;
    "admissionregistration.k8s.io" "v1" "ValidatingWebhookConfiguration" false 0 99 => api::admissionregistration::v1::ValidatingWebhookConfiguration;
    "apiextensions.k8s.io" "v1" "CustomResourceDefinition" false 0 99 => k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    "apiregistration.k8s.io" "v1" "APIService" false 0 99 => k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
    "apps" "v1" "ControllerRevision" true 0 99 => api::apps::v1::ControllerRevision;
    "apps" "v1" "DaemonSet" true 0 99 => api::apps::v1::DaemonSet;
    "apps" "v1" "Deployment" true 0 99 => api::apps::v1::Deployment;
    "apps" "v1" "ReplicaSet" true 0 99 => api::apps::v1::ReplicaSet;
    "apps" "v1" "StatefulSet" true 0 99 => api::apps::v1::StatefulSet;
    "authentication.k8s.io" "v1" "SelfSubjectReview" false 0 99 => api::authentication::v1::SelfSubjectReview;
    "authentication.k8s.io" "v1" "TokenReview" false 0 99 => api::authentication::v1::TokenReview;
    "authorization.k8s.io" "v1" "LocalSubjectAccessReview" true 0 99 => api::authorization::v1::LocalSubjectAccessReview;
    "authorization.k8s.io" "v1" "SelfSubjectAccessReview" false 0 99 => api::authorization::v1::SelfSubjectAccessReview;
    "authorization.k8s.io" "v1" "SelfSubjectRulesReview" false 0 99 => api::authorization::v1::SelfSubjectRulesReview;
    "authorization.k8s.io" "v1" "SubjectAccessReview" false 0 99 => api::authorization::v1::SubjectAccessReview;
    "autoscaling" "v1" "HorizontalPodAutoscaler" true 0 99 => api::autoscaling::v1::HorizontalPodAutoscaler;
    "autoscaling" "v2" "HorizontalPodAutoscaler" true 0 99 => api::autoscaling::v2::HorizontalPodAutoscaler;
    "batch" "v1" "CronJob" true 0 99 => api::batch::v1::CronJob;
    "batch" "v1" "Job" true 0 99 => api::batch::v1::Job;
    "certificates.k8s.io" "v1" "CertificateSigningRequest" false 0 99 => api::certificates::v1::CertificateSigningRequest;
    "coordination.k8s.io" "v1" "Lease" true 0 99 => api::coordination::v1::Lease;
    "discovery.k8s.io" "v1" "EndpointSlice" true 0 99 => api::discovery::v1::EndpointSlice;
    "events.k8s.io" "v1" "Event" true 0 99 => api::events::v1::Event;
    "flowcontrol.apiserver.k8s.io" "v1" "FlowSchema" false 0 99 => api::flowcontrol::v1::FlowSchema;
    "flowcontrol.apiserver.k8s.io" "v1" "PriorityLevelConfiguration" false 0 99 => api::flowcontrol::v1::PriorityLevelConfiguration;
    "networking.k8s.io" "v1" "IPAddress" false 33 99 => api::networking::v1::IPAddress;
    "networking.k8s.io" "v1" "Ingress" true 0 99 => api::networking::v1::Ingress;
    "networking.k8s.io" "v1" "IngressClass" false 0 99 => api::networking::v1::IngressClass;
    "networking.k8s.io" "v1" "NetworkPolicy" true 0 99 => api::networking::v1::NetworkPolicy;
    "networking.k8s.io" "v1" "ServiceCIDR" false 33 99 => api::networking::v1::ServiceCIDR;
    "node.k8s.io" "v1" "RuntimeClass" false 0 99 => api::node::v1::RuntimeClass;
    "policy" "v1" "PodDisruptionBudget" true 0 99 => api::policy::v1::PodDisruptionBudget;
    "rbac.authorization.k8s.io" "v1" "ClusterRole" false 0 99 => api::rbac::v1::ClusterRole;
    "rbac.authorization.k8s.io" "v1" "ClusterRoleBinding" false 0 99 => api::rbac::v1::ClusterRoleBinding;
    "rbac.authorization.k8s.io" "v1" "Role" true 0 99 => api::rbac::v1::Role;
    "rbac.authorization.k8s.io" "v1" "RoleBinding" true 0 99 => api::rbac::v1::RoleBinding;
    "scheduling.k8s.io" "v1" "PriorityClass" false 0 99 => api::scheduling::v1::PriorityClass;
    "storage.k8s.io" "v1" "CSIDriver" false 0 99 => api::storage::v1::CSIDriver;
    "storage.k8s.io" "v1" "CSINode" false 0 99 => api::storage::v1::CSINode;
    "storage.k8s.io" "v1" "CSIStorageCapacity" true 0 99 => api::storage::v1::CSIStorageCapacity;
    "storage.k8s.io" "v1" "StorageClass" false 0 99 => api::storage::v1::StorageClass;
    "storage.k8s.io" "v1" "VolumeAttachment" false 0 99 => api::storage::v1::VolumeAttachment;
    "" "v1" "ComponentStatus" false 0 99 => api::core::v1::ComponentStatus;
    "" "v1" "ConfigMap" true 0 99 => api::core::v1::ConfigMap;
    "" "v1" "Endpoints" true 0 99 => api::core::v1::Endpoints;
    "" "v1" "Event" true 0 99 => api::core::v1::Event;
    "" "v1" "LimitRange" true 0 99 => api::core::v1::LimitRange;
    "" "v1" "Namespace" false 0 99 => api::core::v1::Namespace;
    "" "v1" "Node" false 0 99 => api::core::v1::Node;
    "" "v1" "PersistentVolume" false 0 99 => api::core::v1::PersistentVolume;
    "" "v1" "PersistentVolumeClaim" true 0 99 => api::core::v1::PersistentVolumeClaim;
    "" "v1" "Pod" true 0 99 => api::core::v1::Pod;
    "" "v1" "PodTemplate" true 0 99 => api::core::v1::PodTemplate;
    "" "v1" "ReplicationController" true 0 99 => api::core::v1::ReplicationController;
    "" "v1" "ResourceQuota" true 0 99 => api::core::v1::ResourceQuota;
    "" "v1" "Secret" true 0 99 => api::core::v1::Secret;
    "" "v1" "Service" true 0 99 => api::core::v1::Service;
    "" "v1" "ServiceAccount" true 0 99 => api::core::v1::ServiceAccount;
}

/// Kinds served by default without a k8s-openapi `v1_33` type (removed before 1.33): served,
/// but not decoded strictly.
pub struct Untyped {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub since: u32,
    pub until: u32,
}

pub static UNTYPED: &[Untyped] = &[
    Untyped {
        group: "flowcontrol.apiserver.k8s.io",
        version: "v1beta3",
        kind: "FlowSchema",
        namespaced: false,
        since: 0,
        until: 31,
    },
    Untyped {
        group: "flowcontrol.apiserver.k8s.io",
        version: "v1beta3",
        kind: "PriorityLevelConfiguration",
        namespaced: false,
        since: 0,
        until: 31,
    },
];
