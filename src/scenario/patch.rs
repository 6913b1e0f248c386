//! Kustomize-style changes to rendered objects: strategic-merge-like patches, JSON 6902
//! operations and ConfigMap file edits. Pure: objects in, objects out.
use super::spec::{Op, PatchTarget};
use crate::manifest::Object;
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

/// Applies JSON 6902 operations to the object `target` names.
///
/// # Errors
///
/// When no object matches, a path does not exist (`replace`, `remove`, `test`), or a `test`
/// finds another value.
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
    for op in ops {
        apply_op(&mut obj.value, op).map_err(|e| format!("json6902 patch on {what}: {e}"))?;
    }
    Ok(())
}

/// One RFC 6902 operation on `doc`.
pub fn apply_op(doc: &mut Value, op: &Op) -> Result<(), String> {
    match op {
        Op::Add { path, value } => add(doc, path, value.clone()),
        Op::Remove { path } => remove(doc, path).map(drop),
        Op::Replace { path, value } => {
            let slot = doc
                .pointer_mut(path)
                .ok_or_else(|| format!("replace: path `{path}` does not exist (use `add`)"))?;
            *slot = value.clone();
            Ok(())
        }
        Op::Test { path, value } => match doc.pointer(path) {
            Some(v) if v == value => Ok(()),
            Some(v) => Err(format!("test: `{path}` is {v}, not {value}")),
            None => Err(format!("test: path `{path}` does not exist")),
        },
    }
}

/// Splits a JSON pointer into its parent pointer and last token (unescaped).
fn split_pointer(path: &str) -> Result<(&str, String), String> {
    if !path.starts_with('/') {
        return Err(format!(
            "`{path}` is not a JSON pointer (it starts with `/`)"
        ));
    }
    let i = path.rfind('/').unwrap_or(0);
    let token = path[i + 1..].replace("~1", "/").replace("~0", "~");
    Ok((&path[..i], token))
}

fn add(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let (parent, token) = split_pointer(path)?;
    let target = doc
        .pointer_mut(parent)
        .ok_or_else(|| format!("add: parent `{parent}` of `{path}` does not exist"))?;
    match target {
        Value::Object(m) => {
            m.insert(token, value);
            Ok(())
        }
        Value::Array(a) => {
            if token == "-" {
                a.push(value);
                return Ok(());
            }
            let i: usize = token
                .parse()
                .map_err(|_| format!("add: `{token}` is not an array index"))?;
            if i > a.len() {
                return Err(format!(
                    "add: index {i} is past the end ({} items)",
                    a.len()
                ));
            }
            a.insert(i, value);
            Ok(())
        }
        _ => Err(format!("add: `{parent}` is neither an object nor an array")),
    }
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, token) = split_pointer(path)?;
    let missing = || format!("remove: path `{path}` does not exist");
    match doc.pointer_mut(parent).ok_or_else(missing)? {
        Value::Object(m) => m.remove(&token).ok_or_else(missing),
        Value::Array(a) => {
            let i: usize = token.parse().map_err(|_| missing())?;
            if i < a.len() {
                Ok(a.remove(i))
            } else {
                Err(missing())
            }
        }
        _ => Err(missing()),
    }
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
