//! The downward API: `fieldRef` and `resourceFieldRef` values of env vars and of
//! `downwardAPI` volume files.
use super::{
    error::{PodError, Result},
    volumes::{escapes_volume, VolumeFile},
    PodContext, PodSpec,
};
use crate::cluster::quantity::Quantity;
use crate::text::go_quote;
use k8s_openapi::api::core::v1 as k8s;
use std::collections::BTreeMap;

/// A `resourceFieldRef` syncsim cannot resolve: the field as shown in the error (the resource,
/// with a detail in parentheses when the container or divisor is at fault).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct UnsupportedResource(pub(super) String);

/// The downward API fields of `fieldRef`.
pub(super) fn field_ref(path: &str, spec: &PodSpec, ctx: &PodContext<'_>) -> Option<String> {
    let quoted = |prefix: &str| {
        let rest = path.strip_prefix(prefix)?.strip_suffix("']")?;
        Some(rest.to_string())
    };
    Some(match path {
        "metadata.name" => ctx.pod_name.clone(),
        "metadata.namespace" => ctx.namespace.clone(),
        "metadata.uid" => pod_uid(&ctx.namespace, &ctx.pod_name),
        "spec.nodeName" => spec
            .node_name
            .clone()
            .unwrap_or_else(|| ctx.node_name.clone()),
        "spec.serviceAccountName" => spec
            .service_account_name
            .clone()
            .or_else(|| spec.service_account.clone())
            .unwrap_or_else(|| "default".into()),
        // Not known before start: the pod name resolves to the pod (see the module docs).
        "status.podIP" | "status.podIPs" | "status.hostIP" | "status.hostIPs" => {
            ctx.pod_name.clone()
        }
        _ => {
            if let Some(k) = quoted("metadata.labels['") {
                ctx.pod_labels.get(&k).cloned().unwrap_or_default()
            } else if let Some(k) = quoted("metadata.annotations['") {
                ctx.pod_annotations.get(&k).cloned().unwrap_or_default()
            } else {
                return None;
            }
        }
    })
}

/// The files of a `downwardAPI` volume (or projected source) `volume`: each item's field, as
/// the kubelet writes it (pkg/volume/downwardapi/downwardapi.go, `CollectData`): the whole
/// `metadata.labels` or `metadata.annotations` as sorted `key="value"` lines
/// (pkg/fieldpath/fieldpath.go, `FormatMap`), other fields as their value.
pub(super) fn volume_files(
    items: &[k8s::DownwardAPIVolumeFile],
    default_mode: u32,
    volume: &str,
    spec: &PodSpec,
    ctx: &PodContext<'_>,
) -> Result<Vec<VolumeFile>> {
    let unsupported = |field: String| PodError::UnsupportedDownwardField {
        pod: ctx.pod_name.clone(),
        volume: volume.to_string(),
        field,
    };
    let mut files = Vec::new();
    for item in items {
        if escapes_volume(&item.path) {
            return Err(PodError::UnsafePath {
                pod: ctx.pod_name.clone(),
                volume: volume.to_string(),
                what: "item path",
                path: item.path.clone(),
            });
        }
        let content = if let Some(f) = &item.field_ref {
            match f.field_path.as_str() {
                "metadata.labels" => format_map(&ctx.pod_labels),
                "metadata.annotations" => format_map(&ctx.pod_annotations),
                path if path.starts_with("metadata.") => {
                    field_ref(path, spec, ctx).ok_or_else(|| unsupported(path.to_string()))?
                }
                path => return Err(unsupported(path.to_string())),
            }
        } else if let Some(r) = &item.resource_field_ref {
            let own = spec
                .containers
                .first()
                .ok_or_else(|| unsupported(r.resource.clone()))?;
            resource_field_ref(r, own, spec, ctx)
                .map_err(|UnsupportedResource(f)| unsupported(f))?
        } else {
            return Err(unsupported(format!(
                "{} (no fieldRef or resourceFieldRef)",
                item.path
            )));
        };
        files.push(VolumeFile {
            rel_path: item.path.clone(),
            content: content.into_bytes(),
            mode: item
                .mode
                .and_then(|m| u32::try_from(m).ok())
                .map_or(default_mode, |m| m & 0o777),
        });
    }
    Ok(files)
}

/// `FormatMap`: `key="value"` lines in key order, the value quoted as Go's `%q` quotes it.
fn format_map(m: &BTreeMap<String, String>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={}", go_quote(v)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A stable, UUID-shaped identifier for the pod (Kubernetes assigns a random one).
fn pod_uid(namespace: &str, name: &str) -> String {
    use sha2::Digest;
    let h = sha2::Sha256::digest(format!("{namespace}/{name}").as_bytes());
    let hex: String = h.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// `resourceFieldRef`: `limits.cpu|memory|ephemeral-storage`, `requests.*`, divided by
/// `divisor` (default 1) and rounded up. A missing limit reads as the node's allocatable; a
/// missing request as the limit (Kubernetes' defaulting), then 0. Errors carry the field name.
pub(super) fn resource_field_ref(
    r: &k8s::ResourceFieldSelector,
    own: &k8s::Container,
    spec: &PodSpec,
    ctx: &PodContext<'_>,
) -> Result<String, UnsupportedResource> {
    let c = match r.container_name.as_deref().filter(|n| !n.is_empty()) {
        None => own,
        Some(name) => spec
            .containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
            .find(|c| c.name == name)
            .ok_or_else(|| {
                UnsupportedResource(format!("{} (no container `{name}`)", r.resource))
            })?,
    };
    let (section, resource) = r
        .resource
        .split_once('.')
        .ok_or_else(|| UnsupportedResource(r.resource.clone()))?;
    let res = c.resources.as_ref();
    let get = |s: &str| {
        res.and_then(|res| {
            if s == "limits" {
                res.limits.as_ref()
            } else {
                res.requests.as_ref()
            }
        })
        .and_then(|m| m.get(resource))
    };
    let parse = |q: &k8s_openapi::apimachinery::pkg::api::resource::Quantity| {
        Quantity::parse(&q.0)
            .ok()
            .and_then(|q| q.milli_value())
            .ok_or_else(|| UnsupportedResource(r.resource.clone()))
    };
    let node = match resource {
        "cpu" => ctx.node_cpu_millis,
        "memory" => ctx.node_memory_bytes.saturating_mul(1000),
        "ephemeral-storage" => 0,
        _ => return Err(UnsupportedResource(r.resource.clone())),
    };
    let millis = match section {
        "limits" => get("limits").map(parse).transpose()?.unwrap_or(node),
        "requests" => match get("requests").or_else(|| get("limits")) {
            Some(q) => parse(q)?,
            None => 0,
        },
        _ => return Err(UnsupportedResource(r.resource.clone())),
    };
    let divisor = match &r.divisor {
        Some(d) => parse(d)?,
        None => 1000,
    };
    if divisor <= 0 {
        return Err(UnsupportedResource(format!("{} (divisor)", r.resource)));
    }
    Ok(((millis + divisor - 1).div_euclid(divisor)).to_string())
}
#[cfg(test)]
mod tests {
    use super::super::test_support::*;

    /// pkg/volume/downwardapi/downwardapi.go `CollectData` with pkg/fieldpath/fieldpath.go
    /// `FormatMap` (sorted `key="value"` lines, Go-quoted values), in a `downwardAPI` volume
    /// and a projected one.
    #[test]
    fn downward_api_volume_files_hold_the_pods_fields() {
        let items = "[{path: name, fieldRef: {fieldPath: metadata.name}}, \
                      {path: labels, fieldRef: {fieldPath: metadata.labels}}, \
                      {path: team, fieldRef: {fieldPath: \"metadata.annotations['team']\"}, mode: 0o400}, \
                      {path: limits/mem, resourceFieldRef: {containerName: a, resource: limits.memory, divisor: 1Mi}}]";
        for volume in [
            format!("{{name: info, downwardAPI: {{items: {items}}}}}"),
            format!(
                "{{name: info, projected: {{sources: [{{downwardAPI: {{items: {items}}}}}]}}}}"
            ),
        ] {
            let p = plan(&format!(
                "volumes: [{volume}]\ncontainers: [{{name: a, image: 'x:1', \
                 resources: {{limits: {{memory: 64Mi}}}}, volumeMounts: [{{name: info, mountPath: /etc/podinfo}}]}}]"
            ))
            .unwrap();
            let files: Vec<(&str, String, u32)> = p.containers[0]
                .spec
                .files
                .iter()
                .map(|f| {
                    (
                        f.path.as_str(),
                        String::from_utf8_lossy(&f.content).into_owned(),
                        f.mode,
                    )
                })
                .collect();
            assert_eq!(
                files,
                [
                    ("/etc/podinfo/name", "web-0".to_string(), 0o644),
                    ("/etc/podinfo/labels", "app=\"web\"".to_string(), 0o644),
                    ("/etc/podinfo/team", "core".to_string(), 0o400),
                    ("/etc/podinfo/limits/mem", "64".to_string(), 0o644),
                ],
                "{volume}"
            );
        }
        let err = plan(
            "volumes: [{name: info, downwardAPI: {items: [{path: ip, fieldRef: {fieldPath: status.podIP}}]}}]\n\
             containers: [{name: a, image: 'x:1', volumeMounts: [{name: info, mountPath: /i}]}]",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("downward API field `status.podIP`"),
            "{err}"
        );
    }

    #[test]
    fn go_quote_escapes_as_strconv_quote() {
        assert_eq!(
            crate::text::go_quote("a\"b\\c\nd\u{1}é"),
            "\"a\\\"b\\\\c\\nd\\x01é\""
        );
    }

    #[test]
    fn field_refs_resolve_from_the_pod() {
        let p = plan(
            "serviceAccountName: web-sa\ncontainers:\n- name: app\n  image: x:1\n  env:\n  \
             - {name: NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}\n  \
             - {name: NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}\n  \
             - {name: APP, valueFrom: {fieldRef: {fieldPath: \"metadata.labels['app']\"}}}\n  \
             - {name: TEAM, valueFrom: {fieldRef: {fieldPath: \"metadata.annotations['team']\"}}}\n  \
             - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}\n  \
             - {name: SA, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}\n  \
             - {name: IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}\n  \
             - {name: UID, valueFrom: {fieldRef: {fieldPath: metadata.uid}}}",
        )
        .unwrap();
        let c = &p.containers[0];
        let got: Vec<_> = ["NAME", "NS", "APP", "TEAM", "NODE", "SA", "IP"]
            .iter()
            .map(|n| env_of(c, n).unwrap())
            .collect();
        assert_eq!(
            got,
            ["web-0", "shop", "web", "core", "syncsim", "web-sa", "web-0"]
        );
        assert_eq!(env_of(c, "UID").unwrap().len(), 36);
    }

    #[test]
    fn unsupported_field_ref_is_an_error() {
        let err = plan(
            "containers:\n- name: app\n  image: x:1\n  env: [{name: X, valueFrom: {fieldRef: {fieldPath: status.phase}}}]",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "pod `web-0` container `app`: env var `X` uses unsupported field `status.phase`"
        );
    }

    #[test]
    fn resource_field_refs_divide_and_round_up() {
        let p = plan(
            "containers:\n- name: app\n  image: x:1\n  resources: {limits: {memory: 512Mi, cpu: 1500m}, requests: {cpu: 250m}}\n  env:\n  \
             - {name: MEM_MB, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}\n  \
             - {name: CPUS, valueFrom: {resourceFieldRef: {resource: limits.cpu}}}\n  \
             - {name: REQ_M, valueFrom: {resourceFieldRef: {resource: requests.cpu, divisor: 1m}}}\n  \
             - {name: REQ_MEM, valueFrom: {resourceFieldRef: {resource: requests.memory}}}",
        )
        .unwrap();
        let c = &p.containers[0];
        assert_eq!(env_of(c, "MEM_MB"), Some("512"));
        assert_eq!(env_of(c, "CPUS"), Some("2"));
        assert_eq!(env_of(c, "REQ_M"), Some("250"));
        assert_eq!(
            env_of(c, "REQ_MEM"),
            Some("536870912"),
            "request defaults to the limit"
        );
    }
}
