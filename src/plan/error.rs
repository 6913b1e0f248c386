//! Errors of building a plan.
use crate::error::{ExitCode, BAD_INPUT};
use crate::text::display_safe;

/// The plan could not be built from the given objects: an object the plan cannot read (objects
/// from [`crate::manifest::load`] are already checked for those), or one Kubernetes rejects.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An object lacks a field the plan needs (`apiVersion`, `kind`, or a name for a resource).
    #[error("object `{}` at {} has no `{field}` (every object needs it)", display_safe(.object), display_safe(.origin))]
    MissingField {
        origin: String,
        object: String,
        field: &'static str,
    },

    /// A metadata field Kubernetes types as a string (`name`, `generateName`, `namespace`) is
    /// another YAML type. Planning with a default in its place would plan another object.
    #[error("object `{}` at {} has `metadata.{field}` that is a {found}, not a string (Kubernetes rejects the object; quote the value)", display_safe(.object), display_safe(.origin))]
    NotAString {
        origin: String,
        object: String,
        field: &'static str,
        found: &'static str,
    },

    /// The Kubernetes API server would refuse to create the object, so Argo CD's sync fails on
    /// it; `message` is the API server's.
    #[error("object `{}` at {} would be rejected by Kubernetes: {}", display_safe(.object), display_safe(.origin), display_safe(.message))]
    Rejected {
        origin: String,
        object: String,
        message: String,
    },
}

impl Error {
    /// Always [`BAD_INPUT`].
    pub fn exit_code(&self) -> i32 {
        BAD_INPUT
    }
}

impl ExitCode for Error {
    fn exit_code(&self) -> i32 {
        BAD_INPUT
    }
}
