//! Reading a workload's pod template and turning it into what the kubelet runs.
use crate::{
    cluster::{error::Error, kubelet::PodInput},
    manifest::ObjectKey,
};
use k8s_openapi::api::core::v1::PodSpec;
use serde_json::Value;
use std::collections::BTreeMap;

/// The pod spec of a workload object (its template's, or a Pod's own).
pub(crate) fn pod_template(obj: &Value) -> Result<PodSpec, Error> {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let spec = if kind == "Pod" {
        obj.get("spec")
    } else {
        obj.pointer("/spec/template/spec")
    };
    let spec = spec.ok_or(Error::NoPodTemplate)?;
    serde_json::from_value(spec.clone()).map_err(Error::InvalidPodSpec)
}

fn template_meta(obj: &Value, field: &str) -> BTreeMap<String, String> {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let meta = if kind == "Pod" {
        obj.get("metadata")
    } else {
        obj.pointer("/spec/template/metadata")
    };
    meta.and_then(|m| m.get(field))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The labels of a workload's pods.
pub(super) fn template_labels(obj: &Value) -> BTreeMap<String, String> {
    template_meta(obj, "labels")
}

pub(super) fn int_at(obj: &Value, ptr: &str) -> Option<i64> {
    obj.pointer(ptr).and_then(Value::as_i64)
}

/// What the kubelet runs for pod `pod_name` of the workload `obj`.
pub(super) fn pod_input(
    key: &ObjectKey,
    obj: &Value,
    spec: &PodSpec,
    pod_name: String,
    claims: BTreeMap<String, String>,
) -> PodInput {
    let mut spec = spec.clone();
    // A StatefulSet pod mounts its volumeClaimTemplates as claims named `<template>-<pod>`.
    let templates = obj
        .pointer("/spec/volumeClaimTemplates")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for t in templates {
        let Some(tmpl) = t.pointer("/metadata/name").and_then(Value::as_str) else {
            continue;
        };
        let volumes = spec.volumes.get_or_insert_with(Vec::new);
        if !volumes.iter().any(|v| v.name == tmpl) {
            volumes.push(k8s_openapi::api::core::v1::Volume {
                name: tmpl.to_string(),
                persistent_volume_claim: Some(
                    k8s_openapi::api::core::v1::PersistentVolumeClaimVolumeSource {
                        claim_name: format!("{tmpl}-{pod_name}"),
                        read_only: None,
                    },
                ),
                ..Default::default()
            });
        }
    }
    PodInput {
        owner: key.clone(),
        pod_name,
        namespace: key.namespace.clone(),
        labels: template_meta(obj, "labels"),
        annotations: template_meta(obj, "annotations"),
        spec,
        claim_volumes: claims,
    }
}
