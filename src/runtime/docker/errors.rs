//! Mapping bollard's errors to ours: unreachable engine, missing object, failed operation.
use super::super::Error;
use bollard::errors::Error as BollardError;

pub(super) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// HTTP status of an engine answer, if the error is one.
pub(super) fn status(e: &BollardError) -> Option<u16> {
    match e {
        BollardError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

pub(super) fn message(e: &BollardError) -> &str {
    match e {
        BollardError::DockerResponseServerError { message, .. } => message,
        _ => "",
    }
}

/// Whether the error means the engine could not be reached at all.
pub(super) fn is_unreachable(e: &BollardError) -> bool {
    match e {
        BollardError::SocketNotFoundError(_) | BollardError::HyperLegacyError { .. } => true,
        BollardError::IOError { err } => matches!(
            err.kind(),
            std::io::ErrorKind::ConnectionRefused
                | std::io::ErrorKind::NotFound
                | std::io::ErrorKind::PermissionDenied
                | std::io::ErrorKind::ConnectionReset
        ),
        _ => false,
    }
}

/// Maps a bollard error to ours: unreachable engine or a failed operation on `object`.
pub(super) fn classify(e: BollardError, op: &'static str, object: &str) -> Error {
    if is_unreachable(&e) {
        Error::Unreachable {
            source: Box::new(e),
        }
    } else {
        Error::Operation {
            op,
            object: object.to_string(),
            source: Box::new(e),
        }
    }
}

/// Like [`classify`], but a 404 is [`Error::NotFound`] for the container `id`.
pub(super) fn not_found_or(e: BollardError, op: &'static str, id: &str) -> Error {
    if status(&e) == Some(404) {
        Error::NotFound {
            object: format!("container `{id}`"),
        }
    } else {
        classify(e, op, id)
    }
}
