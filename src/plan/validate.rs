//! Checks the Kubernetes API server makes on create that a plan can make from the manifest alone,
//! so that `plan` (and the sync's dry run) fail where Argo CD's sync would, with the API server's
//! own message.
//!
//! Messages are copied from Kubernetes: `IsConfigMapKey`, `RegexError`, `MaxLenError` and
//! `hasChDirPrefix` in `staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go`;
//! `ValidateConfigMap`/`ValidateSecret` in `pkg/apis/core/validation/validation.go`; the error
//! text in `apimachinery/pkg/util/validation/field/errors.go` (`field.Invalid`, `ErrorBody`) and
//! `apimachinery/pkg/api/errors/errors.go` (`NewInvalid`, `"%s %q is invalid: %v"`).
use crate::{manifest::Object, text::go_quote};
use serde_json::Value;

/// `DNS1123SubdomainMaxLength`, the longest ConfigMap or Secret key.
const MAX_KEY_LENGTH: usize = 253;
const CONFIG_MAP_KEY_FMT: &str = "[-._a-zA-Z0-9]+";
const CONFIG_MAP_KEY_ERR_MSG: &str =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";

/// `validation.IsConfigMapKey`: the problems of one ConfigMap or Secret key (empty when valid).
pub fn config_map_key_errors(key: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if key.len() > MAX_KEY_LENGTH {
        errs.push(format!("must be no more than {MAX_KEY_LENGTH} characters"));
    }
    let matches = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if !matches {
        // RegexError(configMapKeyErrMsg, configMapKeyFmt, "key.name", "KEY_NAME", "key-name")
        errs.push(format!(
            "{CONFIG_MAP_KEY_ERR_MSG} (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex \
             used for validation is '{CONFIG_MAP_KEY_FMT}')"
        ));
    }
    match key {
        "." => errs.push("must not be '.'".to_string()),
        ".." => errs.push("must not be '..'".to_string()),
        k if k.starts_with("..") => errs.push("must not start with '..'".to_string()),
        _ => {}
    }
    errs
}

/// The API server's rejection of `obj`, if it is a core ConfigMap or Secret with an invalid data
/// key (or, for a ConfigMap, a key in both `data` and `binaryData`): the message `kubectl apply`
/// and Argo CD show, e.g. `ConfigMap "c" is invalid: data[../x]: Invalid value: "../x": …`.
pub fn rejected_data_keys(obj: &Object) -> Option<String> {
    if !obj.group().is_empty() {
        return None;
    }
    let keys = |field: &str| -> Vec<&str> {
        obj.value
            .get(field)
            .and_then(Value::as_object)
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default()
    };
    // (field path, key, detail)
    let mut errs: Vec<(&str, &str, String)> = Vec::new();
    match obj.kind() {
        "ConfigMap" => {
            let binary = keys("binaryData");
            for key in keys("data") {
                for msg in config_map_key_errors(key) {
                    errs.push(("data", key, msg));
                }
                if binary.contains(&key) {
                    errs.push(("data", key, "duplicate of key present in binaryData".into()));
                }
            }
            for key in binary {
                for msg in config_map_key_errors(key) {
                    errs.push(("binaryData", key, msg));
                }
            }
        }
        "Secret" => {
            // `stringData` is merged into `data` before validation, so both show as `data[…]`.
            let mut all = keys("data");
            for k in keys("stringData") {
                if !all.contains(&k) {
                    all.push(k);
                }
            }
            for key in all {
                for msg in config_map_key_errors(key) {
                    errs.push(("data", key, msg));
                }
            }
        }
        _ => return None,
    }
    if errs.is_empty() {
        return None;
    }
    // field.Error: `<field>: Invalid value: <%q of the value>: <detail>`; the aggregate drops
    // repeated messages and brackets a list of more than one.
    let mut msgs: Vec<String> = Vec::new();
    for (field, key, detail) in errs {
        let msg = format!("{field}[{key}]: Invalid value: {}: {detail}", go_quote(key));
        if !msgs.contains(&msg) {
            msgs.push(msg);
        }
    }
    let list = if msgs.len() == 1 {
        msgs.remove(0)
    } else {
        format!("[{}]", msgs.join(", "))
    };
    Some(format!(
        "{} {} is invalid: {list}",
        obj.kind(),
        go_quote(obj.name())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("key.name", 0)]
    #[test_case("KEY_NAME-1", 0)]
    #[test_case(".hidden", 0 ; "one leading dot is fine")]
    #[test_case(".", 1)]
    #[test_case("..", 1)]
    #[test_case("..x", 1 ; "double dot prefix")]
    #[test_case("../../..", 2 ; "slash and double dot prefix")]
    #[test_case("a/b", 1)]
    #[test_case("", 1 ; "empty")]
    #[test_case("käse", 1 ; "non ascii")]
    fn config_map_keys_follow_is_config_map_key(key: &str, errors: usize) {
        assert_eq!(config_map_key_errors(key).len(), errors, "{key:?}");
    }

    #[test]
    fn long_keys_are_rejected_past_253_characters() {
        assert!(config_map_key_errors(&"a".repeat(253)).is_empty());
        assert_eq!(
            config_map_key_errors(&"a".repeat(254)),
            ["must be no more than 253 characters"]
        );
    }

    #[test]
    fn go_quote_matches_percent_q() {
        assert_eq!(go_quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(go_quote("x\n\u{1b}"), r#""x\n\x1b""#);
        assert_eq!(go_quote("日本"), "\"日本\"");
    }
}
