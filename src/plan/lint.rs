//! Warnings: where Argo CD silently drops or reinterprets a manifest, say so, name the file and
//! object, and suggest the fix. None of these change the plan.
use super::{
    annotations as key,
    classify::{hook_types, Class, HookType, IgnoreReason, HELM_HOOK_VALUES},
    parse::{parse_int, split_list, wave_from, Annotations, WaveSource},
    Warning,
};
use crate::manifest::Object;

/// Per-resource sync options and their valid values (§6.2).
const RESOURCE_OPTIONS: [(&str, &[&str]); 9] = [
    ("Prune", &["false", "confirm", "true"]),
    ("PruneLast", &["true", "false"]),
    ("Replace", &["true", "false"]),
    ("Force", &["true", "false"]),
    ("ServerSideApply", &["true", "false"]),
    ("Validate", &["false", "true"]),
    ("SkipDryRunOnMissingResource", &["true", "false"]),
    ("Delete", &["false", "confirm", "true"]),
    ("ClientSideApplyMigration", &["false", "true"]),
];

/// Options that only mean something on the Application, not in a resource annotation.
const APP_ONLY_OPTIONS: [&str; 5] = [
    "CreateNamespace",
    "ApplyOutOfSyncOnly",
    "RespectIgnoreDifferences",
    "FailOnSharedResource",
    "PrunePropagationPolicy",
];

/// The largest edit distance a suggestion may have.
const MAX_SUGGESTION_DISTANCE: usize = 2;

/// Values longer than this (in bytes) get no suggestion: every candidate is far shorter, and a
/// 1 MB annotation key must not cost a quadratic distance computation.
const MAX_SUGGESTION_INPUT: usize = 256;

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions), by `strsim`.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    strsim::osa_distance(a, b)
}

/// The closest candidate within edit distance 2, ignoring case (ties: first candidate).
///
/// Bounded: a value over [`MAX_SUGGESTION_INPUT`] bytes is not compared at all, and a candidate
/// whose length differs by more than the distance allowed is skipped without computing one (the
/// distance is at least the difference in length).
pub(crate) fn suggest<'a>(value: &str, candidates: &[&'a str]) -> Option<&'a str> {
    if value.len() > MAX_SUGGESTION_INPUT {
        return None;
    }
    let lower = value.to_lowercase();
    let len = lower.chars().count();
    candidates
        .iter()
        .filter_map(|c| {
            let c_lower = c.to_lowercase();
            if len.abs_diff(c_lower.chars().count()) > MAX_SUGGESTION_DISTANCE {
                return None;
            }
            Some((edit_distance(&lower, &c_lower), *c))
        })
        .filter(|(d, _)| *d <= MAX_SUGGESTION_DISTANCE)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn did_you_mean(value: &str, candidates: &[&str]) -> String {
    match suggest(value, candidates) {
        Some(s) if s.eq_ignore_ascii_case(value) => {
            format!(" (matching is case-sensitive); did you mean `{s}`?")
        }
        Some(s) => format!("; did you mean `{s}`?"),
        None => format!(" (valid values: {})", candidates.join(", ")),
    }
}

/// Collects the warnings for one object; `class` is its classification.
pub(crate) struct Linter<'a> {
    obj: &'a Object,
    out: &'a mut Vec<Warning>,
}

impl<'a> Linter<'a> {
    pub(crate) fn new(obj: &'a Object, out: &'a mut Vec<Warning>) -> Self {
        Self { obj, out }
    }

    fn warn(&mut self, message: String) {
        self.out.push(Warning {
            origin: self.obj.origin.to_string(),
            object: self.obj.display_name(),
            message,
        });
    }

    pub(crate) fn lint(&mut self, ann: &Annotations<'_>, bad_key: Option<&str>, class: &Class) {
        if let Some(k) = bad_key {
            self.warn(format!(
                "annotation `{k}` is not a string, so Argo CD reads none of this object's \
                 annotations and Kubernetes rejects the object (quote the value)"
            ));
        }
        self.keys(ann);
        self.hook(ann, class);
        self.wave(ann);
        self.delete_policies(ann, class);
        self.sync_options(ann);
        if matches!(class, Class::Resource)
            && self.obj.name().is_empty()
            && self.obj.generate_name().is_some()
        {
            self.warn(
                "has `generateName` but no `name`; Argo CD generates names only for hooks, so \
                 applying it fails (set `metadata.name`, or make it a hook)"
                    .to_string(),
            );
        }
    }

    fn keys(&mut self, ann: &Annotations<'_>) {
        for k in ann.keys() {
            if key::PLAN_KEYS.contains(k) || key::OTHER_KNOWN_KEYS.contains(k) {
                continue;
            }
            if let Some(s) = suggest(k, &key::PLAN_KEYS) {
                self.warn(format!(
                    "annotation `{k}` is not read by Argo CD; did you mean `{s}`?"
                ));
            }
        }
        for k in self.obj.labels().keys() {
            if key::PLAN_KEYS.contains(k) {
                self.warn(format!(
                    "`{k}` is a label; Argo CD reads it only as an annotation (move it to \
                     `metadata.annotations`)"
                ));
            }
        }
    }

    fn hook(&mut self, ann: &Annotations<'_>, class: &Class) {
        let (types, helm_used) = hook_types(ann);
        let dropped = matches!(class, Class::Ignored(IgnoreReason::NoValidHookType));
        if let Some(v) = ann.get(key::HOOK) {
            let items = split_list(v);
            if items.is_empty() && dropped {
                self.warn(format!(
                    "`{}` is empty, so Argo CD drops this manifest from the sync (set a hook \
                     type such as `PreSync`, or remove the annotation)",
                    key::HOOK
                ));
            }
            for item in items.iter().filter(|i| !HookType::ALL_VALUES.contains(i)) {
                let consequence = if dropped {
                    "Argo CD drops this manifest from the sync"
                } else if helm_used && !types.is_empty() {
                    "Argo CD ignores it and uses `helm.sh/hook` instead"
                } else {
                    "Argo CD ignores this item"
                };
                self.warn(format!(
                    "hook type `{item}` is not valid, so {consequence}{}",
                    did_you_mean(item, &HookType::ALL_VALUES)
                ));
            }
        }
        if let Class::Ignored(IgnoreReason::DeletionHookOnly) = class {
            self.warn(
                "PreDelete/PostDelete hooks run only when the Application is deleted, so Argo CD \
                 leaves this manifest out of the sync (syncsim does not rehearse app deletion)"
                    .to_string(),
            );
        }
        if let Some(v) = ann.get(key::HELM_HOOK) {
            if helm_used {
                for item in split_list(v)
                    .iter()
                    .filter(|i| !HELM_HOOK_VALUES.contains(i))
                {
                    let consequence = if dropped {
                        "Argo CD drops this manifest from the sync"
                    } else {
                        "Argo CD ignores this item"
                    };
                    let hint = match suggest(item, &HELM_HOOK_VALUES) {
                        Some(s) => format!("; did you mean `{s}`?"),
                        None => " (Argo CD maps only pre-/post-install, pre-/post-upgrade and \
                                 pre-/post-delete)"
                            .to_string(),
                    };
                    self.warn(format!(
                        "Helm hook `{item}` is not supported by Argo CD, so {consequence}{hint}"
                    ));
                }
            } else if let Class::Hook(phases) = class {
                let mut helm_phases: Vec<_> = split_list(v)
                    .into_iter()
                    .filter_map(HookType::from_helm)
                    .filter_map(HookType::phase)
                    .collect();
                helm_phases.sort();
                helm_phases.dedup();
                if &helm_phases != phases {
                    let names: Vec<_> = phases.iter().map(|p| p.as_str()).collect();
                    self.warn(format!(
                        "`{}: {v}` is ignored because `{}` has a valid type; Argo CD runs this \
                         hook in {} only",
                        key::HELM_HOOK,
                        key::HOOK,
                        names.join(", ")
                    ));
                }
            }
        }
    }

    fn wave(&mut self, ann: &Annotations<'_>) {
        let (wave, source) = wave_from(ann);
        let used = match source {
            WaveSource::SyncWave => return,
            WaveSource::HelmHookWeight => format!("wave {wave} (from `{}`)", key::HELM_HOOK_WEIGHT),
            WaveSource::Default => "wave 0".to_string(),
        };
        if let Some(v) = ann.get(key::SYNC_WAVE) {
            self.warn(format!(
                "sync-wave `{v}` is not an integer, so Argo CD uses {used}; {}",
                integer_fix(v)
            ));
        }
        if let Some(v) = ann
            .get(key::HELM_HOOK_WEIGHT)
            .filter(|v| parse_int(v).is_none())
        {
            self.warn(format!(
                "`{}` `{v}` is not an integer, so Argo CD ignores it; {}",
                key::HELM_HOOK_WEIGHT,
                integer_fix(v)
            ));
        }
    }

    fn delete_policies(&mut self, ann: &Annotations<'_>, class: &Class) {
        const ARGO: [&str; 3] = ["BeforeHookCreation", "HookSucceeded", "HookFailed"];
        const HELM: [&str; 3] = ["before-hook-creation", "hook-succeeded", "hook-failed"];
        let argo = ann.get(key::HOOK_DELETE_POLICY);
        let helm = ann.get(key::HELM_HOOK_DELETE_POLICY);
        if !matches!(class, Class::Hook(_)) {
            if let (Class::Resource, Some(k)) = (
                class,
                argo.map(|_| key::HOOK_DELETE_POLICY)
                    .or(helm.map(|_| key::HELM_HOOK_DELETE_POLICY)),
            ) {
                self.warn(format!(
                    "`{k}` has no effect on a resource that is not a hook (add `{}`?)",
                    key::HOOK
                ));
            }
            return;
        }
        let argo_items = argo.map(|v| split_list(v)).unwrap_or_default();
        let helm_items = helm.map(|v| split_list(v)).unwrap_or_default();
        let any_valid = argo_items.iter().any(|i| ARGO.contains(i))
            || helm_items.iter().any(|i| HELM.contains(i));
        let default = if any_valid {
            ""
        } else {
            " and uses the default BeforeHookCreation"
        };
        for item in argo_items.iter().filter(|i| !ARGO.contains(i)) {
            self.warn(format!(
                "delete policy `{item}` is not valid, so Argo CD ignores it{default}{}",
                did_you_mean(item, &ARGO)
            ));
        }
        for item in helm_items.iter().filter(|i| !HELM.contains(i)) {
            self.warn(format!(
                "Helm delete policy `{item}` is not valid, so Argo CD ignores it{default}{}",
                did_you_mean(item, &HELM)
            ));
        }
    }

    fn sync_options(&mut self, ann: &Annotations<'_>) {
        let Some(v) = ann.get(key::SYNC_OPTIONS) else {
            return;
        };
        let keys: Vec<&str> = RESOURCE_OPTIONS.iter().map(|(k, _)| *k).collect();
        for item in split_list(v) {
            let (k, value) = item.split_once('=').unwrap_or((item, ""));
            if APP_ONLY_OPTIONS.contains(&k) {
                self.warn(format!(
                    "sync option `{item}` only works on the Application (spec.syncPolicy.\
                     syncOptions), not in a resource annotation"
                ));
                continue;
            }
            match RESOURCE_OPTIONS.iter().find(|(name, _)| *name == k) {
                Some((_, values)) if values.contains(&value) => {}
                Some((_, values)) => {
                    let hint = match suggest(value, values) {
                        Some(s) => format!("; did you mean `{k}={s}`?"),
                        None => format!(" (valid: {})", values.join(", ")),
                    };
                    self.warn(format!(
                        "sync option `{item}` has an invalid value, so Argo CD ignores it{hint}"
                    ));
                }
                None => {
                    let hint = match suggest(k, &keys) {
                        Some(s) if value.is_empty() => format!("; did you mean `{s}=…`?"),
                        Some(s) => format!("; did you mean `{s}={value}`?"),
                        None => String::new(),
                    };
                    self.warn(format!(
                        "sync option `{item}` is not known to Argo CD, so it has no effect{hint}"
                    ));
                }
            }
        }
    }
}

/// How to fix a non-integer wave.
fn integer_fix(v: &str) -> String {
    if let Some(n) = parse_int(v.trim()) {
        return format!("did you mean `{n}`?");
    }
    match v.trim().parse::<f64>() {
        Ok(f) if f.is_finite() => {
            format!(
                "use a whole number such as `{}` or `{}`",
                f.floor(),
                f.ceil()
            )
        }
        _ => "use an integer such as `1` or `-1`".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("kitten", "sitting", 3)]
    #[test_case("polcy", "policy", 1)]
    #[test_case("hookd", "hokod", 1 ; "transposition counts once")]
    #[test_case("", "abc", 3)]
    fn edit_distance_is_osa(a: &str, b: &str, d: usize) {
        assert_eq!(edit_distance(a, b), d);
    }

    #[test]
    fn suggestions_stay_within_distance_two() {
        assert_eq!(suggest("presync", &HookType::ALL_VALUES), Some("PreSync"));
        assert_eq!(suggest("PostSyc", &HookType::ALL_VALUES), Some("PostSync"));
        assert_eq!(suggest("Foo", &HookType::ALL_VALUES), None);
    }

    #[test]
    fn suggestions_are_bounded_for_huge_values() {
        // A 1 MB annotation key: no suggestion, and no quadratic work (the old code allocated a
        // (n+1) x (m+1) table per candidate; this returns at once).
        let huge = "a".repeat(1 << 20);
        let start = std::time::Instant::now();
        assert_eq!(suggest(&huge, &key::PLAN_KEYS), None);
        assert!(start.elapsed() < std::time::Duration::from_millis(200));
        // Just over the limit: no suggestion even though a candidate is a prefix.
        let long = format!("{}{}", key::HOOK, "x".repeat(MAX_SUGGESTION_INPUT));
        assert_eq!(suggest(&long, &key::PLAN_KEYS), None);
        // Length filtering never changes the answer (the distance is at least the length gap).
        assert_eq!(suggest("Sync", &["SyncFail", "Synk"]), Some("Synk"));
        assert_eq!(suggest("Syn", &["SyncFail"]), None);
    }
}
