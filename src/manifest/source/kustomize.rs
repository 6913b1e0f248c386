//! Kustomize options of an Application, applied as Argo CD's repo-server applies them
//! (util/kustomize/kustomize.go in Argo CD): it runs `kustomize edit set|add …` in its own
//! checkout of the source directory, in the order namePrefix, nameSuffix, images, replicas,
//! commonLabels, commonAnnotations, namespace, then appends `patches` to the kustomization and
//! adds `components`, and only then runs `kustomize build`. syncsim does the same edits on a
//! private copy of the tree, writing the kustomization file the way those `kustomize edit`
//! commands write it, so that `kubectl kustomize` (which has no `edit`) can build it too.
use super::{error::At, spec::KustomizeSpec, Error};
use crate::manifest::KUSTOMIZATION_FILES;
use serde_yaml::{Mapping, Value};
use std::path::{Path, PathBuf};

/// Whether the options ask for any edit of the kustomization (then a private copy is needed).
pub fn has_edits(k: &KustomizeSpec) -> bool {
    k.name_prefix.as_deref().is_some_and(|s| !s.is_empty())
        || k.name_suffix.as_deref().is_some_and(|s| !s.is_empty())
        || !k.images.is_empty()
        || !k.replicas.is_empty()
        || !k.common_labels.is_empty()
        || !k.common_annotations.is_empty()
        || k.namespace.as_deref().is_some_and(|s| !s.is_empty())
        || !k.patches.is_empty()
        || !k.components.is_empty()
}

/// Extra `kustomize build` arguments, as Argo CD's `parseKustomizeBuildOptions` makes them: the
/// `kustomize.buildOptions` of `argocd-cm` split on whitespace, then, only when those enable the
/// Helm inflator (`--enable-helm`), the source's `kubeVersion` as `--helm-kube-version` and each
/// of its `apiVersions` as `--helm-api-versions` (kustomize v5.3.0 and later). Without
/// `--enable-helm`, `kubeVersion` and `apiVersions` change nothing, in Argo CD as here.
pub fn build_args(k: &KustomizeSpec, build_options: Option<&str>) -> Vec<String> {
    let options = build_options.unwrap_or("");
    let mut args: Vec<String> = options.split_whitespace().map(str::to_string).collect();
    if options.contains("--enable-helm") {
        if let Some(v) = k.kube_version.as_deref().filter(|v| !v.is_empty()) {
            args.push("--helm-kube-version".to_string());
            args.push(v.to_string());
        }
        for v in &k.api_versions {
            args.push("--helm-api-versions".to_string());
            args.push(v.clone());
        }
    }
    args
}

fn kustomization_file(dir: &Path) -> Option<PathBuf> {
    KUSTOMIZATION_FILES
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
}

fn key(s: &str) -> Value {
    Value::String(s.to_string())
}

/// Applies the options to the kustomization in `dir` (a private copy). `at` is the
/// `…kustomize` field.
pub fn apply(dir: &Path, k: &KustomizeSpec, at: &At) -> Result<(), Error> {
    if k.version.as_deref().is_some_and(|v| !v.is_empty()) {
        return Err(at.field("version").unsupported(
            "a custom kustomize version",
            "syncsim uses the kustomize on PATH; remove the field",
        ));
    }
    let file = kustomization_file(dir)
        .ok_or_else(|| at.err(format!("no kustomization in `{}`", dir.display())))?;
    let text = std::fs::read_to_string(&file).map_err(|e| at.io(&file, e))?;
    let mut doc: Mapping = if text.trim().is_empty() {
        Mapping::new()
    } else {
        serde_yaml::from_str(&text)
            .map_err(|e| at.err(format!("`{}` is not a YAML mapping: {e}", file.display())))?
    };
    if let Some(p) = k.name_prefix.as_deref().filter(|s| !s.is_empty()) {
        doc.insert(key("namePrefix"), key(p));
    }
    if let Some(s) = k.name_suffix.as_deref().filter(|s| !s.is_empty()) {
        doc.insert(key("nameSuffix"), key(s));
    }
    if !k.images.is_empty() {
        set_images(&mut doc, &k.images, &at.field("images"))?;
    }
    if !k.replicas.is_empty() {
        set_replicas(&mut doc, k, &at.field("replicas"))?;
    }
    if !k.common_labels.is_empty() {
        add_map(
            &mut doc,
            "commonLabels",
            "label",
            &k.common_labels,
            k.force_common_labels,
            &at.field("commonLabels"),
        )?;
    }
    if !k.common_annotations.is_empty() {
        add_map(
            &mut doc,
            "commonAnnotations",
            "annotation",
            &k.common_annotations,
            k.force_common_annotations,
            &at.field("commonAnnotations"),
        )?;
    }
    if let Some(ns) = k.namespace.as_deref().filter(|s| !s.is_empty()) {
        doc.insert(key("namespace"), key(ns));
    }
    if !k.patches.is_empty() {
        let list = seq_entry(&mut doc, "patches", &at.field("patches"))?;
        for p in &k.patches {
            let v = serde_yaml::to_value(p).map_err(|e| at.field("patches").err(e.to_string()))?;
            list.push(v);
        }
    }
    if !k.components.is_empty() {
        let at = at.field("components");
        for (i, c) in k.components.iter().enumerate() {
            // `kustomize edit add component` refuses a path that matches nothing.
            if !dir.join(c).exists() {
                return Err(at.err(format!(
                    "component `{c}` (item {i}) does not exist in `{}`",
                    dir.display()
                )));
            }
        }
        let list = seq_entry(&mut doc, "components", &at)?;
        for c in &k.components {
            if !list.iter().any(|v| v.as_str() == Some(c)) {
                list.push(key(c));
            }
        }
    }
    let text = serde_yaml::to_string(&doc).map_err(|e| at.err(e.to_string()))?;
    std::fs::write(&file, text).map_err(|e| at.io(&file, e))
}

fn seq_entry<'a>(doc: &'a mut Mapping, name: &str, at: &At) -> Result<&'a mut Vec<Value>, Error> {
    let entry = doc
        .entry(key(name))
        .or_insert_with(|| Value::Sequence(Vec::new()));
    if entry.is_null() {
        *entry = Value::Sequence(Vec::new());
    }
    entry
        .as_sequence_mut()
        .ok_or_else(|| at.err(format!("`{name}` in the kustomization is not a list")))
}

/// `kustomize edit add label|annotation [--force] k:v …`: adds to `commonLabels` /
/// `commonAnnotations`; a key already there is an error unless forced.
fn add_map(
    doc: &mut Mapping,
    field: &str,
    what: &str,
    values: &std::collections::BTreeMap<String, String>,
    force: bool,
    at: &At,
) -> Result<(), Error> {
    let entry = doc
        .entry(key(field))
        .or_insert_with(|| Value::Mapping(Mapping::new()));
    if entry.is_null() {
        *entry = Value::Mapping(Mapping::new());
    }
    let map = entry
        .as_mapping_mut()
        .ok_or_else(|| at.err(format!("`{field}` in the kustomization is not a mapping")))?;
    for (k, v) in values {
        if map.contains_key(k.as_str()) && !force {
            let force_field = if what == "label" {
                "forceCommonLabels"
            } else {
                "forceCommonAnnotations"
            };
            return Err(at.err(format!(
                "{what} `{k}` is already in the kustomization's {field} (kustomize edit add {what} refuses to override it; set {force_field}: true)"
            )));
        }
        map.insert(key(k), key(v));
    }
    Ok(())
}

/// One `kustomize edit set image` argument: `name=newName[:tag|@digest]`,
/// `name[:tag|@digest]`.
#[derive(Debug, Default, PartialEq, Eq)]
struct ImageEdit {
    name: String,
    new_name: Option<String>,
    new_tag: Option<String>,
    digest: Option<String>,
}

/// Splits `ref` into name, tag and digest; a `:` after the last `/` is a tag.
fn split_ref(r: &str) -> (String, Option<String>, Option<String>) {
    let (rest, digest) = match r.split_once('@') {
        Some((n, d)) => (n, Some(d.to_string())),
        None => (r, None),
    };
    let slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
    match rest[slash..].rfind(':') {
        Some(i) => (
            rest[..slash + i].to_string(),
            Some(rest[slash + i + 1..].to_string()),
            digest,
        ),
        None => (rest.to_string(), None, digest),
    }
}

fn parse_image(arg: &str) -> Option<ImageEdit> {
    let edit = match arg.split_once('=') {
        Some((name, target)) => {
            let (new_name, tag, digest) = split_ref(target);
            ImageEdit {
                name: name.to_string(),
                new_name: Some(new_name),
                new_tag: tag,
                digest,
            }
        }
        None => {
            let (name, tag, digest) = split_ref(arg);
            ImageEdit {
                name,
                new_name: None,
                new_tag: tag,
                digest,
            }
        }
    };
    (!edit.name.is_empty()).then_some(edit)
}

fn set_images(doc: &mut Mapping, images: &[String], at: &At) -> Result<(), Error> {
    let mut edits = Vec::new();
    for (i, arg) in images.iter().enumerate() {
        edits.push(
            parse_image(arg)
                .ok_or_else(|| at.err(format!("item {i} `{arg}` is not an image reference")))?,
        );
    }
    let list = seq_entry(doc, "images", at)?;
    for edit in edits {
        let existing = list
            .iter_mut()
            .filter_map(Value::as_mapping_mut)
            .find(|m| m.get("name").and_then(Value::as_str) == Some(edit.name.as_str()));
        let m = match existing {
            Some(m) => m,
            None => {
                let mut m = Mapping::new();
                m.insert(key("name"), key(&edit.name));
                list.push(Value::Mapping(m));
                list.last_mut()
                    .and_then(Value::as_mapping_mut)
                    .expect("just pushed a mapping")
            }
        };
        if let Some(n) = &edit.new_name {
            m.insert(key("newName"), key(n));
        }
        if let Some(t) = &edit.new_tag {
            m.insert(key("newTag"), key(t));
            m.remove("digest");
        }
        if let Some(d) = &edit.digest {
            m.insert(key("digest"), key(d));
            m.remove("newTag");
        }
    }
    Ok(())
}

fn replica_count(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn set_replicas(doc: &mut Mapping, k: &KustomizeSpec, at: &At) -> Result<(), Error> {
    let mut counts = Vec::new();
    for (i, r) in k.replicas.iter().enumerate() {
        let count = replica_count(&r.count).ok_or_else(|| {
            at.err(format!(
                "item {i} (`{}`): count {} is not an integer",
                r.name, r.count
            ))
        })?;
        counts.push((r.name.clone(), count));
    }
    let list = seq_entry(doc, "replicas", at)?;
    for (name, count) in counts {
        let existing = list
            .iter_mut()
            .filter_map(Value::as_mapping_mut)
            .find(|m| m.get("name").and_then(Value::as_str) == Some(name.as_str()));
        match existing {
            Some(m) => {
                m.insert(key("count"), Value::from(count));
            }
            None => {
                let mut m = Mapping::new();
                m.insert(key("name"), key(&name));
                m.insert(key("count"), Value::from(count));
                list.push(Value::Mapping(m));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("nginx:1.27", "nginx", None, Some("1.27"), None ; "tag only")]
    #[test_case("app=registry.local:5000/team/app:v2", "app", Some("registry.local:5000/team/app"), Some("v2"), None ; "new name with port and tag")]
    #[test_case("app=other@sha256:abc", "app", Some("other"), None, Some("sha256:abc") ; "new name with digest")]
    #[test_case("localhost:5000/app", "localhost:5000/app", None, None, None ; "registry port is not a tag")]
    fn image_arguments_parse_like_kustomize_edit_set_image(
        arg: &str,
        name: &str,
        new_name: Option<&str>,
        tag: Option<&str>,
        digest: Option<&str>,
    ) {
        let e = parse_image(arg).unwrap();
        assert_eq!(e.name, name);
        assert_eq!(e.new_name.as_deref(), new_name);
        assert_eq!(e.new_tag.as_deref(), tag);
        assert_eq!(e.digest.as_deref(), digest);
    }

    fn at() -> At {
        At {
            file: "app.yaml".into(),
            app: "a".into(),
            field: "spec.source.kustomize".into(),
        }
    }

    #[test]
    fn edits_merge_into_the_kustomization() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("kustomization.yaml"),
            "resources: [a.yaml]\nimages:\n- name: app\n  newTag: v1\ncommonLabels:\n  team: x\n",
        )
        .unwrap();
        let spec: KustomizeSpec = serde_json::from_value(serde_json::json!({
            "namePrefix": "p-",
            "images": ["app:v2", "db=postgres:17"],
            "replicas": [{"name": "web", "count": "3"}],
            "commonLabels": {"env": "prod"},
            "namespace": "ns1"
        }))
        .unwrap();
        apply(tmp.path(), &spec, &at()).unwrap();
        let doc: serde_yaml::Value = serde_yaml::from_str(
            &std::fs::read_to_string(tmp.path().join("kustomization.yaml")).unwrap(),
        )
        .unwrap();
        assert_eq!(doc["namePrefix"], "p-");
        assert_eq!(doc["namespace"], "ns1");
        assert_eq!(doc["images"][0]["newTag"], "v2");
        assert_eq!(doc["images"][1]["newName"], "postgres");
        assert_eq!(doc["replicas"][0]["count"], 3);
        assert_eq!(doc["commonLabels"]["team"], "x");
        assert_eq!(doc["commonLabels"]["env"], "prod");
    }

    #[test]
    fn helm_versions_reach_kustomize_only_with_enable_helm() {
        let k: KustomizeSpec = serde_json::from_value(serde_json::json!({
            "kubeVersion": "1.30.0",
            "apiVersions": ["a/v1", "b/v1"]
        }))
        .unwrap();
        assert!(build_args(&k, None).is_empty());
        assert_eq!(
            build_args(&k, Some("--load-restrictor LoadRestrictionsNone")),
            ["--load-restrictor", "LoadRestrictionsNone"]
        );
        assert_eq!(
            build_args(&k, Some(" --enable-helm ")),
            [
                "--enable-helm",
                "--helm-kube-version",
                "1.30.0",
                "--helm-api-versions",
                "a/v1",
                "--helm-api-versions",
                "b/v1"
            ]
        );
    }

    #[test]
    fn an_existing_label_needs_force() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("kustomization.yaml");
        std::fs::write(&file, "commonLabels:\n  env: dev\n").unwrap();
        let mut spec: KustomizeSpec =
            serde_json::from_value(serde_json::json!({"commonLabels": {"env": "prod"}})).unwrap();
        let err = apply(tmp.path(), &spec, &at()).unwrap_err();
        assert!(
            err.to_string()
                .contains("spec.source.kustomize.commonLabels"),
            "{err}"
        );
        spec.force_common_labels = true;
        apply(tmp.path(), &spec, &at()).unwrap();
        assert!(std::fs::read_to_string(&file)
            .unwrap()
            .contains("env: prod"));
    }
}
