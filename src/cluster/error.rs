//! Why the simulated cluster could not do what it was asked.
//!
//! Every `Display` is the exact message the engine records on the task (what syncsim printed
//! before these errors were typed). A runtime error is shown as its rendered cause chain
//! ([`crate::error::render_chain`]) and is not exposed as `source()`, so rendering the chain
//! of a cluster error again does not repeat it.
use crate::error::render_chain;
use std::sync::Arc;

/// An error of the simulated cluster (apply, dry run, delete, controllers).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A container runtime call failed.
    #[error("{}", render_chain(.0))]
    Runtime(crate::runtime::Error),
    /// A workload object without a pod template.
    #[error("has no pod template (spec.template.spec)")]
    NoPodTemplate,
    /// A pod template that does not deserialize as a `PodSpec`.
    #[error("invalid pod spec: {0}")]
    InvalidPodSpec(serde_json::Error),
    /// An error about one object, prefixed with its name (`deployment.apps/web: …`).
    #[error("{object}: {error}")]
    Object { object: String, error: Box<Error> },
    /// A container without an image (dry run).
    #[error("{object}: container `{container}` has no image")]
    NoImage { object: String, container: String },
    /// An image that is neither present nor pullable (dry run).
    #[error("{0}")]
    ImageUnavailable(Box<UnavailableImage>),
    /// A Service needs a proxy (see `cluster::service`) and its image is missing.
    #[error(
        "Service {service} needs the Service proxy image `{image}`, which is not available: \
         {error} (fix: compose/testimages/build.sh builds it)"
    )]
    ServiceProxyImage {
        service: String,
        image: String,
        error: ImageError,
    },
    /// What the API server refuses on apply: strict decoding, validation, a missing namespace,
    /// an immutable field ([`crate::apiserver`]). Shown as the task message Argo CD records.
    #[error("{}", .0.task_message)]
    Rejected(Box<crate::apiserver::Rejection>),
}

impl Error {
    /// Prefixes the error with the object it is about.
    pub fn about(self, object: impl Into<String>) -> Self {
        Error::Object {
            object: object.into(),
            error: Box::new(self),
        }
    }
}

impl From<crate::runtime::Error> for Error {
    fn from(e: crate::runtime::Error) -> Self {
        Error::Runtime(e)
    }
}

/// An image a container needs that is neither present nor pullable.
#[derive(Debug, thiserror::Error)]
#[error(
    "image {shown} of container `{container}` in {kind}/{name} is not available: {error} \
     (fix: --image {image}=<local image>, `docker load -i <file>`, or build it)",
    shown = shown_image(image, mapped)
)]
pub struct UnavailableImage {
    /// The image as the manifest names it.
    pub image: String,
    /// The image after `--image` rewrites.
    pub mapped: String,
    pub container: String,
    pub kind: String,
    pub name: String,
    pub error: ImageError,
}

/// `` `image` `` or `` `mapped` (mapped from `image`) ``.
fn shown_image(image: &str, mapped: &str) -> String {
    if mapped == image {
        format!("`{image}`")
    } else {
        format!("`{mapped}` (mapped from `{image}`)")
    }
}

/// Why an image is not available. Cloneable: the answer is cached per image.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ImageError {
    /// Not present, and the pull policy forbids pulling.
    #[error("not present locally and imagePullPolicy is Never")]
    NeverPulled,
    /// Refused on purpose (a scenario's `imageUnavailable` fault).
    #[error("{0}")]
    Refused(String),
    /// Checking or pulling failed.
    #[error("{}", render_chain(.0.as_ref()))]
    Runtime(Arc<crate::runtime::Error>),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn not_found() -> crate::runtime::Error {
        crate::runtime::Error::NotFound {
            object: "image `web:1`".into(),
        }
    }

    #[test]
    fn runtime_errors_read_as_their_rendered_chain() {
        assert_eq!(
            Error::from(not_found()).to_string(),
            "error: image `web:1` not found"
        );
        assert_eq!(
            Error::from(not_found())
                .about("persistentvolumeclaim/data")
                .to_string(),
            "persistentvolumeclaim/data: error: image `web:1` not found"
        );
    }

    #[test]
    fn image_unavailable_names_the_mapping_and_the_fix() {
        let err = |mapped: &str| {
            Error::ImageUnavailable(Box::new(UnavailableImage {
                image: "web:1".into(),
                mapped: mapped.into(),
                container: "app".into(),
                kind: "Deployment".into(),
                name: "web".into(),
                error: ImageError::NeverPulled,
            }))
        };
        assert_eq!(
            err("web:1").to_string(),
            "image `web:1` of container `app` in Deployment/web is not available: not present \
             locally and imagePullPolicy is Never (fix: --image web:1=<local image>, \
             `docker load -i <file>`, or build it)"
        );
        assert!(err("local/web:dev")
            .to_string()
            .starts_with("image `local/web:dev` (mapped from `web:1`) of container"));
    }
}
