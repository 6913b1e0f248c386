//! The build step of a rehearsal: the images `syncsim.yaml` lists that are missing or stale.
use super::Error;
use crate::{
    apiserver::ClusterDescription,
    build::{self, BuildEvent, BuildOptions, BuildSummary},
    manifest::Object,
    runtime::ContainerRuntime,
};
use std::{
    path::{Path, PathBuf},
    time::Duration,
};

/// What a build step did.
#[derive(Debug, Clone)]
pub struct Built {
    /// The config used (relative to the working directory when under it).
    pub config: PathBuf,
    pub summary: BuildSummary,
    pub elapsed: Duration,
}

/// Builds what the config for `source` lists and is missing or stale. `config` overrides the
/// `syncsim.yaml` search. Without a config, `Ok(None)` unless `required`.
///
/// # Errors
///
/// [`Error::Build`]: a bad config (exit 2) or a failed build (exit 3).
pub async fn build_images(
    source: &str,
    config: Option<&Path>,
    required: bool,
    force: bool,
    rt: &dyn ContainerRuntime,
    on_event: &mut (dyn for<'e> FnMut(BuildEvent<'e>) + Send),
) -> Result<Option<Built>, Error> {
    let path = match config
        .map(Path::to_path_buf)
        .or_else(|| build::find_config(source))
    {
        Some(p) => p,
        None if required => {
            return Err(build::Error::NoConfig {
                source_path: source.to_string(),
            }
            .into())
        }
        None => {
            tracing::info!(
                "no {} for `{source}`: nothing to build",
                build::CONFIG_FILE_NAME
            );
            return Ok(None);
        }
    };
    let path = relative_to_cwd(&path);
    let config = build::config::load(&path)?;
    let started = std::time::Instant::now();
    let summary = build::build_all(&config, rt, &BuildOptions { force }, on_event).await?;
    Ok(Some(Built {
        config: path,
        summary,
        elapsed: started.elapsed(),
    }))
}

fn relative_to_cwd(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
}

/// An image a workload needs that is neither present nor pullable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingImage {
    /// As the manifest names it.
    pub image: String,
    /// After `--image` rewrites.
    pub mapped: String,
    /// `Kind/name` of the first workload using it.
    pub used_by: String,
    /// Why it cannot be had.
    pub error: String,
}

impl std::fmt::Display for MissingImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.mapped == self.image {
            write!(f, "`{}`", self.image)?;
        } else {
            write!(f, "`{}` (mapped from `{}`)", self.mapped, self.image)?;
        }
        write!(f, " used by {}: {}", self.used_by, self.error)
    }
}

/// The pod spec of a workload object, for the kinds syncsim runs.
fn pod_spec(obj: &Object) -> Option<&serde_json::Value> {
    let pointer = match (obj.group(), obj.kind()) {
        ("apps", "Deployment" | "StatefulSet" | "ReplicaSet" | "DaemonSet") | ("batch", "Job") => {
            "/spec/template/spec"
        }
        ("", "Pod") => "/spec",
        _ => return None,
    };
    obj.value.pointer(pointer)
}

/// Syncsim's preflight (not Argo CD's): every container image of `objects` that is neither
/// present on the engine nor pullable, after `images` rewrites. Pulls what it can. On a cluster
/// such a pod stays Pending (`ImagePullBackOff`) and Argo CD waits until the operation is
/// terminated.
pub async fn missing_images(
    rt: &dyn ContainerRuntime,
    objects: &[Object],
    images: &[(String, String)],
) -> Vec<MissingImage> {
    // Each image once (its first user names it), checked concurrently, reported in order.
    let mut wanted: Vec<(String, String, bool)> = Vec::new();
    for obj in objects {
        let Some(spec) = pod_spec(obj) else { continue };
        let containers = ["initContainers", "containers"]
            .iter()
            .filter_map(|k| spec.get(*k).and_then(serde_json::Value::as_array))
            .flatten();
        for c in containers {
            let image = c["image"].as_str().unwrap_or("");
            if image.is_empty() || wanted.iter().any(|(s, ..)| s == image) {
                continue;
            }
            let never = c["imagePullPolicy"].as_str() == Some("Never");
            let used_by = format!("{}/{}", obj.kind(), obj.name());
            wanted.push((image.to_string(), used_by, never));
        }
    }
    let checks = wanted
        .into_iter()
        .map(|(image, used_by, never)| async move {
            let mapped = images
                .iter()
                .find(|(from, _)| *from == image)
                .map_or(image.as_str(), |(_, to)| to.as_str())
                .to_string();
            let error = match rt.image_exists(&mapped).await {
                Ok(true) => return None,
                Ok(false) if never => {
                    "not present locally and imagePullPolicy is Never".to_string()
                }
                Ok(false) => match rt.pull_image(&mapped).await {
                    Ok(()) => return None,
                    Err(e) => crate::error::render_chain(&e),
                },
                Err(e) => crate::error::render_chain(&e),
            };
            Some(MissingImage {
                image,
                mapped,
                used_by,
                error,
            })
        });
    futures_util::future::join_all(checks)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// The `cluster:` section of the build config for `source` (`config` overrides the search);
/// the defaults when there is no config.
///
/// # Errors
///
/// [`Error::Build`]: the config cannot be read or its `cluster:` section is bad (exit 2).
pub fn cluster_description(
    source: &str,
    config: Option<&Path>,
) -> Result<ClusterDescription, Error> {
    match config
        .map(Path::to_path_buf)
        .or_else(|| build::find_config(source))
    {
        Some(path) => Ok(build::config::load(&path)?.cluster),
        None => Ok(ClusterDescription::default()),
    }
}
