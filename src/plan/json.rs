//! The plan as stable JSON (`syncsim plan -o json`).
use super::{Ignored, Plan, SyncOptions};
use serde::Serialize;

/// `syncsim plan -o json` output. Schema (all keys always present unless noted):
///
/// ```text
/// {
///   "steps": [                       // in Argo CD's order: PreSync, Sync, PostSync, SyncFail
///     {
///       "phase": "PostSync",         // "PreSync" | "Sync" | "PostSync" | "SyncFail"
///       "wave": 1,                   // integer, may be negative
///       "tasks": [                   // in apply order
///         {
///           "group": "batch",        // API group, "" for core kinds
///           "kind": "Job",
///           "namespace": "shortlink",// after defaulting to --dest-namespace
///           "name": "flyway-shortlink", // generated name for generateName hooks
///           "hook": true,
///           "deletePolicies": ["HookSucceeded"], // [] for resources
///           "syncOptions": {},       // parsed argocd.argoproj.io/sync-options; keys only when
///                                    // set: prune ("Disabled"|"Confirm"), pruneLast, replace,
///                                    // force, serverSideApply, validateFalse,
///                                    // skipDryRunOnMissingResource, other (unknown items)
///           "origin": "k8s/jobs.yaml:12" // file:line, or "dir (document n)" for kustomize
///         }
///       ]
///     }
///   ],
///   "ignored": [                     // manifests that produce no task
///     {"kind": "Job", "name": "x", "namespace": "ns", // namespace omitted when empty
///      "reason": "skipped",          // "skipped" | "ignored" | "duplicate"
///      "detail": "…", "origin": "…"}
///   ],
///   "warnings": ["file:line: Kind/name: message"]
/// }
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct PlanJson<'a> {
    pub steps: Vec<StepJson<'a>>,
    pub ignored: &'a [Ignored],
    pub warnings: Vec<String>,
}

/// One step of [`PlanJson`].
#[derive(Debug, Clone, Serialize)]
pub struct StepJson<'a> {
    pub phase: &'static str,
    pub wave: i64,
    pub tasks: Vec<TaskJson<'a>>,
}

/// One task of [`StepJson`].
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskJson<'a> {
    pub group: &'a str,
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    pub hook: bool,
    pub delete_policies: Vec<&'static str>,
    pub sync_options: &'a SyncOptions,
    pub origin: String,
}

impl<'a> From<&'a Plan> for PlanJson<'a> {
    fn from(plan: &'a Plan) -> Self {
        PlanJson {
            steps: plan
                .steps
                .iter()
                .map(|s| StepJson {
                    phase: s.phase.as_str(),
                    wave: s.wave,
                    tasks: s
                        .tasks
                        .iter()
                        .map(|t| TaskJson {
                            group: t.group(),
                            kind: t.kind(),
                            namespace: t.namespace(),
                            name: t.name(),
                            hook: t.hook,
                            delete_policies: t.delete_policies.iter().map(|p| p.as_str()).collect(),
                            sync_options: &t.sync_options,
                            origin: t.object.origin.to_string(),
                        })
                        .collect(),
                })
                .collect(),
            ignored: &plan.ignored,
            warnings: plan.warnings.iter().map(ToString::to_string).collect(),
        }
    }
}
