//! Reading ConfigMaps and Secrets: the two kinds of object a pod takes configuration from.
use super::error::{PodError, Result};
use crate::manifest::Object;
use base64::Engine as _;
use std::{collections::BTreeMap, fmt};

/// The two kinds of object a pod can read configuration from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfigKind {
    ConfigMap,
    Secret,
}

impl fmt::Display for ConfigKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConfigKind::ConfigMap => "ConfigMap",
            ConfigKind::Secret => "Secret",
        })
    }
}

/// Looks up a ConfigMap or Secret by name in the pod's namespace.
pub type ObjectLookup<'a> = dyn Fn(ConfigKind, &str) -> Option<&'a Object> + 'a;
/// Maps a PersistentVolumeClaim name to the Docker volume that backs it (`None`: no such claim).
pub type ClaimLookup<'a> = dyn Fn(&str) -> Option<String> + 'a;

/// The key → bytes content of a ConfigMap (`data`, `binaryData`) or Secret (`data` base64,
/// `stringData` winning as the API server merges it).
pub(super) fn config_data(
    obj: &Object,
    kind: ConfigKind,
    pod: &str,
) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut out = BTreeMap::new();
    let map = |field: &str| obj.value.get(field).and_then(serde_json::Value::as_object);
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let b64 = |key: &str, v: &serde_json::Value| {
        base64::engine::general_purpose::STANDARD
            .decode(text(v).trim())
            .map_err(|_| PodError::InvalidSecretData {
                pod: pod.to_string(),
                name: obj.name().to_string(),
                key: key.to_string(),
            })
    };
    match kind {
        ConfigKind::ConfigMap => {
            for (k, v) in map("binaryData").into_iter().flatten() {
                out.insert(k.clone(), b64(k, v)?);
            }
            for (k, v) in map("data").into_iter().flatten() {
                out.insert(k.clone(), text(v).into_bytes());
            }
        }
        ConfigKind::Secret => {
            for (k, v) in map("data").into_iter().flatten() {
                out.insert(k.clone(), b64(k, v)?);
            }
            for (k, v) in map("stringData").into_iter().flatten() {
                out.insert(k.clone(), text(v).into_bytes());
            }
        }
    }
    Ok(out)
}
#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::manifest::Origin;
    #[test]
    fn invalid_secret_base64_is_an_error_without_the_value() {
        let origin = Origin {
            file: "t".into(),
            document: 0,
            line: None,
        };
        let bad = Object::new(
            serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "bad"}, "data": {"k": "not base64!!"}}),
            origin,
        );
        let lookup = |_: ConfigKind, name: &str| (name == "bad").then_some(&bad);
        let claims = |_: &str| None;
        let ctx = PodContext::new("p", "ns", "net", &lookup, &claims);
        let spec: PodSpec = serde_yaml::from_str(
            "containers: [{name: a, image: 'x:1', envFrom: [{secretRef: {name: bad}}]}]",
        )
        .unwrap();
        let err = pod_containers(&spec, &ctx).unwrap_err();
        assert_eq!(
            err.to_string(),
            "pod `p`: key `k` of Secret `bad` is not valid base64"
        );
    }
}
