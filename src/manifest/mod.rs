//! Reading sources into Kubernetes objects that remember where they came from.
//!
//! A source is a kustomize directory (rendered with `kustomize build` or `kubectl kustomize`, as
//! Argo CD does), a plain directory of YAML/JSON files, a single file, `-` for standard input, or
//! an Argo CD `Application` file, rendered from its source as Argo CD's repo-server would
//! ([`source`]).
mod block;
mod error;
mod load;
mod object;
mod parse;
mod plain;
mod scalar;
pub mod source;

pub use error::{Error, ToolStderr};
pub(crate) use load::{find_tool, parse_text, render_kustomize_with, ToolVersion};
pub use load::{load, LoadOptions, Loaded, Renderer, KUSTOMIZATION_FILES};
pub use object::{Object, ObjectKey, Origin};
pub use parse::from_yaml_str;
pub(crate) use parse::non_string_metadata;
