//! Reading sources into Kubernetes objects that remember where they came from.
//!
//! A source is a kustomize directory (rendered with `kustomize build` or `kubectl kustomize`, as
//! Argo CD does), a plain directory of YAML/JSON files, a single file, or `-` for standard input.
mod error;
mod load;
mod object;
mod parse;

pub use error::{Error, ToolStderr};
pub use load::{load, LoadOptions, Loaded, Renderer, KUSTOMIZATION_FILES};
pub use object::{Object, ObjectKey, Origin};
pub use parse::from_yaml_str;
