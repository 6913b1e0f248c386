//! The Application manifest (the part of `argoproj.io/v1alpha1` `Application` that syncsim reads)
//! and the settings it hands to the rest of the tool.
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// `spec.source` / `spec.sources[i]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceSpec {
    #[serde(rename = "repoURL", default)]
    pub repo_url: String,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub target_revision: Option<String>,
    #[serde(default)]
    pub chart: Option<String>,
    #[serde(default, rename = "ref")]
    pub ref_name: Option<String>,
    #[serde(default)]
    pub helm: Option<HelmSpec>,
    #[serde(default)]
    pub kustomize: Option<KustomizeSpec>,
    #[serde(default)]
    pub directory: Option<DirectorySpec>,
    #[serde(default)]
    pub plugin: Option<Value>,
}

/// `source.helm`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelmSpec {
    #[serde(default)]
    pub release_name: Option<String>,
    #[serde(default)]
    pub value_files: Vec<String>,
    #[serde(default)]
    pub ignore_missing_value_files: bool,
    #[serde(default)]
    pub values: Option<String>,
    #[serde(default)]
    pub values_object: Option<Value>,
    #[serde(default)]
    pub parameters: Vec<HelmParameter>,
    #[serde(default)]
    pub file_parameters: Vec<HelmFileParameter>,
    #[serde(default)]
    pub skip_crds: bool,
    #[serde(default)]
    pub skip_schema_validation: bool,
    #[serde(default)]
    pub skip_tests: bool,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub kube_version: Option<String>,
    #[serde(default)]
    pub api_versions: Vec<String>,
}

/// `source.helm.parameters[i]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelmParameter {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub force_string: bool,
}

/// `source.helm.fileParameters[i]`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HelmFileParameter {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub path: String,
}

/// `source.kustomize`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KustomizeSpec {
    #[serde(default)]
    pub name_prefix: Option<String>,
    #[serde(default)]
    pub name_suffix: Option<String>,
    #[serde(default)]
    pub images: Vec<String>,
    #[serde(default)]
    pub replicas: Vec<KustomizeReplica>,
    #[serde(default)]
    pub common_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub force_common_labels: bool,
    #[serde(default)]
    pub common_annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub force_common_annotations: bool,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub patches: Vec<Value>,
    #[serde(default)]
    pub components: Vec<String>,
    #[serde(default)]
    pub kube_version: Option<String>,
    #[serde(default)]
    pub api_versions: Vec<String>,
    #[serde(default)]
    pub version: Option<String>,
}

/// `source.kustomize.replicas[i]`: `count` is an integer or a string holding one.
#[derive(Debug, Clone, Deserialize)]
pub struct KustomizeReplica {
    pub name: String,
    pub count: Value,
}

/// `source.directory`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectorySpec {
    #[serde(default)]
    pub recurse: bool,
    #[serde(default)]
    pub include: Option<String>,
    #[serde(default)]
    pub exclude: Option<String>,
    #[serde(default)]
    pub jsonnet: Option<Value>,
}

/// The Application document, as far as syncsim reads it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ApplicationDoc {
    #[serde(default)]
    pub metadata: Metadata,
    #[serde(default)]
    pub spec: Spec,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub source: Option<SourceSpec>,
    #[serde(default)]
    pub sources: Vec<SourceSpec>,
    #[serde(default)]
    pub destination: Destination,
    #[serde(default)]
    pub sync_policy: Option<SyncPolicy>,
    #[serde(default)]
    pub ignore_differences: Vec<IgnoreDifference>,
    #[serde(default)]
    pub info: Vec<Info>,
}

/// `spec.destination`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct Destination {
    #[serde(default)]
    pub server: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
}

/// `spec.syncPolicy`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncPolicy {
    #[serde(default)]
    pub automated: Option<Automated>,
    #[serde(default)]
    pub sync_options: Vec<String>,
    #[serde(default)]
    pub retry: Option<Retry>,
    #[serde(default)]
    pub managed_namespace_metadata: Option<ManagedNamespaceMetadata>,
}

/// `spec.syncPolicy.automated`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Automated {
    #[serde(default)]
    pub prune: bool,
    #[serde(default)]
    pub self_heal: bool,
    #[serde(default)]
    pub allow_empty: bool,
}

/// `spec.syncPolicy.retry`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Retry {
    #[serde(default)]
    pub limit: i64,
    #[serde(default)]
    pub backoff: Option<Backoff>,
}

/// `spec.syncPolicy.retry.backoff`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Backoff {
    #[serde(default)]
    pub duration: Option<String>,
    #[serde(default)]
    pub factor: Option<i64>,
    #[serde(default)]
    pub max_duration: Option<String>,
}

/// `spec.syncPolicy.managedNamespaceMetadata`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct ManagedNamespaceMetadata {
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// `spec.ignoreDifferences[i]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IgnoreDifference {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub json_pointers: Vec<String>,
    #[serde(default)]
    pub jq_path_expressions: Vec<String>,
    #[serde(default)]
    pub managed_fields_managers: Vec<String>,
}

/// `spec.info[i]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct Info {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub value: String,
}

/// What the rest of syncsim needs from an Application besides its objects: the defaults of
/// `plan`, `sync`, `watch` and `status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Application {
    /// `metadata.name`.
    pub name: String,
    /// The file the Application was read from.
    pub file: String,
    /// `spec.project` (`default` when unset).
    pub project: String,
    /// `spec.destination`; `namespace` is the default namespace of the objects.
    pub destination: Destination,
    /// `spec.syncPolicy.syncOptions`, as written (`CreateNamespace=true`, …).
    pub sync_options: Vec<String>,
    /// `spec.syncPolicy.automated`: `None` for a manual Application.
    pub automated: Option<Automated>,
    /// `spec.syncPolicy.retry`.
    pub retry: Option<Retry>,
    /// `spec.syncPolicy.managedNamespaceMetadata`.
    pub managed_namespace_metadata: Option<ManagedNamespaceMetadata>,
    /// `spec.ignoreDifferences`.
    pub ignore_differences: Vec<IgnoreDifference>,
    /// `spec.info`.
    pub info: Vec<Info>,
    /// The revision of each rendered source, in source order: the commit SHA (`HEAD`'s for the
    /// working tree), or `HEAD` outside a git checkout.
    pub revisions: Vec<String>,
    /// The sync revision: the first source's, as Argo CD names generateName hooks after it.
    pub revision: String,
    /// The directory of each rendered source in its local checkout (the working-tree path even
    /// when `targetRevision` read another commit), e.g. to find the `syncsim.yaml` beside it.
    pub source_dirs: Vec<std::path::PathBuf>,
}

impl Application {
    /// The value of a sync option (`Key=Value`), the last one when given twice.
    pub fn sync_option(&self, key: &str) -> Option<&str> {
        self.sync_options
            .iter()
            .rev()
            .filter_map(|o| o.split_once('='))
            .find(|(k, _)| k.trim() == key)
            .map(|(_, v)| v.trim())
    }

    /// Whether a boolean sync option is `true` (case-insensitive, as Argo CD compares).
    pub fn sync_option_is_true(&self, key: &str) -> bool {
        self.sync_option(key)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// `destination.namespace`, when set and not empty.
    pub fn dest_namespace(&self) -> Option<&str> {
        self.destination
            .namespace
            .as_deref()
            .filter(|n| !n.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(opts: &[&str]) -> Application {
        Application {
            sync_options: opts.iter().map(|s| s.to_string()).collect(),
            ..Application::default()
        }
    }

    #[test]
    fn sync_options_are_read_as_key_value() {
        let a = app(&[
            "CreateNamespace=true",
            "PrunePropagationPolicy=orphan",
            "PruneLast=TRUE",
        ]);
        assert!(a.sync_option_is_true("CreateNamespace"));
        assert!(a.sync_option_is_true("PruneLast"));
        assert!(!a.sync_option_is_true("Replace"));
        assert_eq!(a.sync_option("PrunePropagationPolicy"), Some("orphan"));
    }
}
