//! Errors of loading a source. Each names the file (and the object where there is one) and ends
//! with a hint in parentheses when there is one. Causes go in `#[source]`, never in the message.
use crate::error::{ExitCode, BAD_INPUT, ENVIRONMENT};
use crate::text::display_safe;
use std::{fmt, io};

/// Loading failed. Every variant maps to exit code 2 (bad input), except a missing or
/// unrunnable renderer (3).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The source path does not exist.
    #[error(
        "source `{}` does not exist (give a directory, a file, or `-` for standard input)",
        display_safe(.path)
    )]
    Missing { path: String },

    /// A file, directory or standard input could not be read.
    #[error("failed to read `{}`", display_safe(.path))]
    Read {
        path: String,
        #[source]
        source: io::Error,
    },

    /// Walking a plain directory failed.
    #[error("failed to list `{}`", display_safe(.path))]
    Walk {
        path: String,
        #[source]
        source: walkdir::Error,
    },

    /// A YAML document is not valid YAML. `line` and `column` are 1-based; `None` when the
    /// parser gives no position (the file is still named).
    #[error("invalid YAML at {}{}", display_safe(.file), position(*line, *column))]
    Yaml {
        file: String,
        line: Option<usize>,
        column: Option<usize>,
        #[source]
        source: crate::yaml::YamlError,
    },

    /// A `.json` file is not valid JSON.
    #[error("invalid JSON at {}:{line}:{column}", display_safe(.file))]
    Json {
        file: String,
        line: usize,
        column: usize,
        #[source]
        source: serde_json::Error,
    },

    /// A YAML value has no JSON equivalent (a tagged value, a complex mapping key, …).
    #[error("document at {} cannot be converted to JSON", display_safe(.origin))]
    NotJson {
        origin: String,
        #[source]
        source: serde_json::Error,
    },

    /// A document is a scalar or a sequence instead of a mapping.
    #[error("document at {} is not a Kubernetes object: it is a {found} (expected a mapping with `apiVersion`, `kind` and `metadata`)", display_safe(.origin))]
    NotAnObject { origin: String, found: &'static str },

    /// An object has no `apiVersion`.
    #[error("object `{}` at {} has no `apiVersion` (every object needs one, e.g. `apiVersion: apps/v1`)", display_safe(.object), display_safe(.origin))]
    MissingApiVersion { origin: String, object: String },

    /// An object has no `kind`.
    #[error("object `{}` at {} has no `kind` (every object needs one, e.g. `kind: Deployment`)", display_safe(.object), display_safe(.origin))]
    MissingKind { origin: String, object: String },

    /// An object has neither `metadata.name` nor `metadata.generateName`.
    #[error("object `{}` at {} has neither `metadata.name` nor `metadata.generateName` (set `metadata.name`)", display_safe(.object), display_safe(.origin))]
    MissingName { origin: String, object: String },

    /// A metadata field that Kubernetes types as a string is some other YAML type (a number,
    /// a list, …). Kubernetes rejects the object; silently replacing or ignoring the value would
    /// plan something else than what is written.
    #[error("object `{}` at {} has `metadata.{field}` that is a {found}, not a string (Kubernetes rejects the object; quote the value)", display_safe(.object), display_safe(.origin))]
    NotAString {
        origin: String,
        object: String,
        field: &'static str,
        found: &'static str,
    },

    /// A kustomization directory was given but neither `kustomize` nor `kubectl` is on `PATH`.
    #[error("cannot render kustomization `{}`: neither `kustomize` nor `kubectl` is on PATH (install kustomize or kubectl)", display_safe(.dir))]
    RendererNotFound { dir: String },

    /// The renderer could not be started.
    #[error("failed to run `{tool}`")]
    RendererSpawn {
        tool: String,
        #[source]
        source: io::Error,
    },

    /// The renderer ran and failed; its own stderr is the cause.
    #[error("`{tool} {}` failed with {status}", display_safe(.dir))]
    RenderFailed {
        tool: String,
        dir: String,
        status: String,
        #[source]
        stderr: ToolStderr,
    },

    /// The renderer printed something that is not UTF-8.
    #[error("`{tool} {}` printed output that is not UTF-8", display_safe(.dir))]
    RenderNotUtf8 { tool: String, dir: String },

    /// An Argo CD Application file could not be rendered (names the file and the field).
    #[error(transparent)]
    Application(Box<crate::manifest::source::Error>),
}

fn position(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(":{l}"),
        _ => String::new(),
    }
}

impl Error {
    /// Exit code: [`ENVIRONMENT`] when the renderer is missing or cannot start, else [`BAD_INPUT`].
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::RendererNotFound { .. } | Error::RendererSpawn { .. } => ENVIRONMENT,
            Error::Application(e) => e.exit_code(),
            _ => BAD_INPUT,
        }
    }
}

impl ExitCode for Error {
    fn exit_code(&self) -> i32 {
        Error::exit_code(self)
    }
}

/// A tool's standard error output, shown as the cause of [`Error::RenderFailed`].
#[derive(Debug)]
pub struct ToolStderr(pub String);

impl fmt::Display for ToolStderr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.trim();
        if text.is_empty() {
            f.write_str("(no output on stderr)")
        } else {
            f.write_str(text)
        }
    }
}

impl std::error::Error for ToolStderr {}
