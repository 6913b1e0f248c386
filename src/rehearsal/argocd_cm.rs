//! `--argocd-cm FILE`: the settings of Argo CD's `argocd-cm` ConfigMap a rehearsal uses.
//!
//! * `resource.customizations.health.argoproj.io_Application` (or the `argoproj.io/Application`
//!   entry of the older `resource.customizations` key): the Application health check of an app
//!   of apps (docs/argo-cd-semantics.md §5.5). syncsim runs no Lua, so the script must be Argo
//!   CD's documented one, which reads the child's `status.health`.
//! * `kustomize.buildOptions`: appended to every `kustomize build` of an Application.
use super::Error;
use crate::health::Customizations;
use serde_json::Value;
use std::path::Path;

/// The key of the Application health check.
pub const APP_HEALTH_KEY: &str = "resource.customizations.health.argoproj.io_Application";

/// What syncsim reads from `argocd-cm`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArgoCdConfig {
    pub health: Customizations,
    /// `kustomize.buildOptions`.
    pub kustomize_build_options: Option<String>,
}

impl ArgoCdConfig {
    /// Reads an `argocd-cm` ConfigMap from `path`.
    ///
    /// # Errors
    ///
    /// [`Error::BadInput`] (2) naming the file, the field and the fix: unreadable, not a
    /// ConfigMap, or an Application health check syncsim cannot reproduce.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let file = path.display().to_string();
        let bad = |what: String| Error::BadInput(format!("{file}: {what}"));
        let text = std::fs::read_to_string(path)
            .map_err(|e| bad(format!("cannot read the argocd-cm file: {e}")))?;
        let doc: Value = serde_yaml::from_str(&text).map_err(|e| {
            bad(format!(
                "not YAML: {e} (give the argocd-cm ConfigMap manifest)"
            ))
        })?;
        if doc.get("kind").and_then(Value::as_str) != Some("ConfigMap") {
            return Err(bad(
                "kind: not a ConfigMap; --argocd-cm takes the argocd-cm ConfigMap \
                 (`kubectl -n argocd get cm argocd-cm -o yaml`)"
                    .into(),
            ));
        }
        let data = doc.get("data").cloned().unwrap_or(Value::Null);
        let get = |k: &str| data.get(k).and_then(Value::as_str).map(str::to_string);
        let mut script = get(APP_HEALTH_KEY).map(|s| (APP_HEALTH_KEY.to_string(), s));
        if script.is_none() {
            if let Some(legacy) = get("resource.customizations") {
                let parsed: Value = serde_yaml::from_str(&legacy)
                    .map_err(|e| bad(format!("data.resource.customizations: not YAML: {e}")))?;
                script = parsed
                    .pointer("/argoproj.io~1Application/health.lua")
                    .and_then(Value::as_str)
                    .map(|s| {
                        (
                            "resource.customizations: argoproj.io/Application: health.lua".into(),
                            s.to_string(),
                        )
                    });
            }
        }
        let application = match script {
            None => false,
            Some((_, s)) if s.trim().is_empty() => false,
            Some((key, s)) => {
                if !s.contains("status.health") {
                    return Err(bad(format!(
                        "data.{key}: syncsim runs no Lua; it reproduces only Argo CD's documented \
                         Application health check, which returns the child's \
                         obj.status.health.status and .message (Progressing while there is \
                         none). Use that script, or leave the key out to rehearse without \
                         Application health"
                    )));
                }
                true
            }
        };
        Ok(Self {
            health: Customizations { application },
            kustomize_build_options: get("kustomize.buildOptions").filter(|s| !s.trim().is_empty()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LUA: &str = "hs = {}\nhs.status = \"Progressing\"\nhs.message = \"\"\nif obj.status ~= nil then\n  if obj.status.health ~= nil then\n    hs.status = obj.status.health.status\n  end\nend\nreturn hs\n";

    fn load(yaml: &str) -> Result<ArgoCdConfig, Error> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("argocd-cm.yaml");
        std::fs::write(&p, yaml).unwrap();
        ArgoCdConfig::load(&p)
    }

    fn cm(data: serde_json::Value) -> String {
        serde_yaml::to_string(&serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "argocd-cm", "namespace": "argocd"}, "data": data,
        }))
        .unwrap()
    }

    #[test]
    fn the_documented_check_turns_application_health_on() {
        let c = load(&cm(serde_json::json!({ APP_HEALTH_KEY: LUA }))).unwrap();
        assert!(c.health.application);
        let legacy = format!(
            "argoproj.io/Application:\n  health.lua: |\n{}",
            LUA.lines()
                .map(|l| format!("    {l}\n"))
                .collect::<String>()
        );
        let c = load(&cm(
            serde_json::json!({ "resource.customizations": legacy }),
        ))
        .unwrap();
        assert!(c.health.application);
        let c = load(&cm(
            serde_json::json!({"kustomize.buildOptions": "--enable-helm"}),
        ))
        .unwrap();
        assert!(!c.health.application);
        assert_eq!(c.kustomize_build_options.as_deref(), Some("--enable-helm"));
    }

    #[test]
    fn other_scripts_and_other_files_are_refused_with_the_fix() {
        let e = load(&cm(
            serde_json::json!({ APP_HEALTH_KEY: "hs = {status = \"Healthy\"}\nreturn hs" }),
        ))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains(APP_HEALTH_KEY) && e.contains("runs no Lua"),
            "{e}"
        );
        let e = load("apiVersion: v1\nkind: Secret\n").unwrap_err();
        assert_eq!(e.exit_code(), crate::error::BAD_INPUT);
        assert!(e.to_string().contains("not a ConfigMap"), "{e}");
    }
}
