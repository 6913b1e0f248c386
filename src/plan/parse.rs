//! Reading the plan's annotations: comma lists, waves, delete policies and sync options.
use super::{annotations as key, DeletePolicy, PruneOption, SyncOptions};
use crate::manifest::Object;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

/// An object's annotations as Argo CD sees them (`GetAnnotations()`): if any value is not a
/// string, Kubernetes' accessor fails and Argo CD sees *no* annotations at all.
pub(crate) type Annotations<'a> = BTreeMap<&'a str, &'a str>;

/// Argo CD's view of `metadata.annotations` and, when a value is not a string, its key.
pub(crate) fn annotations_of(obj: &Object) -> (Annotations<'_>, Option<&str>) {
    let Some(map) = obj
        .value
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(Value::as_object)
    else {
        return (Annotations::new(), None);
    };
    let mut out = Annotations::new();
    for (k, v) in map {
        match v.as_str() {
            Some(s) => {
                out.insert(k.as_str(), s);
            }
            None => return (Annotations::new(), Some(k.as_str())),
        }
    }
    (out, None)
}

/// Splits a comma-separated annotation value as Argo CD does: items trimmed, empty items dropped,
/// duplicates removed (first occurrence kept).
///
/// Linear in the length of `value`: an annotation of 80 000 items must not cost a quadratic
/// duplicate search.
pub fn split_list(value: &str) -> Vec<&str> {
    let mut seen: HashSet<&str> = HashSet::new();
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty() && seen.insert(*item))
        .collect()
}

/// Go's `strconv.Atoi`: optional sign, ASCII digits only (no spaces, decimals or underscores),
/// must fit in 64 bits.
pub fn parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Where an object's wave came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaveSource {
    SyncWave,
    HelmHookWeight,
    Default,
}

pub(crate) fn wave_from(ann: &Annotations<'_>) -> (i64, WaveSource) {
    if let Some(w) = ann.get(key::SYNC_WAVE).and_then(|v| parse_int(v)) {
        return (w, WaveSource::SyncWave);
    }
    if let Some(w) = ann.get(key::HELM_HOOK_WEIGHT).and_then(|v| parse_int(v)) {
        return (w, WaveSource::HelmHookWeight);
    }
    (0, WaveSource::Default)
}

/// An object's wave (§2.2): `argocd.argoproj.io/sync-wave` if it is an integer, else
/// `helm.sh/hook-weight` if that is an integer, else 0.
pub fn wave(obj: &Object) -> i64 {
    wave_from(&annotations_of(obj).0).0
}

/// Maps one Argo CD delete-policy item.
pub(crate) fn argo_delete_policy(item: &str) -> Option<DeletePolicy> {
    match item {
        "BeforeHookCreation" => Some(DeletePolicy::BeforeHookCreation),
        "HookSucceeded" => Some(DeletePolicy::HookSucceeded),
        "HookFailed" => Some(DeletePolicy::HookFailed),
        _ => None,
    }
}

/// Maps one Helm delete-policy item.
pub(crate) fn helm_delete_policy(item: &str) -> Option<DeletePolicy> {
    match item {
        "before-hook-creation" => Some(DeletePolicy::BeforeHookCreation),
        "hook-succeeded" => Some(DeletePolicy::HookSucceeded),
        "hook-failed" => Some(DeletePolicy::HookFailed),
        _ => None,
    }
}

pub(crate) fn delete_policies_from(ann: &Annotations<'_>) -> Vec<DeletePolicy> {
    let argo = ann
        .get(key::HOOK_DELETE_POLICY)
        .map(|v| split_list(v))
        .unwrap_or_default();
    let helm = ann
        .get(key::HELM_HOOK_DELETE_POLICY)
        .map(|v| split_list(v))
        .unwrap_or_default();
    let mut out = Vec::new();
    let all = argo.iter().filter_map(|i| argo_delete_policy(i));
    for p in all.chain(helm.iter().filter_map(|i| helm_delete_policy(i))) {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    if out.is_empty() {
        out.push(DeletePolicy::BeforeHookCreation);
    }
    out
}

/// A hook's delete policies (§3.4): Argo CD's then Helm's, unioned, invalid items ignored;
/// `[BeforeHookCreation]` when none is valid.
pub fn delete_policies(obj: &Object) -> Vec<DeletePolicy> {
    delete_policies_from(&annotations_of(obj).0)
}

pub(crate) fn sync_options_from(ann: &Annotations<'_>) -> SyncOptions {
    let items = ann
        .get(key::SYNC_OPTIONS)
        .map(|v| split_list(v))
        .unwrap_or_default();
    let mut opts = SyncOptions::default();
    let mut prune_seen = false;
    for item in items {
        match item {
            "Prune=false" | "Prune=confirm" | "Prune=true" if !prune_seen => {
                prune_seen = true;
                opts.prune = match item {
                    "Prune=false" => Some(PruneOption::Disabled),
                    "Prune=confirm" => Some(PruneOption::Confirm),
                    _ => None,
                };
            }
            "PruneLast=true" => opts.prune_last = true,
            "Replace=true" => opts.replace = true,
            "Force=true" => opts.force = true,
            "ServerSideApply=true" if opts.server_side_apply.is_none() => {
                opts.server_side_apply = Some(true)
            }
            "ServerSideApply=false" if opts.server_side_apply.is_none() => {
                opts.server_side_apply = Some(false)
            }
            "Validate=false" => opts.validate_false = true,
            "SkipDryRunOnMissingResource=true" => opts.skip_dry_run_on_missing_resource = true,
            other => {
                // Known options whose value has no effect (`Replace=false`, a second `Prune=`)
                // are dropped; anything else is kept.
                const NO_EFFECT: [&str; 7] = [
                    "Prune",
                    "PruneLast",
                    "Replace",
                    "Force",
                    "ServerSideApply",
                    "Validate",
                    "SkipDryRunOnMissingResource",
                ];
                let key = other.split_once('=').map_or(other, |(k, _)| k);
                if !NO_EFFECT.contains(&key) {
                    opts.other.push(other.to_string());
                }
            }
        }
    }
    opts
}

/// Per-object sync options from `argocd.argoproj.io/sync-options` (§6.2). `Prune=` takes the
/// first matching item; values without effect (`Replace=false`) are dropped; other items (e.g.
/// `Delete=…`, which only matters on app deletion) are kept verbatim in `other`.
pub fn sync_options(obj: &Object) -> SyncOptions {
    sync_options_from(&annotations_of(obj).0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("PreSync", &["PreSync"] ; "single")]
    #[test_case(" PreSync , PostSync ", &["PreSync", "PostSync"] ; "items are trimmed")]
    #[test_case("PreSync,,PostSync,", &["PreSync", "PostSync"] ; "empty items are dropped")]
    #[test_case("PostSync,PreSync,PostSync", &["PostSync", "PreSync"] ; "duplicates keep the first")]
    #[test_case("", &[] ; "empty value")]
    fn comma_lists_split_trim_and_dedupe(value: &str, expected: &[&str]) {
        assert_eq!(split_list(value), expected);
    }

    #[test_case("0", Some(0))]
    #[test_case("5", Some(5))]
    #[test_case("-3", Some(-3))]
    #[test_case("+4", Some(4))]
    #[test_case("007", Some(7))]
    #[test_case("9223372036854775807", Some(i64::MAX))]
    #[test_case("-9223372036854775808", Some(i64::MIN))]
    #[test_case("9223372036854775808", None ; "overflow")]
    #[test_case("1.5", None ; "decimal")]
    #[test_case(" 2", None ; "leading space")]
    #[test_case("2 ", None ; "trailing space")]
    #[test_case("abc", None)]
    #[test_case("", None ; "empty")]
    #[test_case("+", None ; "sign only")]
    #[test_case("-", None ; "minus only")]
    #[test_case("1_000", None ; "underscore")]
    #[test_case("0x10", None ; "hex")]
    #[test_case("+-1", None ; "two signs")]
    fn wave_parsing_follows_go_atoi(s: &str, expected: Option<i64>) {
        assert_eq!(parse_int(s), expected);
    }
}
