//! Annotation keys the plan reads, copied from Argo CD and Helm.

/// Comma-separated hook types (§1.1).
pub const HOOK: &str = "argocd.argoproj.io/hook";
/// Comma-separated delete policies.
pub const HOOK_DELETE_POLICY: &str = "argocd.argoproj.io/hook-delete-policy";
/// Integer wave.
pub const SYNC_WAVE: &str = "argocd.argoproj.io/sync-wave";
/// Comma-separated per-resource sync options (§6).
pub const SYNC_OPTIONS: &str = "argocd.argoproj.io/sync-options";
/// Helm hook types (§1.3).
pub const HELM_HOOK: &str = "helm.sh/hook";
/// Helm hook weight: the wave when `sync-wave` is absent or not an integer.
pub const HELM_HOOK_WEIGHT: &str = "helm.sh/hook-weight";
/// Helm delete policies, unioned with Argo CD's.
pub const HELM_HOOK_DELETE_POLICY: &str = "helm.sh/hook-delete-policy";
/// Finalizer Argo CD adds to every hook it creates (§3.2).
pub const HOOK_FINALIZER: &str = "argocd.argoproj.io/hook-finalizer";

/// The keys that change the plan; a near miss of one of these gets a warning.
pub const PLAN_KEYS: [&str; 7] = [
    HOOK,
    HOOK_DELETE_POLICY,
    SYNC_WAVE,
    SYNC_OPTIONS,
    HELM_HOOK,
    HELM_HOOK_WEIGHT,
    HELM_HOOK_DELETE_POLICY,
];

/// Other real Argo CD / Helm keys, never reported as misspellings.
pub const OTHER_KNOWN_KEYS: [&str; 11] = [
    "argocd.argoproj.io/compare-options",
    "argocd.argoproj.io/tracking-id",
    "argocd.argoproj.io/instance",
    "argocd.argoproj.io/manifest-generate-paths",
    "argocd.argoproj.io/refresh",
    "argocd.argoproj.io/deletion-approved",
    "argocd.argoproj.io/ignore-restart-policy",
    "argocd.argoproj.io/skip-reconcile",
    "helm.sh/resource-policy",
    "helm.sh/hook-delete-timeout",
    "helm.sh/chart",
];
