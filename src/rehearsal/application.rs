//! SOURCE as an Argo CD Application: the settings a rehearsal takes from it.
//!
//! `sync`, `watch`, `status` and `test` load SOURCE through [`load`]; when it is an Application
//! file, [`Settings::resolve`] turns the Application's fields into the defaults of the operation
//! (docs/argo-cd-semantics.md §2.1.3, §2.1.4, §6): the app name is the Application's name, the
//! destination namespace is the default namespace, `syncPolicy.syncOptions` are the operation's
//! sync options with the `--sync-option` flags on top, `managedNamespaceMetadata` goes on the
//! Namespace of `CreateNamespace=true`, and `syncsim.yaml` is looked up from the directory of
//! the Application's first rendered source, as for a folder SOURCE.
use super::{app::validate_app, Error};
use crate::manifest::{
    self,
    source::{Application, ManagedNamespaceMetadata},
    Loaded,
};

/// How to read SOURCE when it is an Application file (`--app`, `--repo`).
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// `--app NAME`: the Application to use when the file holds several (and the app name).
    pub app: Option<String>,
    /// `--repo DIR` / `--repo URL=DIR`.
    pub repos: Vec<String>,
    /// `kustomize.buildOptions` of `--argocd-cm`.
    pub kustomize_build_options: Option<String>,
}

/// Loads SOURCE; an Application file is rendered as Argo CD's repo-server would.
///
/// # Errors
///
/// [`Error::Manifest`]: bad input (2) or a missing renderer (3).
pub fn load(source: &str, opts: &SourceOptions) -> Result<Loaded, Error> {
    let load_opts = manifest::LoadOptions {
        app: opts.app.clone(),
        repos: opts.repos.clone(),
        kustomize_build_options: opts.kustomize_build_options.clone(),
        ..manifest::LoadOptions::default()
    };
    let loaded = manifest::load(source, &load_opts)?;
    tracing::info!(
        "rendered `{source}` with {}: {} objects",
        loaded.renderer,
        loaded.objects.len()
    );
    Ok(loaded)
}

/// The application sync options syncsim rehearses, as `--sync-option NAME=true|false` gives
/// them and as an Application's `syncPolicy.syncOptions` holds them.
pub const REHEARSED_SYNC_OPTIONS: [&str; 3] = ["CreateNamespace", "Replace", "PruneLast"];

/// Argo CD's other application-level sync options: accepted, but they change nothing in a
/// rehearsal (docs/argo-cd-semantics.md §6.2).
const NOT_REHEARSED: [&str; 9] = [
    "Validate",
    "SkipDryRunOnMissingResource",
    "ApplyOutOfSyncOnly",
    "ServerSideApply",
    "PrunePropagationPolicy",
    "RespectIgnoreDifferences",
    "FailOnSharedResource",
    "Prune",
    "Delete",
];

/// The operation's sync options: the Application's, then the `--sync-option` flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncOptions {
    /// `CreateNamespace=true`: the destination namespace is created first (§2.1.4).
    pub create_namespace: bool,
    /// `Replace=true`: replace instead of apply (§6.2).
    pub replace: bool,
    /// `PruneLast=true`: every prune in the extra last wave (§2.5).
    pub prune_last: bool,
}

impl SyncOptions {
    /// `app` (an Application's `syncOptions`, `Key=Value` strings) then `flags` (later ones
    /// win). Options syncsim does not rehearse are returned as notes.
    pub fn resolve(app: &[String], flags: &[(String, bool)]) -> (Self, Vec<String>) {
        let mut o = Self::default();
        let mut notes = Vec::new();
        for item in app {
            let (key, value) = item.split_once('=').unwrap_or((item.as_str(), ""));
            let (key, value) = (key.trim(), value.trim());
            if REHEARSED_SYNC_OPTIONS.contains(&key) {
                o.set(key, value.eq_ignore_ascii_case("true"));
            } else if NOT_REHEARSED.contains(&key) {
                notes.push(format!(
                    "sync option `{item}` is not rehearsed by syncsim (no effect on Docker)"
                ));
            } else {
                notes.push(format!(
                    "sync option `{item}` is not an Argo CD application sync option (Argo CD ignores it)"
                ));
            }
        }
        for (key, value) in flags {
            o.set(key, *value);
        }
        (o, notes)
    }

    fn set(&mut self, key: &str, value: bool) {
        match key {
            "CreateNamespace" => self.create_namespace = value,
            "Replace" => self.replace = value,
            "PruneLast" => self.prune_last = value,
            _ => {}
        }
    }
}

/// What the command line says, before the Application's defaults are applied.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// `--app`.
    pub app: Option<String>,
    /// `--dest-namespace`.
    pub dest_namespace: Option<String>,
    /// `--revision`.
    pub revision: Option<String>,
    /// `--sync-option` flags, in order.
    pub sync_options: Vec<(String, bool)>,
}

/// The settings of one operation: flags first, then the Application's, then syncsim's defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    pub app: String,
    pub dest_namespace: String,
    pub revision: String,
    pub sync_options: SyncOptions,
    /// `managedNamespaceMetadata`, for the Namespace of `CreateNamespace=true`.
    pub managed_namespace_metadata: Option<ManagedNamespaceMetadata>,
    /// Where `syncsim.yaml` is searched from: the first source's directory of an Application,
    /// else SOURCE.
    pub config_anchor: String,
    /// The Application SOURCE held, if it was one.
    pub application: Option<Application>,
    /// Things the user should know (sync options without effect).
    pub notes: Vec<String>,
}

impl Settings {
    /// Resolves the settings of an operation on `source`, loaded as `loaded`.
    ///
    /// # Errors
    ///
    /// [`Error::BadInput`] (2): `--app` is not a usable app name, or the Application's name is
    /// not one.
    pub fn resolve(source: &str, loaded: &Loaded, flags: &Flags) -> Result<Self, Error> {
        let app = loaded.application.as_deref();
        let name = match (app, &flags.app) {
            (_, Some(a)) => validate_app(a)?,
            (Some(a), None) => validate_app(&a.name).map_err(|_| {
                Error::BadInput(format!(
                    "{}: Application `{}`: metadata.name is not a DNS-1123 label syncsim can \
                     name its containers and network after (lowercase letters, digits and `-`, \
                     at most {} characters); pick a name with --app NAME",
                    a.file,
                    a.name,
                    super::app::MAX_APP_LEN
                ))
            })?,
            (None, None) => super::app::default_app_name(source),
        };
        let (sync_options, notes) = SyncOptions::resolve(
            app.map(|a| a.sync_options.as_slice()).unwrap_or(&[]),
            &flags.sync_options,
        );
        let mut notes = notes;
        for (i, d) in app
            .map(|a| a.ignore_differences.as_slice())
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            if !d.jq_path_expressions.is_empty() || !d.managed_fields_managers.is_empty() {
                notes.push(format!(
                    "ignoreDifferences[{i}]: only jsonPointers are applied by syncsim; \
                     jqPathExpressions and managedFieldsManagers are not (rewrite them as \
                     jsonPointers to rehearse them)"
                ));
            }
        }
        let notes = match app {
            Some(a) => notes
                .into_iter()
                .map(|n| format!("{}: Application `{}`: {n}", a.file, a.name))
                .collect(),
            None => notes,
        };
        let config_anchor = app
            .and_then(|a| a.source_dirs.first())
            .map(|d| d.display().to_string())
            .unwrap_or_else(|| source.to_string());
        let (dest_namespace, revision) = namespace_and_revision(
            app,
            flags.dest_namespace.as_deref(),
            flags.revision.as_deref(),
        );
        Ok(Self {
            app: name,
            dest_namespace,
            revision,
            sync_options,
            managed_namespace_metadata: app
                .and_then(|a| a.managed_namespace_metadata.clone())
                .filter(|m| !m.labels.is_empty() || !m.annotations.is_empty()),
            config_anchor,
            application: app.cloned(),
            notes,
        })
    }
}

/// The destination namespace and the sync revision: the flag, else the Application's, else
/// `default` and `HEAD` (as `plan` and every operation take them).
pub fn namespace_and_revision(
    app: Option<&Application>,
    dest_namespace: Option<&str>,
    revision: Option<&str>,
) -> (String, String) {
    let ns = dest_namespace
        .or_else(|| app.and_then(|a| a.dest_namespace()))
        .unwrap_or("default");
    let rev = revision
        .or_else(|| app.map(|a| a.revision.as_str()))
        .unwrap_or("HEAD");
    (ns.to_string(), rev.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_applications_options_come_first_and_flags_win() {
        let (o, notes) = SyncOptions::resolve(
            &strings(&["CreateNamespace=true", "PruneLast=true", "Replace=false"]),
            &[("CreateNamespace".into(), false), ("Replace".into(), true)],
        );
        assert_eq!(
            o,
            SyncOptions {
                create_namespace: false,
                replace: true,
                prune_last: true
            }
        );
        assert!(notes.is_empty(), "{notes:?}");
    }

    #[test]
    fn options_without_effect_are_noted_not_refused() {
        let (o, notes) = SyncOptions::resolve(
            &strings(&["ServerSideApply=true", "CreateNamespce=true"]),
            &[],
        );
        assert_eq!(o, SyncOptions::default());
        assert_eq!(notes.len(), 2);
        assert!(notes[0].contains("not rehearsed"), "{notes:?}");
        assert!(notes[1].contains("not an Argo CD"), "{notes:?}");
    }
}
