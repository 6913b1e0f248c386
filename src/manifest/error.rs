//! Errors of loading a source. Each names the file (and object where there is one) and ends
//! with a hint when there is one.

/// Loading failed. Every variant maps to exit code 2 (bad input), except a missing renderer (3).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Placeholder until loading is implemented.
    #[error("source `{path}` does not exist")]
    Missing { path: String },
}
