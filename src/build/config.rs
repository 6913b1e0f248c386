//! `syncsim.yaml`: where it is looked up, what it may say, and how its paths resolve.
//!
//! ```yaml
//! apiVersion: syncsim.dev/v1alpha1
//! kind: Config
//! build:
//!   - image: syncsim-kit/shortlink:1.0.0
//!     context: ../../../compose/images/app   # relative to this file
//!     dockerfile: Dockerfile                 # optional, relative to context
//!     buildArgs: {APP_NAME: shortlink}       # optional
//!   - image: syncsim-kit/postgres:15
//!     custom:
//!       command: ["../../../compose/build-images.sh"]   # run from this file's directory
//!       dependencies: ["../../../compose/images/postgres"]
//! cluster:                                   # optional; see crate::apiserver::cluster
//!   kubernetesVersion: "1.33"
//!   crds: [crds/, networking.istio.io/VirtualService]
//!   namespaces: [istio-system]
//!   storageClasses: [{name: standard, default: true, volumeBindingMode: WaitForFirstConsumer}]
//! ```
//!
//! Parsing ([`parse`]) is pure; [`load`] reads the file and also checks that the paths exist,
//! so a typo is reported at its file:line before anything is built.
use super::Error;
use crate::apiserver::{ClusterDescription, FieldProblem, RawCluster};
use serde::Deserialize;
use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Component, Path, PathBuf},
};

/// The file name looked up next to a source and in its parents.
pub const CONFIG_FILE_NAME: &str = "syncsim.yaml";
/// The only `apiVersion` this syncsim reads.
pub const API_VERSION: &str = "syncsim.dev/v1alpha1";
/// The only `kind`.
pub const KIND: &str = "Config";

/// A parsed, resolved build configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file, as given or found.
    pub path: PathBuf,
    /// The directory relative paths resolve against (the file's directory).
    pub dir: PathBuf,
    /// Build entries in file order (builds run in this order).
    pub entries: Vec<Entry>,
    /// The `cluster:` section: the cluster Argo CD would sync to (defaults when absent).
    /// [`load`] also reads the CRD files it names.
    pub cluster: ClusterDescription,
}

/// One image to build.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The tag manifests refer to (after kustomize `images:`), e.g. `syncsim-kit/shortlink:1.0.0`.
    pub image: String,
    /// `file:line` of the entry (or just the file when the line is unknown), for messages.
    pub location: String,
    pub source: BuildSource,
}

/// How an image is built.
#[derive(Debug, Clone, PartialEq)]
pub enum BuildSource {
    /// A Docker build of a directory.
    Docker {
        /// The context directory (resolved against the config's directory).
        context: PathBuf,
        /// The Dockerfile's path inside the context, `/`-separated.
        dockerfile: String,
        build_args: BTreeMap<String, String>,
    },
    /// A command that builds and tags the image itself.
    Custom {
        /// Program and arguments; a program with a `/` resolves against the config's directory.
        command: Vec<String>,
        /// Files or directories whose content decides whether the image is stale: (as written,
        /// resolved).
        dependencies: Vec<(String, PathBuf)>,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawConfig {
    api_version: String,
    kind: String,
    #[serde(default)]
    build: Vec<RawEntry>,
    #[serde(default)]
    cluster: Option<RawCluster>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawEntry {
    image: String,
    context: Option<String>,
    dockerfile: Option<String>,
    #[serde(default)]
    build_args: BTreeMap<String, serde_yaml::Value>,
    custom: Option<RawCustom>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCustom {
    command: Vec<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

/// Finds the config for a source: `syncsim.yaml` in the source's directory (the source itself
/// when it is a directory, its parent when it is a file, the current directory for `-`), then in
/// each parent up to and including the first one that holds `.git` (the repository root). The
/// first match wins. `None` when there is none.
pub fn find_config(source: &str) -> Option<PathBuf> {
    let start = if source == "-" {
        std::env::current_dir().ok()?
    } else {
        let path = std::fs::canonicalize(source).ok()?;
        if path.is_dir() {
            path
        } else {
            path.parent()?.to_path_buf()
        }
    };
    for dir in start.ancestors() {
        let candidate = dir.join(CONFIG_FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        // A worktree has a `.git` file rather than a directory: both mark the root.
        if dir.join(".git").exists() {
            break;
        }
    }
    None
}

/// Reads and parses `path`, then checks that every context, Dockerfile and dependency exists.
pub fn load(path: &Path) -> Result<Config, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::ReadConfig {
        path: path.to_path_buf(),
        source,
    })?;
    let mut config = parse(&text, path)?;
    check_paths(&config)?;
    config
        .cluster
        .read_crd_files()
        .map_err(|p| cluster_error(&text, &path.display().to_string(), p))?;
    Ok(config)
}

/// Parses the text of a config file at `path` (used for messages and to resolve relative
/// paths). No file system access.
pub fn parse(text: &str, path: &Path) -> Result<Config, Error> {
    let file = path.display().to_string();
    let raw: RawConfig = serde_yaml::from_str(text).map_err(|e| {
        let source = crate::yaml::YamlError::from(e);
        let (line, column) = (source.line.unwrap_or(0), source.column.unwrap_or(0));
        Error::Yaml {
            file: file.clone(),
            line,
            column,
            source,
        }
    })?;
    let at_key = |key: &str| match key_line(text, key) {
        Some(line) => format!("{file}:{line}"),
        None => file.clone(),
    };
    if raw.api_version != API_VERSION {
        return Err(Error::Invalid {
            location: at_key("apiVersion"),
            problem: format!(
                "unsupported apiVersion `{}` (this syncsim reads `{API_VERSION}`)",
                raw.api_version
            ),
        });
    }
    if raw.kind != KIND {
        return Err(Error::Invalid {
            location: at_key("kind"),
            problem: format!("unsupported kind `{}` (use `kind: {KIND}`)", raw.kind),
        });
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    // Line numbers of the `build` items, when the list is in block style (the usual case). If
    // the scan disagrees with serde (flow style, anchors), messages name only the file.
    let item_lines = sequence_item_lines(text, "build");
    let lines_ok = item_lines.len() == raw.build.len();
    let mut seen = BTreeSet::new();
    let mut entries = Vec::with_capacity(raw.build.len());
    for (i, item) in raw.build.into_iter().enumerate() {
        let location = if lines_ok {
            format!("{file}:{}", item_lines[i])
        } else {
            format!("{file} (build entry {})", i + 1)
        };
        let invalid = |problem: String| Error::Invalid {
            location: location.clone(),
            problem,
        };
        let image = item.image.trim().to_string();
        if image.is_empty() || image.contains(char::is_whitespace) {
            return Err(invalid(format!(
                "`{}` is not an image reference (write the tag manifests use, e.g. \
                 `syncsim-kit/shortlink:1.0.0`)",
                item.image
            )));
        }
        if !seen.insert(image.clone()) {
            return Err(invalid(format!(
                "image `{image}` is listed twice (keep one entry per image)"
            )));
        }
        let source = match (item.context, item.custom) {
            (Some(_), Some(_)) => {
                return Err(invalid(format!(
                    "image `{image}` has both `context` and `custom` (keep `context` for a \
                     Docker build or `custom` for a build command)"
                )))
            }
            (None, None) => {
                return Err(invalid(format!(
                    "image `{image}` has neither `context` nor `custom` (add `context: DIR` for \
                     a Docker build or `custom: {{command: [...]}}`)"
                )))
            }
            (Some(context), None) => {
                let dockerfile = item.dockerfile.unwrap_or_else(|| "Dockerfile".to_string());
                let dockerfile = inside_context(&dockerfile).ok_or_else(|| {
                    invalid(format!(
                        "dockerfile `{dockerfile}` of image `{image}` is not inside its context \
                         (give a path relative to `context` without `..`)"
                    ))
                })?;
                let mut build_args = BTreeMap::new();
                for (key, value) in item.build_args {
                    let value = scalar(&value).ok_or_else(|| {
                        invalid(format!(
                            "build arg `{key}` of image `{image}` is not a string, number or \
                             boolean (quote it)"
                        ))
                    })?;
                    build_args.insert(key, value);
                }
                BuildSource::Docker {
                    context: resolve(&dir, &context),
                    dockerfile,
                    build_args,
                }
            }
            (None, Some(custom)) => {
                if item.dockerfile.is_some() || !item.build_args.is_empty() {
                    return Err(invalid(format!(
                        "image `{image}` is a custom build: `dockerfile` and `buildArgs` only \
                         apply to Docker builds (pass them to the command instead)"
                    )));
                }
                if custom.command.first().is_none_or(|p| p.trim().is_empty()) {
                    return Err(invalid(format!(
                        "the custom build of image `{image}` has an empty `command` (give the \
                         program and its arguments, e.g. [\"./build.sh\", \"{image}\"])"
                    )));
                }
                let dependencies = custom
                    .dependencies
                    .into_iter()
                    .map(|d| {
                        let resolved = resolve(&dir, &d);
                        (d, resolved)
                    })
                    .collect();
                BuildSource::Custom {
                    command: custom.command,
                    dependencies,
                }
            }
        };
        entries.push(Entry {
            image,
            location,
            source,
        });
    }
    let cluster = ClusterDescription::from_raw(raw.cluster.unwrap_or_default(), &dir)
        .map_err(|p| cluster_error(text, &file, p))?;
    Ok(Config {
        path: path.to_path_buf(),
        dir,
        entries,
        cluster,
    })
}

/// A bad `cluster` entry, at the line of `cluster:` (the field names the entry).
fn cluster_error(text: &str, file: &str, p: FieldProblem) -> Error {
    let location = match key_line(text, "cluster") {
        Some(line) => format!("{file}:{line}"),
        None => file.to_string(),
    };
    Error::Invalid {
        location,
        problem: p.to_string(),
    }
}

/// Checks that contexts, Dockerfiles and dependencies exist.
fn check_paths(config: &Config) -> Result<(), Error> {
    for entry in &config.entries {
        let invalid = |problem: String| Error::Invalid {
            location: entry.location.clone(),
            problem,
        };
        match &entry.source {
            BuildSource::Docker {
                context,
                dockerfile,
                ..
            } => {
                if !context.is_dir() {
                    return Err(invalid(format!(
                        "build context `{}` of image `{}` is not a directory (paths are relative \
                         to the directory of {CONFIG_FILE_NAME})",
                        context.display(),
                        entry.image
                    )));
                }
                if !context.join(dockerfile).is_file() {
                    return Err(invalid(format!(
                        "dockerfile `{dockerfile}` of image `{}` does not exist in `{}` (set \
                         `dockerfile:` relative to the context)",
                        entry.image,
                        context.display()
                    )));
                }
            }
            BuildSource::Custom { dependencies, .. } => {
                for (written, resolved) in dependencies {
                    if !resolved.exists() {
                        return Err(invalid(format!(
                            "dependency `{written}` of image `{}` does not exist (paths are \
                             relative to the directory of {CONFIG_FILE_NAME})",
                            entry.image
                        )));
                    }
                }
            }
        }
    }
    Ok(())
}

/// `base/rel`, lexically normalised (`a/b/../c` -> `a/c`); absolute `rel` is kept.
pub(crate) fn resolve(base: &Path, rel: &str) -> PathBuf {
    let joined = base.join(rel);
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

/// A relative path that stays inside its base, normalised to `/`-separated form.
fn inside_context(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            p => parts.push(p),
        }
    }
    (!path.starts_with('/') && !parts.is_empty()).then(|| parts.join("/"))
}

fn scalar(value: &serde_yaml::Value) -> Option<String> {
    match value {
        serde_yaml::Value::String(s) => Some(s.clone()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        serde_yaml::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// 1-based line of the top-level `key:`.
fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map(|i| i + 1)
}

/// 1-based lines of the items (`- …`) of the block sequence under the top-level `key:`.
fn sequence_item_lines(text: &str, key: &str) -> Vec<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let Some(start) = key_line(text, key) else {
        return Vec::new();
    };
    let mut indent = None;
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate().skip(start) {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let this = line.len() - trimmed.len();
        // A top-level key (not a `- ` at column 0) ends the sequence.
        if this == 0 && !trimmed.starts_with('-') {
            break;
        }
        if trimmed == "-" || trimmed.starts_with("- ") {
            match indent {
                None => {
                    indent = Some(this);
                    out.push(i + 1);
                }
                Some(n) if n == this => out.push(i + 1),
                Some(_) => {}
            }
        } else if indent.is_some_and(|n| this < n) {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    const GOOD: &str = "\
apiVersion: syncsim.dev/v1alpha1
kind: Config
build:
  # the app stand-ins
  - image: syncsim-kit/shortlink:1.0.0
    context: ../../../compose/images/app
    buildArgs: {APP_NAME: shortlink, PORT: 8080}
  - image: syncsim-kit/postgres:15
    custom:
      command: [\"../../../compose/build-images.sh\", \"postgres\"]
      dependencies: [\"../../../compose/images/postgres\"]
";

    fn parse_at(text: &str) -> Result<Config, Error> {
        parse(text, Path::new("k8s/overlays/local/syncsim.yaml"))
    }

    #[test]
    fn parses_docker_and_custom_entries_and_resolves_paths() {
        let config = parse_at(GOOD).unwrap();
        assert_eq!(config.dir, Path::new("k8s/overlays/local"));
        assert_eq!(config.entries.len(), 2);
        let shortlink = &config.entries[0];
        assert_eq!(shortlink.image, "syncsim-kit/shortlink:1.0.0");
        assert_eq!(shortlink.location, "k8s/overlays/local/syncsim.yaml:5");
        assert_eq!(
            shortlink.source,
            BuildSource::Docker {
                context: PathBuf::from("compose/images/app"),
                dockerfile: "Dockerfile".into(),
                build_args: BTreeMap::from([
                    ("APP_NAME".into(), "shortlink".into()),
                    ("PORT".into(), "8080".into())
                ]),
            }
        );
        let postgres = &config.entries[1];
        assert_eq!(postgres.location, "k8s/overlays/local/syncsim.yaml:8");
        assert_eq!(
            postgres.source,
            BuildSource::Custom {
                command: vec!["../../../compose/build-images.sh".into(), "postgres".into()],
                dependencies: vec![(
                    "../../../compose/images/postgres".into(),
                    PathBuf::from("compose/images/postgres")
                )],
            }
        );
    }

    #[test]
    fn an_empty_build_list_is_fine() {
        let config = parse_at("apiVersion: syncsim.dev/v1alpha1\nkind: Config\n").unwrap();
        assert!(config.entries.is_empty());
    }

    #[test_case(
        "apiVersion: syncsim.dev/v1alpha1\nkind: Config\nbuild:\n  - image: a:1\n    contxt: .\n",
        "invalid build config at k8s/overlays/local/syncsim.yaml:5:",
        "unknown field `contxt`";
        "typo in a field names its line and the valid fields"
    )]
    #[test_case(
        "apiVersion: syncsim.dev/v1beta9\nkind: Config\n",
        "k8s/overlays/local/syncsim.yaml:1: unsupported apiVersion `syncsim.dev/v1beta9`",
        "reads `syncsim.dev/v1alpha1`";
        "wrong api version"
    )]
    #[test_case(
        "apiVersion: syncsim.dev/v1alpha1\nkind: Skaffold\n",
        "syncsim.yaml:2: unsupported kind `Skaffold`",
        "use `kind: Config`";
        "wrong kind"
    )]
    #[test_case(
        "apiVersion: syncsim.dev/v1alpha1\nkind: Config\nbuild:\n  - image: a:1\n    context: .\n  - image: b:1\n    context: .\n    custom: {command: [make]}\n",
        "syncsim.yaml:6: image `b:1` has both `context` and `custom`",
        "keep `context` for a Docker build";
        "both context and custom"
    )]
    #[test_case(
        "apiVersion: syncsim.dev/v1alpha1\nkind: Config\nbuild:\n\n  - image: a:1\n",
        "syncsim.yaml:5: image `a:1` has neither `context` nor `custom`",
        "add `context: DIR`";
        "neither context nor custom"
    )]
    #[test_case(
        "apiVersion: syncsim.dev/v1alpha1\nkind: Config\nbuild:\n  - image: a:1\n    context: .\n  - image: a:1\n    context: x\n",
        "syncsim.yaml:6: image `a:1` is listed twice",
        "keep one entry per image";
        "duplicate image"
    )]
    #[test_case(
        "apiVersion: syncsim.dev/v1alpha1\nkind: Config\nbuild:\n  - image: a:1\n    context: .\n    dockerfile: ../Dockerfile\n",
        "syncsim.yaml:4: dockerfile `../Dockerfile` of image `a:1` is not inside its context",
        "without `..`";
        "dockerfile outside the context"
    )]
    #[test_case(
        "apiVersion: syncsim.dev/v1alpha1\nkind: Config\nbuild:\n  - image: a:1\n    custom:\n      command: []\n",
        "syncsim.yaml:4: the custom build of image `a:1` has an empty `command`",
        "give the program and its arguments";
        "empty custom command"
    )]
    #[test_case(
        "apiVersion: syncsim.dev/v1alpha1\nkind: Config\nbuild:\n  - image: a:1\n    context: .\n    buildArgs: {X: [1, 2]}\n",
        "syncsim.yaml:4: build arg `X` of image `a:1` is not a string",
        "(quote it)";
        "non scalar build arg"
    )]
    #[test_case(
        "apiVersion: syncsim.dev/v1alpha1\nkind: Config\nbuild:\n  - image: a:1\n    custom: {command: [x]}\n    buildArgs: {A: b}\n",
        "syncsim.yaml:4: image `a:1` is a custom build",
        "pass them to the command instead";
        "build args on a custom build"
    )]
    fn errors_name_file_line_and_the_fix(text: &str, message: &str, fix: &str) {
        let err = parse_at(text).unwrap_err();
        let rendered = crate::error::render_chain(&err);
        assert!(rendered.contains(message), "{rendered}");
        assert!(rendered.contains(fix), "{rendered}");
        assert_eq!(
            crate::error::ExitCode::exit_code(&err),
            crate::error::BAD_INPUT
        );
    }

    #[test]
    fn load_checks_that_paths_exist_and_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("app")).unwrap();
        std::fs::write(dir.path().join("app/Dockerfile"), "FROM scratch\n").unwrap();
        let path = dir.path().join(CONFIG_FILE_NAME);
        let write = |build: &str| {
            std::fs::write(
                &path,
                format!("apiVersion: syncsim.dev/v1alpha1\nkind: Config\nbuild:\n{build}"),
            )
            .unwrap()
        };
        write("  - image: a:1\n    context: app\n");
        assert_eq!(load(&path).unwrap().entries.len(), 1);

        write("  - image: a:1\n    context: app\n  - image: b:1\n    context: nope\n");
        let err = load(&path).unwrap_err().to_string();
        assert!(err.contains("syncsim.yaml:6: build context"), "{err}");
        assert!(err.contains("is not a directory"), "{err}");

        write("  - image: a:1\n    context: app\n    dockerfile: Containerfile\n");
        let err = load(&path).unwrap_err().to_string();
        assert!(err.contains(":4: dockerfile `Containerfile`"), "{err}");

        write("  - image: a:1\n    custom:\n      command: [make]\n      dependencies: [src]\n");
        let err = load(&path).unwrap_err().to_string();
        assert!(
            err.contains(":4: dependency `src` of image `a:1` does not exist"),
            "{err}"
        );
    }

    #[test]
    fn config_is_found_next_to_the_source_then_in_parents_up_to_the_git_root() {
        let root = tempfile::tempdir().unwrap();
        let repo = root.path().join("repo");
        let overlay = repo.join("k8s/overlays/local");
        std::fs::create_dir_all(&overlay).unwrap();
        std::fs::create_dir(repo.join(".git")).unwrap();
        // Above the git root: never used.
        std::fs::write(root.path().join(CONFIG_FILE_NAME), "").unwrap();
        let src = overlay.to_str().unwrap();
        assert_eq!(find_config(src), None);

        std::fs::write(repo.join(CONFIG_FILE_NAME), "").unwrap();
        let found = find_config(src).unwrap();
        assert_eq!(found, repo.canonicalize().unwrap().join(CONFIG_FILE_NAME));

        std::fs::write(overlay.join(CONFIG_FILE_NAME), "").unwrap();
        let found = find_config(src).unwrap();
        assert_eq!(
            found,
            overlay.canonicalize().unwrap().join(CONFIG_FILE_NAME)
        );

        // A file source looks next to the file.
        std::fs::write(overlay.join("app.yaml"), "").unwrap();
        let file = overlay.join("app.yaml");
        assert_eq!(find_config(file.to_str().unwrap()), Some(found));
    }

    #[test]
    fn paths_are_normalised_lexically() {
        assert_eq!(resolve(Path::new("a/b/c"), "../../x"), Path::new("a/x"));
        assert_eq!(resolve(Path::new("a"), "../../x"), Path::new("../x"));
        assert_eq!(resolve(Path::new("a"), "/abs/p"), Path::new("/abs/p"));
        assert_eq!(
            inside_context("./docker/Dockerfile"),
            Some("docker/Dockerfile".into())
        );
        assert_eq!(inside_context("/Dockerfile"), None);
    }
}
