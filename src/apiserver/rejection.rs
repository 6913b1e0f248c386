//! What the API server (and Argo CD on top of it) says when it refuses an object.
//!
//! Every message here is built from the format strings of Kubernetes, gitops-engine or Argo CD;
//! the function that builds it names the upstream file. The tests in this module and in
//! `tests/apiserver.rs` pin each shape.
use std::fmt;

/// Why an object is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Discovery does not serve the object's apiVersion/kind: Argo CD marks the task invalid
    /// before anything runs (§2.1.6).
    UnknownKind,
    /// Strict field validation: unknown fields (or duplicate fields) in a built-in kind.
    StrictDecoding,
    /// The body cannot be decoded at all: a value of the wrong JSON type.
    BadType,
    /// API validation (`<Kind>.<group> "<name>" is invalid: …`), e.g. `Required value`.
    Invalid,
    /// The namespace does not exist (NamespaceLifecycle admission).
    NamespaceNotFound,
    /// An update the API server forbids (immutable fields).
    Immutable,
}

/// When Argo CD meets the rejection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// While building tasks, at every step (§2.1.6): the operation fails with
    /// [`INVALID_TASKS`], nothing is applied and no hook runs.
    Tasks,
    /// When the object is really applied in its wave. Argo CD's dry run is always client-side
    /// (gitops-engine `applyObject`: "always run in client dry run mode"), and kubectl skips its
    /// own schema check when the server validates fields itself (kubectl
    /// `validation.NewParamVerifyingSchema`), so decoding, validation, namespace and
    /// immutability errors come from the server on the real apply: the task is `SyncFailed`
    /// and the wave fails with `one or more objects failed to apply, reason: <message>` (§4.3).
    Apply,
}

/// A refusal: the message Argo CD records on the task, plus syncsim's own hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub reason: Reason,
    pub stage: Stage,
    /// What the API server / gitops-engine returns (Argo CD's operation message quotes this).
    pub message: String,
    /// What Argo CD records on the task (`syncResult.resources[].message`); differs from
    /// `message` only where Argo CD's `AugmentSyncMsg` rewrites it (util/argo/argo.go).
    pub task_message: String,
    /// syncsim's hint: how to fix it. Never part of Argo CD's messages.
    pub hint: Option<String>,
}

impl Rejection {
    pub(crate) fn new(reason: Reason, stage: Stage, message: String) -> Self {
        Self {
            reason,
            stage,
            task_message: message.clone(),
            message,
            hint: None,
        }
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.task_message)?;
        if let Some(hint) = &self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Rejection {}

/// gitops-engine `Sync()` (gitops-engine/pkg/sync/sync_context.go): the operation message when
/// a task is invalid.
pub const INVALID_TASKS: &str = "one or more synchronization tasks are not valid";

/// The operation message for invalid tasks: [`INVALID_TASKS`], then `: ` and the distinct
/// messages of the invalid tasks in task order, joined with `, ` (Argo CD after v3.5 lists the
/// causes, §2.1.6 and §10; observed as `one or more synchronization tasks are not valid: Rollout.argoproj.io "" not found`).
pub fn invalid_tasks_message<'a>(messages: impl IntoIterator<Item = &'a str>) -> String {
    let mut distinct: Vec<&str> = Vec::new();
    for m in messages {
        if !distinct.contains(&m) {
            distinct.push(m);
        }
    }
    if distinct.is_empty() {
        INVALID_TASKS.to_string()
    } else {
        format!("{INVALID_TASKS}: {}", distinct.join(", "))
    }
}

/// `schema.GroupResource.String()` (apimachinery/pkg/runtime/schema/group_version.go):
/// `resource` for the core group, else `resource.group`.
pub fn group_resource(group: &str, resource: &str) -> String {
    if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

/// `errors.NewNotFound(qualifiedResource, name)` (apimachinery/pkg/api/errors/errors.go):
/// `%s %q not found`.
pub fn not_found(group: &str, resource: &str, name: &str) -> String {
    format!(
        "{} {} not found",
        group_resource(group, resource),
        go_quote(name)
    )
}

/// The body of a 404 without a Status (`NewGenericServerResponse`,
/// apimachinery/pkg/api/errors/errors.go), what discovery returns for a group version the
/// server does not serve.
pub const SERVER_COULD_NOT_FIND: &str = "the server could not find the requested resource";

/// gitops-engine `ServerResourceForGroupVersionKind`
/// (gitops-engine/pkg/utils/kube/kube.go) when the group version is not served.
pub fn group_version_not_served(group_version: &str) -> String {
    format!(
        "failed to discover server resources for group version {group_version}: {SERVER_COULD_NOT_FIND}"
    )
}

/// Argo CD's `AugmentSyncMsg` (util/argo/argo.go) for a kind no version of which is served.
pub fn augmented_missing_kind(group: &str, kind: &str, namespace: &str, name: &str) -> String {
    format!(
        "The Kubernetes API could not find {group}/{kind} for requested resource {namespace}/{name}. \
         Make sure the {} CRD is installed on the destination cluster.",
        go_quote(kind)
    )
}

/// Argo CD's `AugmentSyncMsg` (util/argo/argo.go) for a kind served at another version.
pub fn augmented_other_version(
    version: &str,
    group: &str,
    kind: &str,
    namespace: &str,
    name: &str,
    served_version: &str,
) -> String {
    format!(
        "The Kubernetes API could not find version {} of {group}/{kind} for requested resource \
         {namespace}/{name}. Version {} of {group}/{kind} is installed on the destination cluster.",
        go_quote(version),
        go_quote(served_version)
    )
}

/// `errors.NewInvalid` (apimachinery/pkg/api/errors/errors.go): `%s %q is invalid: %v` with the
/// qualified kind (`Kind.group`) and `ErrorList.ToAggregate()` (one error as is, several as
/// `[a, b]`; apimachinery/pkg/util/errors/errors.go).
pub fn invalid(group: &str, kind: &str, name: &str, errors: &[FieldError]) -> String {
    let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let aggregate = if list.len() == 1 {
        list[0].clone()
    } else {
        format!("[{}]", list.join(", "))
    };
    format!(
        "{} {} is invalid: {aggregate}",
        group_resource(group, kind),
        go_quote(name)
    )
}

/// One `field.Error` (apimachinery/pkg/util/validation/field/errors.go): `<path>: <body>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub path: String,
    pub body: FieldErrorBody,
}

/// `ErrorBody()` of apimachinery/pkg/util/validation/field/errors.go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldErrorBody {
    /// `Required value`, `: detail` when a detail is given.
    Required { detail: String },
    /// `Forbidden: detail`.
    Forbidden { detail: String },
    /// `Invalid value: <value>: detail`; `value` already rendered as Go prints it.
    Invalid { value: String, detail: String },
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, value, detail) = match &self.body {
            FieldErrorBody::Required { detail } => ("Required value", None, detail),
            FieldErrorBody::Forbidden { detail } => ("Forbidden", None, detail),
            FieldErrorBody::Invalid { value, detail } => ("Invalid value", Some(value), detail),
        };
        write!(f, "{}: {kind}", self.path)?;
        if let Some(v) = value {
            write!(f, ": {v}")?;
        }
        if !detail.is_empty() {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

/// `field.ErrorTypeInvalid` detail of `ValidateImmutableField`
/// (apimachinery/pkg/api/validation/generic.go `FieldImmutableErrorMsg`).
pub const FIELD_IS_IMMUTABLE: &str = "field is immutable";

/// `transformDecodeError` (apiserver/pkg/endpoints/handlers/rest.go): a body that cannot be
/// decoded as the kind it names.
pub fn cannot_be_handled(kind: &str, version: &str, cause: &str) -> String {
    format!(
        "{kind} in version {} cannot be handled as a {kind}: {cause}",
        go_quote(version)
    )
}

/// `runtime.StrictDecodingError` (apimachinery/pkg/runtime/error.go): `strict decoding error: `
/// and the field errors joined with `, `; each unknown field is `unknown field "<path>"`
/// (sigs.k8s.io/json).
pub fn strict_decoding(unknown_paths: &[String]) -> String {
    let fields: Vec<String> = unknown_paths
        .iter()
        .map(|p| format!("unknown field {}", go_quote(p)))
        .collect();
    format!("strict decoding error: {}", fields.join(", "))
}

pub use crate::text::go_quote;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_tasks_lists_distinct_causes_in_order() {
        assert_eq!(invalid_tasks_message([]), INVALID_TASKS);
        assert_eq!(
            invalid_tasks_message(["a", "b", "a"]),
            "one or more synchronization tasks are not valid: a, b"
        );
    }

    #[test]
    fn not_found_qualifies_the_resource_like_group_resource_string() {
        // apimachinery/pkg/api/errors/errors.go NewNotFound + schema.GroupResource.String()
        assert_eq!(
            not_found("argoproj.io", "Rollout", ""),
            r#"Rollout.argoproj.io "" not found"#
        );
        assert_eq!(
            not_found("", "namespaces", "istio-system"),
            r#"namespaces "istio-system" not found"#
        );
    }

    #[test]
    fn field_errors_render_like_error_body() {
        // apimachinery/pkg/util/validation/field/errors.go ErrorBody
        let required = FieldError {
            path: "spec.template.spec.containers[0].image".into(),
            body: FieldErrorBody::Required {
                detail: String::new(),
            },
        };
        assert_eq!(
            required.to_string(),
            "spec.template.spec.containers[0].image: Required value"
        );
        let forbidden = FieldError {
            path: "data".into(),
            body: FieldErrorBody::Forbidden {
                detail: "field is immutable when `immutable` is set".into(),
            },
        };
        assert_eq!(
            forbidden.to_string(),
            "data: Forbidden: field is immutable when `immutable` is set"
        );
        let two = invalid("apps", "Deployment", "web", &[required.clone(), required]);
        assert!(
            two.starts_with(r#"Deployment.apps "web" is invalid: [spec"#),
            "{two}"
        );
    }
}
