//! Errors of loading a source. Each names the file (and the object where there is one) and ends
//! with a hint in parentheses when there is one. Causes go in `#[source]`, never in the message.
use crate::error::{ExitCode, BAD_INPUT, ENVIRONMENT};
use std::{fmt, io};

/// Loading failed. Every variant maps to exit code 2 (bad input), except a missing or
/// unrunnable renderer (3).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The source path does not exist.
    #[error(
        "source `{path}` does not exist (give a directory, a file, or `-` for standard input)"
    )]
    Missing { path: String },

    /// A file, directory or standard input could not be read.
    #[error("failed to read `{path}`")]
    Read {
        path: String,
        #[source]
        source: io::Error,
    },

    /// Walking a plain directory failed.
    #[error("failed to list `{path}`")]
    Walk {
        path: String,
        #[source]
        source: walkdir::Error,
    },

    /// A YAML document is not valid YAML. `line` and `column` are 1-based; `None` when the
    /// parser gives no position (the file is still named).
    #[error("invalid YAML at {file}{}", position(*line, *column))]
    Yaml {
        file: String,
        line: Option<usize>,
        column: Option<usize>,
        #[source]
        source: serde_yaml::Error,
    },

    /// A `.json` file is not valid JSON.
    #[error("invalid JSON at {file}:{line}:{column}")]
    Json {
        file: String,
        line: usize,
        column: usize,
        #[source]
        source: serde_json::Error,
    },

    /// A YAML value has no JSON equivalent (a tagged value, a complex mapping key, …).
    #[error("document at {origin} cannot be converted to JSON")]
    NotJson {
        origin: String,
        #[source]
        source: serde_json::Error,
    },

    /// A document is a scalar or a sequence instead of a mapping.
    #[error("document at {origin} is not a Kubernetes object: it is a {found} (expected a mapping with `apiVersion`, `kind` and `metadata`)")]
    NotAnObject { origin: String, found: &'static str },

    /// An object has no `apiVersion`.
    #[error("object `{object}` at {origin} has no `apiVersion` (every object needs one, e.g. `apiVersion: apps/v1`)")]
    MissingApiVersion { origin: String, object: String },

    /// An object has no `kind`.
    #[error("object `{object}` at {origin} has no `kind` (every object needs one, e.g. `kind: Deployment`)")]
    MissingKind { origin: String, object: String },

    /// An object has neither `metadata.name` nor `metadata.generateName`.
    #[error("object `{object}` at {origin} has neither `metadata.name` nor `metadata.generateName` (set `metadata.name`)")]
    MissingName { origin: String, object: String },

    /// A kustomization directory was given but neither `kustomize` nor `kubectl` is on `PATH`.
    #[error("cannot render kustomization `{dir}`: neither `kustomize` nor `kubectl` is on PATH (install kustomize or kubectl)")]
    RendererNotFound { dir: String },

    /// The renderer could not be started.
    #[error("failed to run `{tool}`")]
    RendererSpawn {
        tool: String,
        #[source]
        source: io::Error,
    },

    /// The renderer ran and failed; its own stderr is the cause.
    #[error("`{tool} {dir}` failed with {status}")]
    RenderFailed {
        tool: String,
        dir: String,
        status: String,
        #[source]
        stderr: ToolStderr,
    },

    /// The renderer printed something that is not UTF-8.
    #[error("`{tool} {dir}` printed output that is not UTF-8")]
    RenderNotUtf8 { tool: String, dir: String },
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
