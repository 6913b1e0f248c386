//! Health customizations of `argocd-cm` that syncsim reproduces (docs/argo-cd-semantics.md §5.5).
//!
//! Argo CD 1.8 removed the built-in health check of `argoproj.io/Application`
//! (argo-cd `docs/operator-manual/upgrading/1.7-1.8.md`), so in an app of apps a child
//! Application has no health and never holds back the next sync wave. Argo CD's documentation
//! gives the Lua check that restores it (`resource.customizations.health.argoproj.io_Application`):
//! the child's own `status.health`, `Progressing` while it has none. syncsim runs no Lua: it
//! reproduces that one documented script.
use super::assess::{assess, Health, HealthError, HealthStatus};
use serde_json::Value;

/// Which health customizations are on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Customizations {
    /// `argoproj.io/Application` is assessed from its `status.health` (the documented Lua).
    pub application: bool,
}

impl Customizations {
    /// [`assess`], with the customizations that are on taking precedence over the built-in
    /// checks, as Argo CD prefers a configured check.
    ///
    /// # Errors
    ///
    /// As [`assess`].
    pub fn assess(&self, live: &Value) -> Result<Option<Health>, HealthError> {
        let api_version = live.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = live.get("kind").and_then(Value::as_str).unwrap_or("");
        if self.application && api_version.starts_with("argoproj.io/") && kind == "Application" {
            return Ok(Some(application(live)));
        }
        assess(live)
    }
}

/// The documented Lua check of an Application: `status.health.status` and `.message`, else
/// `Progressing` with no message. A status the Lua would pass through that Argo CD does not
/// know becomes `Unknown`.
fn application(live: &Value) -> Health {
    let Some(h) = live.pointer("/status/health").filter(|h| !h.is_null()) else {
        return Health::new(HealthStatus::Progressing, "");
    };
    let status = match h.get("status").and_then(Value::as_str).unwrap_or("") {
        "Healthy" => HealthStatus::Healthy,
        "Suspended" => HealthStatus::Suspended,
        "Progressing" => HealthStatus::Progressing,
        "Missing" => HealthStatus::Missing,
        "Degraded" => HealthStatus::Degraded,
        _ => HealthStatus::Unknown,
    };
    let message = h.get("message").and_then(Value::as_str).unwrap_or("");
    Health::new(status, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn app(status: Value) -> Value {
        json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
               "metadata": {"name": "child"}, "status": status})
    }

    #[test]
    fn without_the_customization_an_application_has_no_health() {
        let live = app(json!({"health": {"status": "Degraded"}}));
        assert_eq!(Customizations::default().assess(&live).unwrap(), None);
    }

    #[test]
    fn with_it_the_childs_own_health_is_read_and_progressing_without_one() {
        let on = Customizations { application: true };
        let status = |v: Value| on.assess(&app(v)).unwrap().unwrap();
        assert_eq!(status(json!({})).status, HealthStatus::Progressing);
        assert_eq!(status(Value::Null).status, HealthStatus::Progressing);
        let h = status(json!({"health": {"status": "Degraded", "message": "db down"}}));
        assert_eq!(
            (h.status, h.message.as_str()),
            (HealthStatus::Degraded, "db down")
        );
        assert_eq!(
            status(json!({"health": {"status": "Healthy"}})).status,
            HealthStatus::Healthy
        );
        // Other kinds keep their built-in checks.
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        assert_eq!(on.assess(&cm).unwrap(), None);
    }
}
