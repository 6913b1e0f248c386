//! Reading sources into Kubernetes objects that remember where they came from.
//!
//! A source is a kustomize directory (rendered with `kustomize build` or `kubectl kustomize`, as
//! Argo CD does), a plain directory of YAML/JSON files, a single file, or `-` for standard input.
mod error;
mod load;
mod object;

pub use error::Error;
pub use load::{load, LoadOptions, Loaded, Renderer};
pub use object::{Object, ObjectKey, Origin};
