//! The plan's vocabulary: phases, delete policies, sync options, tasks and steps.
use crate::manifest::{Object, ObjectKey};
use serde::Serialize;
use std::fmt;

/// A sync phase. The derived order is Argo CD's phase rank: PreSync (-1) < Sync (0) <
/// PostSync (1) < SyncFail (2).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
pub enum Phase {
    PreSync,
    Sync,
    PostSync,
    SyncFail,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::PreSync => "PreSync",
            Phase::Sync => "Sync",
            Phase::PostSync => "PostSync",
            Phase::SyncFail => "SyncFail",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A hook delete policy (§3.4). Helm's spellings are mapped onto these.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
pub enum DeletePolicy {
    BeforeHookCreation,
    HookSucceeded,
    HookFailed,
}

impl DeletePolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            DeletePolicy::BeforeHookCreation => "BeforeHookCreation",
            DeletePolicy::HookSucceeded => "HookSucceeded",
            DeletePolicy::HookFailed => "HookFailed",
        }
    }
}

impl fmt::Display for DeletePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Per-object sync options from `argocd.argoproj.io/sync-options` (§6.2), parsed. Unknown items
/// are kept verbatim in `other` so nothing is lost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncOptions {
    /// `Prune=false` → Some(PruneOption::Disabled), `Prune=confirm` → Some(Confirm).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prune: Option<PruneOption>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub prune_last: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub replace: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub force: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_side_apply: Option<bool>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub validate_false: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skip_dry_run_on_missing_resource: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PruneOption {
    Disabled,
    Confirm,
}

/// One unit of work: (object, phase). A hook annotated with two phases gives two tasks.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub phase: Phase,
    /// Effective wave (after the Namespace/CRD dependency moves of §2.4).
    pub wave: i64,
    /// Whether the engine treats the object as a hook (§1.2).
    pub hook: bool,
    /// Delete policies (Argo CD's then Helm's, unioned); for hooks `[BeforeHookCreation]` when
    /// none is valid; empty for resources (policies only apply to hooks).
    pub delete_policies: Vec<DeletePolicy>,
    pub sync_options: SyncOptions,
    /// The target object: namespace defaulted to the destination namespace; for generateName
    /// hooks, `metadata.name` is set to the name Argo CD generates (§3.1); hooks carry the
    /// finalizer `argocd.argoproj.io/hook-finalizer` (§2.1.2, §3.2).
    pub object: Object,
}

impl Task {
    pub fn key(&self) -> ObjectKey {
        self.object.key()
    }
    pub fn group(&self) -> &str {
        self.object.group()
    }
    pub fn kind(&self) -> &str {
        self.object.kind()
    }
    pub fn name(&self) -> &str {
        self.object.name()
    }
    pub fn namespace(&self) -> &str {
        self.object.namespace()
    }
    pub fn has_policy(&self, p: DeletePolicy) -> bool {
        self.delete_policies.contains(&p)
    }
}

/// All tasks of one (phase, wave) pair, in Argo CD's apply order.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub phase: Phase,
    pub wave: i64,
    pub tasks: Vec<Task>,
}

/// A manifest Argo CD drops or never applies, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ignored {
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// `ignored` (dropped, §1.2 step 5 and §1.4), `skipped` (`hook: Skip`, never applied) or
    /// `duplicate` (an earlier manifest of the same group/kind/namespace/name; Argo CD keeps the
    /// last one).
    pub reason: String,
    /// A human explanation of `reason`.
    pub detail: String,
    /// `file:line` (or `dir (document n)`) of the manifest.
    pub origin: String,
}

/// Something Argo CD does silently that users should hear about: names the file and object and
/// suggests the fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub origin: String,
    pub object: String,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::text::display_safe;
        // Messages quote annotation keys and values as written: escape control characters.
        write!(
            f,
            "{}: {}: {}",
            display_safe(&self.origin),
            display_safe(&self.object),
            display_safe(&self.message)
        )
    }
}

/// The sync plan: steps in order (PreSync…, Sync…, PostSync…, then SyncFail steps last).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub ignored: Vec<Ignored>,
    pub warnings: Vec<Warning>,
}

impl Plan {
    /// Every task in order, SyncFail tasks included (they come last).
    pub fn tasks(&self) -> impl Iterator<Item = &Task> {
        self.steps.iter().flat_map(|s| s.tasks.iter())
    }
}

/// Inputs the plan needs besides the objects.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// Namespace given to objects without one (Argo CD's destination namespace).
    pub dest_namespace: String,
    /// Sync revision, used for generateName hooks (§3.1).
    pub revision: String,
    /// Operation start time, UTC unix seconds, used for generateName hooks (§3.1).
    pub started_at_unix: i64,
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            dest_namespace: "default".into(),
            revision: "HEAD".into(),
            started_at_unix: 0,
        }
    }
}
