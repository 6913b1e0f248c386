//! A container's environment in Kubernetes order (`envFrom`, then `env`) and `$(VAR)` expansion.
use super::{
    config::{config_data, ConfigKind},
    downward::{field_ref, resource_field_ref, UnsupportedResource},
    error::{PodError, Result},
    PodContext, PodSpec,
};
use k8s_openapi::api::core::v1 as k8s;
use std::collections::BTreeSet;

/// A container's environment being built in Kubernetes order.
pub(super) struct Env<'a> {
    pub(super) vars: Vec<(String, String)>,
    /// Names of the variables whose values came from Secrets.
    pub(super) secret: BTreeSet<String>,
    /// The service variables: `$(VAR)` sees them, and those the container does not declare
    /// come last (pkg/kubelet/kubelet_pods.go, `makeEnvironmentVariables`).
    services: &'a [(String, String)],
}

impl<'a> Env<'a> {
    fn set(&mut self, name: String, value: String, from_secret: bool) {
        if from_secret {
            self.secret.insert(name.clone());
        } else {
            self.secret.remove(&name);
        }
        match self.vars.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.vars.push((name, value)),
        }
    }

    fn get(&self, name: &str) -> Option<(&str, bool)> {
        self.vars
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| (v.as_str(), self.secret.contains(name)))
            .or_else(|| {
                self.services
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| (v.as_str(), false))
            })
    }

    /// Kubernetes' `$(VAR)` expansion: `$$` is a literal `$`, unknown or unterminated references
    /// stay as written. Returns the result and whether a Secret-derived variable was used.
    pub(super) fn expand(&self, input: &str) -> (String, bool) {
        let bytes = input.as_bytes();
        let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
        let mut used_secret = false;
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'$' || i + 1 >= bytes.len() {
                out.push(bytes[i]);
                i += 1;
                continue;
            }
            match bytes[i + 1] {
                b'$' => {
                    out.push(b'$');
                    i += 2;
                }
                b'(' => match bytes[i + 2..].iter().position(|b| *b == b')') {
                    Some(len) => {
                        let name = &input[i + 2..i + 2 + len];
                        match self.get(name) {
                            Some((value, secret)) => {
                                out.extend_from_slice(value.as_bytes());
                                used_secret |= secret;
                            }
                            None => out.extend_from_slice(&bytes[i..i + 3 + len]),
                        }
                        i += 3 + len;
                    }
                    None => {
                        out.extend_from_slice(b"$(");
                        i += 2;
                    }
                },
                other => {
                    out.push(b'$');
                    out.push(other);
                    i += 2;
                }
            }
        }
        // Only ASCII bytes were inserted or dropped around whole UTF-8 sequences.
        (String::from_utf8_lossy(&out).into_owned(), used_secret)
    }

    pub(super) fn build(
        c: &k8s::Container,
        spec: &PodSpec,
        ctx: &'a PodContext<'_>,
    ) -> Result<Self> {
        let services: &[(String, String)] = if spec.enable_service_links == Some(false) {
            &[]
        } else {
            &ctx.service_links
        };
        let mut env = Env {
            vars: Vec::new(),
            secret: BTreeSet::new(),
            services,
        };
        let pod = || ctx.pod_name.clone();
        for from in c.env_from.iter().flatten() {
            let prefix = from.prefix.clone().unwrap_or_default();
            let (kind, name, optional) = if let Some(r) = &from.config_map_ref {
                (ConfigKind::ConfigMap, &r.name, r.optional.unwrap_or(false))
            } else if let Some(r) = &from.secret_ref {
                (ConfigKind::Secret, &r.name, r.optional.unwrap_or(false))
            } else {
                continue;
            };
            let by = || {
                format!(
                    "envFrom{}",
                    if prefix.is_empty() {
                        String::new()
                    } else {
                        format!(" (prefix `{prefix}`)")
                    }
                )
            };
            let Some(obj) = (ctx.lookup)(kind, name) else {
                if optional {
                    continue;
                }
                return Err(PodError::MissingObject {
                    pod: pod(),
                    container: c.name.clone(),
                    by: by(),
                    kind,
                    name: name.clone(),
                });
            };
            for (key, value) in config_data(obj, kind, &ctx.pod_name)? {
                let var = format!("{prefix}{key}");
                // Kubernetes skips keys that are not valid variable names (and reports an event).
                if var.is_empty()
                    || var.contains('=')
                    || var.bytes().any(|b| !(0x20..0x7f).contains(&b))
                {
                    continue;
                }
                env.set(
                    var,
                    String::from_utf8_lossy(&value).into_owned(),
                    kind == ConfigKind::Secret,
                );
            }
        }
        for var in c.env.iter().flatten() {
            let missing_object = |kind, name: &str| PodError::MissingObject {
                pod: pod(),
                container: c.name.clone(),
                by: format!("env var `{}`", var.name),
                kind,
                name: name.to_string(),
            };
            let missing_key = |kind, name: &str, key: &str| PodError::MissingKey {
                pod: pod(),
                container: c.name.clone(),
                by: format!("env var `{}`", var.name),
                kind,
                name: name.to_string(),
                key: key.to_string(),
            };
            let Some(from) = &var.value_from else {
                let value = env.expand(var.value.as_deref().unwrap_or("")).0;
                env.set(var.name.clone(), value, false);
                continue;
            };
            let key_ref = if let Some(r) = &from.config_map_key_ref {
                Some((
                    ConfigKind::ConfigMap,
                    &r.name,
                    &r.key,
                    r.optional.unwrap_or(false),
                ))
            } else {
                from.secret_key_ref.as_ref().map(|r| {
                    (
                        ConfigKind::Secret,
                        &r.name,
                        &r.key,
                        r.optional.unwrap_or(false),
                    )
                })
            };
            if let Some((kind, name, key, optional)) = key_ref {
                let Some(obj) = (ctx.lookup)(kind, name) else {
                    if optional {
                        continue;
                    }
                    return Err(missing_object(kind, name));
                };
                let mut data = config_data(obj, kind, &ctx.pod_name)?;
                let Some(value) = data.remove(key) else {
                    if optional {
                        continue;
                    }
                    return Err(missing_key(kind, name, key));
                };
                env.set(
                    var.name.clone(),
                    String::from_utf8_lossy(&value).into_owned(),
                    kind == ConfigKind::Secret,
                );
            } else if let Some(f) = &from.field_ref {
                let value = field_ref(&f.field_path, spec, ctx).ok_or_else(|| {
                    PodError::UnsupportedField {
                        pod: pod(),
                        container: c.name.clone(),
                        env: var.name.clone(),
                        field: f.field_path.clone(),
                    }
                })?;
                env.set(var.name.clone(), value, false);
            } else if let Some(r) = &from.resource_field_ref {
                let value =
                    resource_field_ref(r, c, spec, ctx).map_err(|UnsupportedResource(field)| {
                        PodError::UnsupportedField {
                            pod: pod(),
                            container: c.name.clone(),
                            env: var.name.clone(),
                            field,
                        }
                    })?;
                env.set(var.name.clone(), value, false);
            } else {
                return Err(PodError::EmptyValueFrom {
                    pod: pod(),
                    container: c.name.clone(),
                    env: var.name.clone(),
                });
            }
        }
        for (name, value) in env.services {
            if !env.vars.iter().any(|(n, _)| n == name) {
                env.vars.push((name.clone(), value.clone()));
            }
        }
        Ok(env)
    }
}
#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    #[test]
    fn dollar_expansion_follows_kubernetes_rules() {
        let p = plan(
            "containers:\n- name: app\n  image: x:1\n  env: [{name: A, value: one}, {name: B, value: '$(A)-two'}]\n  \
             command: ['$(A)', '$$(A)', '$(MISSING)', '$(A', 'cost: $5', 'end$', '$$$(B)']\n  args: ['$(B)']",
        )
        .unwrap();
        let c = &p.containers[0].spec;
        assert_eq!(
            c.entrypoint.as_deref().unwrap(),
            [
                "one",
                "$(A)",
                "$(MISSING)",
                "$(A",
                "cost: $5",
                "end$",
                "$one-two"
            ]
        );
        assert_eq!(c.cmd.as_deref().unwrap(), ["one-two"]);
    }

    /// pkg/kubelet/kubelet_pods.go `makeEnvironmentVariables`: the container's own variables
    /// win over service variables of the same name, `$(VAR)` sees the service variables, the
    /// remaining ones come last, and `enableServiceLinks: false` leaves them out.
    #[test]
    fn service_variables_come_last_and_lose_to_declared_ones() {
        let links = |ctx: &mut PodContext<'_>| {
            ctx.service_links = vec![
                (
                    "REDIS_PORT".into(),
                    "tcp://redis.shop.svc.cluster.local:6379".into(),
                ),
                (
                    "REDIS_SERVICE_HOST".into(),
                    "redis.shop.svc.cluster.local".into(),
                ),
            ];
        };
        let yaml = "containers:\n- name: app\n  image: x:1\n  \
                    env: [{name: REDIS_PORT, value: '6379'}, {name: URL, value: 'redis://$(REDIS_SERVICE_HOST)'}]\n  \
                    args: ['$(REDIS_SERVICE_HOST)']";
        let p = plan_with(yaml, links).unwrap();
        let c = &p.containers[0];
        assert_eq!(env_of(c, "REDIS_PORT"), Some("6379"));
        assert_eq!(
            env_of(c, "URL"),
            Some("redis://redis.shop.svc.cluster.local")
        );
        assert_eq!(
            c.spec.cmd.as_deref().unwrap(),
            ["redis.shop.svc.cluster.local"]
        );
        assert_eq!(
            c.spec.env.last().map(|(n, _)| n.as_str()),
            Some("REDIS_SERVICE_HOST")
        );
        let off = format!("enableServiceLinks: false\n{yaml}");
        let p = plan_with(&off, links).unwrap();
        let c = &p.containers[0];
        assert_eq!(env_of(c, "REDIS_SERVICE_HOST"), None);
        assert_eq!(env_of(c, "URL"), Some("redis://$(REDIS_SERVICE_HOST)"));
    }

    #[test]
    fn env_values_expand_only_earlier_variables() {
        let p = plan(
            "containers:\n- name: app\n  image: x:1\n  env:\n  - {name: FIRST, value: '$(SECOND)'}\n  \
             - {name: SECOND, value: two}\n  - {name: THIRD, value: '$(SECOND)/$(FIRST)'}",
        )
        .unwrap();
        let c = &p.containers[0];
        assert_eq!(env_of(c, "FIRST"), Some("$(SECOND)"));
        assert_eq!(env_of(c, "THIRD"), Some("two/$(SECOND)"));
    }

    #[test]
    fn env_from_then_env_with_prefix_and_override() {
        let p = plan(
            "containers:\n- name: app\n  image: x:1\n  envFrom:\n  - configMapRef: {name: app-config}\n  \
             - {prefix: DB_, secretRef: {name: db}}\n  env: [{name: LOG_LEVEL, value: info}]",
        )
        .unwrap();
        let c = &p.containers[0];
        assert_eq!(
            env_of(c, "LOG_LEVEL"),
            Some("info"),
            "env overrides envFrom"
        );
        assert_eq!(env_of(c, "GREETING"), Some("hello"));
        assert_eq!(
            env_of(c, "app.conf"),
            Some("port=80"),
            "dots are valid in names"
        );
        assert_eq!(env_of(c, "DB_password"), Some(PW));
        assert_eq!(env_of(c, "DB_user"), Some("admin"));
        let names: Vec<&str> = c.spec.env.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names.iter().filter(|n| **n == "LOG_LEVEL").count(),
            1,
            "{names:?}"
        );
    }

    #[test]
    fn config_map_and_secret_key_refs() {
        let p = plan(
            "containers:\n- name: app\n  image: x:1\n  env:\n  \
             - {name: LEVEL, valueFrom: {configMapKeyRef: {name: app-config, key: LOG_LEVEL}}}\n  \
             - {name: PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}\n  \
             - {name: USER, valueFrom: {secretKeyRef: {name: db, key: user}}}",
        )
        .unwrap();
        let c = &p.containers[0];
        assert_eq!(env_of(c, "LEVEL"), Some("debug"));
        assert_eq!(env_of(c, "PASSWORD"), Some(PW), "data is base64");
        assert_eq!(env_of(c, "USER"), Some("admin"), "stringData is plain");
    }

    #[test]
    fn optional_missing_refs_are_tolerated() {
        let p = plan(
            "containers:\n- name: app\n  image: x:1\n  envFrom: [{configMapRef: {name: nope, optional: true}}]\n  env:\n  \
             - {name: A, valueFrom: {secretKeyRef: {name: nope, key: k, optional: true}}}\n  \
             - {name: B, valueFrom: {configMapKeyRef: {name: app-config, key: nokey, optional: true}}}",
        )
        .unwrap();
        assert!(p.containers[0].spec.env.is_empty());
    }

    #[test]
    fn missing_secret_is_an_error_naming_pod_container_var_and_object() {
        let err = plan(
            "containers:\n- name: app\n  image: x:1\n  env: [{name: API_KEY, valueFrom: {secretKeyRef: {name: api, key: k}}}]",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "pod `web-0` container `app`: env var `API_KEY` refers to Secret `api`, which does not exist \
             (Kubernetes would block the pod with CreateContainerConfigError)"
        );
    }

    #[test]
    fn missing_key_is_an_error_without_secret_values() {
        let err = plan(
            "containers:\n- name: app\n  image: x:1\n  env: [{name: P, valueFrom: {secretKeyRef: {name: db, key: pass}}}]",
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, PodError::MissingKey { .. }), "{msg}");
        assert!(msg.contains("key `pass` of Secret `db`"), "{msg}");
        assert!(!msg.contains(PW) && !format!("{err:?}").contains(PW));
    }

    #[test]
    fn missing_config_map_for_env_from_is_an_error() {
        let err = plan(
            "containers:\n- name: app\n  image: x:1\n  envFrom: [{configMapRef: {name: gone}}]",
        )
        .unwrap_err();
        assert!(
            matches!(&err, PodError::MissingObject { kind: ConfigKind::ConfigMap, name, .. } if name == "gone"),
            "{err}"
        );
    }
}
