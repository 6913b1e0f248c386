//! One Application → its objects: each source resolved to a repository tree at its revision,
//! typed (explicit helm/kustomize/directory/plugin field, else Chart.yaml → Helm, a
//! kustomization → Kustomize, anything else → directory, as Argo CD detects) and rendered.
use super::{
    directory,
    error::{At, Error},
    helm, kustomize,
    repo::{self, Repos, Tree},
    spec::{Application, ApplicationDoc, SourceSpec},
    Options,
};
use crate::manifest::{self, LoadOptions, Object, KUSTOMIZATION_FILES};
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

/// An Application's objects (all sources, in source order) and settings.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub objects: Vec<Object>,
    pub application: Application,
    /// How each rendered source was rendered, for `-v` output.
    pub renderers: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Helm,
    Kustomize,
    Directory,
}

fn source_kind(s: &SourceSpec, dir: &Path, at: &At) -> Result<Kind, Error> {
    if s.plugin.is_some() {
        return Err(at.field("plugin").unsupported(
            "a config management plugin",
            "render its output to YAML and point the Application at it",
        ));
    }
    let explicit: Vec<Kind> = [
        (s.helm.is_some(), Kind::Helm),
        (s.kustomize.is_some(), Kind::Kustomize),
        (s.directory.is_some(), Kind::Directory),
    ]
    .into_iter()
    .filter_map(|(set, k)| set.then_some(k))
    .collect();
    match explicit.as_slice() {
        [k] => return Ok(*k),
        [] => {}
        _ => {
            return Err(at.err(
                "more than one of helm, kustomize and directory is set (Argo CD refuses \
                 multiple source types)",
            ))
        }
    }
    if dir.join("Chart.yaml").is_file() {
        Ok(Kind::Helm)
    } else if KUSTOMIZATION_FILES.iter().any(|f| dir.join(f).is_file()) {
        Ok(Kind::Kustomize)
    } else {
        Ok(Kind::Directory)
    }
}

/// `p` relative to the current directory when it is below it.
fn shown(p: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let rel = cwd
        .as_deref()
        .and_then(|cwd| p.strip_prefix(cwd).ok())
        .filter(|r| !r.as_os_str().is_empty());
    rel.unwrap_or(p).display().to_string()
}

fn short(rev: &str) -> &str {
    if rev.len() >= 8 {
        &rev[..7]
    } else {
        rev
    }
}

/// Validates a source's `path` (relative, inside the repository) and returns it.
fn source_path<'a>(s: &'a SourceSpec, at: &At) -> Result<&'a str, Error> {
    let p = s.path.as_deref().unwrap_or("").trim();
    let p = if p.is_empty() { "." } else { p };
    if Path::new(p).is_absolute()
        || Path::new(p)
            .components()
            .any(|c| c == std::path::Component::ParentDir)
    {
        return Err(at
            .field("path")
            .err(format!("`{p}` must be a path inside the repository")));
    }
    Ok(p)
}

pub(super) fn render(
    doc: &ApplicationDoc,
    file: &Path,
    opts: &Options<'_>,
) -> Result<Rendered, Error> {
    let app_name = doc.metadata.name.clone();
    let base = At {
        file: file.display().to_string(),
        app: app_name.clone(),
        field: "spec.source".into(),
    };
    let (sources, fields): (Vec<&SourceSpec>, Vec<String>) = if !doc.spec.sources.is_empty() {
        doc.spec
            .sources
            .iter()
            .enumerate()
            .map(|(i, s)| (s, format!("spec.sources[{i}]")))
            .unzip()
    } else if let Some(s) = &doc.spec.source {
        (vec![s], vec!["spec.source".to_string()])
    } else {
        return Err(base
            .err("the Application has no source (set spec.source, or spec.sources for several)"));
    };
    let repos = Repos::new(opts.repos, file);
    let primary = sources[0].repo_url.as_str();
    let dest_namespace = doc
        .spec
        .destination
        .namespace
        .as_deref()
        .filter(|n| !n.is_empty());

    // Resolve every source's repository first: a bad one fails before anything renders.
    let mut repo_dirs = Vec::new();
    for (s, field) in sources.iter().zip(&fields) {
        let at = At {
            field: field.clone(),
            ..base.clone()
        };
        if s.repo_url.trim().is_empty() {
            return Err(at.field("repoURL").err("is empty"));
        }
        if s.chart.as_deref().is_some_and(|c| !c.is_empty()) {
            return Err(at.field("chart").unsupported(
                "a chart from a Helm repository",
                "syncsim reads no network; vendor the chart into git and use `path`",
            ));
        }
        let dir = repos.resolve(&s.repo_url, primary).ok_or_else(|| {
            at.field("repoURL").err(format!(
                "repository `{}` is not known: syncsim renders from local checkouts (the one \
                 holding the Application file serves its first repoURL); map it with \
                 --repo {}=DIR",
                s.repo_url, s.repo_url
            ))
        })?;
        if !dir.is_dir() {
            return Err(at.field("repoURL").err(format!(
                "the directory `{}` given for `{}` does not exist",
                dir.display(),
                s.repo_url
            )));
        }
        repo_dirs.push(dir);
    }

    // `ref:` sources first, for `$name/…` values files.
    let mut trees: Vec<Tree> = Vec::new();
    let mut refs: BTreeMap<String, PathBuf> = BTreeMap::new();
    for ((s, field), dir) in sources.iter().zip(&fields).zip(&repo_dirs) {
        if let Some(name) = s.ref_name.as_deref().filter(|r| !r.is_empty()) {
            let at = At {
                field: field.clone(),
                ..base.clone()
            };
            let tree = repo::checkout(dir, s.target_revision.as_deref().unwrap_or(""), false, &at)?;
            refs.insert(name.to_string(), tree.root.clone());
            trees.push(tree);
        }
    }

    let search_path = opts.search_path;
    let mut objects = Vec::new();
    let mut revisions = Vec::new();
    let mut renderers = Vec::new();
    let mut source_dirs = Vec::new();
    for ((s, field), dir) in sources.iter().zip(&fields).zip(&repo_dirs) {
        let at = At {
            field: field.clone(),
            ..base.clone()
        };
        let is_ref = s.ref_name.as_deref().is_some_and(|r| !r.is_empty());
        if is_ref && s.path.as_deref().is_none_or(|p| p.trim().is_empty()) {
            continue; // a values-only source
        }
        let rel = source_path(s, &at)?;
        let target = s.target_revision.as_deref().unwrap_or("");
        // Type detection needs the files of the revision: look in a read-only tree first.
        let probe = repo::checkout(dir, target, false, &at)?;
        let probe_dir = probe.root.join(rel);
        if !probe_dir.is_dir() {
            let at_rev = probe
                .archived
                .as_ref()
                .map(|r| format!(" at revision `{r}`"))
                .unwrap_or_default();
            return Err(at.field("path").err(format!(
                "`{rel}` is not a directory in `{}`{at_rev}",
                dir.display()
            )));
        }
        let kind = source_kind(s, &probe_dir, &at)?;
        let edits =
            kind == Kind::Kustomize && s.kustomize.as_ref().is_some_and(kustomize::has_edits);
        let tree = if edits {
            repo::checkout(dir, target, true, &at)?
        } else {
            probe
        };
        let src_dir = tree.root.join(rel);
        let real = dir.join(rel);
        let display = match &tree.archived {
            None => shown(&real),
            Some(_) => format!("{}@{}", shown(&real), short(&tree.revision)),
        };
        let mut rendered = match kind {
            Kind::Kustomize => {
                let k = s.kustomize.clone().unwrap_or_default();
                let kat = at.field("kustomize");
                if edits {
                    kustomize::apply(&src_dir, &k, &kat)?;
                }
                let load_opts = LoadOptions {
                    search_path: search_path.cloned(),
                    ..LoadOptions::default()
                };
                let src = src_dir.display().to_string();
                let loaded = manifest::render_kustomize_with(
                    &src,
                    &load_opts,
                    &kustomize::build_args(&k, opts.kustomize_build_options),
                )
                .map_err(|e| at.render(e))?;
                renderers.push(format!("{} of {display}", loaded.renderer));
                let mut objs = loaded.objects;
                super::relabel(&mut objs, &src, &display);
                objs
            }
            Kind::Helm => {
                let h = s.helm.clone().unwrap_or_default();
                let input = helm::HelmInput {
                    chart_dir: &src_dir,
                    tree_root: &tree.root,
                    display: &display,
                    app_name: &app_name,
                    dest_namespace,
                    refs: &refs,
                    search_path,
                };
                let (objs, version) = helm::render(&h, &input, &at.field("helm"))?;
                renderers.push(format!("helm template (helm {version}) of {display}"));
                objs
            }
            Kind::Directory => {
                let objs = directory::render(&src_dir, &display, s.directory.as_ref(), &at)?;
                renderers.push(format!("directory {display}"));
                objs
            }
        };
        objects.append(&mut rendered);
        revisions.push(tree.revision.clone());
        source_dirs.push(real);
        trees.push(tree);
    }
    let policy = doc.spec.sync_policy.clone().unwrap_or_default();
    let revision = revisions.first().cloned().unwrap_or_else(|| "HEAD".into());
    let application = Application {
        name: app_name,
        file: base.file.clone(),
        project: doc
            .spec
            .project
            .clone()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "default".into()),
        destination: doc.spec.destination.clone(),
        sync_options: policy.sync_options,
        automated: policy.automated,
        retry: policy.retry,
        managed_namespace_metadata: policy.managed_namespace_metadata,
        ignore_differences: doc.spec.ignore_differences.clone(),
        info: doc.spec.info.clone(),
        revisions,
        revision,
        source_dirs,
    };
    drop(trees);
    Ok(Rendered {
        objects,
        application,
        renderers,
    })
}
