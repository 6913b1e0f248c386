//! One rendered Kubernetes object and its origin.
use serde_json::Value;
use std::{collections::BTreeMap, fmt, sync::Arc};

/// Where an object came from: a file (or `<stdin>`, or the kustomize directory), the index of the
/// YAML document in that file (0-based) and the 1-based line the document starts on, when known.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Origin {
    pub file: String,
    pub document: usize,
    pub line: Option<usize>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = crate::text::display_safe(&self.file);
        match self.line {
            Some(line) => write!(f, "{file}:{line}"),
            None => write!(f, "{file} (document {})", self.document + 1),
        }
    }
}

/// A Kubernetes object as rendered, kept as JSON so that any kind (including custom resources)
/// round-trips; typed views come from `k8s-openapi` where a kind needs them.
///
/// `Debug` redacts the values of a Secret's `data` and `stringData`.
#[derive(Clone, PartialEq)]
pub struct Object {
    pub value: Value,
    pub origin: Arc<Origin>,
}

/// Identity of an object in the (simulated) cluster: group, kind, namespace, name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct ObjectKey {
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for ObjectKey {
    /// Argo CD's `<group>/<kind>/<name>` form (group empty for core kinds).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.group, self.kind, self.name)
    }
}

impl Object {
    pub fn new(value: Value, origin: Origin) -> Self {
        Self {
            value,
            origin: Arc::new(origin),
        }
    }

    fn str_at(&self, path: &[&str]) -> Option<&str> {
        let mut v = &self.value;
        for p in path {
            v = v.get(p)?;
        }
        v.as_str()
    }

    pub fn api_version(&self) -> &str {
        self.str_at(&["apiVersion"]).unwrap_or("")
    }

    /// API group: the part of apiVersion before `/`, empty for core (`v1`).
    pub fn group(&self) -> &str {
        match self.api_version().split_once('/') {
            Some((g, _)) => g,
            None => "",
        }
    }

    /// API version without the group (`v1` in `apps/v1`).
    pub fn version(&self) -> &str {
        let av = self.api_version();
        av.split_once('/').map(|(_, v)| v).unwrap_or(av)
    }

    pub fn kind(&self) -> &str {
        self.str_at(&["kind"]).unwrap_or("")
    }

    pub fn name(&self) -> &str {
        self.str_at(&["metadata", "name"]).unwrap_or("")
    }

    pub fn generate_name(&self) -> Option<&str> {
        self.str_at(&["metadata", "generateName"])
    }

    pub fn namespace(&self) -> &str {
        self.str_at(&["metadata", "namespace"]).unwrap_or("")
    }

    pub fn key(&self) -> ObjectKey {
        ObjectKey {
            group: self.group().to_string(),
            kind: self.kind().to_string(),
            namespace: self.namespace().to_string(),
            name: self.name().to_string(),
        }
    }

    /// `metadata.annotations` as strings (non-string values are skipped).
    pub fn annotations(&self) -> BTreeMap<&str, &str> {
        self.map_at("annotations")
    }

    /// `metadata.labels` as strings.
    pub fn labels(&self) -> BTreeMap<&str, &str> {
        self.map_at("labels")
    }

    fn map_at(&self, field: &str) -> BTreeMap<&str, &str> {
        self.value
            .get("metadata")
            .and_then(|m| m.get(field))
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.value
            .get("metadata")?
            .get("annotations")?
            .get(key)?
            .as_str()
    }

    /// Sets `metadata.<field>` to a string value, creating `metadata` when absent.
    pub fn set_metadata_str(&mut self, field: &str, value: &str) {
        if let Some(obj) = self.value.as_object_mut() {
            let meta = obj
                .entry("metadata")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Some(meta) = meta.as_object_mut() {
                meta.insert(field.to_string(), Value::String(value.to_string()));
            }
        }
    }

    /// `Kind/name` as users read it in messages, control characters escaped
    /// ([`crate::text::display_safe`]).
    pub fn display_name(&self) -> String {
        let name = if self.name().is_empty() {
            self.generate_name().unwrap_or("")
        } else {
            self.name()
        };
        crate::text::display_safe(&format!("{}/{}", self.kind(), name)).into_owned()
    }
}

impl fmt::Debug for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut value = self.value.clone();
        if self.kind() == "Secret" && self.group().is_empty() {
            for field in ["data", "stringData"] {
                if let Some(map) = value.get_mut(field).and_then(Value::as_object_mut) {
                    for v in map.values_mut() {
                        *v = Value::String("<redacted>".into());
                    }
                }
            }
        }
        f.debug_struct("Object")
            .field("value", &value)
            .field("origin", &self.origin)
            .finish()
    }
}

#[cfg(test)]
mod debug_tests {
    use super::*;

    #[test]
    fn debug_of_a_secret_redacts_its_values() {
        let o = Object::new(
            serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                               "data": {"a": "czNjcjN0"}, "stringData": {"b": "s3cr3t"}}),
            Origin {
                file: "f".into(),
                document: 0,
                line: None,
            },
        );
        let shown = format!("{o:?}");
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("czNjcjN0"),
            "{shown}"
        );
        assert!(
            shown.contains("\"a\"") && shown.contains("<redacted>"),
            "{shown}"
        );
    }
}
