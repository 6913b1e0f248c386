//! What a real API server (and Argo CD on top of it) refuses, as pure functions: discovery,
//! strict decoding of built-in kinds, namespace existence and immutable fields.
//!
//! No Docker, no async, no I/O except [`ClusterDescription::read_crd_files`]. It reads the
//! cluster description (the `cluster:` section of `syncsim.yaml`, [`cluster`]) and the rendered
//! objects, and says which tasks Argo CD would refuse, when, and with which message.
//!
//! # Wiring (for the engine)
//!
//! Once per operation, after rendering and before the first step:
//!
//! ```text
//! let discovery  = Discovery::new(&config.cluster, &objects);
//! let namespaces = Namespaces::new(&config.cluster, &objects, &dest_namespace, create_namespace);
//! ```
//!
//! Then, per task of the plan (hooks included, all phases, SyncFail too):
//!
//! 1. **Task building (§2.1.6, every step, before anything runs)**:
//!    `discovery.check_kind(&task.target, &dest_namespace)`:
//!    * `KindCheck::Invalid(r)`: record the task `SyncFailed` with `r.task_message`; once all
//!      tasks are checked, end the operation `Failed` with
//!      `invalid_tasks_message(invalid.iter().map(|r| r.message.as_str()))`. Nothing is applied,
//!      no hook runs, no SyncFail hook runs. Show `r.hint` (syncsim's words) beside it.
//!    * `KindCheck::SkipDryRun { .. }`: valid; leave the task out of the dry run (§2.7 B).
//!    * `KindCheck::Served { namespaced }`: valid; keep `namespaced` for step 2.
//! 2. **Apply of the task's wave** (the dry run is client-side and passes these; §2.7 B):
//!    `check_object(&task.target)` then `namespaces.check(&task.target, namespaced,
//!    &dest_namespace)`, and for an object that exists
//!    `update_action(Some(&live), &task.target, &UpdateOptions { force, replace })`
//!    (`force` = `--force` of the sync, `replace` = application option `Replace=true`).
//!    An `Err(r)` makes the task `SyncFailed` with `r.task_message` (the wave then fails with
//!    `one or more objects failed to apply, reason: <message>`, §4.3); `Ok(UpdateAction)` says
//!    whether the object is patched, replaced, or deleted and re-created (`Recreate`: the
//!    cluster must delete the old object first, e.g. a StatefulSet's pods).
//!
//! Every [`Rejection`] carries its [`Stage`] so the engine cannot mix the two places up.
//!
//! # Upstream wording
//!
//! Each message is built by a function of [`rejection`] that names the upstream source file it
//! copies (Kubernetes apimachinery/apiserver/validation, gitops-engine, Argo CD's
//! `AugmentSyncMsg`); `tests/apiserver.rs` pins each kind of message with its source.
//!
//! # Limits
//!
//! Built-in kinds are decoded with the k8s-openapi `v1_33` schema whatever
//! `kubernetesVersion` says (the version changes discovery only). Validation beyond required
//! fields (formats, enum values, cross-field rules) is not reproduced; custom resources are not
//! checked against their CRD schema.
mod builtin;
pub mod cluster;
mod decode;
mod discovery;
mod namespaces;
pub mod rejection;
mod update;

pub use cluster::{
    BindingMode, ClusterDescription, CrdEntry, CustomKind, FieldProblem, KubeVersion, RawCluster,
    Scope, StorageClass, DEFAULT_NAMESPACES,
};
pub use decode::Decoded;
pub use discovery::{Discovery, KindCheck, Served};
pub use namespaces::Namespaces;
pub use rejection::{invalid_tasks_message, Reason, Rejection, Stage, INVALID_TASKS};
pub use update::{check_update, update_action, UpdateAction, UpdateOptions};

use crate::{manifest::Object, plan};

/// Decodes a built-in object strictly through its k8s-openapi type: unknown fields, values of
/// the wrong type and missing required fields are refused in the API server's words. Kinds
/// without a type (custom resources) pass. `Validate=false` in the object's sync options turns
/// the unknown-field check off, as Argo CD then asks for `fieldValidation=Ignore`.
pub fn check_object(obj: &Object) -> Result<(), Rejection> {
    let Some(b) = builtin::BUILTINS
        .iter()
        .find(|b| b.group == obj.group() && b.version == obj.version() && b.kind == obj.kind())
    else {
        return Ok(());
    };
    let strict = !plan::sync_options(obj).validate_false;
    let decoded = (b.decode)(&obj.value, strict);
    match decode::message_for(&decoded, b.group, b.version, b.kind, obj.name()) {
        None => Ok(()),
        Some((reason, message)) => {
            let hint = match &decoded {
                Decoded::Unknown(paths) => format!(
                    "{} is not a field of {} {} (check the spelling against `kubectl explain`)",
                    paths.join(", "),
                    obj.api_version(),
                    obj.kind()
                ),
                Decoded::Required(_) => "add the missing fields".to_string(),
                _ => "fix the value's type".to_string(),
            };
            Err(Rejection::new(reason, Stage::Apply, message).with_hint(hint))
        }
    }
}

/// The result of [`check_all`] for one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectCheck {
    /// Index in the objects given.
    pub index: usize,
    pub kind: KindCheck,
    /// Apply-time refusals (decoding, validation, namespace); empty when the kind is invalid.
    pub apply: Vec<Rejection>,
}

/// Runs the create-time checks over rendered objects (no live state): kind, decoding and
/// namespace. Useful for a preflight and for tests; the engine calls the pieces per task.
pub fn check_all(
    objects: &[Object],
    cluster: &ClusterDescription,
    dest_namespace: &str,
    create_namespace: bool,
) -> Vec<ObjectCheck> {
    let discovery = Discovery::new(cluster, objects);
    let namespaces = Namespaces::new(cluster, objects, dest_namespace, create_namespace);
    objects
        .iter()
        .enumerate()
        .map(|(index, obj)| {
            let kind = discovery.check_kind(obj, dest_namespace);
            let mut apply = Vec::new();
            let namespaced = match &kind {
                KindCheck::Served { namespaced } | KindCheck::SkipDryRun { namespaced } => {
                    Some(*namespaced)
                }
                KindCheck::Invalid(_) => None,
            };
            if let Some(namespaced) = namespaced {
                if let Err(r) = check_object(obj) {
                    apply.push(r);
                }
                if let Err(r) = namespaces.check(obj, namespaced, dest_namespace) {
                    apply.push(r);
                }
            }
            ObjectCheck { index, kind, apply }
        })
        .collect()
}
