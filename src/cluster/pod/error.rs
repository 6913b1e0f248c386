//! [`PodError`]: why a pod spec cannot be turned into containers.
use super::ConfigKind;
use crate::cluster::{probe::ProbeError, quantity::QuantityError};

/// Why a pod cannot be turned into containers. Messages never contain Secret values.
#[derive(Debug, thiserror::Error)]
pub enum PodError {
    /// The pod has no containers.
    #[error("pod `{pod}` has no containers")]
    NoContainers { pod: String },
    /// A ConfigMap or Secret the pod needs does not exist.
    #[error("pod `{pod}` container `{container}`: {by} refers to {kind} `{name}`, which does not exist (Kubernetes would block the pod with CreateContainerConfigError)")]
    MissingObject {
        pod: String,
        container: String,
        by: String,
        kind: ConfigKind,
        name: String,
    },
    /// A key the pod needs is missing from a ConfigMap or Secret.
    #[error("pod `{pod}` container `{container}`: {by} refers to key `{key}` of {kind} `{name}`, which has no such key (Kubernetes would block the pod with CreateContainerConfigError)")]
    MissingKey {
        pod: String,
        container: String,
        by: String,
        kind: ConfigKind,
        name: String,
        key: String,
    },
    /// A Secret's `data` value is not valid base64.
    #[error("pod `{pod}`: key `{key}` of Secret `{name}` is not valid base64")]
    InvalidSecretData {
        pod: String,
        name: String,
        key: String,
    },
    /// A PersistentVolumeClaim that does not exist.
    #[error("pod `{pod}`: volume `{volume}` refers to PersistentVolumeClaim `{claim}`, which does not exist (Kubernetes would keep the pod Pending)")]
    MissingClaim {
        pod: String,
        volume: String,
        claim: String,
    },
    /// A volume type syncsim cannot provide.
    #[error("pod `{pod}`: volume `{volume}` is of type `{kind}`, which syncsim does not support (supported: configMap, secret, downwardAPI, emptyDir, persistentVolumeClaim, projected configMap/secret/downwardAPI)")]
    UnsupportedVolume {
        pod: String,
        volume: String,
        kind: String,
    },
    /// A downward API volume file of a field syncsim does not provide.
    #[error("pod `{pod}`: volume `{volume}`: downward API field `{field}` cannot be provided (a volume takes metadata.name, metadata.namespace, metadata.uid, metadata.labels, metadata.annotations and their ['key'] forms, and resourceFieldRef)")]
    UnsupportedDownwardField {
        pod: String,
        volume: String,
        field: String,
    },
    /// A volume mount names a volume the pod does not declare.
    #[error("pod `{pod}` container `{container}`: volume mount `{volume}` does not match any volume of the pod")]
    UnknownVolume {
        pod: String,
        container: String,
        volume: String,
    },
    /// A key, item path or subPath that would write or mount outside its volume.
    #[error(
        "pod `{pod}`: {what} `{path}` of volume `{volume}` must be a relative path without `..`"
    )]
    UnsafePath {
        pod: String,
        volume: String,
        what: &'static str,
        path: String,
    },
    /// A `fieldRef` or `resourceFieldRef` syncsim cannot resolve.
    #[error(
        "pod `{pod}` container `{container}`: env var `{env}` uses unsupported field `{field}`"
    )]
    UnsupportedField {
        pod: String,
        container: String,
        env: String,
        field: String,
    },
    /// An env var with neither value nor a usable `valueFrom`.
    #[error("pod `{pod}` container `{container}`: env var `{env}` has an empty `valueFrom`")]
    EmptyValueFrom {
        pod: String,
        container: String,
        env: String,
    },
    /// A resource quantity that does not parse or fit.
    #[error("pod `{pod}` container `{container}`: invalid quantity in `{field}`")]
    Quantity {
        pod: String,
        container: String,
        field: String,
        #[source]
        source: QuantityError,
    },
    /// A probe syncsim cannot run.
    #[error("pod `{pod}`: invalid probe")]
    Probe {
        pod: String,
        #[source]
        source: ProbeError,
    },
}

pub(super) type Result<T, E = PodError> = std::result::Result<T, E>;
