//! Source → objects.
use super::{Error, Object};

#[derive(Debug, Clone, Default)]
pub struct LoadOptions {}

/// How the source was rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renderer {
    /// `kustomize build`, with its version.
    Kustomize {
        version: String,
    },
    /// `kubectl kustomize`, with kubectl's kustomize version.
    KubectlKustomize {
        version: String,
    },
    Directory,
    File,
    Stdin,
}

#[derive(Debug, Clone)]
pub struct Loaded {
    pub objects: Vec<Object>,
    pub renderer: Renderer,
}

/// Loads `source` (a path, or `-` for standard input).
pub fn load(source: &str, _opts: &LoadOptions) -> Result<Loaded, Error> {
    Err(Error::Missing {
        path: source.to_string(),
    })
}
