//! The pod's volumes: emptyDir and PVCs as Docker volumes, ConfigMap, Secret, downward API and
//! projected volumes as files written into the containers before start.
use super::{
    config::{config_data, ConfigKind},
    error::{PodError, Result},
    PodContext, PodSpec, PodVolume, PodVolumeSource,
};
use k8s_openapi::api::core::v1 as k8s;
use std::collections::BTreeMap;

/// Whether a path inside a volume is unsafe: a path must be relative and may not climb out of
/// the volume.
pub(super) fn escapes_volume(path: &str) -> bool {
    path.is_empty()
        || path.starts_with('/')
        || path.starts_with("..")
        || path.split('/').any(|seg| seg == "..")
}

/// A file of a ConfigMap/Secret volume, relative to the volume root.
#[derive(Clone)]
pub(super) struct VolumeFile {
    pub(super) rel_path: String,
    pub(super) content: Vec<u8>,
    pub(super) mode: u32,
}

/// A pod volume as containers mount it.
pub(super) enum ResolvedVolume {
    Docker {
        docker_name: String,
        read_only: bool,
        /// An emptyDir (it starts empty and world-writable), else a claim.
        empty_dir: bool,
    },
    Files(Vec<VolumeFile>),
}

/// Every volume of the pod by name, and the Docker volumes among them.
pub(super) struct PodVolumes {
    pub(super) by_name: BTreeMap<String, ResolvedVolume>,
    pub(super) docker: Vec<PodVolume>,
}

const DEFAULT_MODE: u32 = 0o644;

impl PodVolumes {
    pub(super) fn resolve(
        spec: &PodSpec,
        ctx: &PodContext<'_>,
        warnings: &mut Vec<String>,
    ) -> Result<Self> {
        let mut by_name = BTreeMap::new();
        let mut docker = Vec::new();
        // Which container first mounts each volume, to name it in "missing object" errors.
        let user = |volume: &str| {
            spec.init_containers
                .iter()
                .flatten()
                .chain(&spec.containers)
                .find(|c| c.volume_mounts.iter().flatten().any(|m| m.name == volume))
                .map(|c| c.name.clone())
                .unwrap_or_else(|| "(none)".into())
        };
        for v in spec.volumes.iter().flatten() {
            let resolved = if v.empty_dir.is_some() {
                if v.empty_dir.as_ref().and_then(|e| e.medium.as_deref()) == Some("Memory") {
                    warnings.push(format!(
                        "emptyDir volume `{}` with medium Memory is a Docker volume, not tmpfs",
                        v.name
                    ));
                }
                let docker_name = format!("{}{}", ctx.container_prefix, v.name);
                docker.push(PodVolume {
                    docker_name: docker_name.clone(),
                    volume: v.name.clone(),
                    source: PodVolumeSource::EmptyDir,
                });
                ResolvedVolume::Docker {
                    docker_name,
                    read_only: false,
                    empty_dir: true,
                }
            } else if let Some(pvc) = &v.persistent_volume_claim {
                let docker_name =
                    (ctx.claim_volume)(&pvc.claim_name).ok_or_else(|| PodError::MissingClaim {
                        pod: ctx.pod_name.clone(),
                        volume: v.name.clone(),
                        claim: pvc.claim_name.clone(),
                    })?;
                docker.push(PodVolume {
                    docker_name: docker_name.clone(),
                    volume: v.name.clone(),
                    source: PodVolumeSource::Claim {
                        claim: pvc.claim_name.clone(),
                    },
                });
                ResolvedVolume::Docker {
                    docker_name,
                    read_only: pvc.read_only.unwrap_or(false),
                    empty_dir: false,
                }
            } else if let Some(cm) = &v.config_map {
                let src = Projection {
                    kind: ConfigKind::ConfigMap,
                    name: &cm.name,
                    items: cm.items.as_deref(),
                    optional: cm.optional.unwrap_or(false),
                };
                ResolvedVolume::Files(src.files(&v.name, mode(cm.default_mode), ctx, &user)?)
            } else if let Some(s) = &v.secret {
                let name = s.secret_name.as_deref().unwrap_or_default();
                let src = Projection {
                    kind: ConfigKind::Secret,
                    name,
                    items: s.items.as_deref(),
                    optional: s.optional.unwrap_or(false),
                };
                ResolvedVolume::Files(src.files(&v.name, mode(s.default_mode), ctx, &user)?)
            } else if let Some(d) = &v.downward_api {
                ResolvedVolume::Files(super::downward::volume_files(
                    d.items.as_deref().unwrap_or_default(),
                    mode(d.default_mode),
                    &v.name,
                    spec,
                    ctx,
                )?)
            } else if let Some(p) = &v.projected {
                let default_mode = mode(p.default_mode);
                let mut files = Vec::new();
                for source in p.sources.iter().flatten() {
                    if let Some(d) = &source.downward_api {
                        files.extend(super::downward::volume_files(
                            d.items.as_deref().unwrap_or_default(),
                            default_mode,
                            &v.name,
                            spec,
                            ctx,
                        )?);
                        continue;
                    }
                    let src = if let Some(cm) = &source.config_map {
                        Projection {
                            kind: ConfigKind::ConfigMap,
                            name: &cm.name,
                            items: cm.items.as_deref(),
                            optional: cm.optional.unwrap_or(false),
                        }
                    } else if let Some(s) = &source.secret {
                        Projection {
                            kind: ConfigKind::Secret,
                            name: &s.name,
                            items: s.items.as_deref(),
                            optional: s.optional.unwrap_or(false),
                        }
                    } else {
                        return Err(PodError::UnsupportedVolume {
                            pod: ctx.pod_name.clone(),
                            volume: v.name.clone(),
                            kind: format!(
                                "projected {}",
                                first_key(source).unwrap_or_else(|| "(empty source)".into())
                            ),
                        });
                    };
                    files.extend(src.files(&v.name, default_mode, ctx, &user)?);
                }
                ResolvedVolume::Files(files)
            } else {
                return Err(PodError::UnsupportedVolume {
                    pod: ctx.pod_name.clone(),
                    volume: v.name.clone(),
                    kind: first_key(v).unwrap_or_else(|| "(none)".into()),
                });
            };
            by_name.insert(v.name.clone(), resolved);
        }
        Ok(Self { by_name, docker })
    }
}

/// The first field other than `name` of a serialized volume (its type, e.g. `hostPath`).
fn first_key<T: serde::Serialize>(v: &T) -> Option<String> {
    let value = serde_json::to_value(v).ok()?;
    value.as_object()?.keys().find(|k| *k != "name").cloned()
}

fn mode(m: Option<i32>) -> u32 {
    m.and_then(|m| u32::try_from(m).ok())
        .map(|m| m & 0o777)
        .unwrap_or(DEFAULT_MODE)
}

/// A ConfigMap or Secret projected into a volume.
struct Projection<'s> {
    kind: ConfigKind,
    name: &'s str,
    items: Option<&'s [k8s::KeyToPath]>,
    optional: bool,
}

impl Projection<'_> {
    fn files(
        &self,
        volume: &str,
        default_mode: u32,
        ctx: &PodContext<'_>,
        user: &dyn Fn(&str) -> String,
    ) -> Result<Vec<VolumeFile>> {
        let pod = || ctx.pod_name.clone();
        let by = || format!("volume `{volume}`");
        let unsafe_path = |what, path: &str| PodError::UnsafePath {
            pod: pod(),
            volume: volume.to_string(),
            what,
            path: path.to_string(),
        };
        let Some(obj) = (ctx.lookup)(self.kind, self.name) else {
            if self.optional {
                return Ok(Vec::new());
            }
            return Err(PodError::MissingObject {
                pod: pod(),
                container: user(volume),
                by: by(),
                kind: self.kind,
                name: self.name.to_string(),
            });
        };
        let mut data = config_data(obj, self.kind, &ctx.pod_name)?;
        let mut files = Vec::new();
        match self.items {
            Some(items) if !items.is_empty() => {
                for item in items {
                    if escapes_volume(&item.path) {
                        return Err(unsafe_path("item path", &item.path));
                    }
                    let Some(content) = data.remove(&item.key) else {
                        if self.optional {
                            continue;
                        }
                        return Err(PodError::MissingKey {
                            pod: pod(),
                            container: user(volume),
                            by: by(),
                            kind: self.kind,
                            name: self.name.to_string(),
                            key: item.key.clone(),
                        });
                    };
                    files.push(VolumeFile {
                        rel_path: item.path.clone(),
                        content,
                        mode: item.mode.map_or(default_mode, |m| mode(Some(m))),
                    });
                }
            }
            _ => {
                for (key, content) in data {
                    // Keys become file names: one path segment, never `.`/`..`-prefixed.
                    if key.contains('/') || key == "." || key.starts_with("..") || key.is_empty() {
                        return Err(unsafe_path("key", &key));
                    }
                    files.push(VolumeFile {
                        rel_path: key,
                        content,
                        mode: default_mode,
                    });
                }
            }
        }
        Ok(files)
    }
}
#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::manifest::{Object, Origin};
    use crate::runtime::Mount;
    #[test]
    fn config_map_volume_writes_every_key_with_default_mode() {
        let p = plan(
            "volumes: [{name: cfg, configMap: {name: app-config, defaultMode: 0o600}}]\n\
             containers: [{name: a, image: 'x:1', volumeMounts: [{name: cfg, mountPath: /etc/app/}]}]",
        )
        .unwrap();
        let files: Vec<(&str, u32)> = p.containers[0]
            .spec
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.mode))
            .collect();
        assert_eq!(
            files,
            [
                ("/etc/app/GREETING", 0o600),
                ("/etc/app/LOG_LEVEL", 0o600),
                ("/etc/app/app.conf", 0o600),
                ("/etc/app/blob", 0o600)
            ]
        );
        let blob = p.containers[0]
            .spec
            .files
            .iter()
            .find(|f| f.path.ends_with("blob"))
            .unwrap();
        assert_eq!(blob.content, vec![0, 1, 2], "binaryData is base64");
    }

    #[test]
    fn items_map_keys_to_paths_with_per_item_mode() {
        let p = plan(
            "volumes: [{name: s, secret: {secretName: db, items: [{key: password, path: creds/pw, mode: 0o400}, {key: user, path: user.txt}]}}]\n\
             containers: [{name: a, image: 'x:1', volumeMounts: [{name: s, mountPath: /run/secrets, readOnly: true}]}]",
        )
        .unwrap();
        let f = &p.containers[0].spec.files;
        assert_eq!(f.len(), 2);
        assert_eq!(
            (f[0].path.as_str(), f[0].mode, f[0].content.as_slice()),
            ("/run/secrets/creds/pw", 0o400, PW.as_bytes())
        );
        assert_eq!(
            (f[1].path.as_str(), f[1].mode),
            ("/run/secrets/user.txt", 0o644)
        );
    }

    #[test]
    fn sub_path_mounts_a_single_key_at_the_mount_path() {
        let p = plan(
            "volumes: [{name: cfg, configMap: {name: app-config}}]\n\
             containers: [{name: a, image: 'x:1', volumeMounts: [{name: cfg, mountPath: /etc/nginx/app.conf, subPath: app.conf}]}]",
        )
        .unwrap();
        let f = &p.containers[0].spec.files;
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].path.as_str(), f[0].content.as_slice()),
            ("/etc/nginx/app.conf", b"port=80".as_slice())
        );
    }

    #[test]
    fn missing_item_key_is_an_error_unless_optional() {
        let yaml = |optional: bool| {
            format!(
                "volumes: [{{name: cfg, configMap: {{name: app-config, optional: {optional}, items: [{{key: nope, path: x}}]}}}}]\n\
                 containers: [{{name: a, image: 'x:1', volumeMounts: [{{name: cfg, mountPath: /c}}]}}]"
            )
        };
        assert!(matches!(
            plan(&yaml(false)).unwrap_err(),
            PodError::MissingKey { .. }
        ));
        assert!(plan(&yaml(true)).unwrap().containers[0]
            .spec
            .files
            .is_empty());
    }

    #[test]
    fn missing_config_map_volume_is_an_error_naming_the_container() {
        let err = plan(
            "volumes: [{name: cfg, configMap: {name: gone}}]\n\
             containers: [{name: a, image: 'x:1', volumeMounts: [{name: cfg, mountPath: /c}]}]",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "pod `web-0` container `a`: volume `cfg` refers to ConfigMap `gone`, which does not exist \
             (Kubernetes would block the pod with CreateContainerConfigError)"
        );
    }

    #[test]
    fn item_paths_and_sub_paths_may_not_escape_the_volume() {
        for (items, sub) in [
            ("[{key: GREETING, path: ../../etc/passwd}]", ""),
            ("[{key: GREETING, path: /etc/passwd}]", ""),
            ("[{key: GREETING, path: a/../../b}]", ""),
            ("[{key: GREETING, path: ..data}]", ""),
            ("[{key: GREETING, path: ok}]", ", subPath: ../../etc/shadow"),
            ("[{key: GREETING, path: ok}]", ", subPath: /abs"),
        ] {
            let yaml = format!(
                "volumes: [{{name: cfg, configMap: {{name: app-config, items: {items}}}}}]\n\
                 containers: [{{name: a, image: 'x:1', volumeMounts: [{{name: cfg, mountPath: /c{sub}}}]}}]"
            );
            let err = plan(&yaml).unwrap_err();
            assert!(
                matches!(err, PodError::UnsafePath { .. }),
                "{items}{sub}: {err}"
            );
        }
        let err = plan(
            "volumes: [{name: d, emptyDir: {}}]\n\
             containers: [{name: a, image: 'x:1', volumeMounts: [{name: d, mountPath: /d, subPath: ../up}]}]",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "pod `web-0`: subPath `../up` of volume `d` must be a relative path without `..`"
        );
    }

    #[test]
    fn keys_that_are_not_plain_file_names_are_rejected() {
        let origin = Origin {
            file: "t".into(),
            document: 0,
            line: None,
        };
        let evil = Object::new(
            serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "evil"}, "data": {"../x": "1"}}),
            origin,
        );
        let lookup = |_: ConfigKind, name: &str| (name == "evil").then_some(&evil);
        let claims = |_: &str| None;
        let ctx = PodContext::new("p", "ns", "net", &lookup, &claims);
        let spec: PodSpec = serde_yaml::from_str(
            "volumes: [{name: v, configMap: {name: evil}}]\ncontainers: [{name: a, image: 'x:1', volumeMounts: [{name: v, mountPath: /v}]}]",
        )
        .unwrap();
        assert!(matches!(
            pod_containers(&spec, &ctx).unwrap_err(),
            PodError::UnsafePath { what: "key", .. }
        ));
    }

    #[test]
    fn empty_dir_is_one_pod_scoped_volume_shared_by_containers() {
        let p = plan(
            "volumes: [{name: scratch, emptyDir: {}}]\ncontainers:\n\
             - {name: a, image: 'x:1', volumeMounts: [{name: scratch, mountPath: /work}]}\n\
             - {name: b, image: 'y:1', volumeMounts: [{name: scratch, mountPath: /in, readOnly: true}]}",
        )
        .unwrap();
        assert_eq!(
            p.volumes,
            [PodVolume {
                docker_name: "web-0-scratch".into(),
                volume: "scratch".into(),
                source: PodVolumeSource::EmptyDir
            }]
        );
        let m0 = &p.containers[0].spec.mounts[0];
        let m1 = &p.containers[1].spec.mounts[0];
        assert_eq!(
            (m0.volume.as_str(), m0.target.as_str(), m0.read_only),
            ("web-0-scratch", "/work", false)
        );
        assert_eq!(
            (m1.volume.as_str(), m1.target.as_str(), m1.read_only),
            ("web-0-scratch", "/in", true)
        );
    }

    #[test]
    fn pvc_maps_to_the_claims_docker_volume_and_honours_read_only() {
        let p = plan(
            "volumes: [{name: d, persistentVolumeClaim: {claimName: data, readOnly: true}}]\n\
             containers: [{name: a, image: 'x:1', volumeMounts: [{name: d, mountPath: /var/lib/db, subPath: pg}]}]",
        )
        .unwrap();
        assert_eq!(
            p.volumes[0].source,
            PodVolumeSource::Claim {
                claim: "data".into()
            }
        );
        assert_eq!(
            p.containers[0].spec.mounts,
            [Mount {
                volume: "syncsim-pvc-data".into(),
                target: "/var/lib/db".into(),
                read_only: true,
                sub_path: Some("pg".into()),
                ..Mount::default()
            }]
        );
    }

    #[test]
    fn missing_claim_is_an_error() {
        let err = plan(
            "volumes: [{name: d, persistentVolumeClaim: {claimName: other}}]\ncontainers: [{name: a, image: 'x:1'}]",
        )
        .unwrap_err();
        assert!(
            matches!(&err, PodError::MissingClaim { claim, .. } if claim == "other"),
            "{err}"
        );
    }

    #[test]
    fn unsupported_volume_types_are_errors_naming_the_type() {
        let err = plan("volumes: [{name: h, hostPath: {path: /var/run/docker.sock}}]\ncontainers: [{name: a, image: 'x:1'}]").unwrap_err();
        assert_eq!(
            err.to_string(),
            "pod `web-0`: volume `h` is of type `hostPath`, which syncsim does not support \
             (supported: configMap, secret, downwardAPI, emptyDir, persistentVolumeClaim, projected \
             configMap/secret/downwardAPI)"
        );
        let err = plan(
            "volumes: [{name: t, projected: {sources: [{serviceAccountToken: {path: token}}]}}]\ncontainers: [{name: a, image: 'x:1'}]",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("`projected serviceAccountToken`"),
            "{err}"
        );
    }

    #[test]
    fn projected_config_map_and_secret_sources_are_combined() {
        let p = plan(
            "volumes: [{name: all, projected: {defaultMode: 0o440, sources: [\
             {configMap: {name: app-config, items: [{key: app.conf, path: app.conf}]}},\
             {secret: {name: db, items: [{key: user, path: db/user}]}}]}}]\n\
             containers: [{name: a, image: 'x:1', volumeMounts: [{name: all, mountPath: /p}]}]",
        )
        .unwrap();
        let files: Vec<(&str, u32)> = p.containers[0]
            .spec
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.mode))
            .collect();
        assert_eq!(files, [("/p/app.conf", 0o440), ("/p/db/user", 0o440)]);
    }

    #[test]
    fn mounting_an_undeclared_volume_is_an_error() {
        let err = plan(
            "containers: [{name: a, image: 'x:1', volumeMounts: [{name: ghost, mountPath: /g}]}]",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "pod `web-0` container `a`: volume mount `ghost` does not match any volume of the pod"
        );
    }
}
