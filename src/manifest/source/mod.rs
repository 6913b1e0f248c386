//! An Argo CD `Application` manifest as a source: which repository and revision its source(s)
//! point at, how Argo CD's repo-server would render them (kustomize with the Application's
//! kustomize options, `helm template` with Argo CD's flags, a directory with its options,
//! several sources with `ref:` values files), and the Application settings (destination
//! namespace, sync options, automated policy, retry, ignoreDifferences, info, project, the
//! revision that names generateName hooks).
//!
//! [`crate::manifest::load`] calls [`load_application_file`] for a file whose documents are all
//! `argoproj.io/v1alpha1` `Application`s, so every command that loads a SOURCE accepts one.
mod directory;
mod error;
mod helm;
mod kustomize;
mod render;
mod repo;
mod spec;

pub use error::Error;
pub use helm::KUBE_VERSION as HELM_KUBE_VERSION;
pub use render::Rendered;
pub use repo::normalize_url;
pub use spec::{
    Application, Automated, Backoff, Destination, IgnoreDifference, Info, ManagedNamespaceMetadata,
    Retry,
};

use crate::manifest::Object;
use std::{ffi::OsString, path::Path, sync::Arc};

/// How to read an Application file.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    /// `--app NAME`: which Application when the file holds several.
    pub app: Option<&'a str>,
    /// `--repo DIR` (the repository of the first source) and `--repo URL=DIR` entries.
    pub repos: &'a [String],
    /// Where to look for `kustomize`, `kubectl` and `helm`; `None` means `PATH`.
    pub search_path: Option<&'a OsString>,
    /// `kustomize.buildOptions` of `argocd-cm` (e.g. `--enable-helm`), appended to every
    /// `kustomize build` of an Application as Argo CD appends them.
    pub kustomize_build_options: Option<&'a str>,
}

/// Whether `Application` documents of `argoproj.io` are all `objects` holds (and there is one).
pub fn all_applications(objects: &[Object]) -> bool {
    !objects.is_empty() && objects.iter().all(is_application)
}

/// Whether `obj` is an Argo CD `Application`.
pub fn is_application(obj: &Object) -> bool {
    obj.group() == "argoproj.io" && obj.kind() == "Application"
}

/// Renders the Application in `objects` (read from `file`) picked by `opts.app`.
///
/// # Errors
///
/// See [`Error`]: no or several Applications without `--app`, a source without a repository
/// or path, an unknown repository or revision, a missing values file, Jsonnet, plugins and Helm
/// repository charts (unsupported), or a failed render.
pub fn load_application_file(
    file: &Path,
    objects: &[Object],
    opts: &Options<'_>,
) -> Result<Rendered, Error> {
    let name = file.display().to_string();
    let apps: Vec<&Object> = objects.iter().filter(|o| is_application(o)).collect();
    let chosen = match opts.app {
        Some(want) => apps
            .iter()
            .find(|o| o.name() == want)
            .ok_or_else(|| Error::Select {
                file: name.clone(),
                message: format!(
                    "holds no Application named `{want}` (it holds: {})",
                    names(&apps)
                ),
            })?,
        None if apps.len() == 1 => &apps[0],
        None => {
            return Err(Error::Select {
                file: name,
                message: format!(
                    "holds {} Applications ({}); pick one with --app NAME",
                    apps.len(),
                    names(&apps)
                ),
            })
        }
    };
    let doc: spec::ApplicationDoc =
        serde_json::from_value(chosen.value.clone()).map_err(|e| error::Error::Field {
            file: name.clone(),
            app: chosen.name().to_string(),
            field: "spec".into(),
            message: format!("not a valid Application: {e}"),
        })?;
    render::render(&doc, file, opts)
}

fn names(apps: &[&Object]) -> String {
    apps.iter()
        .map(|o| o.name().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rendered streams have no lines that point into the user's files.
pub(crate) fn drop_lines(objects: &mut [Object]) {
    for obj in objects {
        if obj.origin.line.is_some() {
            let mut origin = (*obj.origin).clone();
            origin.line = None;
            obj.origin = Arc::new(origin);
        }
    }
}

/// Origins under `from` (a temporary copy) are renamed to `to` (what the user knows).
pub(crate) fn relabel(objects: &mut [Object], from: &str, to: &str) {
    for obj in objects {
        if let Some(rest) = obj.origin.file.strip_prefix(from) {
            let mut origin = (*obj.origin).clone();
            origin.file = format!("{to}{rest}");
            obj.origin = Arc::new(origin);
        }
    }
}
