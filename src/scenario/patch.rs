//! Kustomize-style changes to rendered objects: strategic-merge-like patches, JSON 6902
//! operations (RFC 6902, applied by the `json-patch` crate) and ConfigMap file edits. Pure:
//! objects in, objects out.
use super::spec::{Op, PatchTarget};
use crate::manifest::Object;
use json_patch::{
    jsonptr::PointerBuf, AddOperation, CopyOperation, MoveOperation, PatchErrorKind,
    PatchOperation, RemoveOperation, ReplaceOperation, TestOperation,
};
use serde_json::{Map, Value};

/// List fields merged by a key instead of replaced, as Kubernetes' strategic merge does for the
/// pod template (`containers` by `name`, `volumeMounts` by `mountPath`, …).
const MERGE_KEYS: &[(&str, &str)] = &[
    ("containers", "name"),
    ("initContainers", "name"),
    ("env", "name"),
    ("volumes", "name"),
    ("volumeMounts", "mountPath"),
    ("ports", "containerPort"),
    ("imagePullSecrets", "name"),
];

/// Merges `patch` into `base`: maps recursively, `null` deletes a key, lists in [`MERGE_KEYS`]
/// merged item by item on their key (new items appended), any other list replaced.
pub fn strategic_merge(base: &mut Value, patch: &Value) {
    merge_value(base, patch, None);
}

fn merge_value(base: &mut Value, patch: &Value, field: Option<&str>) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => merge_map(b, p),
        (Value::Array(b), Value::Array(p)) => {
            let key = field.and_then(|f| MERGE_KEYS.iter().find(|(n, _)| *n == f).map(|(_, k)| *k));
            match key {
                Some(k) => merge_list(b, p, k),
                None => *b = p.clone(),
            }
        }
        (b, p) => *b = p.clone(),
    }
}

fn merge_map(base: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (k, v) in patch {
        if v.is_null() {
            base.remove(k);
            continue;
        }
        match base.get_mut(k) {
            Some(existing) => merge_value(existing, v, Some(k)),
            None => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

fn merge_list(base: &mut Vec<Value>, patch: &[Value], key: &str) {
    for item in patch {
        let id = item.get(key);
        match id.and_then(|id| base.iter_mut().find(|b| b.get(key) == Some(id))) {
            Some(existing) => merge_value(existing, item, None),
            None => base.push(item.clone()),
        }
    }
}

/// Applies a `merge` patch to the object with the same kind, name (and namespace, when the patch
/// gives one).
///
/// # Errors
///
/// When no object matches.
pub fn apply_merge(objects: &mut [Object], patch: &Value) -> Result<(), String> {
    let kind = patch["kind"].as_str().unwrap_or("");
    let name = patch
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let ns = patch.pointer("/metadata/namespace").and_then(Value::as_str);
    let obj = objects
        .iter_mut()
        .find(|o| o.kind() == kind && o.name() == name && ns.is_none_or(|n| o.namespace() == n))
        .ok_or_else(|| format!("merge patch: no rendered {kind} called `{name}`"))?;
    strategic_merge(&mut obj.value, patch);
    Ok(())
}

/// Applies JSON 6902 operations to the object `target` names, one after the other (the
/// `json-patch` crate does the work: `add`, `remove`, `replace`, `move`, `copy` and `test`).
///
/// # Errors
///
/// When no object matches, or an operation fails: a path or `from` that does not exist, a `test`
/// that finds another value, a `move` into its own child. The message names the object, the
/// operation (its position in `ops`, 1-based) and why it failed.
pub fn apply_json6902(
    objects: &mut [Object],
    target: &PatchTarget,
    ops: &[Op],
) -> Result<(), String> {
    let obj = objects
        .iter_mut()
        .find(|o| {
            o.name() == target.name
                && target.kind.as_deref().is_none_or(|k| o.kind() == k)
                && target
                    .namespace
                    .as_deref()
                    .is_none_or(|n| o.namespace() == n)
        })
        .ok_or_else(|| {
            format!(
                "json6902 patch: no rendered {} called `{}`",
                target.kind.as_deref().unwrap_or("object"),
                target.name
            )
        })?;
    let what = format!("{}/{}", obj.kind(), obj.name());
    let secret = obj.kind() == "Secret";
    for (i, op) in ops.iter().enumerate() {
        apply_op(&mut obj.value, op).map_err(|e| {
            let e = if secret {
                redact_secret_error(op, e)
            } else {
                e
            };
            format!(
                "json6902 patch on {what}: operation {} of {} ({}): {e}",
                i + 1,
                ops.len(),
                describe(op)
            )
        })?;
    }
    Ok(())
}

/// A failed `test` on a Secret's values says that they differ, not what they are.
fn redact_secret_error(op: &Op, e: String) -> String {
    match op {
        Op::Test { path, .. }
            if path.is_empty() || path.starts_with("/data") || path.starts_with("/stringData") =>
        {
            if e.ends_with("does not exist") {
                e
            } else {
                format!("`{path}` is not the value given (Secret values are not shown)")
            }
        }
        _ => e,
    }
}

/// `replace /spec/x`, `move /a -> /b`: how an operation is named in messages.
fn describe(op: &Op) -> String {
    match op {
        Op::Add { path, .. } => format!("add {path}"),
        Op::Remove { path } => format!("remove {path}"),
        Op::Replace { path, .. } => format!("replace {path}"),
        Op::Test { path, .. } => format!("test {path}"),
        Op::Move { from, path } => format!("move {from} -> {path}"),
        Op::Copy { from, path } => format!("copy {from} -> {path}"),
    }
}

fn pointer(path: &str) -> Result<PointerBuf, String> {
    PointerBuf::parse(path).map_err(|_| {
        format!("`{path}` is not a JSON pointer (it starts with `/`, `~` is written `~0`)")
    })
}

/// One RFC 6902 operation on `doc`. On error `doc` is left as it was.
///
/// # Errors
///
/// See [`apply_json6902`].
pub fn apply_op(doc: &mut Value, op: &Op) -> Result<(), String> {
    let operation = match op {
        Op::Add { path, value } => PatchOperation::Add(AddOperation {
            path: pointer(path)?,
            value: value.clone(),
        }),
        Op::Remove { path } => PatchOperation::Remove(RemoveOperation {
            path: pointer(path)?,
        }),
        Op::Replace { path, value } => PatchOperation::Replace(ReplaceOperation {
            path: pointer(path)?,
            value: value.clone(),
        }),
        Op::Test { path, value } => PatchOperation::Test(TestOperation {
            path: pointer(path)?,
            value: value.clone(),
        }),
        Op::Move { from, path } => PatchOperation::Move(MoveOperation {
            from: pointer(from)?,
            path: pointer(path)?,
        }),
        Op::Copy { from, path } => PatchOperation::Copy(CopyOperation {
            from: pointer(from)?,
            path: pointer(path)?,
        }),
    };
    let Err(err) = json_patch::patch(doc, std::slice::from_ref(&operation)) else {
        return Ok(());
    };
    // `json_patch::patch` undid the operation: `doc` is the document the operation saw.
    Err(match (err.kind, op) {
        (PatchErrorKind::TestFailed, Op::Test { path, value }) => match doc.pointer(path) {
            Some(v) => format!("`{path}` is {v}, not {value}"),
            None => format!("path `{path}` does not exist"),
        },
        (PatchErrorKind::InvalidFromPointer, Op::Move { from, .. } | Op::Copy { from, .. }) => {
            format!("`from` path `{from}` does not exist")
        }
        (PatchErrorKind::CannotMoveInsideItself, Op::Move { from, path }) => {
            format!("cannot move `{from}` into its own child `{path}`")
        }
        (PatchErrorKind::InvalidPointer, Op::Replace { path, .. }) => {
            format!("path `{path}` does not exist (use `add`)")
        }
        (PatchErrorKind::InvalidPointer, Op::Remove { path } | Op::Test { path, .. }) => {
            format!("path `{path}` does not exist")
        }
        (
            PatchErrorKind::InvalidPointer,
            Op::Add { path, .. } | Op::Move { path, .. } | Op::Copy { path, .. },
        ) => format!(
            "cannot add at `{path}`: its parent does not exist, is not an object or an array, \
             or the array index is past the end"
        ),
        (kind, _) => kind.to_string(),
    })
}

/// Adds or replaces `key` in ConfigMap `name` (in `namespace`, when given).
///
/// # Errors
///
/// When there is no such ConfigMap.
pub fn set_config_map_key(
    objects: &mut [Object],
    name: &str,
    namespace: Option<&str>,
    key: &str,
    content: &str,
) -> Result<(), String> {
    let cm = objects
        .iter_mut()
        .find(|o| {
            o.kind() == "ConfigMap"
                && o.name() == name
                && namespace.is_none_or(|n| o.namespace() == n)
        })
        .ok_or_else(|| format!("no rendered ConfigMap called `{name}`"))?;
    let obj = cm
        .value
        .as_object_mut()
        .ok_or_else(|| format!("ConfigMap `{name}` is not an object"))?;
    let data = obj
        .entry("data")
        .or_insert_with(|| Value::Object(Map::new()));
    if !data.is_object() {
        *data = Value::Object(Map::new());
    }
    data.as_object_mut()
        .expect("made an object above")
        .insert(key.to_string(), Value::String(content.to_string()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn objs(yaml: &str) -> Vec<Object> {
        crate::manifest::from_yaml_str(yaml, "t.yaml").unwrap()
    }

    const JOB: &str = "apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: shop
spec:
  backoffLimit: 4
  template:
    spec:
      containers:
        - name: flyway
          image: flyway:10
          args: [migrate]
          env:
            - {name: A, value: '1'}
            - {name: B, value: '2'}
        - name: sidecar
          image: busybox
";

    #[test]
    fn merge_patches_containers_by_name_and_env_by_name() {
        let mut o = objs(JOB);
        let patch = json!({"kind": "Job", "metadata": {"name": "migrate"}, "spec": {"backoffLimit": 0,
            "template": {"spec": {"containers": [{"name": "flyway", "image": "flyway:11",
                "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}]}]}}}});
        apply_merge(&mut o, &patch).unwrap();
        let v = &o[0].value;
        assert_eq!(v["spec"]["backoffLimit"], 0);
        let cs = v["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap();
        assert_eq!(cs.len(), 2, "sidecar kept");
        assert_eq!(cs[0]["image"], "flyway:11");
        assert_eq!(cs[0]["args"], json!(["migrate"]), "untouched fields kept");
        assert_eq!(
            cs[0]["env"],
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "3"}, {"name": "C", "value": "4"}])
        );
        assert_eq!(cs[1]["image"], "busybox");
    }

    #[test]
    fn merge_null_deletes_and_other_lists_are_replaced() {
        let mut o = objs(JOB);
        let patch = json!({"kind": "Job", "metadata": {"name": "migrate"}, "spec": {"backoffLimit": null,
            "template": {"spec": {"containers": [{"name": "flyway", "args": ["info"]}]}}}});
        apply_merge(&mut o, &patch).unwrap();
        assert!(o[0].value["spec"].get("backoffLimit").is_none());
        assert_eq!(
            o[0].value
                .pointer("/spec/template/spec/containers/0/args")
                .unwrap(),
            &json!(["info"])
        );
    }

    #[test]
    fn merge_needs_a_matching_kind_name_and_namespace() {
        let mut o = objs(JOB);
        let err = apply_merge(
            &mut o,
            &json!({"kind": "Deployment", "metadata": {"name": "migrate"}}),
        )
        .unwrap_err();
        assert!(
            err.contains("Deployment") && err.contains("migrate"),
            "{err}"
        );
        let err = apply_merge(
            &mut o,
            &json!({"kind": "Job", "metadata": {"name": "migrate", "namespace": "other"}}),
        );
        assert!(err.is_err());
    }

    #[test]
    fn json6902_add_remove_replace_test() {
        let mut o = objs(JOB);
        let t = PatchTarget {
            kind: Some("Job".into()),
            name: "migrate".into(),
            namespace: None,
        };
        let ops: Vec<Op> = serde_yaml::from_str(
            "- {op: test, path: /spec/backoffLimit, value: 4}
- {op: replace, path: /spec/backoffLimit, value: 0}
- {op: add, path: /metadata/annotations, value: {}}
- {op: add, path: /metadata/annotations/argocd.argoproj.io~1hook, value: PreSync}
- {op: add, path: /spec/template/spec/containers/0/args/-, value: -X}
- {op: add, path: /spec/template/spec/containers/0/args/0, value: first}
- {op: remove, path: /spec/template/spec/containers/1}
",
        )
        .unwrap();
        apply_json6902(&mut o, &t, &ops).unwrap();
        let v = &o[0].value;
        assert_eq!(v["spec"]["backoffLimit"], 0);
        assert_eq!(
            v["metadata"]["annotations"]["argocd.argoproj.io/hook"],
            "PreSync"
        );
        assert_eq!(
            v.pointer("/spec/template/spec/containers/0/args").unwrap(),
            &json!(["first", "migrate", "-X"])
        );
        assert_eq!(
            v["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn json6902_errors_name_the_path() {
        let mut o = objs(JOB);
        let t = PatchTarget {
            kind: None,
            name: "migrate".into(),
            namespace: None,
        };
        let replace: Vec<Op> =
            serde_yaml::from_str("- {op: replace, path: /spec/nope, value: 1}").unwrap();
        let err = apply_json6902(&mut o, &t, &replace).unwrap_err();
        assert!(
            err.contains("/spec/nope") && err.contains("Job/migrate"),
            "{err}"
        );
        let test: Vec<Op> =
            serde_yaml::from_str("- {op: test, path: /spec/backoffLimit, value: 9}").unwrap();
        assert!(apply_json6902(&mut o, &t, &test)
            .unwrap_err()
            .contains("not 9"));
        let remove: Vec<Op> =
            serde_yaml::from_str("- {op: remove, path: /spec/template/spec/containers/5}").unwrap();
        assert!(apply_json6902(&mut o, &t, &remove).is_err());
        let missing = PatchTarget {
            kind: None,
            name: "nope".into(),
            namespace: None,
        };
        assert!(apply_json6902(&mut o, &missing, &[])
            .unwrap_err()
            .contains("`nope`"));
    }

    fn job_target() -> PatchTarget {
        PatchTarget {
            kind: Some("Job".into()),
            name: "migrate".into(),
            namespace: Some("shop".into()),
        }
    }

    #[test]
    fn json6902_move_and_copy() {
        let mut o = objs(JOB);
        let ops: Vec<Op> = serde_yaml::from_str(
            "- {op: copy, from: /spec/template/spec/containers/0/env/0, path: /spec/template/spec/containers/1/env}
- {op: move, from: /spec/template/spec/containers/1/env, path: /spec/template/spec/containers/1/envCopy}
- {op: move, from: /spec/template/spec/containers/0/args, path: /spec/template/spec/containers/0/command}
- {op: copy, from: /metadata/name, path: /metadata/labels}
- {op: move, from: /spec/template/spec/containers/1, path: /spec/template/spec/containers/0}
",
        )
        .unwrap();
        apply_json6902(&mut o, &job_target(), &ops).unwrap();
        let cs = &o[0].value["spec"]["template"]["spec"]["containers"];
        assert_eq!(cs[0]["name"], "sidecar", "move within an array reorders");
        assert_eq!(cs[0]["envCopy"], json!({"name": "A", "value": "1"}));
        assert!(cs[0].get("env").is_none(), "move removes the source");
        assert_eq!(cs[1]["command"], json!(["migrate"]));
        assert!(cs[1].get("args").is_none());
        assert_eq!(
            cs[1]["env"][0],
            json!({"name": "A", "value": "1"}),
            "copy keeps the source"
        );
        assert_eq!(o[0].value["metadata"]["labels"], "migrate");
    }

    #[test]
    fn json6902_test_guards_the_following_operations() {
        let mut o = objs(JOB);
        let before = o[0].value.clone();
        let ops: Vec<Op> = serde_yaml::from_str(
            "- {op: replace, path: /spec/backoffLimit, value: 1}
- {op: test, path: /spec/template/spec/containers/0/image, value: 'flyway:9'}
- {op: remove, path: /spec/template/spec/containers/1}
",
        )
        .unwrap();
        let err = apply_json6902(&mut o, &job_target(), &ops).unwrap_err();
        assert_eq!(
            err,
            "json6902 patch on Job/migrate: operation 2 of 3 (test \
             /spec/template/spec/containers/0/image): \
             `/spec/template/spec/containers/0/image` is \"flyway:10\", not \"flyway:9\""
        );
        assert_eq!(
            o[0].value["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
                .len(),
            2,
            "nothing after the failed test ran"
        );
        assert_eq!(o[0].value["spec"]["backoffLimit"], 1);
        assert_ne!(o[0].value, before);

        let ok: Vec<Op> = serde_yaml::from_str(
            "- {op: test, path: /spec/template/spec/containers/1/name, value: sidecar}",
        )
        .unwrap();
        apply_json6902(&mut o, &job_target(), &ok).unwrap();
    }

    #[test]
    fn a_failed_test_on_a_secret_does_not_show_its_values() {
        let mut o = objs("apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\nstringData: {password: hunter22}\n");
        let target = PatchTarget {
            kind: Some("Secret".into()),
            name: "creds".into(),
            namespace: None,
        };
        for path in ["/stringData/password", "/stringData", ""] {
            let ops: Vec<Op> =
                serde_yaml::from_str(&format!("- {{op: test, path: '{path}', value: guess99}}"))
                    .unwrap();
            let err = apply_json6902(&mut o, &target, &ops).unwrap_err();
            assert!(
                !err.contains("hunter22") && !err.contains("guess99"),
                "{err}"
            );
            assert!(err.contains("Secret values are not shown"), "{err}");
        }
    }

    #[test]
    fn json6902_move_and_copy_errors() {
        let mut o = objs(JOB);
        let t = job_target();
        let cases = [
            (
                "- {op: move, from: /spec/nope, path: /spec/x}",
                "operation 1 of 1 (move /spec/nope -> /spec/x): `from` path `/spec/nope` does not exist",
            ),
            (
                "- {op: copy, from: /spec/nope, path: /spec/x}",
                "(copy /spec/nope -> /spec/x): `from` path `/spec/nope` does not exist",
            ),
            (
                "- {op: move, from: /spec, path: /spec/template/inner}",
                "cannot move `/spec` into its own child `/spec/template/inner`",
            ),
            (
                "- {op: copy, from: /spec/backoffLimit, path: /nope/deeper}",
                "cannot add at `/nope/deeper`",
            ),
            (
                "- {op: add, path: spec, value: 1}",
                "`spec` is not a JSON pointer",
            ),
        ];
        for (yaml, want) in cases {
            let ops: Vec<Op> = serde_yaml::from_str(yaml).unwrap();
            let err = apply_json6902(&mut o, &t, &ops).unwrap_err();
            assert!(
                err.starts_with("json6902 patch on Job/migrate: ") && err.contains(want),
                "{yaml}: {err}"
            );
        }
        let unknown: Result<Vec<Op>, _> =
            serde_yaml::from_str("- {op: move, from: /a, path: /b, value: 1}");
        assert!(unknown.is_err(), "unknown fields are rejected");
    }

    #[test]
    fn config_map_keys_are_added_or_replaced() {
        let mut o = objs("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\ndata: {V1__init.sql: 'create table a();'}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: empty}\n");
        set_config_map_key(&mut o, "m", None, "V3__broken.sql", "select nope;").unwrap();
        set_config_map_key(&mut o, "m", None, "V1__init.sql", "create table b();").unwrap();
        set_config_map_key(&mut o, "empty", None, "k", "v").unwrap();
        assert_eq!(
            o[0].value["data"],
            json!({"V1__init.sql": "create table b();", "V3__broken.sql": "select nope;"})
        );
        assert_eq!(o[1].value["data"], json!({"k": "v"}));
        assert!(set_config_map_key(&mut o, "x", None, "k", "v")
            .unwrap_err()
            .contains("`x`"));
    }
}
