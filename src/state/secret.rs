//! Secret values never reach the record: each value of a Secret's `data` and `stringData` is
//! written as `syncsim-redacted:sha256:<hex>`, a SHA-256 of the record's random salt, the key
//! and the value. That is enough to tell whether a Secret changed (`status`, re-sync) and, on
//! adoption, to put the values back from the source when the source still has the same ones
//! ([`restore`]): a container re-created later gets the real values, re-read from the source.
//!
//! The salt makes the hashes useless for guessing short values across machines or records;
//! whoever can read the record can still confirm a guess, like anyone who can run `docker
//! inspect` on the environment's containers (where the values live, as on a cluster).
use super::record::EnvRecord;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The prefix of a redacted value.
pub const REDACTED: &str = "syncsim-redacted:sha256:";

/// Whether `object` is a core/v1 Secret.
pub fn is_secret(object: &Value) -> bool {
    object.get("kind").and_then(Value::as_str) == Some("Secret")
        && object.get("apiVersion").and_then(Value::as_str) == Some("v1")
}

/// The redacted form of `value` under `key`.
pub fn hash_value(salt: &str, key: &str, value: &str) -> String {
    let mut h = Sha256::new();
    for part in [salt, key, value] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("{REDACTED}{hex}")
}

/// `object` with every Secret value hashed under `salt` (already redacted values stay);
/// any other object unchanged. Also drops `kubectl.kubernetes.io/last-applied-configuration`
/// from a Secret, which would repeat the values.
pub fn redact(object: &Value, salt: &str) -> Value {
    let mut v = object.clone();
    if !is_secret(&v) {
        return v;
    }
    for field in ["data", "stringData"] {
        if let Some(map) = v.get_mut(field).and_then(Value::as_object_mut) {
            for (k, val) in map.iter_mut() {
                let text = match &*val {
                    Value::String(s) if s.starts_with(REDACTED) => continue,
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                *val = Value::String(hash_value(salt, k, &text));
            }
        }
    }
    if let Some(a) = v
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        a.remove("kubectl.kubernetes.io/last-applied-configuration");
    }
    v
}

/// `recorded` (a redacted Secret) with each hashed value replaced by `source`'s value for the
/// same key when that value hashes the same: the values are re-read from the source. Values
/// the source changed or dropped stay hashed (the sync re-applies the Secret anyway).
pub fn restore(recorded: &Value, source: &Value, salt: &str) -> Value {
    let mut v = recorded.clone();
    for field in ["data", "stringData"] {
        let Some(src) = source.get(field).and_then(Value::as_object) else {
            continue;
        };
        if let Some(map) = v.get_mut(field).and_then(Value::as_object_mut) {
            for (k, val) in map.iter_mut() {
                let (Value::String(hashed), Some(Value::String(plain))) = (&*val, src.get(k))
                else {
                    continue;
                };
                if hashed.starts_with(REDACTED) && *hashed == hash_value(salt, k, plain) {
                    *val = Value::String(plain.clone());
                }
            }
        }
    }
    v
}

impl EnvRecord {
    /// The record as written to disk: Secret values hashed, a salt chosen when it had none.
    pub fn redacted(&self) -> EnvRecord {
        let mut r = self.clone();
        if r.secret_salt.is_empty() {
            r.secret_salt = uuid::Uuid::new_v4().simple().to_string();
        }
        for o in &mut r.objects {
            if is_secret(&o.object) {
                o.object = redact(&o.object, &r.secret_salt);
                o.spec_hash = super::record::spec_hash(&o.object);
            }
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret() -> Value {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"password\":\"hunter2\"}"}},
            "data": {"user": "YWRtaW4="}, "stringData": {"password": "hunter2"}})
    }

    #[test]
    fn redaction_hides_every_value_and_is_idempotent() {
        let r = redact(&secret(), "salt");
        let text = r.to_string();
        assert!(
            !text.contains("hunter2") && !text.contains("YWRtaW4="),
            "{text}"
        );
        assert!(r["stringData"]["password"]
            .as_str()
            .unwrap()
            .starts_with(REDACTED));
        assert_eq!(redact(&r, "salt"), r);
        assert_ne!(redact(&secret(), "other")["stringData"], r["stringData"]);
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}});
        assert_eq!(redact(&cm, "salt"), cm);
    }

    #[test]
    fn restore_puts_back_values_the_source_still_has() {
        let r = redact(&secret(), "salt");
        let mut changed = secret();
        changed["stringData"]["password"] = json!("new");
        let back = restore(&r, &changed, "salt");
        assert_eq!(back["data"]["user"], "YWRtaW4=", "unchanged value re-read");
        assert!(back["stringData"]["password"]
            .as_str()
            .unwrap()
            .starts_with(REDACTED));
        assert!(!back.to_string().contains("new\""));
    }

    #[test]
    fn a_saved_record_holds_no_secret_value_and_is_private() {
        use crate::state::{spec_hash, ObjectRecord, RECORD_VERSION};
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let rec = EnvRecord {
            version: RECORD_VERSION,
            app: "sec".into(),
            network: "syncsim-sec".into(),
            source: "k".into(),
            dest_namespace: "default".into(),
            images: vec![],
            saved_at: String::new(),
            last_operation: None,
            secret_salt: String::new(),
            objects: vec![ObjectRecord {
                group: String::new(),
                kind: "Secret".into(),
                namespace: "default".into(),
                name: "db".into(),
                hook: false,
                spec_hash: spec_hash(&secret()),
                object: secret(),
                status: None,
                pods: vec![],
                volume: None,
            }],
        };
        let path = rec.save_in(&state).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains("hunter2") && !text.contains("YWRtaW4="),
            "{text}"
        );
        let back = EnvRecord::load_from(&path).unwrap().unwrap();
        assert!(!back.secret_salt.is_empty());
        assert_eq!(
            restore(&back.objects[0].object, &secret(), &back.secret_salt)["stringData"]
                ["password"],
            "hunter2"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode =
                |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&state), 0o700);
        }
    }
}
