//! Sync status of a kept environment against a render (`argocd app get`'s STATUS column), pure.
use crate::{
    cluster::applied_form,
    manifest::{source::IgnoreDifference, ObjectKey},
    plan::{self, Plan, Task},
    state::{secret, EnvRecord, ObjectRecord},
};
use serde_json::Value;
use std::collections::BTreeSet;

/// Argo CD's per-resource sync status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SyncStatus {
    Synced,
    OutOfSync,
}

impl SyncStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncStatus::Synced => "Synced",
            SyncStatus::OutOfSync => "OutOfSync",
        }
    }
}

/// One row of the comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Compared {
    pub key: ObjectKey,
    /// `None` for hooks: they do not count for sync status (§3.6).
    pub status: Option<SyncStatus>,
    /// Why it is out of sync: `missing`, `changed`, `requires pruning`; empty when synced.
    pub reason: &'static str,
    /// The object as recorded (`None` when missing from the environment).
    pub live: Option<ObjectRecord>,
    pub hook: bool,
}

/// Whether an `ignoreDifferences` entry applies to `key`: `group` and `kind` match as globs
/// (`*` any run of characters, as Argo CD's `util/glob`), `name` and `namespace` exactly when
/// they are set (argo-cd `util/argo/normalizers/diff_normalizer.go`).
fn applies(d: &IgnoreDifference, key: &ObjectKey) -> bool {
    let exact = |want: &str, have: &str| want.is_empty() || want == have;
    glob(&d.group, &key.group)
        && glob(&d.kind, &key.kind)
        && exact(&d.name, &key.name)
        && exact(&d.namespace, &key.namespace)
}

/// `pattern` with `*` wildcards matches all of `s`.
fn glob(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !s.starts_with(first) || !s[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &s[first.len()..s.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// Whether `obj` is the Namespace `CreateNamespace=true` created.
pub(super) fn created_namespace(obj: &crate::manifest::Object) -> bool {
    obj.value
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(super::sync::CREATED_NAMESPACE))
        .is_some()
}

/// Removes the value at JSON pointer `pointer` from `v`, if there is one.
fn remove_pointer(v: &mut Value, pointer: &str) {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return;
    };
    let last = last.replace("~1", "/").replace("~0", "~");
    match v.pointer_mut(parent) {
        Some(Value::Object(m)) => {
            m.remove(&last);
        }
        Some(Value::Array(a)) => {
            if let Ok(i) = last.parse::<usize>() {
                if i < a.len() {
                    a.remove(i);
                }
            }
        }
        _ => {}
    }
}

/// `obj` (of `key`) without the fields the Application's `ignoreDifferences` leave out of the
/// comparison (`jsonPointers`; §6.6).
pub fn normalized(mut obj: Value, key: &ObjectKey, ignore: &[IgnoreDifference]) -> Value {
    for d in ignore.iter().filter(|d| applies(d, key)) {
        for p in &d.json_pointers {
            remove_pointer(&mut obj, p);
        }
    }
    obj
}

/// Compares every resource of `plan` with the environment, by applied spec, leaving out the
/// fields `ignore` names (an Application's `ignoreDifferences`): missing or different ⇒
/// OutOfSync; recorded non-hook objects without a target ⇒ OutOfSync (requires pruning). Hooks
/// that still exist are listed without a sync status. Order: the plan's, then extras, then
/// hooks.
pub fn compare(plan: &Plan, record: &EnvRecord, ignore: &[IgnoreDifference]) -> Vec<Compared> {
    let mut out = Vec::new();
    let mut seen: BTreeSet<ObjectKey> = BTreeSet::new();
    for t in plan.tasks().filter(|t| !t.hook) {
        let key = t.key();
        if !seen.insert(key.clone()) {
            continue;
        }
        let live = record.object(&key).cloned();
        let (status, reason) = match &live {
            None => (SyncStatus::OutOfSync, "missing"),
            // Secret values are compared by their salted hashes: the record holds no values.
            Some(l)
                if normalized(secret::redact(&l.object, &record.secret_salt), &key, ignore)
                    == normalized(
                        secret::redact(&applied_form(&t.object), &record.secret_salt),
                        &key,
                        ignore,
                    ) =>
            {
                (SyncStatus::Synced, "")
            }
            Some(_) => (SyncStatus::OutOfSync, "changed"),
        };
        out.push(Compared {
            key,
            status: Some(status),
            reason,
            live,
            hook: false,
        });
    }
    // The namespace of CreateNamespace=true is not the application's: never pruned (§2.1.4).
    let live: Vec<_> = record
        .objects
        .iter()
        .map(|r| (r.to_object(), r.hook))
        .filter(|(o, _)| !created_namespace(o))
        .collect();
    for extra in plan::prune_candidates(live.iter().map(|(o, h)| (o, *h)), plan) {
        let key = extra.key();
        out.push(Compared {
            live: record.object(&key).cloned(),
            key,
            status: Some(SyncStatus::OutOfSync),
            reason: "requires pruning",
            hook: false,
        });
    }
    let targets: BTreeSet<ObjectKey> = plan.tasks().map(Task::key).collect();
    for r in record.objects.iter().filter(|r| r.hook) {
        let key = r.key();
        out.push(Compared {
            status: None,
            reason: if targets.contains(&key) {
                ""
            } else {
                "not in the source"
            },
            key,
            live: Some(r.clone()),
            hook: true,
        });
    }
    out
}

/// The app's sync status: OutOfSync if any resource is.
pub fn app_sync_status(rows: &[Compared]) -> SyncStatus {
    rows.iter()
        .filter_map(|r| r.status)
        .max()
        .unwrap_or(SyncStatus::Synced)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        manifest::from_yaml_str,
        plan::PlanOptions,
        state::{spec_hash, RECORD_VERSION},
    };

    fn plan_of(yaml: &str) -> Plan {
        crate::plan::build(&from_yaml_str(yaml, "t").unwrap(), &PlanOptions::default()).unwrap()
    }

    fn record_of(plan: &Plan) -> EnvRecord {
        EnvRecord {
            version: RECORD_VERSION,
            app: "a".into(),
            network: "syncsim-a".into(),
            source: "s".into(),
            dest_namespace: "default".into(),
            images: vec![],
            saved_at: String::new(),
            last_operation: None,
            secret_salt: String::new(),
            objects: plan
                .tasks()
                .map(|t| {
                    let k = t.key();
                    let object = applied_form(&t.object);
                    ObjectRecord {
                        group: k.group,
                        kind: k.kind,
                        namespace: k.namespace,
                        name: k.name,
                        hook: t.hook,
                        spec_hash: spec_hash(&object),
                        object,
                        status: None,
                        pods: vec![],
                        volume: None,
                    }
                })
                .collect(),
        }
    }

    const V1: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {template: {spec: {containers: [{name: c, image: a}]}}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: b}\n---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: h, annotations: {argocd.argoproj.io/hook: PostSync}}\n";

    #[test]
    fn same_render_is_synced_even_with_defaults_filled_in() {
        let p = plan_of(V1);
        let rows = compare(&p, &record_of(&p), &[]);
        assert_eq!(app_sync_status(&rows), SyncStatus::Synced);
        assert_eq!(rows.len(), 3);
        assert!(rows.iter().any(|r| r.hook && r.status.is_none()));
    }

    #[test]
    fn changed_missing_and_extra_objects_are_out_of_sync() {
        let kept = record_of(&plan_of(V1));
        let v2 = V1
            .replace("image: a", "image: b")
            .replace("name: cm", "name: cm2");
        let rows = compare(&plan_of(&v2), &kept, &[]);
        let get = |n: &str| rows.iter().find(|r| r.key.name == n).unwrap();
        assert_eq!(get("web").reason, "changed");
        assert_eq!(get("cm2").reason, "missing");
        assert_eq!(get("cm").reason, "requires pruning");
        assert_eq!(app_sync_status(&rows), SyncStatus::OutOfSync);
        // Hook changes alone never make the app OutOfSync.
        let hook_only = V1.replace("name: h,", "name: h2,");
        assert_eq!(
            app_sync_status(&compare(&plan_of(&hook_only), &kept, &[])),
            SyncStatus::Synced
        );
    }

    #[test]
    fn ignore_differences_leave_their_json_pointers_out_of_the_comparison() {
        let kept = record_of(&plan_of(V1));
        let v2 = V1
            .replace("image: a", "image: b")
            .replace("{a: b}", "{a: c}");
        let ignore = |group: &str, kind: &str, name: &str, ptr: &str| IgnoreDifference {
            group: group.into(),
            kind: kind.into(),
            name: name.into(),
            json_pointers: vec![ptr.into()],
            ..IgnoreDifference::default()
        };
        let status = |ig: &[IgnoreDifference]| {
            let rows = compare(&plan_of(&v2), &kept, ig);
            rows.iter()
                .filter(|r| r.status == Some(SyncStatus::OutOfSync))
                .map(|r| r.key.name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(status(&[]), ["cm", "web"], "plan order");
        let image = ignore(
            "apps",
            "Deployment",
            "",
            "/spec/template/spec/containers/0/image",
        );
        assert_eq!(status(std::slice::from_ref(&image)), ["cm"]);
        let data = ignore("", "ConfigMap", "cm", "/data");
        assert_eq!(status(&[image.clone(), data]), Vec::<String>::new());
        // Another name, another kind or a pointer elsewhere does not hide the change.
        assert_eq!(
            status(&[image.clone(), ignore("", "ConfigMap", "other", "/data")]),
            ["cm"]
        );
        assert_eq!(
            status(&[ignore("apps", "StatefulSet", "", "/spec")]),
            ["cm", "web"]
        );
        assert_eq!(
            status(&[image, ignore("", "ConfigMap", "", "/data/zz")]),
            ["cm"]
        );
    }
}
