//! Hook classification (docs/argo-cd-semantics.md §1.2–§1.4): resource, hook (with phases), skipped or
//! ignored.
use super::{
    annotations as key,
    parse::{annotations_of, split_list, Annotations},
    Phase,
};
use crate::manifest::Object;

/// A hook type as written in `argocd.argoproj.io/hook`, or mapped from `helm.sh/hook`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HookType {
    PreSync,
    Sync,
    PostSync,
    SyncFail,
    Skip,
    /// Application-deletion hook (§1.4): never part of a sync.
    PreDelete,
    /// Application-deletion hook (§1.4): never part of a sync.
    PostDelete,
}

impl HookType {
    /// The values Argo CD's sync engine accepts in `argocd.argoproj.io/hook` (§1.2).
    pub const SYNC_VALUES: [&'static str; 5] = ["PreSync", "Sync", "PostSync", "SyncFail", "Skip"];
    /// Every Argo CD value with a meaning, including the app-deletion hooks (§1.4).
    pub const ALL_VALUES: [&'static str; 7] = [
        "PreSync",
        "Sync",
        "PostSync",
        "SyncFail",
        "Skip",
        "PreDelete",
        "PostDelete",
    ];

    /// Exact, case-sensitive match of a sync-engine hook type (§1.2 step 1).
    pub fn from_argo(s: &str) -> Option<HookType> {
        match s {
            "PreSync" => Some(HookType::PreSync),
            "Sync" => Some(HookType::Sync),
            "PostSync" => Some(HookType::PostSync),
            "SyncFail" => Some(HookType::SyncFail),
            "Skip" => Some(HookType::Skip),
            _ => None,
        }
    }

    /// Helm mapping (§1.3); `None` for `crd-install` and unsupported hooks.
    pub fn from_helm(s: &str) -> Option<HookType> {
        match s {
            "pre-install" | "pre-upgrade" => Some(HookType::PreSync),
            "post-install" | "post-upgrade" => Some(HookType::PostSync),
            "pre-delete" => Some(HookType::PreDelete),
            "post-delete" => Some(HookType::PostDelete),
            _ => None,
        }
    }

    /// The sync phase this type runs in, if any.
    pub fn phase(self) -> Option<Phase> {
        match self {
            HookType::PreSync => Some(Phase::PreSync),
            HookType::Sync => Some(Phase::Sync),
            HookType::PostSync => Some(Phase::PostSync),
            HookType::SyncFail => Some(Phase::SyncFail),
            HookType::Skip | HookType::PreDelete | HookType::PostDelete => None,
        }
    }
}

/// Helm hook values Argo CD maps (§1.3), plus `crd-install`.
pub const HELM_HOOK_VALUES: [&str; 7] = [
    "pre-install",
    "pre-upgrade",
    "post-install",
    "post-upgrade",
    "pre-delete",
    "post-delete",
    "crd-install",
];

/// Why a manifest is dropped from the sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnoreReason {
    /// A hook without any valid type (§1.2 step 5): typos, wrong case, empty value,
    /// unsupported Helm hooks.
    NoValidHookType,
    /// Only `PreDelete`/`PostDelete` types (§1.4): runs on application deletion only.
    DeletionHookOnly,
}

/// How Argo CD treats one manifest in a sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Class {
    /// Not a hook: one task in phase `Sync`.
    Resource,
    /// A hook: one task per phase, phases distinct and in rank order (never empty).
    Hook(Vec<Phase>),
    /// `hook: Skip` alone: never applied.
    Skipped,
    /// Dropped from the sync.
    Ignored(IgnoreReason),
}

/// The hook types that count for an object (§1.2 steps 1–2): the valid Argo CD types, else the
/// mapped Helm types. The flag says whether Helm's were used.
pub(crate) fn hook_types(ann: &Annotations<'_>) -> (Vec<HookType>, bool) {
    let mut argo: Vec<HookType> = Vec::new();
    if let Some(v) = ann.get(key::HOOK) {
        for t in split_list(v).into_iter().filter_map(HookType::from_argo) {
            if !argo.contains(&t) {
                argo.push(t);
            }
        }
    }
    if !argo.is_empty() {
        return (argo, false);
    }
    let mut helm: Vec<HookType> = Vec::new();
    if let Some(v) = ann.get(key::HELM_HOOK) {
        for t in split_list(v).into_iter().filter_map(HookType::from_helm) {
            if !helm.contains(&t) {
                helm.push(t);
            }
        }
    }
    (helm, true)
}

/// Whether the object declares an application-deletion hook (§1.4): `PreDelete`/`PostDelete`
/// in `argocd.argoproj.io/hook`, or `pre-delete`/`post-delete` in `helm.sh/hook`.
pub(crate) fn is_deletion_hook(ann: &Annotations<'_>) -> bool {
    let argo = ann
        .get(key::HOOK)
        .map(|v| split_list(v))
        .unwrap_or_default();
    let helm = ann
        .get(key::HELM_HOOK)
        .map(|v| split_list(v))
        .unwrap_or_default();
    argo.iter()
        .any(|i| matches!(*i, "PreDelete" | "PostDelete"))
        || helm
            .iter()
            .any(|i| matches!(*i, "pre-delete" | "post-delete"))
}

pub(crate) fn classify_from(ann: &Annotations<'_>) -> Class {
    let class = engine_class(ann);
    // The controller removes app-deletion hooks from the sync input unless they also run in a
    // sync phase (§1.4).
    match class {
        Class::Hook(_) | Class::Resource => class,
        Class::Skipped | Class::Ignored(_) if is_deletion_hook(ann) => {
            Class::Ignored(IgnoreReason::DeletionHookOnly)
        }
        other => other,
    }
}

/// The sync engine's view (§1.2 steps 3–6).
fn engine_class(ann: &Annotations<'_>) -> Class {
    let (types, _) = hook_types(ann);
    // Step 3: Skip alone.
    if types == [HookType::Skip] {
        return Class::Skipped;
    }
    // Step 4: IsHook.
    let is_hook = if ann.contains_key(key::HOOK) {
        true
    } else {
        ann.get(key::HELM_HOOK).is_some_and(|v| *v != "crd-install")
    };
    if !is_hook {
        return Class::Resource;
    }
    let mut phases: Vec<Phase> = types.iter().filter_map(|t| t.phase()).collect();
    phases.sort();
    phases.dedup();
    // Step 5: a hook without (sync-phase) types is dropped.
    if phases.is_empty() {
        return Class::Ignored(IgnoreReason::NoValidHookType);
    }
    Class::Hook(phases)
}

/// Classifies a manifest as Argo CD's sync engine does (§1.2): exact, case-sensitive hook types;
/// Helm types only when no valid Argo CD type is present; `Skip` alone skips; a hook without any
/// valid type, or with only `PreDelete`/`PostDelete`, is dropped.
pub fn classify(obj: &Object) -> Class {
    classify_from(&annotations_of(obj).0)
}
