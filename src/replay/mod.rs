//! `syncsim replay`: a sync Argo CD recorded (an Application with `status.operationState`,
//! as `kubectl get application X -o yaml` prints it) against syncsim.
//!
//! [`load`] reads the record ([`record`]), renders the Application's source at the recorded
//! revision with the Application-as-source renderer and plans it; [`compare`] sets what Argo
//! CD did beside what syncsim plans (or rehearsed), task by task; [`scenario`] turns the record
//! into a scenario whose faults make the recorded failure recur (`--rehearse` runs it,
//! `--write-scenario` saves it); [`render`] prints text and JSON.
pub mod compare;
pub mod record;
pub mod render;
pub mod scenario;

pub use compare::{compare, Comparison, Syncsim};
pub use record::{Record, ResourceResult};

use crate::{
    error::{ExitCode, BAD_INPUT},
    manifest::{self, source, Object},
    plan::{self, Plan, PlanOptions},
};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Why a replay cannot be done.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The recorded Application is not usable: the file, the field, what is wrong and the fix.
    #[error("{file}: {}{message}", if field.is_empty() { String::new() } else { format!("{field}: ") })]
    Input {
        file: String,
        field: String,
        message: String,
    },
    /// The Application's source cannot be rendered (at the recorded revision).
    #[error("{file}: cannot render Application `{app}`{hint}")]
    Render {
        file: String,
        app: String,
        hint: String,
        #[source]
        source: Box<manifest::Error>,
    },
    /// The rendered objects cannot be planned.
    #[error("{file}: cannot plan Application `{app}`")]
    Plan {
        file: String,
        app: String,
        #[source]
        source: Box<plan::Error>,
    },
}

impl Error {
    pub(crate) fn input(file: &str, field: &str, message: impl Into<String>) -> Self {
        Error::Input {
            file: file.to_string(),
            field: field.to_string(),
            message: message.into(),
        }
    }
}

impl ExitCode for Error {
    fn exit_code(&self) -> i32 {
        match self {
            Error::Input { .. } => BAD_INPUT,
            Error::Render { source, .. } => source.exit_code(),
            Error::Plan { source, .. } => source.exit_code(),
        }
    }
}

/// What to replay.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The recorded Application file.
    pub file: PathBuf,
    /// Render at this revision instead of the recorded one (`HEAD`: the working tree).
    pub revision: Option<String>,
    /// `--repo DIR` / `--repo URL=DIR`, as for `plan`.
    pub repos: Vec<String>,
}

/// A record with its source rendered and planned.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub record: Record,
    /// The revision rendered, as given (recorded, or `--revision`).
    pub revision: String,
    /// Where the revision came from (a field of the record, or `--revision`).
    pub revision_from: String,
    pub application: source::Application,
    /// How each source was rendered.
    pub renderers: Vec<String>,
    pub objects: Vec<Object>,
    pub plan: Plan,
}

impl Loaded {
    /// Argo CD's destination namespace of the Application (`default` when unset).
    pub fn dest_namespace(&self) -> String {
        self.application
            .dest_namespace()
            .unwrap_or("default")
            .to_string()
    }
    /// Whether the Application syncs with `CreateNamespace=true`.
    pub fn create_namespace(&self) -> bool {
        self.application
            .sync_options
            .iter()
            .any(|o| o == "CreateNamespace=true")
    }
}

/// Reads the record, renders its Application at the recorded revision (or `req.revision`) and
/// plans it.
///
/// # Errors
///
/// [`Error::Input`] for a bad record, [`Error::Render`] / [`Error::Plan`] when the source
/// cannot be rendered or planned.
pub fn load(req: &Request) -> Result<Loaded, Error> {
    let record = record::read(&req.file)?;
    let file = req.file.display().to_string();
    let (revision, revision_from) =
        match (&req.revision, record.revision()) {
            (Some(r), _) => (r.clone(), "--revision".to_string()),
            (None, Some((r, field))) => (r.to_string(), field.to_string()),
            (None, None) => return Err(Error::input(
                &file,
                "status.operationState.syncResult.revision",
                "is missing, and so is operation.sync.revision: pass --revision REV (e.g. HEAD, \
                 the working tree)",
            )),
        };
    let mut doc = record.document.clone();
    if let Some(obj) = doc.as_object_mut() {
        obj.remove("status");
    }
    pin_revision(&mut doc, &revision, &file)?;
    let yaml = serde_yaml::to_string(&doc).map_err(|e| Error::input(&file, "", e.to_string()))?;
    let render_err = |e: manifest::Error| Error::Render {
        file: file.clone(),
        app: record.app.clone(),
        hint: if revision_from == "--revision" {
            String::new()
        } else {
            format!(
                " at revision `{revision}` ({revision_from}); if that commit is not in your \
                 clone, fetch it (`git fetch origin {revision}`) or compare against the \
                 working tree with --revision HEAD"
            )
        },
        source: Box::new(e),
    };
    let objects = manifest::from_yaml_str(&yaml, &file).map_err(render_err)?;
    let opts = source::Options {
        app: None,
        repos: &req.repos,
        search_path: None,
        kustomize_build_options: None,
    };
    let rendered = source::load_application_file(&req.file, &objects, &opts)
        .map_err(|e| render_err(manifest::Error::Application(Box::new(e))))?;
    let application = rendered.application;
    let popts = PlanOptions {
        dest_namespace: application
            .dest_namespace()
            .unwrap_or("default")
            .to_string(),
        revision: application.revision.clone(),
        started_at_unix: crate::util::unix_now(),
    };
    let plan = plan::build(&rendered.objects, &popts).map_err(|e| Error::Plan {
        file: file.clone(),
        app: record.app.clone(),
        source: Box::new(e),
    })?;
    Ok(Loaded {
        revision,
        revision_from,
        application,
        renderers: rendered.renderers,
        objects: rendered.objects,
        plan,
        record,
    })
}

/// Sets `targetRevision` of the Application's source (every source of a multi-source one) to
/// `revision`, so the renderer reads the tree Argo CD synced.
fn pin_revision(doc: &mut Value, revision: &str, file: &str) -> Result<(), Error> {
    let spec = doc
        .get_mut("spec")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| Error::input(file, "spec", "is missing: the Application has no source"))?;
    if let Some(src) = spec.get_mut("source").and_then(Value::as_object_mut) {
        src.insert("targetRevision".into(), Value::String(revision.to_string()));
    }
    if let Some(list) = spec.get_mut("sources").and_then(Value::as_array_mut) {
        for src in list.iter_mut().filter_map(Value::as_object_mut) {
            src.insert("targetRevision".into(), Value::String(revision.to_string()));
        }
    }
    Ok(())
}

/// `to` relative to the directory `from` (both made absolute), for paths written into a file
/// that lives in `from`.
pub fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let abs = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let (from, to) = (abs(from), abs(to));
    let f: Vec<_> = from.components().collect();
    let t: Vec<_> = to.components().collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..f.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c.as_os_str());
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::relative_path;
    use std::path::Path;

    #[test]
    fn relative_paths_climb_then_descend() {
        assert_eq!(
            relative_path(Path::new("/a/b/c"), Path::new("/a/x/y")),
            Path::new("../../x/y")
        );
        assert_eq!(
            relative_path(Path::new("/a"), Path::new("/a")),
            Path::new(".")
        );
    }
}
