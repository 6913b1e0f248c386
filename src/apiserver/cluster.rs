//! The description of the target cluster: the `cluster:` section of `syncsim.yaml`.
//!
//! ```yaml
//! cluster:
//!   kubernetesVersion: "1.33"          # 1.29 … 1.33; default: the k8s-openapi feature (1.33)
//!   crds: [path/to/crds/, networking.istio.io/VirtualService]
//!   namespaces: [istio-system]         # besides default, kube-system, kube-public, kube-node-lease
//!   storageClasses: [{name: standard, default: true, volumeBindingMode: WaitForFirstConsumer}]
//! ```
//!
//! [`RawCluster`] is what serde reads (unknown fields are rejected); [`ClusterDescription::from_raw`]
//! checks it without touching the file system; [`ClusterDescription::read_crd_files`] reads the
//! CRD manifests it names. Errors are [`FieldProblem`]s naming the field (`cluster.crds[1]`); the
//! config loader adds the file.
use crate::manifest::{self, Object};
use serde::Deserialize;
use std::{fmt, path::Path, path::PathBuf};

/// A Kubernetes minor version this syncsim can describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KubeVersion {
    pub minor: u32,
}

impl KubeVersion {
    /// The oldest version discovery knows.
    pub const OLDEST: KubeVersion = KubeVersion { minor: 29 };
    /// The version of the k8s-openapi feature syncsim builds with (`v1_33`): the default, and
    /// the schema every built-in kind is decoded with.
    pub const BUILT: KubeVersion = KubeVersion { minor: 33 };

    /// Parses `1.33`, `v1.33` or `1.33.4` (the patch is ignored).
    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        let mut parts = t.split('.');
        let major = parts.next().and_then(|p| p.parse::<u32>().ok());
        let minor = parts.next().and_then(|p| p.parse::<u32>().ok());
        let patch_ok =
            parts.next().is_none_or(|p| p.parse::<u32>().is_ok()) && parts.next().is_none();
        let supported = format!("1.{}..1.{}", Self::OLDEST.minor, Self::BUILT.minor);
        match (major, minor, patch_ok) {
            (Some(1), Some(minor), true) if (Self::OLDEST.minor..=Self::BUILT.minor).contains(&minor) => {
                Ok(KubeVersion { minor })
            }
            (Some(1), Some(_), true) => Err(format!(
                "Kubernetes {s} is not supported (this syncsim describes {supported})"
            )),
            _ => Err(format!(
                "`{s}` is not a Kubernetes version (write it quoted, e.g. \"1.33\"; supported: {supported})"
            )),
        }
    }
}

impl Default for KubeVersion {
    fn default() -> Self {
        Self::BUILT
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "1.{}", self.minor)
    }
}

/// `volumeBindingMode` of a StorageClass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum BindingMode {
    Immediate,
    WaitForFirstConsumer,
}

/// A StorageClass the cluster has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageClass {
    pub name: String,
    pub default: bool,
    pub volume_binding_mode: BindingMode,
}

/// Whether a custom kind is namespaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Namespaced,
    Cluster,
    /// Declared by name only (`group/Kind`): taken from the object (namespaced if it has a
    /// namespace).
    Unknown,
}

/// A custom kind the cluster serves, from a CRD manifest or a `group/Kind` name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomKind {
    pub group: String,
    pub kind: String,
    /// Served versions; empty means any version (a `group/Kind` name).
    pub versions: Vec<String>,
    pub scope: Scope,
    /// Where it was declared, for messages: the CRD file or `syncsim.yaml`.
    pub declared_in: String,
}

impl CustomKind {
    /// Reads a `CustomResourceDefinition` object (`apiextensions.k8s.io/v1`); `None` for
    /// anything else or a CRD without `spec.group`/`spec.names.kind`.
    pub fn from_crd(obj: &Object) -> Option<Self> {
        if obj.kind() != "CustomResourceDefinition" || obj.group() != "apiextensions.k8s.io" {
            return None;
        }
        let spec = obj.value.get("spec")?;
        let group = spec.get("group")?.as_str()?.to_string();
        let kind = spec.get("names")?.get("kind")?.as_str()?.to_string();
        let versions = spec
            .get("versions")
            .and_then(|v| v.as_array())
            .map(|vs| {
                vs.iter()
                    .filter(|v| v.get("served").and_then(|s| s.as_bool()).unwrap_or(true))
                    .filter_map(|v| v.get("name")?.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let scope = match spec.get("scope").and_then(|s| s.as_str()) {
            Some("Cluster") => Scope::Cluster,
            _ => Scope::Namespaced,
        };
        Some(Self {
            group,
            kind,
            versions,
            scope,
            declared_in: obj.origin.to_string(),
        })
    }
}

/// One entry of `cluster.crds` as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrdEntry {
    /// `group/Kind`, e.g. `networking.istio.io/VirtualService`.
    Named { group: String, kind: String },
    /// A CRD manifest file or a folder of them: as written, and resolved against the directory
    /// of `syncsim.yaml`.
    Path { written: String, resolved: PathBuf },
}

/// The cluster Argo CD would sync to, as far as the API server is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterDescription {
    pub kubernetes_version: KubeVersion,
    pub crds: Vec<CrdEntry>,
    /// Custom kinds read from the CRD files of `crds` ([`Self::read_crd_files`]) and the
    /// `group/Kind` names.
    pub custom_kinds: Vec<CustomKind>,
    /// Namespaces that exist, besides [`DEFAULT_NAMESPACES`].
    pub namespaces: Vec<String>,
    pub storage_classes: Vec<StorageClass>,
    /// The nodes' `--allowed-unsafe-sysctls`: sysctl names, or prefixes ending in `*`.
    pub allowed_unsafe_sysctls: Vec<String>,
    /// ServiceAccounts that exist before the sync, besides each namespace's `default`, as
    /// `namespace/name`.
    pub service_accounts: Vec<String>,
    /// The kubelet's `seccompDefault`: a container without a `seccompProfile` gets the
    /// runtime's default filter rather than none.
    pub seccomp_default: bool,
}

/// Namespaces every cluster has.
pub const DEFAULT_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

impl Default for ClusterDescription {
    /// A kind/k3d-like cluster of the built version: no CRDs, the default namespaces, one
    /// default StorageClass `standard` binding on first consumer.
    fn default() -> Self {
        Self {
            kubernetes_version: KubeVersion::default(),
            crds: Vec::new(),
            custom_kinds: Vec::new(),
            namespaces: Vec::new(),
            storage_classes: vec![default_storage_class()],
            allowed_unsafe_sysctls: Vec::new(),
            service_accounts: Vec::new(),
            seccomp_default: false,
        }
    }
}

fn default_storage_class() -> StorageClass {
    StorageClass {
        name: "standard".into(),
        default: true,
        volume_binding_mode: BindingMode::WaitForFirstConsumer,
    }
}

/// `cluster:` as written in `syncsim.yaml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawCluster {
    kubernetes_version: Option<serde_yaml::Value>,
    #[serde(default)]
    crds: Vec<String>,
    #[serde(default)]
    namespaces: Vec<String>,
    storage_classes: Option<Vec<RawStorageClass>>,
    #[serde(default)]
    allowed_unsafe_sysctls: Vec<String>,
    #[serde(default)]
    service_accounts: Vec<String>,
    #[serde(default)]
    seccomp_default: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawStorageClass {
    name: String,
    #[serde(default)]
    default: bool,
    volume_binding_mode: Option<BindingMode>,
}

/// A bad entry of the `cluster` section: the field (`cluster.crds[1]`) and what is wrong, ending
/// with the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub problem: String,
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

/// DNS-1123 label (namespace names).
fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

impl ClusterDescription {
    /// Checks a raw section; `dir` is the directory of `syncsim.yaml` (CRD paths resolve
    /// against it). No file system access.
    pub fn from_raw(raw: RawCluster, dir: &Path) -> Result<Self, FieldProblem> {
        let problem = |field: String, problem: String| FieldProblem { field, problem };
        let kubernetes_version = match &raw.kubernetes_version {
            None => KubeVersion::default(),
            Some(serde_yaml::Value::String(s)) => {
                KubeVersion::parse(s).map_err(|p| problem("cluster.kubernetesVersion".into(), p))?
            }
            Some(other) => {
                // An unquoted 1.30 is the float 1.3: refuse rather than guess.
                let shown = serde_yaml::to_string(other).unwrap_or_default();
                return Err(problem(
                    "cluster.kubernetesVersion".into(),
                    format!(
                        "`{}` is not a string (quote it, e.g. kubernetesVersion: \"1.33\")",
                        shown.trim()
                    ),
                ));
            }
        };
        let mut crds = Vec::new();
        let mut custom_kinds = Vec::new();
        for (i, entry) in raw.crds.iter().enumerate() {
            let field = format!("cluster.crds[{i}]");
            let e = entry.trim();
            if e.is_empty() {
                return Err(problem(
                    field,
                    "is empty (give a CRD file or folder, or `group/Kind` such as \
                     `networking.istio.io/VirtualService`)"
                        .into(),
                ));
            }
            if let Some((group, kind)) = named_kind(e) {
                custom_kinds.push(CustomKind {
                    group: group.to_string(),
                    kind: kind.to_string(),
                    versions: Vec::new(),
                    scope: Scope::Unknown,
                    declared_in: format!("syncsim.yaml {field}"),
                });
                crds.push(CrdEntry::Named {
                    group: group.to_string(),
                    kind: kind.to_string(),
                });
            } else {
                crds.push(CrdEntry::Path {
                    written: e.to_string(),
                    resolved: dir.join(e),
                });
            }
        }
        let mut namespaces = Vec::new();
        for (i, ns) in raw.namespaces.iter().enumerate() {
            if !is_dns_label(ns) {
                return Err(problem(
                    format!("cluster.namespaces[{i}]"),
                    format!(
                        "`{ns}` is not a namespace name (lower case letters, digits and `-`, at \
                         most 63 characters)"
                    ),
                ));
            }
            if !namespaces.contains(ns) {
                namespaces.push(ns.clone());
            }
        }
        let storage_classes = match raw.storage_classes {
            None => vec![default_storage_class()],
            Some(list) => {
                let mut out: Vec<StorageClass> = Vec::new();
                for (i, sc) in list.into_iter().enumerate() {
                    let field = format!("cluster.storageClasses[{i}]");
                    if !is_dns_label(&sc.name) && !sc.name.contains('.') {
                        return Err(problem(
                            format!("{field}.name"),
                            format!("`{}` is not a StorageClass name", sc.name),
                        ));
                    }
                    if out.iter().any(|o| o.name == sc.name) {
                        return Err(problem(
                            format!("{field}.name"),
                            format!("StorageClass `{}` is listed twice (keep one)", sc.name),
                        ));
                    }
                    out.push(StorageClass {
                        name: sc.name,
                        default: sc.default,
                        volume_binding_mode: sc
                            .volume_binding_mode
                            .unwrap_or(BindingMode::WaitForFirstConsumer),
                    });
                }
                if out.iter().filter(|s| s.default).count() > 1 {
                    return Err(problem(
                        "cluster.storageClasses".into(),
                        "more than one StorageClass has `default: true` (mark one)".into(),
                    ));
                }
                out
            }
        };
        for (i, s) in raw.allowed_unsafe_sysctls.iter().enumerate() {
            let name = s.strip_suffix('*').unwrap_or(s);
            let valid = !name.is_empty()
                && name.len() <= 253
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-/".contains(&b));
            if !valid {
                return Err(problem(
                    format!("cluster.allowedUnsafeSysctls[{i}]"),
                    format!(
                        "`{s}` is not a sysctl name or prefix (write it as the kubelet's --allowed-unsafe-sysctls takes it: `net.core.somaxconn`, `kernel.msg*`)"
                    ),
                ));
            }
        }
        for (i, s) in raw.service_accounts.iter().enumerate() {
            let valid = s.split_once('/').is_some_and(|(ns, name)| {
                is_dns_label(ns)
                    && !name.is_empty()
                    && name.len() <= 253
                    && name.split('.').all(is_dns_label)
            });
            if !valid {
                return Err(problem(
                    format!("cluster.serviceAccounts[{i}]"),
                    format!("`{s}` is not `namespace/name` (write it as `shortlink/migrator`)"),
                ));
            }
        }
        Ok(Self {
            kubernetes_version,
            crds,
            custom_kinds,
            namespaces,
            storage_classes,
            allowed_unsafe_sysctls: raw.allowed_unsafe_sysctls,
            service_accounts: raw.service_accounts,
            seccomp_default: raw.seccomp_default,
        })
    }

    /// Reads the CRD manifests named by path entries of `crds` and adds their kinds to
    /// [`Self::custom_kinds`]. A path that does not exist, cannot be read, or holds no
    /// `CustomResourceDefinition` is a problem of that entry.
    pub fn read_crd_files(&mut self) -> Result<(), FieldProblem> {
        for (i, entry) in self.crds.iter().enumerate() {
            let CrdEntry::Path { written, resolved } = entry else {
                continue;
            };
            let field = format!("cluster.crds[{i}]");
            let source = resolved.display().to_string();
            if !resolved.exists() {
                return Err(FieldProblem {
                    field,
                    problem: format!(
                        "`{written}` does not exist (paths are relative to the directory of \
                         syncsim.yaml; a kind without a file is written `group/Kind`)"
                    ),
                });
            }
            let loaded =
                manifest::load(&source, &manifest::LoadOptions::default()).map_err(|e| {
                    FieldProblem {
                        field: field.clone(),
                        problem: format!(
                            "`{written}` cannot be read: {}",
                            crate::error::render_chain(&e)
                        ),
                    }
                })?;
            let kinds: Vec<CustomKind> = loaded
                .objects
                .iter()
                .filter_map(CustomKind::from_crd)
                .collect();
            if kinds.is_empty() {
                return Err(FieldProblem {
                    field,
                    problem: format!(
                        "`{written}` holds no CustomResourceDefinition (give CRD manifests, or \
                         `group/Kind`)"
                    ),
                });
            }
            self.custom_kinds.extend(kinds);
        }
        Ok(())
    }

    /// The default StorageClass, if any.
    pub fn default_storage_class(&self) -> Option<&StorageClass> {
        self.storage_classes.iter().find(|s| s.default)
    }

    /// Whether `name` exists before the sync: a default namespace or one listed.
    pub fn has_namespace(&self, name: &str) -> bool {
        DEFAULT_NAMESPACES.contains(&name) || self.namespaces.iter().any(|n| n == name)
    }
}

/// `group/Kind` with a dotted group and a capitalised kind (a path would not look like this).
fn named_kind(entry: &str) -> Option<(&str, &str)> {
    let (group, kind) = entry.split_once('/')?;
    let group_ok = group.contains('.')
        && group
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    let kind_ok = kind.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && kind.chars().all(|c| c.is_ascii_alphanumeric());
    (group_ok && kind_ok).then_some((group, kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    fn raw(yaml: &str) -> RawCluster {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn every_field_has_a_default() {
        let c = ClusterDescription::from_raw(raw("{}"), Path::new(".")).unwrap();
        assert_eq!(c, ClusterDescription::default());
        assert_eq!(c.kubernetes_version.to_string(), "1.33");
        let sc = c.default_storage_class().unwrap();
        assert_eq!(sc.name, "standard");
        assert_eq!(sc.volume_binding_mode, BindingMode::WaitForFirstConsumer);
        assert!(c.has_namespace("kube-node-lease") && !c.has_namespace("istio-system"));
    }

    #[test]
    fn entries_are_read() {
        let c = ClusterDescription::from_raw(
            raw(r#"{kubernetesVersion: "v1.30.2", crds: [crds/, networking.istio.io/VirtualService],
                    namespaces: [istio-system],
                    storageClasses: [{name: fast, default: true, volumeBindingMode: Immediate}, {name: slow}]}"#),
            Path::new("k8s"),
        )
        .unwrap();
        assert_eq!(c.kubernetes_version, KubeVersion { minor: 30 });
        assert_eq!(
            c.crds,
            vec![
                CrdEntry::Path {
                    written: "crds/".into(),
                    resolved: PathBuf::from("k8s/crds/")
                },
                CrdEntry::Named {
                    group: "networking.istio.io".into(),
                    kind: "VirtualService".into()
                }
            ]
        );
        assert_eq!(c.custom_kinds.len(), 1);
        assert!(c.has_namespace("istio-system"));
        assert_eq!(
            c.storage_classes[1].volume_binding_mode,
            BindingMode::WaitForFirstConsumer
        );
        assert_eq!(c.default_storage_class().unwrap().name, "fast");
    }

    #[test_case(r#"{kubernetesVersion: 1.30}"#, "cluster.kubernetesVersion", "quote it" ; "unquoted version")]
    #[test_case(r#"{kubernetesVersion: "1.28"}"#, "cluster.kubernetesVersion", "1.29..1.33" ; "too old")]
    #[test_case(r#"{kubernetesVersion: "one"}"#, "cluster.kubernetesVersion", "not a Kubernetes version" ; "garbage")]
    #[test_case(r#"{crds: [""]}"#, "cluster.crds[0]", "group/Kind" ; "empty crd")]
    #[test_case(r#"{namespaces: [Istio_System]}"#, "cluster.namespaces[0]", "not a namespace name" ; "bad namespace")]
    #[test_case(r#"{storageClasses: [{name: a, default: true}, {name: b, default: true}]}"#, "cluster.storageClasses", "more than one" ; "two defaults")]
    #[test_case(r#"{storageClasses: [{name: a}, {name: a}]}"#, "cluster.storageClasses[1].name", "listed twice" ; "duplicate class")]
    #[test_case(r#"{allowedUnsafeSysctls: [net.core.somaxconn, "Net Core"]}"#, "cluster.allowedUnsafeSysctls[1]", "kernel.msg*" ; "bad sysctl")]
    #[test_case(r#"{serviceAccounts: [shortlink/migrator, migrator]}"#, "cluster.serviceAccounts[1]", "namespace/name" ; "service account without namespace")]
    fn bad_entries_name_the_field(yaml: &str, field: &str, fix: &str) {
        let err = ClusterDescription::from_raw(raw(yaml), Path::new(".")).unwrap_err();
        assert_eq!(err.field, field, "{err}");
        assert!(err.problem.contains(fix), "{err}");
    }

    #[test]
    fn crd_files_add_their_kinds_and_bad_paths_are_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("crds")).unwrap();
        std::fs::write(
            dir.path().join("crds/topic.yaml"),
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: kafkatopics.kafka.strimzi.io\nspec:\n  group: kafka.strimzi.io\n  scope: Namespaced\n  names: {kind: KafkaTopic, plural: kafkatopics}\n  versions:\n    - {name: v1beta2, served: true, storage: true}\n    - {name: v1alpha1, served: false, storage: false}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
        )
        .unwrap();
        let mut c = ClusterDescription::from_raw(raw("{crds: [crds]}"), dir.path()).unwrap();
        c.read_crd_files().unwrap();
        assert_eq!(c.custom_kinds.len(), 1);
        let k = &c.custom_kinds[0];
        assert_eq!(
            (k.group.as_str(), k.kind.as_str()),
            ("kafka.strimzi.io", "KafkaTopic")
        );
        assert_eq!(k.versions, ["v1beta2"]);
        assert_eq!(k.scope, Scope::Namespaced);

        let mut c = ClusterDescription::from_raw(raw("{crds: [crds, nope/]}"), dir.path()).unwrap();
        let err = c.read_crd_files().unwrap_err();
        assert_eq!(err.field, "cluster.crds[1]");
        assert!(err.problem.contains("does not exist"), "{err}");

        let mut c = ClusterDescription::from_raw(raw("{crds: [cm.yaml]}"), dir.path()).unwrap();
        let err = c.read_crd_files().unwrap_err();
        assert!(
            err.problem.contains("holds no CustomResourceDefinition"),
            "{err}"
        );
    }
}
