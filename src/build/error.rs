//! Errors of finding, reading and executing a build configuration.
use crate::error::{ExitCode, BAD_INPUT, ENVIRONMENT};
use std::path::PathBuf;

/// A build configuration could not be used, or a build failed. Configuration problems are bad
/// input (exit code 2); failed builds and engine problems are the environment (exit code 3).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `--config FILE` does not exist or cannot be read.
    #[error("failed to read build config `{path}`")]
    ReadConfig {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The config is not valid YAML, or a field has the wrong name or type.
    #[error("invalid build config at {file}:{line}:{column} (see the README, section `syncsim.yaml`, for the format)")]
    Yaml {
        file: String,
        line: usize,
        column: usize,
        #[source]
        source: crate::yaml::YamlError,
    },

    /// The config parsed but says something syncsim cannot do; `problem` ends with the fix.
    #[error("{location}: {problem}")]
    Invalid { location: String, problem: String },

    /// `syncsim build` found no config.
    #[error(
        "no {name} next to `{source_path}` or in its parents up to the git root (create one, see \
         the README, or pass --config FILE)",
        name = super::CONFIG_FILE_NAME
    )]
    NoConfig { source_path: String },

    /// Reading the files of a build context (to hash or archive them) failed.
    #[error("failed to read build context `{path}` of image `{image}`")]
    Context {
        image: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Asking the engine about an image failed.
    #[error("failed to inspect image `{image}`")]
    Inspect {
        image: String,
        #[source]
        source: crate::runtime::Error,
    },

    /// A Docker build failed (the cause holds the daemon's error and the last output lines).
    #[error("build of image `{image}` from `{context}` failed")]
    Build {
        image: String,
        context: PathBuf,
        #[source]
        source: crate::runtime::Error,
    },

    /// A custom build command could not be started.
    #[error("failed to run the build command of image `{image}`: `{command}` in `{dir}`")]
    Spawn {
        image: String,
        command: String,
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A custom build command exited unsuccessfully.
    #[error(
        "the build command of image `{image}` failed ({status}): `{command}` in `{dir}`{tail}"
    )]
    Command {
        image: String,
        command: String,
        dir: PathBuf,
        status: String,
        /// The last output lines, pre-rendered (`\n    | line`).
        tail: String,
    },

    /// A custom build command succeeded but did not produce the image.
    #[error(
        "the build command of image `{image}` succeeded but `{image}` is not present (the command \
         must build and tag exactly this image)"
    )]
    NotProduced { image: String },
}

impl ExitCode for Error {
    fn exit_code(&self) -> i32 {
        match self {
            Error::ReadConfig { .. }
            | Error::Yaml { .. }
            | Error::Invalid { .. }
            | Error::NoConfig { .. } => BAD_INPUT,
            Error::Context { .. }
            | Error::Inspect { .. }
            | Error::Build { .. }
            | Error::Spawn { .. }
            | Error::Command { .. }
            | Error::NotProduced { .. } => ENVIRONMENT,
        }
    }
}
