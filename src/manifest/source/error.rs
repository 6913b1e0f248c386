//! Errors of reading an Argo CD Application as a source. Each names the Application file and,
//! where there is one, the Application and the field at fault.
use crate::error::{ExitCode, BAD_INPUT, ENVIRONMENT};

/// An Application could not be turned into objects. Exit code 2 (bad input) except a missing
/// renderer (3) and errors of the inner render, which keep their own code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file holds no Application of that name, or several and none was picked.
    #[error("{file}: {message}")]
    Select { file: String, message: String },

    /// A field of the Application is missing or wrong.
    #[error("{file}: Application `{app}`: {field}: {message}")]
    Field {
        file: String,
        app: String,
        field: String,
        message: String,
    },

    /// A field asks for something syncsim does not do.
    #[error("{file}: Application `{app}`: {field}: {what} is not supported by syncsim ({hint})")]
    Unsupported {
        file: String,
        app: String,
        field: String,
        what: String,
        hint: String,
    },

    /// `git` failed on the repository of a source (unknown revision, not a checkout …).
    #[error("{file}: Application `{app}`: {field}: {message}")]
    Git {
        file: String,
        app: String,
        field: String,
        message: String,
        #[source]
        stderr: crate::manifest::ToolStderr,
    },

    /// A renderer (`helm`, `git`) is not installed.
    #[error("`{tool}` is not on PATH; it is needed for {what} ({hint})")]
    ToolMissing {
        tool: String,
        what: String,
        hint: String,
    },

    /// A file or directory of a source could not be read or copied.
    #[error("{file}: Application `{app}`: {field}: failed to prepare `{path}`")]
    Io {
        file: String,
        app: String,
        field: String,
        path: String,
        #[source]
        source: std::io::Error,
    },

    /// Rendering the source (kustomize, helm, a directory) failed.
    #[error("{file}: Application `{app}`: {field}: rendering failed")]
    Render {
        file: String,
        app: String,
        field: String,
        #[source]
        source: Box<crate::manifest::Error>,
    },
}

impl Error {
    /// [`ENVIRONMENT`] for a missing tool, the inner code for a failed render, else
    /// [`BAD_INPUT`].
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::ToolMissing { .. } => ENVIRONMENT,
            Error::Render { source, .. } => source.exit_code(),
            _ => BAD_INPUT,
        }
    }
}

impl ExitCode for Error {
    fn exit_code(&self) -> i32 {
        Error::exit_code(self)
    }
}

/// Where an error is: the Application file, the Application's name, and a field path prefix
/// (`spec.source` or `spec.sources[1]`).
#[derive(Debug, Clone)]
pub(crate) struct At {
    pub file: String,
    pub app: String,
    pub field: String,
}

impl At {
    /// The same place, one field deeper (`spec.source` + `helm.valueFiles[0]`).
    pub fn field(&self, sub: &str) -> At {
        At {
            field: if sub.is_empty() {
                self.field.clone()
            } else {
                format!("{}.{sub}", self.field)
            },
            ..self.clone()
        }
    }

    pub fn err(&self, message: impl Into<String>) -> Error {
        Error::Field {
            file: self.file.clone(),
            app: self.app.clone(),
            field: self.field.clone(),
            message: message.into(),
        }
    }

    pub fn unsupported(&self, what: impl Into<String>, hint: impl Into<String>) -> Error {
        Error::Unsupported {
            file: self.file.clone(),
            app: self.app.clone(),
            field: self.field.clone(),
            what: what.into(),
            hint: hint.into(),
        }
    }

    pub fn io(&self, path: &std::path::Path, source: std::io::Error) -> Error {
        Error::Io {
            file: self.file.clone(),
            app: self.app.clone(),
            field: self.field.clone(),
            path: path.display().to_string(),
            source,
        }
    }

    pub fn render(&self, source: crate::manifest::Error) -> Error {
        Error::Render {
            file: self.file.clone(),
            app: self.app.clone(),
            field: self.field.clone(),
            source: Box::new(source),
        }
    }

    pub fn git(&self, message: impl Into<String>, stderr: String) -> Error {
        Error::Git {
            file: self.file.clone(),
            app: self.app.clone(),
            field: self.field.clone(),
            message: message.into(),
            stderr: crate::manifest::ToolStderr(stderr),
        }
    }
}
