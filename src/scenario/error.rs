//! Errors of reading and preparing a scenario: each points at `file:line` and says how to fix it.
use crate::error::{ExitCode, BAD_INPUT};

/// A scenario could not be used. Exit code 2 (bad input) except where the source's renderer is
/// missing (3).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("failed to read scenario `{path}`")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// YAML syntax or schema error, located by the YAML parser.
    #[error("{}: {message}", location(file, *line, *column))]
    Parse {
        file: String,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    /// A value that parsed but cannot be used (unknown target, wrong apiVersion…).
    #[error("{}: {message}", location(file, *line, None))]
    Invalid {
        file: String,
        line: Option<usize>,
        message: String,
    },
    /// The scenario's `source` could not be rendered.
    #[error("{file}: failed to load source `{source_path}`")]
    Source {
        file: String,
        source_path: String,
        #[source]
        source: Box<crate::manifest::Error>,
    },
    /// The patched objects do not make a valid plan.
    #[error("{file}: the patched objects do not make a sync plan")]
    Plan {
        file: String,
        #[source]
        source: Box<crate::plan::Error>,
    },
}

fn location(file: &str, line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("{file}:{l}:{c}"),
        (Some(l), None) => format!("{file}:{l}"),
        _ => file.to_string(),
    }
}

impl ExitCode for Error {
    fn exit_code(&self) -> i32 {
        match self {
            Error::Source { source, .. } => source.exit_code(),
            _ => BAD_INPUT,
        }
    }
}
