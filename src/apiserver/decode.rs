//! Strict decoding of built-in kinds through their k8s-openapi types, reported in the API
//! server's words.
//!
//! k8s-openapi's `Deserialize` ignores unknown fields, so every field it skips is collected with
//! `serde_ignored` (with its full path, `spec.template.spec.containers[0].imagePullPolcy`), and
//! the path of a failure comes from `serde_path_to_error`. k8s-openapi fills a missing required
//! field (non-`Option`) with its default, so the typed object is serialised back and every path
//! the round trip added is a missing required field; all are reported at once, as API
//! validation does.
//!
//! Precedence follows the API server: a value of the wrong type fails the decoding
//! (`transformDecodeError`), then unknown fields fail strict decoding, then validation reports
//! the missing fields (`Required value`).
use super::rejection::{self, FieldError, FieldErrorBody};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A step of a path into an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// `field.Path.String()` form: `spec.containers[0].image`.
pub(crate) fn k8s_path(segs: &[Seg]) -> String {
    let mut out = String::new();
    for s in segs {
        match s {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Go's `encoding/json` field stack: keys only, dotted (`spec.containers.image`).
fn go_field_path(segs: &[Seg]) -> String {
    segs.iter()
        .filter_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn ignored_segs(path: &serde_ignored::Path<'_>, out: &mut Vec<Seg>) {
    use serde_ignored::Path as P;
    match path {
        P::Root => {}
        P::Seq { parent, index } => {
            ignored_segs(parent, out);
            out.push(Seg::Index(*index));
        }
        P::Map { parent, key } => {
            ignored_segs(parent, out);
            out.push(Seg::Key(key.clone()));
        }
        P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => {
            ignored_segs(parent, out)
        }
    }
}

fn error_segs(path: &serde_path_to_error::Path) -> Vec<Seg> {
    use serde_path_to_error::Segment as S;
    path.iter()
        .filter_map(|s| match s {
            S::Seq { index } => Some(Seg::Index(*index)),
            S::Map { key } => Some(Seg::Key(key.clone())),
            S::Enum { variant } => Some(Seg::Key(variant.clone())),
            S::Unknown => None,
        })
        .collect()
}

/// The outcome of decoding one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    Ok,
    /// A value of the wrong type: Go's `encoding/json` message.
    BadType(String),
    /// Unknown fields (strict decoding), full paths.
    Unknown(Vec<String>),
    /// Missing required fields, full paths.
    Required(Vec<String>),
}

enum Attempt<T> {
    Ok(T, Vec<Vec<Seg>>),
    BadType { at: Vec<Seg>, message: String },
}

fn attempt<T: DeserializeOwned>(value: &Value) -> Attempt<T> {
    let mut ignored: Vec<Vec<Seg>> = Vec::new();
    let result = {
        let mut on_ignored = |path: serde_ignored::Path<'_>| {
            let mut segs = Vec::new();
            ignored_segs(&path, &mut segs);
            ignored.push(segs);
        };
        let de = serde_ignored::Deserializer::new(value, &mut on_ignored);
        serde_path_to_error::deserialize::<_, T>(de)
    };
    match result {
        Ok(t) => Attempt::Ok(t, ignored),
        Err(e) => Attempt::BadType {
            at: error_segs(e.path()),
            message: e.inner().to_string(),
        },
    }
}

fn get_mut<'a>(value: &'a mut Value, segs: &[Seg]) -> Option<&'a mut Value> {
    let mut v = value;
    for s in segs {
        v = match s {
            Seg::Key(k) => v.as_object_mut()?.get_mut(k)?,
            Seg::Index(i) => v.as_array_mut()?.get_mut(*i)?,
        };
    }
    Some(v)
}

fn get<'a>(value: &'a Value, segs: &[Seg]) -> Option<&'a Value> {
    let mut v = value;
    for s in segs {
        v = match s {
            Seg::Key(k) => v.as_object()?.get(k)?,
            Seg::Index(i) => v.as_array()?.get(*i)?,
        };
    }
    Some(v)
}

/// Go decodes a JSON `null` into a non-pointer field as its zero value, and the server drops
/// null unknown fields: a null is as good as an absent key.
fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(strip_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// Required fields the API server fills in itself before validating (defaulting), which
/// k8s-openapi marks required: not reported missing.
const DEFAULTED: [&str; 1] = ["roleRef.apiGroup"];

/// Paths the typed round trip added: required fields (k8s-openapi fills a missing required
/// field with its default) the input lacks. A `false` is Go's zero value, not a missing field.
fn added_paths(input: &Value, output: &Value, at: &mut Vec<Seg>, out: &mut Vec<String>) {
    match (input, output) {
        (Value::Object(i), Value::Object(o)) => {
            for (k, ov) in o {
                at.push(Seg::Key(k.clone()));
                match i.get(k) {
                    Some(iv) => added_paths(iv, ov, at, out),
                    None if ov == &Value::Bool(false) => {}
                    // Embedded resources (a StatefulSet's claim templates) are typed as whole
                    // objects: k8s-openapi writes their apiVersion/kind, the server does not
                    // need them.
                    None if k == "apiVersion" || k == "kind" => {}
                    None => {
                        let p = k8s_path(at);
                        if !DEFAULTED.iter().any(|d| p.ends_with(d)) {
                            out.push(p);
                        }
                    }
                }
                at.pop();
            }
        }
        (Value::Array(i), Value::Array(o)) => {
            for (n, (iv, ov)) in i.iter().zip(o).enumerate() {
                at.push(Seg::Index(n));
                added_paths(iv, ov, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

/// Containers need an image (pkg/apis/core/validation/validation.go `validateContainers`),
/// though the OpenAPI schema leaves it optional for workload templates.
fn missing_images(value: &Value, out: &mut Vec<String>) {
    fn pod_spec(spec: &Value, prefix: &[Seg], out: &mut Vec<String>) {
        for list in ["initContainers", "containers"] {
            if let Some(cs) = spec.get(list).and_then(Value::as_array) {
                for (i, c) in cs.iter().enumerate() {
                    if c.get("image")
                        .and_then(Value::as_str)
                        .is_none_or(str::is_empty)
                    {
                        let mut p = prefix.to_vec();
                        p.extend([
                            Seg::Key(list.into()),
                            Seg::Index(i),
                            Seg::Key("image".into()),
                        ]);
                        out.push(k8s_path(&p));
                    }
                }
            }
        }
    }
    let k = |s: &str| Seg::Key(s.into());
    let candidates: [Vec<Seg>; 4] = [
        vec![k("spec")],
        vec![k("spec"), k("template"), k("spec")],
        vec![k("template"), k("spec")],
        vec![
            k("spec"),
            k("jobTemplate"),
            k("spec"),
            k("template"),
            k("spec"),
        ],
    ];
    for prefix in candidates {
        if let Some(spec) = get(value, &prefix) {
            pod_spec(spec, &prefix, out);
        }
    }
}

/// Decodes `value` as `T`. `strict` is false under `Validate=false` (unknown fields are then
/// dropped, as with `fieldValidation=Ignore`).
pub fn decode_typed<T: DeserializeOwned + serde::Serialize>(
    value: &Value,
    strict: bool,
) -> Decoded {
    let mut work = value.clone();
    strip_nulls(&mut work);
    match attempt::<T>(&work) {
        Attempt::BadType { at, message } => {
            Decoded::BadType(go_type_error::<T>(&work, &at, &message))
        }
        Attempt::Ok(typed, ignored) => {
            let unknown: Vec<String> = ignored.iter().map(|p| k8s_path(p)).collect();
            if strict && !unknown.is_empty() {
                return Decoded::Unknown(unknown);
            }
            let mut required = Vec::new();
            if let Ok(mut output) = serde_json::to_value(&typed) {
                // The server resets `status` on create and never validates it from a manifest.
                if let Some(o) = output.as_object_mut() {
                    o.remove("status");
                }
                added_paths(&work, &output, &mut Vec::new(), &mut required);
            }
            if matches!(
                (
                    work.get("apiVersion").and_then(Value::as_str),
                    work.get("kind").and_then(Value::as_str)
                ),
                (Some("v1" | "apps/v1" | "batch/v1"), Some(_))
            ) {
                let mut images = Vec::new();
                missing_images(&work, &mut images);
                for p in images {
                    if !required.contains(&p) {
                        required.push(p);
                    }
                }
            }
            if required.is_empty() {
                Decoded::Ok
            } else {
                Decoded::Required(required)
            }
        }
    }
}

/// What k8s-openapi expects at `segs`, learnt by putting a string there (its visitors name their
/// type: `expected DeploymentSpec`).
fn expected_at<T: DeserializeOwned + serde::Serialize>(
    value: &Value,
    segs: &[Seg],
) -> Option<String> {
    let mut probe = value.clone();
    if segs.is_empty() {
        probe = Value::String(String::new());
    } else {
        *get_mut(&mut probe, segs)? = Value::String(String::new());
    }
    match attempt::<T>(&probe) {
        Attempt::BadType { at, message } if at == segs => {
            message.split(", expected ").nth(1).map(str::to_string)
        }
        _ => None,
    }
}

/// The Go type name for what serde expected.
fn go_type<T: DeserializeOwned + serde::Serialize>(
    expected: &str,
    value: &Value,
    segs: &[Seg],
) -> String {
    match expected {
        "i32" => "int32".into(),
        "i64" => "int64".into(),
        "f64" => "float64".into(),
        "a string" => "string".into(),
        "a boolean" => "bool".into(),
        "a map" => "map[string]string".into(),
        "Quantity" => "resource.Quantity".into(),
        "IntOrString" => "intstr.IntOrString".into(),
        "Time" | "MicroTime" => format!("v1.{expected}"),
        "a sequence" => {
            let mut probe = value.clone();
            let mut elem = segs.to_vec();
            elem.push(Seg::Index(0));
            let element = match get_mut(&mut probe, segs) {
                Some(slot) => {
                    *slot = Value::Array(vec![Value::String(String::new())]);
                    match attempt::<T>(&probe) {
                        Attempt::BadType { at, message } if at == elem => message
                            .split(", expected ")
                            .nth(1)
                            .map(|e| go_type::<T>(e, &probe, &elem))
                            .unwrap_or_else(|| "string".into()),
                        _ => "string".into(),
                    }
                }
                None => "string".into(),
            };
            format!("[]{element}")
        }
        other if other.chars().next().is_some_and(|c| c.is_ascii_uppercase()) => {
            format!("v1.{other}")
        }
        other => other.to_string(),
    }
}

/// Go's `UnmarshalTypeError`: `json: cannot unmarshal <value> into Go struct field
/// <Struct>.<field path> of type <type>` (encoding/json decode.go, as forked by
/// sigs.k8s.io/json), or the base64 error of a `[]byte` field.
fn go_type_error<T: DeserializeOwned + serde::Serialize>(
    value: &Value,
    segs: &[Seg],
    message: &str,
) -> String {
    let found = get(value, segs);
    if !message.starts_with("invalid type:") && !message.starts_with("invalid value:") {
        // A custom error: k8s-openapi's ByteString failing to decode base64 (Go: `[]byte`).
        let s = found.and_then(Value::as_str).unwrap_or("");
        let pos = s
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')))
            .map(|(i, _)| i)
            .unwrap_or(s.len() / 4 * 4);
        return format!("illegal base64 data at input byte {pos}");
    }
    let json_kind = match found {
        Some(Value::String(_)) => "string".to_string(),
        Some(Value::Number(n)) if n.is_f64() => format!("number {n}"),
        Some(Value::Number(_)) => "number".to_string(),
        Some(Value::Bool(_)) => "bool".to_string(),
        Some(Value::Array(_)) => "array".to_string(),
        Some(Value::Object(_)) => "object".to_string(),
        _ => "null".to_string(),
    };
    let expected = message.split(", expected ").nth(1).unwrap_or("");
    let ty = go_type::<T>(expected, value, segs);
    // encoding/json names struct fields only: a map's keys are not on its field stack, so a
    // wrong value in `data` is in field `ConfigMap.data`, and list indices are skipped too.
    let fields: Vec<usize> = segs
        .iter()
        .enumerate()
        .filter(|(i, s)| {
            matches!(s, Seg::Key(_))
                && expected_at::<T>(value, &segs[..*i]).as_deref() != Some("a map")
        })
        .map(|(i, _)| i)
        .collect();
    // The struct holding the innermost field.
    let parent = &segs[..fields.last().copied().unwrap_or(0)];
    let strukt = expected_at::<T>(value, parent).unwrap_or_default();
    let path: Vec<Seg> = fields.iter().map(|&i| segs[i].clone()).collect();
    format!(
        "json: cannot unmarshal {json_kind} into Go struct field {strukt}.{} of type {ty}",
        go_field_path(&path)
    )
}

/// The API server's message for a decoded object that is refused, if it is.
pub(crate) fn message_for(
    decoded: &Decoded,
    group: &str,
    version: &str,
    kind: &str,
    name: &str,
) -> Option<(rejection::Reason, String)> {
    use rejection::Reason;
    match decoded {
        Decoded::Ok => None,
        Decoded::BadType(cause) => Some((
            Reason::BadType,
            rejection::cannot_be_handled(kind, version, cause),
        )),
        Decoded::Unknown(paths) => Some((
            Reason::StrictDecoding,
            rejection::cannot_be_handled(kind, version, &rejection::strict_decoding(paths)),
        )),
        Decoded::Required(paths) => {
            let errors: Vec<FieldError> = paths
                .iter()
                .map(|p| FieldError {
                    path: p.clone(),
                    body: FieldErrorBody::Required {
                        detail: String::new(),
                    },
                })
                .collect();
            Some((
                Reason::Invalid,
                rejection::invalid(group, kind, name, &errors),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::{apps::v1::Deployment, core::v1::Secret};
    use serde_json::json;

    fn deployment(container: Value) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                             "spec": {"containers": [container]}}
            }
        })
    }

    #[test]
    fn a_valid_object_decodes() {
        let d = deployment(json!({"name": "web", "image": "nginx", "resources": null,
                                  "resources2": null}));
        // A null unknown field is dropped by the server too.
        assert_eq!(decode_typed::<Deployment>(&d, true), Decoded::Ok);
    }

    #[test]
    fn unknown_fields_have_their_full_path() {
        let d = deployment(json!({"name": "web", "image": "nginx", "imagePullPolcy": "Always"}));
        assert_eq!(
            decode_typed::<Deployment>(&d, true),
            Decoded::Unknown(vec![
                "spec.template.spec.containers[0].imagePullPolcy".into()
            ])
        );
        assert_eq!(decode_typed::<Deployment>(&d, false), Decoded::Ok);
    }

    #[test]
    fn all_missing_required_fields_are_reported() {
        let d = deployment(json!({"ports": [{"name": "http"}]}));
        assert_eq!(
            decode_typed::<Deployment>(&d, true),
            Decoded::Required(vec![
                "spec.template.spec.containers[0].name".into(),
                "spec.template.spec.containers[0].ports[0].containerPort".into(),
                "spec.template.spec.containers[0].image".into(),
            ])
        );
    }

    #[test]
    fn a_wrong_type_speaks_go() {
        let mut d = deployment(json!({"name": "web", "image": "nginx"}));
        d["spec"]["replicas"] = json!("two");
        assert_eq!(
            decode_typed::<Deployment>(&d, true),
            Decoded::BadType(
                "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas \
                 of type int32"
                    .into()
            )
        );
        let d = deployment(
            json!({"name": "web", "image": "nginx", "env": [{"name": "A", "value": 8080}]}),
        );
        assert_eq!(
            decode_typed::<Deployment>(&d, true),
            Decoded::BadType(
                "json: cannot unmarshal number into Go struct field \
                 EnvVar.spec.template.spec.containers.env.value of type string"
                    .into()
            )
        );
        let d = deployment(json!({"name": "web", "image": "nginx", "ports": "80"}));
        assert_eq!(
            decode_typed::<Deployment>(&d, true),
            Decoded::BadType(
                "json: cannot unmarshal string into Go struct field \
                 Container.spec.template.spec.containers.ports of type []v1.ContainerPort"
                    .into()
            )
        );
    }

    #[test]
    fn a_wrong_type_at_the_top_names_the_kind() {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"},
                       "spec": "x"});
        assert_eq!(
            decode_typed::<Deployment>(&d, true),
            Decoded::BadType(
                "json: cannot unmarshal string into Go struct field Deployment.spec of type \
                 v1.DeploymentSpec"
                    .into()
            )
        );
    }

    #[test]
    fn a_partial_status_is_not_validated() {
        let d = json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "d"},
                       "spec": {"selector": {"matchLabels": {"a": "b"}},
                                "template": {"metadata": {"labels": {"a": "b"}},
                                             "spec": {"containers": [{"name": "c", "image": "i"}]}}},
                       "status": {"numberReady": 1}});
        assert_eq!(
            decode_typed::<k8s_openapi::api::apps::v1::DaemonSet>(&d, true),
            Decoded::Ok
        );
    }

    #[test]
    fn secret_data_must_be_base64() {
        let s = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                       "data": {"k": "not base64!"}});
        assert_eq!(
            decode_typed::<Secret>(&s, true),
            Decoded::BadType("illegal base64 data at input byte 3".into())
        );
    }
}
