//! What keeps a pod from starting, in the kubelet's words: a missing ConfigMap, Secret or key,
//! an image that can be neither found nor pulled, a container the kubelet will not run as
//! root; and, before the kubelet, a ServiceAccount the API server cannot find when the pod's
//! controller creates it. Each leaves the pod Pending (retried), never Failed.
use super::PodInput;
use crate::cluster::{
    pod::{
        security::{self, ImageUser},
        PodError,
    },
    sim::Inner,
};
use k8s_openapi::api::core::v1::{Container, PodSpec};

/// `ErrCreateContainerConfig` (pkg/kubelet/kuberuntime/kuberuntime_container.go): a container
/// whose ConfigMap, Secret or key is missing; the kubelet retries, the pod stays Pending.
pub(super) const CREATE_CONTAINER_CONFIG_ERROR: &str = "CreateContainerConfigError";
/// The controller's event when the API server refuses a pod it creates (pkg/controller/
/// controller_utils.go, `FailedCreatePodReason`).
pub(super) const FAILED_CREATE: &str = "FailedCreate";
/// `ErrImagePullBackOff` (pkg/kubelet/images/types.go).
pub(super) const IMAGE_PULL_BACK_OFF: &str = "ImagePullBackOff";
/// `ErrImageNeverPull` (pkg/kubelet/images/types.go).
pub(super) const ERR_IMAGE_NEVER_PULL: &str = "ErrImageNeverPull";

/// The kubelet's message for a missing ConfigMap, Secret or key: the API server's
/// `configmap "x" not found` / `secret "x" not found` (what the kubelet's config managers
/// return), or `couldn't find key K in ConfigMap ns/name` (pkg/kubelet/kubelet_pods.go
/// `makeEnvironmentVariables`). `None` for other errors (they fail the pod as before).
pub(super) fn config_error(e: &PodError, namespace: &str) -> Option<String> {
    match e {
        PodError::MissingObject { kind, name, .. } => Some(format!(
            "{} \"{name}\" not found",
            kind.to_string().to_lowercase()
        )),
        PodError::MissingKey {
            kind, name, key, ..
        } => Some(format!(
            "couldn't find key {key} in {kind} {namespace}/{name}"
        )),
        _ => None,
    }
}

/// The API server's refusal of the pod when its ServiceAccount does not exist: the
/// ServiceAccount admission plugin (plugin/pkg/admission/serviceaccount/admission.go) answers
/// `pods "<name>" is forbidden: error looking up service account <ns>/<sa>: serviceaccount "<sa>"
/// not found`, the name being the pod's `generateName` for a controller's pod
/// (apiserver/pkg/admission/errors.go, `extractResourceName`). The controller retries, so the
/// pod is created once the ServiceAccount is; until then its workload waits, a Deployment
/// until its progress deadline, a Job for ever. `default` always exists; others are the
/// applied ServiceAccounts and those the cluster description says exist.
pub(super) fn missing_service_account(inner: &Inner, input: &PodInput) -> Option<String> {
    let sa = input
        .spec
        .service_account_name
        .as_deref()
        .or(input.spec.service_account.as_deref())
        .filter(|s| !s.is_empty())
        .unwrap_or("default");
    let ns = &input.namespace;
    if sa == "default"
        || inner
            .opts
            .service_accounts
            .iter()
            .any(|s| *s == format!("{ns}/{sa}"))
        || inner
            .configs("ServiceAccount", ns)
            .iter()
            .any(|o| o.name() == sa)
    {
        return None;
    }
    // A StatefulSet names its pods; other controllers have the API server generate the name.
    let name = match input.owner.kind.as_str() {
        "StatefulSet" | "Pod" => input.pod_name.as_str(),
        _ => input
            .pod_name
            .rfind('-')
            .map_or(input.pod_name.as_str(), |i| &input.pod_name[..=i]),
    };
    Some(format!(
        "pods \"{name}\" is forbidden: error looking up service account {ns}/{sa}: serviceaccount \"{sa}\" not found"
    ))
}

/// The init containers of `spec`, then its main containers.
fn every_container(spec: &PodSpec) -> impl Iterator<Item = &Container> {
    spec.init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
}

/// The first container image of `spec` that is neither present nor pullable, as the kubelet
/// reports it (pkg/kubelet/images/image_manager.go): `Back-off pulling image "x"`
/// (`ImagePullBackOff`), or `Container image "x" is not present with pull policy of Never`.
pub(super) async fn missing_image(inner: &Inner, spec: &PodSpec) -> Option<(&'static str, String)> {
    for c in every_container(spec) {
        let image = c.image.as_deref().unwrap_or("");
        let mapped = inner.map_image(image);
        let policy = c.image_pull_policy.as_deref();
        if inner.ensure_image(&mapped, policy).await.is_err() {
            return Some(if policy == Some("Never") {
                (
                    ERR_IMAGE_NEVER_PULL,
                    format!(
                        "Container image \"{mapped}\" is not present with pull policy of Never"
                    ),
                )
            } else {
                (
                    IMAGE_PULL_BACK_OFF,
                    format!("Back-off pulling image \"{mapped}\""),
                )
            });
        }
    }
    None
}

/// Why the kubelet would refuse to create one of the pod's containers under `runAsNonRoot`
/// (`pod/security.rs`), checked for every container before any starts. (The kubelet checks
/// each as it comes to it, so on a cluster the init containers before a refused main
/// container have run; the pod waits in `CreateContainerConfigError` either way.)
pub(super) async fn refused_as_root(inner: &Inner, input: &PodInput) -> Option<String> {
    let spec = &input.spec;
    for c in every_container(spec) {
        let user = if security::needs_image_user(spec, c) {
            let image = inner.map_image(c.image.as_deref().unwrap_or(""));
            match inner.image_user(&image).await {
                Ok(u) => ImageUser::parse(&u),
                Err(e) => return Some(format!("failed to inspect image \"{image}\": {e}")),
            }
        } else {
            // Not read: a runAsUser (or no runAsNonRoot) decides without the image.
            ImageUser::Uid(0)
        };
        if let Err(message) =
            security::verify_run_as_non_root(spec, c, &input.pod_name, &input.namespace, || user)
        {
            return Some(message);
        }
    }
    None
}
