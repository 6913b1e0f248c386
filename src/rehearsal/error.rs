//! The one mapping from failure classes to exit codes ([`crate::error`]).
use super::env::EnvError;
use crate::{
    build,
    error::{self, ExitCode},
    manifest, plan, runtime,
    state::StateError,
};

/// A rehearsal could not run (as opposed to a rehearsed sync that failed, which is a report).
/// Each variant is one failure class with one exit code; see [`Error::exit_code`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Loading the source failed: bad input (2), or the renderer is missing (3).
    #[error(transparent)]
    Manifest(#[from] manifest::Error),
    /// Building the plan failed (2).
    #[error(transparent)]
    Plan(#[from] plan::Error),
    /// Building the images of `syncsim.yaml` failed: a bad config (2) or a failed build (3).
    #[error(transparent)]
    Build(#[from] build::Error),
    /// The container engine is unreachable (3).
    #[error("cannot use the Docker engine at {endpoint}")]
    Connect {
        endpoint: String,
        #[source]
        source: runtime::Error,
    },
    /// The container engine accepted the connection but did not answer in time (3).
    #[error("the Docker engine at {endpoint} did not answer within {}: is it running and responsive (`docker version`)? Is DOCKER_HOST right? Point DOCKER_HOST at a working engine, or restart this one", humantime::format_duration(*after))]
    Unresponsive {
        endpoint: String,
        after: std::time::Duration,
    },
    /// The container engine failed outside a rehearsed operation (3).
    #[error(transparent)]
    Runtime(#[from] runtime::Error),
    /// The environment could not be opened (3).
    #[error(transparent)]
    Env(#[from] EnvError),
    /// The kept-environment record could not be read or written (3).
    #[error(transparent)]
    State(#[from] StateError),
    /// SIGINT/SIGTERM came before the environment was created: nothing to clean up (130).
    #[error("interrupted before anything was created")]
    Interrupted,
    /// A flag or argument cannot be used (2).
    #[error("{0}")]
    BadInput(String),
    /// `status` of an app that has no kept environment (2).
    #[error("no kept environment of app `{app}` (create one with `syncsim sync --keep SOURCE`)")]
    NotKept { app: String },
    /// Images the workloads need are neither present nor pullable (3): on a cluster the pods
    /// would stay Pending and the sync would hang. `--allow-missing-images` rehearses the hang.
    #[error("{}", missing_images_message(.0))]
    MissingImages(Vec<super::images::MissingImage>),
    /// Writing the output or a report file failed (3).
    #[error("failed to write {what}")]
    Output {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Manifest(e) => e.exit_code(),
            Error::Plan(e) => e.exit_code(),
            Error::Build(e) => ExitCode::exit_code(e),
            Error::BadInput(_) | Error::NotKept { .. } => error::BAD_INPUT,
            Error::Interrupted => error::INTERRUPTED,
            Error::Connect { .. }
            | Error::Unresponsive { .. }
            | Error::Runtime(_)
            | Error::Env(_)
            | Error::State(_)
            | Error::Output { .. }
            | Error::MissingImages(_) => error::ENVIRONMENT,
        }
    }
}

fn missing_images_message(missing: &[super::images::MissingImage]) -> String {
    let list: Vec<String> = missing.iter().map(|m| format!("  - {m}")).collect();
    format!(
        "{} image(s) can be neither found nor pulled:\n{}\nOn a cluster these pods would stay \
         Pending (ImagePullBackOff) and Argo CD would wait until the operation is terminated: the \
         sync would hang. Fix: build them (`syncsim build`, or drop --no-build), `docker load -i \
         <file>`, or run a local image instead with --image FROM=TO. To rehearse the hang, pass \
         --allow-missing-images.",
        missing.len(),
        list.join("\n")
    )
}

impl ExitCode for Error {
    fn exit_code(&self) -> i32 {
        Error::exit_code(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_renderer_is_an_environment_problem_and_a_bad_flag_bad_input() {
        let missing = Error::Manifest(manifest::Error::RendererNotFound { dir: "k".into() });
        assert_eq!(missing.exit_code(), error::ENVIRONMENT);
        assert_eq!(Error::BadInput("x".into()).exit_code(), error::BAD_INPUT);
        assert_eq!(
            Error::NotKept { app: "a".into() }.exit_code(),
            error::BAD_INPUT
        );
    }
}
