//! A recorded operation: an Argo CD `Application` as `kubectl get application X -o yaml`
//! prints it, with `status.operationState` (docs/argo-cd-semantics.md §4.7). Only what the
//! comparison needs is read; every other field is ignored, as Argo CD's own clients do.
use super::Error;
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The recorded Application: its name and the last operation's result.
#[derive(Debug, Clone)]
pub struct Record {
    /// The file it was read from.
    pub file: PathBuf,
    /// `metadata.name`.
    pub app: String,
    /// The whole document (spec included), for rendering the Application's source.
    pub document: Value,
    pub operation: OperationState,
}

/// `status.operationState` (`OperationState` in Argo CD's
/// `pkg/apis/application/v1alpha1/types.go`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationState {
    #[serde(default)]
    pub operation: Operation,
    /// `Running`, `Terminating`, `Failed`, `Error` or `Succeeded`.
    pub phase: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub sync_result: Option<SyncResult>,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub finished_at: Option<String>,
    #[serde(default)]
    pub retry_count: Option<i64>,
}

/// `operationState.operation`: what was asked for.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    #[serde(default)]
    pub sync: Option<SyncOperation>,
}

/// `operation.sync`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncOperation {
    #[serde(default)]
    pub revision: Option<String>,
    #[serde(default)]
    pub prune: bool,
}

/// `operationState.syncResult`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncResult {
    #[serde(default)]
    pub revision: Option<String>,
    #[serde(default)]
    pub resources: Vec<ResourceResult>,
}

/// One entry of `syncResult.resources` (`ResourceResult`): one per task, in the order Argo CD
/// first recorded them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceResult {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    pub kind: String,
    #[serde(default)]
    pub namespace: String,
    pub name: String,
    /// Result code: `Synced`, `SyncFailed`, `Pruned`, `PruneSkipped`.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub message: String,
    /// `Running`, `Succeeded`, `Failed`, `Error` (also filled for resources).
    #[serde(default)]
    pub hook_phase: String,
    /// The hook's phase; empty for a resource.
    #[serde(default)]
    pub hook_type: String,
    #[serde(default)]
    pub sync_phase: String,
}

/// Phases a task can have, as Argo CD spells them.
const PHASES: [&str; 4] = ["PreSync", "Sync", "PostSync", "SyncFail"];
const OPERATION_PHASES: [&str; 5] = ["Running", "Terminating", "Failed", "Error", "Succeeded"];

impl ResourceResult {
    /// `Kind/name`, as the reports name tasks.
    pub fn display(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
    pub fn is_hook(&self) -> bool {
        !self.hook_type.is_empty()
    }
    /// The task completed unsuccessfully (a failed hook, a Degraded resource, a failed apply).
    pub fn failed(&self) -> bool {
        matches!(self.hook_phase.as_str(), "Failed" | "Error") || self.status == "SyncFailed"
    }
    /// A prune of a live object that has no manifest any more.
    pub fn is_prune(&self) -> bool {
        matches!(self.status.as_str(), "Pruned" | "PruneSkipped")
    }
}

impl Record {
    /// The revision Argo CD synced: `syncResult.revision`, else `operation.sync.revision`.
    pub fn revision(&self) -> Option<(&str, &'static str)> {
        let recorded = self
            .operation
            .sync_result
            .as_ref()
            .and_then(|r| r.revision.as_deref())
            .filter(|r| !r.is_empty())
            .map(|r| (r, "status.operationState.syncResult.revision"));
        recorded.or_else(|| {
            self.operation
                .operation
                .sync
                .as_ref()
                .and_then(|s| s.revision.as_deref())
                .filter(|r| !r.is_empty())
                .map(|r| (r, "status.operationState.operation.sync.revision"))
        })
    }

    /// The recorded resources, in recorded order.
    pub fn resources(&self) -> &[ResourceResult] {
        self.operation
            .sync_result
            .as_ref()
            .map_or(&[], |r| r.resources.as_slice())
    }
}

/// Reads and checks a recorded Application.
///
/// # Errors
///
/// [`Error::Input`] naming the file, the field and the fix: unreadable, not YAML, not an Argo
/// CD Application, no `status.operationState`, an unknown phase.
pub fn read(path: &Path) -> Result<Record, Error> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::input(&file, "", format!("cannot read it: {e}")))?;
    parse(&text, path)
}

/// [`read`] on text already read.
///
/// # Errors
///
/// As [`read`].
pub fn parse(text: &str, path: &Path) -> Result<Record, Error> {
    let file = path.display().to_string();
    let bad = |field: &str, msg: String| Error::input(&file, field, msg);
    let document: Value = serde_yaml::from_str(text).map_err(|e| {
        bad(
            "",
            format!("is not YAML: {}", crate::yaml::YamlError::from(&e)),
        )
    })?;
    let kind = document.get("kind").and_then(Value::as_str).unwrap_or("");
    let api = document
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    if kind != "Application" || !api.starts_with("argoproj.io/") {
        return Err(bad(
            "kind",
            format!(
                "is `{api}` `{kind}`, not an Argo CD Application (save one with `kubectl get \
                 application NAME -n argocd -o yaml > FILE`)"
            ),
        ));
    }
    let app = document
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let state = document
        .pointer("/status/operationState")
        .cloned()
        .ok_or_else(|| {
            bad(
                "status.operationState",
                "is missing: the Application has no recorded operation (save it with `kubectl \
                 get application NAME -o yaml` after a sync, not the manifest from git)"
                    .into(),
            )
        })?;
    let operation: OperationState = serde_json::from_value(state).map_err(|e| {
        bad(
            "status.operationState",
            format!("does not match Argo CD's OperationState schema: {e}"),
        )
    })?;
    if !OPERATION_PHASES.contains(&operation.phase.as_str()) {
        return Err(bad(
            "status.operationState.phase",
            format!(
                "`{}` is not an operation phase ({})",
                operation.phase,
                OPERATION_PHASES.join(", ")
            ),
        ));
    }
    for (i, r) in operation
        .sync_result
        .iter()
        .flat_map(|s| s.resources.iter())
        .enumerate()
    {
        let phase_ok = r.sync_phase.is_empty() || PHASES.contains(&r.sync_phase.as_str());
        let hook_ok = r.hook_type.is_empty() || PHASES.contains(&r.hook_type.as_str());
        if !phase_ok || !hook_ok {
            return Err(bad(
                &format!("status.operationState.syncResult.resources[{i}]"),
                format!(
                    "{}: syncPhase `{}` / hookType `{}` is not one of {}",
                    r.display(),
                    r.sync_phase,
                    r.hook_type,
                    PHASES.join(", ")
                ),
            ));
        }
    }
    Ok(Record {
        file: path.to_path_buf(),
        app,
        document,
        operation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\n\
        spec: {}\nstatus:\n  operationState:\n    phase: Failed\n    message: m\n    \
        operation: {sync: {revision: abc}}\n    syncResult:\n      revision: def\n      \
        resources:\n        - {group: batch, kind: Job, namespace: ns, name: j, status: Synced, \
        hookPhase: Failed, hookType: PostSync, syncPhase: PostSync, message: boom}\n";

    #[test]
    fn reads_the_operation_state_and_prefers_the_sync_result_revision() {
        let r = parse(OK, Path::new("a.yaml")).unwrap();
        assert_eq!(r.app, "a");
        assert_eq!(r.operation.phase, "Failed");
        assert_eq!(
            r.revision(),
            Some(("def", "status.operationState.syncResult.revision"))
        );
        assert!(r.resources()[0].failed() && r.resources()[0].is_hook());
    }

    #[test]
    fn errors_name_the_file_and_the_field() {
        let e = parse("kind: ConfigMap\n", Path::new("x.yaml")).unwrap_err();
        assert!(e.to_string().starts_with("x.yaml: kind:"), "{e}");
        let no_state = OK.split("status:").next().unwrap();
        let e = parse(no_state, Path::new("x.yaml")).unwrap_err();
        assert!(
            e.to_string().contains("status.operationState: is missing"),
            "{e}"
        );
        let e = parse(
            &OK.replace("phase: Failed", "phase: Done"),
            Path::new("x.yaml"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("status.operationState.phase"), "{e}");
        let e = parse(
            &OK.replace("hookType: PostSync", "hookType: Post"),
            Path::new("x.yaml"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("resources[0]"), "{e}");
    }
}
