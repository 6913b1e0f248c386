//! Errors of building a plan.
use crate::error::{ExitCode, BAD_INPUT};

/// The plan could not be built from the given objects. Objects from [`crate::manifest::load`]
/// are already validated, so this only happens with objects built elsewhere.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An object lacks a field the plan needs (`apiVersion`, `kind`, or a name for a resource).
    #[error("object `{object}` at {origin} has no `{field}` (every object needs it)")]
    MissingField {
        origin: String,
        object: String,
        field: &'static str,
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
