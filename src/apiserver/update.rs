//! Updates the API server refuses (immutable fields), and how Argo CD applies an object that
//! exists: `kubectl apply`, `kubectl replace`, or delete and create (§6.2, §7).
//!
//! `live` is the object as the simulated cluster holds it (the last applied manifest, with its
//! `status`); `target` the rendered one. Messages come from Kubernetes' update validation:
//! pkg/apis/apps/validation/validation.go (StatefulSet, Deployment),
//! pkg/apis/core/validation/validation.go (Service, PersistentVolumeClaim, ConfigMap, Secret),
//! pkg/apis/batch/validation/validation.go (Job), rendered by `errors.NewInvalid` and
//! field/errors.go.
use super::rejection::{self, FieldError, FieldErrorBody, Reason, Rejection, Stage};
use crate::{manifest::Object, plan};
use serde_json::{Map, Value};

/// `ValidateStatefulSetUpdate`'s detail (pkg/apis/apps/validation/validation.go).
pub const STATEFULSET_FORBIDDEN: &str = "updates to statefulset spec for fields other than \
     'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', \
     'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";

/// `ValidatePersistentVolumeClaimUpdate`'s detail (pkg/apis/core/validation/validation.go);
/// Kubernetes appends a `cmp.Diff` of the two specs, which syncsim does not reproduce.
pub const PVC_SPEC_FORBIDDEN: &str =
    "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims";

/// `ValidatePersistentVolumeClaimUpdate` when a bound claim's request shrinks (1.32+, with
/// RecoverVolumeExpansionFailure on by default).
pub const PVC_SHRINK_FORBIDDEN: &str = "field can not be less than status.capacity";

/// `ValidateConfigMapUpdate` / `ValidateSecretUpdate` (pkg/apis/core/validation/validation.go).
pub const IMMUTABLE_WHEN_SET: &str = "field is immutable when `immutable` is set";

/// `validateUpgradeDowngradeClusterIPs` (pkg/apis/core/validation/validation.go).
pub const MAY_NOT_CHANGE: &str = "may not change once set";

fn spec(obj: &Object) -> Option<&Map<String, Value>> {
    obj.value.get("spec").and_then(Value::as_object)
}

fn field<'a>(obj: &'a Object, path: &[&str]) -> Option<&'a Value> {
    let mut v = &obj.value;
    for p in path {
        v = v.get(p)?;
    }
    (!v.is_null()).then_some(v)
}

fn invalid_rejection(target: &Object, errors: Vec<FieldError>) -> Result<(), Rejection> {
    if errors.is_empty() {
        return Ok(());
    }
    Err(Rejection::new(
        Reason::Immutable,
        Stage::Apply,
        rejection::invalid(target.group(), target.kind(), target.name(), &errors),
    )
    .with_hint(
        "a real cluster refuses this update: set `argocd.argoproj.io/sync-options: Force=true` \
         (or `Force=true,Replace=true`) to delete and re-create the object, or delete it first",
    ))
}

/// Checks that `target` may replace `live` (same kind and name). `Ok` for kinds without
/// immutable fields syncsim knows.
pub fn check_update(live: &Object, target: &Object) -> Result<(), Rejection> {
    let errors = match (target.group(), target.kind()) {
        ("apps", "StatefulSet") => statefulset(live, target),
        ("apps", "Deployment") => selector(live, target),
        ("", "Service") => service(live, target),
        ("", "PersistentVolumeClaim") => pvc(live, target),
        ("", "ConfigMap") => config_data(live, target, false),
        ("", "Secret") => config_data(live, target, true),
        ("batch", "Job") => job(live, target),
        _ => Vec::new(),
    };
    invalid_rejection(target, errors)
}

fn forbidden(path: &str, detail: &str) -> FieldError {
    FieldError {
        path: path.into(),
        body: FieldErrorBody::Forbidden {
            detail: detail.into(),
        },
    }
}

fn statefulset(live: &Object, target: &Object) -> Vec<FieldError> {
    // Everything but the allowed fields must be equal (with the API server's defaults).
    let norm = |o: &Object| -> Value {
        let mut out = Map::new();
        let s = spec(o).cloned().unwrap_or_default();
        let sel = s.get("selector").cloned().unwrap_or(Value::Null);
        out.insert("selector".into(), sel);
        let svc = s
            .get("serviceName")
            .cloned()
            .unwrap_or(Value::String(String::new()));
        out.insert("serviceName".into(), svc);
        let pmp = s
            .get("podManagementPolicy")
            .cloned()
            .unwrap_or(Value::String("OrderedReady".into()));
        out.insert("podManagementPolicy".into(), pmp);
        let vcts: Vec<Value> = s
            .get("volumeClaimTemplates")
            .and_then(Value::as_array)
            .map(|v| v.iter().map(normalize_claim_template).collect())
            .unwrap_or_default();
        out.insert("volumeClaimTemplates".into(), Value::Array(vcts));
        Value::Object(out)
    };
    if norm(live) == norm(target) {
        Vec::new()
    } else {
        vec![forbidden("spec", STATEFULSET_FORBIDDEN)]
    }
}

fn normalize_claim_template(t: &Value) -> Value {
    let mut t = t.clone();
    if let Some(o) = t.as_object_mut() {
        o.remove("apiVersion");
        o.remove("kind");
        o.remove("status");
        if let Some(spec) = o.get_mut("spec").and_then(Value::as_object_mut) {
            spec.entry("volumeMode")
                .or_insert_with(|| Value::String("Filesystem".into()));
        }
        if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.retain(|_, v| !v.is_null());
        }
    }
    t
}

/// Go's `%#v` of a `*metav1.LabelSelector` (field/errors.go prints struct values that way).
fn go_label_selector(v: Option<&Value>) -> String {
    let Some(v) = v else {
        return "null".into();
    };
    let labels = v
        .get("matchLabels")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty());
    let labels = match labels {
        None => "map[string]string(nil)".to_string(),
        Some(m) => {
            let mut pairs: Vec<(&String, String)> = m
                .iter()
                .map(|(k, v)| (k, rejection::go_quote(v.as_str().unwrap_or(""))))
                .collect();
            pairs.sort();
            let inner: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}:{v}", rejection::go_quote(k)))
                .collect();
            format!("map[string]string{{{}}}", inner.join(", "))
        }
    };
    let exprs = v
        .get("matchExpressions")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty());
    let exprs = match exprs {
        None => "[]v1.LabelSelectorRequirement(nil)".to_string(),
        Some(list) => {
            let items: Vec<String> = list
                .iter()
                .map(|e| {
                    let s = |k: &str| {
                        rejection::go_quote(e.get(k).and_then(Value::as_str).unwrap_or(""))
                    };
                    let values = match e.get("values").and_then(Value::as_array) {
                        None => "[]string(nil)".to_string(),
                        Some(vs) => format!(
                            "[]string{{{}}}",
                            vs.iter()
                                .map(|x| rejection::go_quote(x.as_str().unwrap_or("")))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    format!(
                        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{values}}}",
                        s("key"),
                        s("operator")
                    )
                })
                .collect();
            format!("[]v1.LabelSelectorRequirement{{{}}}", items.join(", "))
        }
    };
    format!("v1.LabelSelector{{MatchLabels:{labels}, MatchExpressions:{exprs}}}")
}

fn selector(live: &Object, target: &Object) -> Vec<FieldError> {
    let (old, new) = (
        field(live, &["spec", "selector"]),
        field(target, &["spec", "selector"]),
    );
    if old == new {
        return Vec::new();
    }
    vec![FieldError {
        path: "spec.selector".into(),
        body: FieldErrorBody::Invalid {
            value: go_label_selector(new),
            detail: rejection::FIELD_IS_IMMUTABLE.into(),
        },
    }]
}

fn service(live: &Object, target: &Object) -> Vec<FieldError> {
    let ty = |o: &Object| {
        field(o, &["spec", "type"])
            .and_then(Value::as_str)
            .unwrap_or("ClusterIP")
            .to_string()
    };
    if ty(live) == "ExternalName" || ty(target) == "ExternalName" {
        return Vec::new();
    }
    let ip = |o: &Object| {
        field(o, &["spec", "clusterIPs"])
            .and_then(|v| v.get(0))
            .or_else(|| field(o, &["spec", "clusterIP"]))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let Some(new) = ip(target) else {
        // Not set in the manifest: the allocated address stays.
        return Vec::new();
    };
    // Not set before: the server allocated an address, which `new` does not name.
    let changed = match ip(live) {
        Some(old) => old != new,
        None => true,
    };
    if !changed {
        return Vec::new();
    }
    vec![FieldError {
        path: "spec.clusterIPs[0]".into(),
        body: FieldErrorBody::Invalid {
            value: format!("[]string{{{}}}", rejection::go_quote(&new)),
            detail: MAY_NOT_CHANGE.into(),
        },
    }]
}

/// A Kubernetes quantity in base units (`1Gi`, `500Mi`, `1e3`, `100m`).
pub(crate) fn quantity(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match suffix {
        "" => 1.0,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        e if e.starts_with(['e', 'E']) => 10f64.powi(e[1..].parse().ok()?),
        _ => return None,
    };
    Some(n * mult)
}

fn pvc(live: &Object, target: &Object) -> Vec<FieldError> {
    let bound = field(live, &["status", "phase"]).and_then(Value::as_str) == Some("Bound");
    let norm = |o: &Object| -> Value {
        let mut s = spec(o).cloned().unwrap_or_default();
        s.retain(|_, v| !v.is_null());
        s.remove("volumeAttributesClassName");
        s.entry("volumeMode")
            .or_insert_with(|| Value::String("Filesystem".into()));
        if bound {
            if let Some(r) = s.get_mut("resources").and_then(Value::as_object_mut) {
                r.remove("requests");
                if r.is_empty() {
                    s.remove("resources");
                }
            }
        }
        if !o.value["spec"]
            .as_object()
            .is_some_and(|m| m.contains_key("volumeName"))
        {
            s.remove("volumeName");
        }
        Value::Object(s)
    };
    let (mut old, new) = (norm(live), norm(target));
    // volumeName is set by the binder: a manifest without it keeps it.
    if new.get("volumeName").is_none() {
        if let Some(o) = old.as_object_mut() {
            o.remove("volumeName");
        }
    }
    let mut errors = Vec::new();
    if old != new {
        errors.push(forbidden("spec", PVC_SPEC_FORBIDDEN));
    } else if bound {
        let req = |o: &Object| {
            field(o, &["spec", "resources", "requests", "storage"])
                .and_then(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .or_else(|| Some(v.to_string()))
                })
                .and_then(|s| quantity(&s))
        };
        let capacity = field(live, &["status", "capacity", "storage"])
            .and_then(Value::as_str)
            .and_then(quantity)
            .or_else(|| req(live));
        if let (Some(cap), Some(new)) = (capacity, req(target)) {
            if new < cap {
                errors.push(forbidden(
                    "spec.resources.requests.storage",
                    PVC_SHRINK_FORBIDDEN,
                ));
            }
        }
    }
    errors
}

/// The data of a ConfigMap or Secret as stored (a Secret's `stringData` merged into `data`).
fn stored_data(o: &Object, secret: bool) -> (Value, Value) {
    use base64::Engine;
    let mut data = field(o, &["data"])
        .cloned()
        .unwrap_or(Value::Object(Map::new()));
    if secret {
        if let (Some(d), Some(Value::Object(sd))) =
            (data.as_object_mut(), field(o, &["stringData"]))
        {
            for (k, v) in sd {
                let s = v.as_str().unwrap_or_default();
                d.insert(
                    k.clone(),
                    Value::String(base64::engine::general_purpose::STANDARD.encode(s)),
                );
            }
        }
    }
    let binary = field(o, &["binaryData"])
        .cloned()
        .unwrap_or(Value::Object(Map::new()));
    (data, binary)
}

fn config_data(live: &Object, target: &Object, secret: bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if secret {
        let ty = |o: &Object| {
            field(o, &["type"])
                .and_then(Value::as_str)
                .unwrap_or("Opaque")
                .to_string()
        };
        if ty(live) != ty(target) {
            errors.push(FieldError {
                path: "type".into(),
                body: FieldErrorBody::Invalid {
                    value: rejection::go_quote(&ty(target)),
                    detail: rejection::FIELD_IS_IMMUTABLE.into(),
                },
            });
        }
    }
    let immutable = |o: &Object| field(o, &["immutable"]).and_then(Value::as_bool) == Some(true);
    if immutable(live) {
        if !immutable(target) {
            errors.push(forbidden("immutable", IMMUTABLE_WHEN_SET));
        }
        let (old_data, old_bin) = stored_data(live, secret);
        let (new_data, new_bin) = stored_data(target, secret);
        if old_data != new_data {
            errors.push(forbidden("data", IMMUTABLE_WHEN_SET));
        }
        if !secret && old_bin != new_bin {
            errors.push(forbidden("binaryData", IMMUTABLE_WHEN_SET));
        }
    }
    errors
}

fn job(live: &Object, target: &Object) -> Vec<FieldError> {
    if field(live, &["spec", "template"]) == field(target, &["spec", "template"]) {
        return Vec::new();
    }
    // Kubernetes prints the whole internal PodTemplateSpec with %#v; syncsim abbreviates it.
    vec![FieldError {
        path: "spec.template".into(),
        body: FieldErrorBody::Invalid {
            value: "core.PodTemplateSpec{...}".into(),
            detail: rejection::FIELD_IS_IMMUTABLE.into(),
        },
    }]
}

/// Options of the operation that change how an existing object is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpdateOptions {
    /// `argocd app sync --force` (the operation's force flag).
    pub force: bool,
    /// `Replace=true` as an application sync option.
    pub replace: bool,
}

/// What applying `target` does to the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateAction {
    /// The object does not exist: created (`kubectl apply` or, with Replace, `kubectl create`).
    Create,
    /// Patched in place (`kubectl apply`).
    Patch,
    /// Sent whole (`kubectl replace`, or a plain update for a CRD or Namespace under Replace).
    Replace,
    /// Deleted and created again: `Force=true` after the patch was refused, or
    /// `Force=true,Replace=true` always (`kubectl replace --force`).
    Recreate,
}

/// How Argo CD writes `target` over `live` (gitops-engine `applyObject`, §6.2):
///
/// * `Replace=true` (application option, or the target's or the live object's sync-options
///   annotation): `kubectl create` when absent; for an existing CRD or Namespace a plain update;
///   otherwise `kubectl replace`, with `--force` (delete + create, always) when Force is set.
/// * otherwise `kubectl apply`; with Force (operation `--force`, or the target's or the live
///   object's annotation) a patch refused as Invalid falls back to delete + create.
///
/// A refused update without Force is the [`Rejection`] of [`check_update`].
pub fn update_action(
    live: Option<&Object>,
    target: &Object,
    opts: &UpdateOptions,
) -> Result<UpdateAction, Rejection> {
    let from = |o: Option<&Object>| o.map(plan::sync_options).unwrap_or_default();
    let (t, l) = (plan::sync_options(target), from(live));
    let replace = opts.replace || t.replace || l.replace;
    let force = opts.force || t.force || l.force;
    let Some(live) = live else {
        return Ok(UpdateAction::Create);
    };
    let crd_or_namespace = (target.group() == "apiextensions.k8s.io"
        && target.kind() == "CustomResourceDefinition")
        || (target.group().is_empty() && target.kind() == "Namespace");
    if replace {
        if crd_or_namespace {
            return check_update(live, target).map(|()| UpdateAction::Replace);
        }
        if force {
            return Ok(UpdateAction::Recreate);
        }
        return check_update(live, target).map(|()| UpdateAction::Replace);
    }
    match check_update(live, target) {
        Ok(()) => Ok(UpdateAction::Patch),
        Err(_) if force => Ok(UpdateAction::Recreate),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("1Gi", 1073741824.0)]
    #[test_case("500Mi", 524288000.0)]
    #[test_case("2G", 2e9)]
    #[test_case("100m", 0.1)]
    #[test_case("1e3", 1000.0)]
    #[test_case("10", 10.0)]
    fn quantities_parse(s: &str, expected: f64) {
        assert_eq!(quantity(s), Some(expected));
    }

    #[test]
    fn label_selectors_print_like_go() {
        let v = serde_json::json!({"matchLabels": {"b": "2", "a": "1"},
                                   "matchExpressions": [{"key": "k", "operator": "In", "values": ["x"]}]});
        assert_eq!(
            go_label_selector(Some(&v)),
            r#"v1.LabelSelector{MatchLabels:map[string]string{"a":"1", "b":"2"}, MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"k", Operator:"In", Values:[]string{"x"}}}}"#
        );
    }
}
