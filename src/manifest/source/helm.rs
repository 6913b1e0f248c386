//! Helm sources: `helm template` with the flags Argo CD's repo-server passes
//! (util/helm/cmd.go and reposerver/repository/repository.go in Argo CD):
//! `helm template . --name-template RELEASE --namespace NS --kube-version V
//! [--set|--set-string|--set-file …] [--values FILE …] [--api-versions …] [--include-crds]
//! [--skip-schema-validation] [--skip-tests]`, run in the chart directory, with the inline
//! `valuesObject` (or `values`) as the last values file.
use super::{error::At, spec::HelmSpec, Error};
use crate::manifest::{self, Object};
use std::{
    collections::BTreeMap,
    ffi::OsString,
    path::{Path, PathBuf},
    process::Command,
};

/// The Kubernetes version `helm template` is told (Argo CD passes the destination cluster's;
/// syncsim models Kubernetes 1.33, the API its objects are checked against). `helm.kubeVersion`
/// overrides it.
pub const KUBE_VERSION: &str = "1.33.0";

/// Everything a Helm source needs besides its spec.
pub struct HelmInput<'a> {
    /// The chart directory (in the tree of the source's revision).
    pub chart_dir: &'a Path,
    /// The repository root of that tree: values files must stay inside it.
    pub tree_root: &'a Path,
    /// Shown in origins instead of the (possibly temporary) chart directory.
    pub display: &'a str,
    /// Application name: the default release name.
    pub app_name: &'a str,
    /// `destination.namespace`.
    pub dest_namespace: Option<&'a str>,
    /// `ref:` sources of a multi-source Application: name → tree root, for `$name/…` files.
    pub refs: &'a BTreeMap<String, PathBuf>,
    /// Where to look for `helm`; `None` means `PATH`.
    pub search_path: Option<&'a OsString>,
}

/// Renders the chart; returns the objects and `helm version --short`.
pub fn render(
    h: &HelmSpec,
    input: &HelmInput<'_>,
    at: &At,
) -> Result<(Vec<Object>, String), Error> {
    if let Some(v) = h.version.as_deref().filter(|v| !v.is_empty() && *v != "v3") {
        return Err(at.field("version").unsupported(
            format!("Helm version `{v}`"),
            "only Helm v3 exists in Argo CD today; remove the field or set v3",
        ));
    }
    let helm =
        manifest::find_tool("helm", input.search_path).ok_or_else(|| Error::ToolMissing {
            tool: "helm".into(),
            what: format!("the Helm source of Application `{}`", at.app),
            hint: "install helm v3, e.g. with compose/install-helm.sh".into(),
        })?;
    // Asked for while the chart renders (see `ToolVersion`).
    let version = manifest::ToolVersion::start(&helm, &["version", "--short"]);

    let release = h
        .release_name
        .as_deref()
        .filter(|r| !r.is_empty())
        .unwrap_or(input.app_name);
    let mut args: Vec<OsString> = vec!["template".into(), ".".into()];
    args.push("--name-template".into());
    args.push(release.into());
    let namespace = h
        .namespace
        .as_deref()
        .filter(|n| !n.is_empty())
        .or(input.dest_namespace);
    if let Some(ns) = namespace {
        args.push("--namespace".into());
        args.push(ns.into());
    }
    args.push("--kube-version".into());
    args.push(
        h.kube_version
            .as_deref()
            .filter(|v| !v.is_empty())
            .unwrap_or(KUBE_VERSION)
            .into(),
    );
    for p in &h.parameters {
        args.push(
            if p.force_string {
                "--set-string"
            } else {
                "--set"
            }
            .into(),
        );
        args.push(format!("{}={}", p.name, clean_set_value(&p.value)).into());
    }
    for (i, p) in h.file_parameters.iter().enumerate() {
        let at = at.field(&format!("fileParameters[{i}]"));
        let path = resolve_in_repo(&p.path, input, &at)?
            .filter(|p| p.is_file())
            .ok_or_else(|| at.err(format!("file `{}` does not exist", p.path)))?;
        args.push("--set-file".into());
        let mut arg = OsString::from(format!("{}=", p.name));
        arg.push(path.as_os_str());
        args.push(arg);
    }
    for (i, f) in h.value_files.iter().enumerate() {
        let at = at.field(&format!("valueFiles[{i}]"));
        match resolve_in_repo(f, input, &at)?.filter(|p| p.is_file()) {
            Some(path) => {
                args.push("--values".into());
                args.push(path.into_os_string());
            }
            None if h.ignore_missing_value_files => {
                tracing::info!("{}: values file `{f}` is missing, ignored", at.field);
            }
            None => {
                return Err(at.err(format!(
                    "values file `{f}` does not exist (set helm.ignoreMissingValueFiles: true to skip missing files)"
                )))
            }
        }
    }
    let inline = match (&h.values_object, &h.values) {
        // Written as JSON, which helm reads as YAML: a string stays a string. Argo CD prints it
        // with go-yaml v2 (sigs.k8s.io/yaml `JSONToYAML`), which quotes `no` or `on` so that
        // helm's YAML 1.1 reading keeps them strings; serde_yaml would print them plain.
        (Some(obj), _) if !obj.is_null() => Some(
            serde_json::to_string_pretty(obj)
                .map_err(|e| at.field("valuesObject").err(e.to_string()))?,
        ),
        (_, Some(text)) if !text.trim().is_empty() => Some(text.clone()),
        _ => None,
    };
    let values_tmp = match inline {
        Some(text) => {
            let file = tempfile::Builder::new()
                .prefix("syncsim-values-")
                .suffix(".yaml")
                .tempfile()
                .map_err(|e| at.io(&std::env::temp_dir(), e))?;
            std::fs::write(file.path(), text).map_err(|e| at.io(file.path(), e))?;
            args.push("--values".into());
            args.push(file.path().as_os_str().to_owned());
            Some(file)
        }
        None => None,
    };
    for v in &h.api_versions {
        args.push("--api-versions".into());
        args.push(v.into());
    }
    if !h.skip_crds {
        args.push("--include-crds".into());
    }
    if h.skip_schema_validation {
        args.push("--skip-schema-validation".into());
    }
    if h.skip_tests {
        args.push("--skip-tests".into());
    }
    tracing::debug!(?args, chart = %input.chart_dir.display(), "helm template");
    let output = Command::new(&helm)
        .args(&args)
        .current_dir(input.chart_dir)
        .output()
        .map_err(|source| {
            at.render(manifest::Error::RendererSpawn {
                tool: "helm template".into(),
                source,
            })
        })?;
    drop(values_tmp);
    if !output.status.success() {
        return Err(at.render(manifest::Error::RenderFailed {
            tool: "helm template".into(),
            dir: input.display.to_string(),
            status: output.status.to_string(),
            stderr: manifest::ToolStderr(String::from_utf8_lossy(&output.stderr).into_owned()),
        }));
    }
    let text = String::from_utf8(output.stdout).map_err(|_| {
        at.render(manifest::Error::RenderNotUtf8 {
            tool: "helm template".into(),
            dir: input.display.to_string(),
        })
    })?;
    let mut objects = manifest::from_yaml_str(&text, input.display).map_err(|e| at.render(e))?;
    super::drop_lines(&mut objects);
    let version = version
        .finish()
        .map(|out| out.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "unknown".into());
    Ok((objects, version))
}

/// Argo CD escapes unescaped commas in `--set` values so that Helm does not split them.
fn clean_set_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut prev = None;
    for c in v.chars() {
        if c == ',' && prev != Some('\\') {
            out.push('\\');
        }
        out.push(c);
        prev = Some(c);
    }
    out
}

/// A values or file-parameter path: `$ref/rest` in a `ref:` source's tree, a URL (refused),
/// `/path` from the repository root, or a path relative to the chart directory; all must stay
/// inside their repository. `Ok(None)` when
/// the file is missing.
fn resolve_in_repo(p: &str, input: &HelmInput<'_>, at: &At) -> Result<Option<PathBuf>, Error> {
    if p.starts_with("http://") || p.starts_with("https://") {
        return Err(at.unsupported(
            format!("a remote values file (`{p}`)"),
            "syncsim reads no network; put the file in a repository",
        ));
    }
    let (root, joined) = if let Some(rest) = p.strip_prefix('$') {
        let (name, rel) = rest.split_once('/').unwrap_or((rest, ""));
        let root = input.refs.get(name).ok_or_else(|| {
            at.err(format!(
                "`${name}` names no source with `ref: {name}` in this Application"
            ))
        })?;
        (root.clone(), root.join(rel))
    } else if let Some(abs) = p.strip_prefix('/') {
        // Argo CD reads an absolute path from the repository root.
        (input.tree_root.to_path_buf(), input.tree_root.join(abs))
    } else {
        (input.tree_root.to_path_buf(), input.chart_dir.join(p))
    };
    let normal = normalize(&joined);
    if !normal.starts_with(normalize(&root)) {
        return Err(at.err(format!("`{p}` points outside the repository")));
    }
    Ok(normal.exists().then_some(normal))
}

/// `a/b/../c` → `a/c`, without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_in_set_values_are_escaped_like_argo_cd() {
        assert_eq!(clean_set_value("a,b"), "a\\,b");
        assert_eq!(clean_set_value("a\\,b"), "a\\,b");
        assert_eq!(clean_set_value("plain"), "plain");
    }

    #[test]
    fn values_files_stay_in_the_repository_and_refs_resolve() {
        let tmp = tempfile::tempdir().unwrap();
        let chart = tmp.path().join("charts/app");
        std::fs::create_dir_all(&chart).unwrap();
        std::fs::write(chart.join("values-prod.yaml"), "a: 1\n").unwrap();
        let other = tempfile::tempdir().unwrap();
        std::fs::write(other.path().join("v.yaml"), "b: 2\n").unwrap();
        let refs = BTreeMap::from([("values".to_string(), other.path().to_path_buf())]);
        let input = HelmInput {
            chart_dir: &chart,
            tree_root: tmp.path(),
            display: "charts/app",
            app_name: "a",
            dest_namespace: None,
            refs: &refs,
            search_path: None,
        };
        let at = At {
            file: "f".into(),
            app: "a".into(),
            field: "spec.source.helm".into(),
        };
        assert!(resolve_in_repo("values-prod.yaml", &input, &at)
            .unwrap()
            .is_some());
        assert!(resolve_in_repo("/charts/app/values-prod.yaml", &input, &at)
            .unwrap()
            .is_some());
        assert!(resolve_in_repo("missing.yaml", &input, &at)
            .unwrap()
            .is_none());
        assert!(resolve_in_repo("$values/v.yaml", &input, &at)
            .unwrap()
            .is_some());
        assert!(resolve_in_repo("../../../etc/passwd", &input, &at).is_err());
        let err = resolve_in_repo("$nope/v.yaml", &input, &at).unwrap_err();
        assert!(err.to_string().contains("ref: nope"), "{err}");
    }
}
