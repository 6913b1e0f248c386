//! Source → objects: a kustomize directory, a plain directory, a file or standard input.
use super::{
    parse::{parse, Format},
    Error, Object,
};
use crate::manifest::error::ToolStderr;
use std::{
    ffi::OsString,
    fmt,
    io::Read,
    path::{Path, PathBuf},
    process::Command,
};

/// File names that make a directory a kustomization, as Argo CD detects them.
pub const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Options for [`load`].
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Where to look for `kustomize` and `kubectl`; `None` means the `PATH` environment variable.
    pub search_path: Option<OsString>,
    /// `--app NAME`: which Argo CD Application when the source file holds several.
    pub app: Option<String>,
    /// `--repo DIR` / `--repo URL=DIR`: local checkouts serving an Application's `repoURL`s.
    pub repos: Vec<String>,
    /// `kustomize.buildOptions` of `argocd-cm`, for the kustomize sources of an Application.
    pub kustomize_build_options: Option<String>,
}

/// How the source was rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renderer {
    /// `kustomize build`, with its version.
    Kustomize {
        version: String,
    },
    /// `kubectl kustomize`, with kubectl's kustomize version.
    KubectlKustomize {
        version: String,
    },
    Directory,
    File,
    Stdin,
    /// An Argo CD Application file: its name and how each source was rendered.
    Application {
        name: String,
        sources: Vec<String>,
    },
}

impl fmt::Display for Renderer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Renderer::Kustomize { version } => write!(f, "kustomize build (kustomize {version})"),
            Renderer::KubectlKustomize { version } => {
                write!(f, "kubectl kustomize (kustomize {version})")
            }
            Renderer::Directory => f.write_str("plain directory"),
            Renderer::File => f.write_str("single file"),
            Renderer::Stdin => f.write_str("standard input"),
            Renderer::Application { name, sources } => {
                write!(f, "Argo CD Application `{name}`: {}", sources.join("; "))
            }
        }
    }
}

/// The objects of a source, in source order, and how they were rendered.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub objects: Vec<Object>,
    pub renderer: Renderer,
    /// The Application's settings when the source was an Argo CD Application file.
    pub application: Option<Box<crate::manifest::source::Application>>,
}

/// Loads `source` (a path, or `-` for standard input).
///
/// * A directory containing `kustomization.yaml`, `kustomization.yml` or `Kustomization` is
///   rendered with `kustomize build DIR` if `kustomize` is on the path, else `kubectl kustomize
///   DIR`. Origins name the directory and the document index in the rendered stream (no line).
/// * Any other directory: every `*.yaml`, `*.yml` and `*.json` file below it, recursively, in
///   path order.
/// * A file: `*.json` is one JSON value, anything else multi-document YAML.
/// * `-`: multi-document YAML from standard input (origin `<stdin>`).
/// * A file whose documents are all Argo CD `Application`s: the Application picked by
///   `opts.app`, rendered as Argo CD would ([`crate::manifest::source`]); [`Loaded::application`] holds
///   its settings.
///
/// # Errors
///
/// See [`Error`]; all are bad input (exit code 2) except a missing renderer (3).
pub fn load(source: &str, opts: &LoadOptions) -> Result<Loaded, Error> {
    if source == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|source| Error::Read {
                path: "<stdin>".into(),
                source,
            })?;
        let objects = parse(&text, "<stdin>", Format::Yaml)?;
        return Ok(Loaded {
            objects,
            renderer: Renderer::Stdin,
            application: None,
        });
    }
    let path = Path::new(source);
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::Missing {
                path: source.to_string(),
            })
        }
        Err(source_err) => {
            return Err(Error::Read {
                path: source.to_string(),
                source: source_err,
            })
        }
    };
    if meta.is_dir() {
        if KUSTOMIZATION_FILES.iter().any(|f| path.join(f).is_file()) {
            render_kustomize(source, opts)
        } else {
            load_directory(source)
        }
    } else {
        let objects = load_file(path)?;
        if crate::manifest::source::all_applications(&objects) {
            return load_application(path, &objects, opts);
        }
        Ok(Loaded {
            objects,
            renderer: Renderer::File,
            application: None,
        })
    }
}

fn load_application(path: &Path, apps: &[Object], opts: &LoadOptions) -> Result<Loaded, Error> {
    let source_opts = crate::manifest::source::Options {
        app: opts.app.as_deref(),
        repos: &opts.repos,
        search_path: opts.search_path.as_ref(),
        kustomize_build_options: opts.kustomize_build_options.as_deref(),
    };
    let rendered = crate::manifest::source::load_application_file(path, apps, &source_opts)
        .map_err(|e| Error::Application(Box::new(e)))?;
    Ok(Loaded {
        objects: rendered.objects,
        renderer: Renderer::Application {
            name: rendered.application.name.clone(),
            sources: rendered.renderers,
        },
        application: Some(Box::new(rendered.application)),
    })
}

/// Parses `text` (JSON when `json`, else multi-document YAML) named `name` in origins.
pub(crate) fn parse_text(text: &str, name: &str, json: bool) -> Result<Vec<Object>, Error> {
    parse(text, name, if json { Format::Json } else { Format::Yaml })
}

fn load_file(path: &Path) -> Result<Vec<Object>, Error> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: name.clone(),
        source,
    })?;
    let format = if has_extension(path, &["json"]) {
        Format::Json
    } else {
        Format::Yaml
    };
    parse(&text, &name, format)
}

fn has_extension(path: &Path, exts: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| exts.contains(&e))
}

fn load_directory(dir: &str) -> Result<Loaded, Error> {
    let mut objects = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|source| Error::Walk {
            path: dir.to_string(),
            source,
        })?;
        if !has_extension(entry.path(), &["yaml", "yml", "json"]) {
            continue;
        }
        if entry.file_type().is_file() || followed_symlink(entry.path())? {
            objects.extend(load_file(entry.path())?);
        }
    }
    Ok(Loaded {
        objects,
        renderer: Renderer::Directory,
        application: None,
    })
}

/// Whether `path`, found while walking a plain directory, is a symlink to a regular file, read
/// as Argo CD's repo server reads it (`getPotentiallyValidManifestFile`, as `kubectl apply -f
/// DIR` does too): a link to a file is followed; a link to a directory is not descended (the walk
/// never follows directory links, so links cannot loop through directories); a dangling link is
/// skipped with a warning. A link that cannot be resolved, such as a loop of file links, is an
/// error naming it.
fn followed_symlink(path: &Path) -> Result<bool, Error> {
    let shown = || crate::text::display_safe(&path.display().to_string()).into_owned();
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {}
        _ => return Ok(false),
    }
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(true),
        Ok(_) => {
            tracing::warn!("skipping `{}`: a symlink to a non-regular file", shown());
            Ok(false)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(
                "skipping `{}`: the destination of the symlink is missing",
                shown()
            );
            Ok(false)
        }
        Err(source) => Err(Error::Read {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Finds an executable named `tool` on `search_path` (or `PATH`).
pub(crate) fn find_tool(tool: &str, search_path: Option<&OsString>) -> Option<PathBuf> {
    let path = match search_path {
        Some(p) => p.clone(),
        None => std::env::var_os("PATH")?,
    };
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file() || path.with_extension("exe").is_file()
}

fn render_kustomize(dir: &str, opts: &LoadOptions) -> Result<Loaded, Error> {
    render_kustomize_with(dir, opts, &[])
}

/// `kustomize build DIR EXTRA…` (or `kubectl kustomize DIR EXTRA…`).
pub(crate) fn render_kustomize_with(
    dir: &str,
    opts: &LoadOptions,
    extra: &[String],
) -> Result<Loaded, Error> {
    let search = opts.search_path.as_ref();
    type Named = fn(String) -> Renderer;
    let (program, args, version_args, tool, renderer): (_, _, &[&str], _, Named) =
        if let Some(kustomize) = find_tool("kustomize", search) {
            let named: Named = |version| Renderer::Kustomize { version };
            (kustomize, "build", &["version"], "kustomize build", named)
        } else if let Some(kubectl) = find_tool("kubectl", search) {
            let named: Named = |version| Renderer::KubectlKustomize { version };
            (
                kubectl,
                "kustomize",
                &["version", "--client"],
                "kubectl kustomize",
                named,
            )
        } else {
            return Err(Error::RendererNotFound {
                dir: dir.to_string(),
            });
        };
    // The version is asked for while the render runs: asking first cost a whole second start
    // of the tool (about 0.1 s) before every render.
    let version = ToolVersion::start(&program, version_args);
    tracing::debug!(tool, dir, "rendering kustomization");
    let output = Command::new(&program)
        .arg(args)
        .arg(dir)
        .args(extra)
        .output()
        .map_err(|source| Error::RendererSpawn {
            tool: tool.to_string(),
            source,
        })?;
    let renderer = renderer(
        version
            .finish()
            .and_then(|out| kustomize_version(&out))
            .unwrap_or_else(|| "unknown".to_string()),
    );
    if !output.status.success() {
        return Err(Error::RenderFailed {
            tool: tool.to_string(),
            dir: dir.to_string(),
            status: output.status.to_string(),
            stderr: ToolStderr(String::from_utf8_lossy(&output.stderr).into_owned()),
        });
    }
    let text = String::from_utf8(output.stdout).map_err(|_| Error::RenderNotUtf8 {
        tool: tool.to_string(),
        dir: dir.to_string(),
    })?;
    let mut objects = parse(&text, dir, Format::Yaml)?;
    // Lines of the rendered stream would point nowhere in the user's files.
    for obj in &mut objects {
        if obj.origin.line.is_some() {
            let mut origin = (*obj.origin).clone();
            origin.line = None;
            obj.origin = std::sync::Arc::new(origin);
        }
    }
    Ok(Loaded {
        objects,
        renderer,
        application: None,
    })
}

/// A tool's `version` command, run alongside the tool's real work.
pub(crate) struct ToolVersion(Option<std::process::Child>);

impl ToolVersion {
    /// Starts `program args` (its output captured, its stderr discarded).
    pub(crate) fn start(program: &Path, args: &[&str]) -> Self {
        Self(
            Command::new(program)
                .args(args)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
                .spawn()
                .ok(),
        )
    }

    /// What the command printed, `None` when it could not run or printed no UTF-8.
    pub(crate) fn finish(mut self) -> Option<String> {
        let out = self.0.take()?.wait_with_output().ok()?;
        String::from_utf8(out.stdout).ok()
    }
}

/// Not asked for (the render failed): the command is stopped and reaped, never left behind.
impl Drop for ToolVersion {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The kustomize version in a `kustomize version` or `kubectl version --client` output.
pub(crate) fn kustomize_version(output: &str) -> Option<String> {
    let line = output
        .lines()
        .find(|l| l.starts_with("Kustomize Version:"))
        .or_else(|| output.lines().find(|l| l.contains("kustomize/")))
        .or_else(|| output.lines().next())?;
    let start = line
        .char_indices()
        .find(|&(i, c)| c == 'v' && line[i + 1..].starts_with(|d: char| d.is_ascii_digit()))?
        .0;
    let version: String = line[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
        .collect();
    Some(version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("v5.5.0\n", "v5.5.0" ; "kustomize v5")]
    #[test_case("{Version:kustomize/v4.5.7 GitCommit:56d82a8 BuildDate:2022}\n", "v4.5.7" ; "kustomize v4")]
    #[test_case("Client Version: v1.32.4\nKustomize Version: v5.5.0\n", "v5.5.0" ; "kubectl")]
    fn kustomize_version_is_extracted(out: &str, expected: &str) {
        assert_eq!(kustomize_version(out).as_deref(), Some(expected));
    }

    fn write(dir: &Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn cm(name: &str) -> String {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n")
    }

    #[test]
    fn plain_directory_is_read_recursively_in_path_order() {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "b.yaml", &cm("b"));
        write(tmp.path(), "a/z.yml", &cm("az"));
        write(
            tmp.path(),
            "a.json",
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"aj"}}"#,
        );
        write(tmp.path(), "c/notes.txt", "not yaml: [");
        let loaded = load(tmp.path().to_str().unwrap(), &LoadOptions::default()).unwrap();
        let names: Vec<_> = loaded
            .objects
            .iter()
            .map(|o| o.name().to_string())
            .collect();
        assert_eq!(names, ["az", "aj", "b"]);
        assert_eq!(loaded.renderer, Renderer::Directory);
        assert!(loaded.objects[0].origin.file.ends_with("a/z.yml"));
    }

    #[test]
    fn missing_path_is_bad_input() {
        let err = load("/definitely/not/here", &LoadOptions::default()).unwrap_err();
        assert!(matches!(err, Error::Missing { .. }));
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn kustomization_without_any_renderer_is_an_environment_error() {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "kustomization.yaml", "resources: []\n");
        let empty = tempfile::tempdir().unwrap();
        let opts = LoadOptions {
            search_path: Some(empty.path().as_os_str().to_owned()),
            ..LoadOptions::default()
        };
        let err = load(tmp.path().to_str().unwrap(), &opts).unwrap_err();
        assert!(matches!(err, Error::RendererNotFound { .. }), "{err:?}");
        assert_eq!(err.exit_code(), 3);
    }

    #[cfg(unix)]
    fn fake_tool(dir: &Path, name: &str, script: &str) {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn kustomize_is_preferred_and_its_output_is_parsed_without_lines() {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "Kustomization", "resources: []\n");
        let bin = tempfile::tempdir().unwrap();
        fake_tool(
            bin.path(),
            "kustomize",
            "if [ \"$1\" = version ]; then echo v5.4.3; exit 0; fi\nprintf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: k\\n---\\napiVersion: v1\\nkind: Secret\\nmetadata:\\n  name: s\\n'",
        );
        fake_tool(bin.path(), "kubectl", "exit 99");
        let opts = LoadOptions {
            search_path: Some(bin.path().as_os_str().to_owned()),
            ..LoadOptions::default()
        };
        let dir = tmp.path().to_str().unwrap();
        let loaded = load(dir, &opts).unwrap();
        assert_eq!(
            loaded.renderer,
            Renderer::Kustomize {
                version: "v5.4.3".into()
            }
        );
        assert_eq!(loaded.objects.len(), 2);
        assert_eq!(loaded.objects[1].origin.file, dir);
        assert_eq!(loaded.objects[1].origin.document, 1);
        assert_eq!(loaded.objects[1].origin.line, None);
    }

    #[cfg(unix)]
    #[test]
    fn kustomize_failure_carries_its_stderr() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            "kustomization.yml",
            "resources: [missing.yaml]\n",
        );
        let bin = tempfile::tempdir().unwrap();
        fake_tool(bin.path(), "kubectl", "if [ \"$1\" = version ]; then echo 'Kustomize Version: v5.5.0'; exit 0; fi\necho 'Error: accumulating resources: missing.yaml' >&2; exit 1");
        let opts = LoadOptions {
            search_path: Some(bin.path().as_os_str().to_owned()),
            ..LoadOptions::default()
        };
        let err = load(tmp.path().to_str().unwrap(), &opts).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().starts_with("`kubectl kustomize "), "{err}");
        let cause = std::error::Error::source(&err).unwrap().to_string();
        assert_eq!(cause, "Error: accumulating resources: missing.yaml");
    }
}
