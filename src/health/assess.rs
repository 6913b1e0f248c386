//! Health statuses, the evaluation order of §5.2 and the field readers the checks share.
use super::checks;
use serde_json::Value;
use std::fmt;

/// The finalizer Argo CD puts on every hook (§3.2); while present, a deletion timestamp does not
/// make the object "Pending deletion".
pub const HOOK_FINALIZER: &str = "argocd.argoproj.io/hook-finalizer";

/// A health status. The derived order is Argo CD's severity order for aggregation (§5.1), best
/// first: `Healthy < Suspended < Progressing < Missing < Degraded < Unknown`, so `max()` of several
/// statuses is the worst one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum HealthStatus {
    /// The object is 100% healthy.
    Healthy,
    /// Suspended or paused (paused Deployment, suspended Job).
    Suspended,
    /// Not healthy yet, but may still become healthy.
    Progressing,
    /// No live object; assigned by the app controller, never by a kind check.
    Missing,
    /// Failed, or cannot reach a healthy state.
    Degraded,
    /// The assessment itself failed, or the status says nothing known.
    Unknown,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "Healthy",
            HealthStatus::Suspended => "Suspended",
            HealthStatus::Progressing => "Progressing",
            HealthStatus::Missing => "Missing",
            HealthStatus::Degraded => "Degraded",
            HealthStatus::Unknown => "Unknown",
        }
    }

    /// Whether `other` is worse than `self` (Argo CD's `IsWorse(self, other)`).
    pub fn is_worse(self, other: HealthStatus) -> bool {
        other > self
    }
}

impl fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The health of one live object: a status and Argo CD's message for it (often empty).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Health {
    pub status: HealthStatus,
    pub message: String,
}

impl Health {
    pub fn new(status: HealthStatus, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// What Argo CD shows for an object whose assessment failed: `Unknown` with the error text.
    pub fn from_error(err: &HealthError) -> Self {
        Self::new(HealthStatus::Unknown, err.to_string())
    }
}

/// Why an object's health could not be assessed. Argo CD shows such an object as `Unknown` (see
/// [`Health::from_error`]); a hook with this result ends `Error` (§3.3).
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    /// The kind has a built-in check, but not for this API version (`apps/v1beta1` Deployment,
    /// `autoscaling/v2beta2` HPA).
    #[error(
        "unsupported api version `{api_version}` for {kind} `{name}` (no built-in health check)"
    )]
    UnsupportedVersion {
        api_version: String,
        kind: String,
        name: String,
    },
    /// A field the check reads has the wrong type (Argo CD fails converting to the typed object).
    #[error("failed to read {kind} `{name}`: field `{field}` is not {expected}")]
    InvalidField {
        kind: String,
        name: String,
        field: String,
        expected: &'static str,
    },
    /// The `autoscaling.alpha.kubernetes.io/conditions` annotation of an `autoscaling/v1` HPA is not
    /// a JSON list of conditions.
    #[error("failed to read the conditions annotation of HorizontalPodAutoscaler `{name}`")]
    HpaConditionsAnnotation {
        name: String,
        #[source]
        source: serde_json::Error,
    },
}

/// Assesses the health of one live object, in Argo CD's order (§5.2):
///
/// 1. deletion timestamp set and no hook finalizer → `Progressing`, `Pending deletion`;
/// 2. Argo CD's built-in Lua check for `batch/CronJob` (no user overrides exist in syncsim);
/// 3. the built-in check for the group and kind (§5.3);
/// 4. otherwise `Ok(None)`: the kind has no health check.
///
/// # Errors
///
/// A kind with a built-in check in an unsupported version, or a field of the wrong type, is an
/// error (Argo CD reports it as `Unknown`; see [`Health::from_error`]).
pub fn assess(live: &Value) -> Result<Option<Health>, HealthError> {
    let obj = Obj::new(live);
    if obj.get(&["metadata", "deletionTimestamp"]).is_some() && !has_hook_finalizer(live) {
        return Ok(Some(Health::new(
            HealthStatus::Progressing,
            "Pending deletion",
        )));
    }
    let check: Option<KindCheck> = match (obj.group(), obj.kind) {
        ("batch", "CronJob") => Some(checks::cronjob),
        ("apps", "Deployment") => Some(checks::deployment),
        ("apps", "StatefulSet") => Some(checks::statefulset),
        ("apps", "ReplicaSet") => Some(checks::replicaset),
        ("apps", "DaemonSet") => Some(checks::daemonset),
        ("extensions" | "networking.k8s.io", "Ingress") => Some(checks::ingress),
        ("argoproj.io", "Workflow") => Some(checks::workflow),
        ("apiregistration.k8s.io", "APIService") => Some(checks::apiservice),
        ("", "Service") => Some(checks::service),
        ("", "PersistentVolumeClaim") => Some(checks::pvc),
        ("", "Pod") => Some(checks::pod),
        ("batch", "Job") => Some(checks::job),
        ("autoscaling", "HorizontalPodAutoscaler") => Some(checks::hpa),
        _ => None,
    };
    check.map(|c| c(&obj)).transpose()
}

/// A built-in check for one kind.
type KindCheck = fn(&Obj) -> Result<Health, HealthError>;

fn has_hook_finalizer(live: &Value) -> bool {
    live.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| f.iter().any(|v| v.as_str() == Some(HOOK_FINALIZER)))
}

/// Read access to a live object's fields with Argo CD's typed-conversion semantics: an absent or
/// `null` field reads as the zero value, a field of the wrong type is an error.
pub(super) struct Obj<'a> {
    pub value: &'a Value,
    pub api_version: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
}

/// One `status.conditions[]` entry (or HPA annotation condition).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Condition {
    pub type_: String,
    pub status: String,
    pub reason: String,
    pub message: String,
}

impl<'a> Obj<'a> {
    pub fn new(value: &'a Value) -> Self {
        let s = |p: &str| value.pointer(p).and_then(Value::as_str).unwrap_or("");
        Self {
            value,
            api_version: s("/apiVersion"),
            kind: s("/kind"),
            name: s("/metadata/name"),
        }
    }

    pub fn group(&self) -> &'a str {
        self.api_version
            .split_once('/')
            .map(|(g, _)| g)
            .unwrap_or("")
    }

    pub fn version(&self) -> &'a str {
        let av = self.api_version;
        av.split_once('/').map(|(_, v)| v).unwrap_or(av)
    }

    /// Errors unless the object's version is one of `supported`.
    pub fn require_version(&self, supported: &[&str]) -> Result<(), HealthError> {
        if supported.contains(&self.version()) {
            Ok(())
        } else {
            Err(HealthError::UnsupportedVersion {
                api_version: self.api_version.to_string(),
                kind: self.kind.to_string(),
                name: self.name.to_string(),
            })
        }
    }

    /// The value at `path`, `None` when absent or `null`.
    pub fn get(&self, path: &[&str]) -> Option<&'a Value> {
        let mut v = self.value;
        for p in path {
            v = v.get(p)?;
        }
        (!v.is_null()).then_some(v)
    }

    fn invalid(&self, path: &[&str], expected: &'static str) -> HealthError {
        HealthError::InvalidField {
            kind: self.kind.to_string(),
            name: self.name.to_string(),
            field: path.join("."),
            expected,
        }
    }

    pub fn opt_int(&self, path: &[&str]) -> Result<Option<i64>, HealthError> {
        match self.get(path) {
            None => Ok(None),
            Some(v) => as_int(v)
                .map(Some)
                .ok_or_else(|| self.invalid(path, "an integer")),
        }
    }

    pub fn int(&self, path: &[&str]) -> Result<i64, HealthError> {
        Ok(self.opt_int(path)?.unwrap_or(0))
    }

    pub fn opt_str(&self, path: &[&str]) -> Result<Option<&'a str>, HealthError> {
        match self.get(path) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(Some)
                .ok_or_else(|| self.invalid(path, "a string")),
        }
    }

    pub fn str(&self, path: &[&str]) -> Result<&'a str, HealthError> {
        Ok(self.opt_str(path)?.unwrap_or(""))
    }

    pub fn bool(&self, path: &[&str]) -> Result<bool, HealthError> {
        match self.get(path) {
            None => Ok(false),
            Some(v) => v.as_bool().ok_or_else(|| self.invalid(path, "a boolean")),
        }
    }

    pub fn list(&self, path: &[&str]) -> Result<&'a [Value], HealthError> {
        match self.get(path) {
            None => Ok(&[]),
            Some(v) => v
                .as_array()
                .map(Vec::as_slice)
                .ok_or_else(|| self.invalid(path, "a list")),
        }
    }

    /// `status.conditions` (or another list of conditions at `path`).
    pub fn conditions(&self, path: &[&str]) -> Result<Vec<Condition>, HealthError> {
        self.list(path)?
            .iter()
            .map(|c| condition(c).ok_or_else(|| self.invalid(path, "a list of conditions")))
            .collect()
    }
}

/// Reads one condition object; `None` when it is not an object or a field is not a string.
pub(super) fn condition(c: &Value) -> Option<Condition> {
    let c = c.as_object()?;
    let field = |k: &str| match c.get(k) {
        None | Some(Value::Null) => Some(String::new()),
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => None,
    };
    Some(Condition {
        type_: field("type")?,
        status: field("status")?,
        reason: field("reason")?,
        message: field("message")?,
    })
}

fn as_int(v: &Value) -> Option<i64> {
    if let Some(i) = v.as_i64() {
        return Some(i);
    }
    // JSON has one number type: `3.0` is a valid integer for Kubernetes' converter.
    let f = v.as_f64()?;
    (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    fn yaml(s: &str) -> Value {
        serde_yaml::from_str(s).expect("test yaml")
    }

    #[test]
    fn severity_order_is_argo_cd_aggregation_order() {
        use HealthStatus::*;
        let mut all = vec![Unknown, Degraded, Missing, Progressing, Suspended, Healthy];
        all.sort();
        assert_eq!(
            all,
            vec![Healthy, Suspended, Progressing, Missing, Degraded, Unknown]
        );
        assert!(Healthy.is_worse(Progressing));
        assert!(Healthy.is_worse(Degraded));
        assert!(!Degraded.is_worse(Progressing));
    }

    #[test]
    fn deletion_timestamp_without_hook_finalizer_is_pending_deletion() {
        let live = yaml(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, deletionTimestamp: '2026-01-01T00:00:00Z'}\n\
             spec: {restartPolicy: Never}\nstatus: {phase: Succeeded}",
        );
        assert_eq!(
            assess(&live).unwrap(),
            Some(Health::new(HealthStatus::Progressing, "Pending deletion"))
        );
    }

    #[test]
    fn deletion_timestamp_with_hook_finalizer_uses_the_kind_check() {
        let live = yaml(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  deletionTimestamp: '2026-01-01T00:00:00Z'\n  \
             finalizers: [argocd.argoproj.io/hook-finalizer]\nspec: {restartPolicy: Never}\nstatus: {phase: Succeeded}",
        );
        assert_eq!(
            assess(&live).unwrap().unwrap().status,
            HealthStatus::Healthy
        );
    }

    #[test_case("v1", "ConfigMap" ; "configmap")]
    #[test_case("v1", "Secret" ; "secret")]
    #[test_case("v1", "ServiceAccount" ; "serviceaccount")]
    #[test_case("rbac.authorization.k8s.io/v1", "Role" ; "role")]
    #[test_case("argoproj.io/v1alpha1", "Application" ; "child application has no check")]
    #[test_case("example.com/v1", "Widget" ; "custom resource")]
    #[test_case("batch/v1", "Pod" ; "kind in the wrong group")]
    fn kinds_without_a_check_have_no_health(api_version: &str, kind: &str) {
        let live = yaml(&format!(
            "apiVersion: {api_version}\nkind: {kind}\nmetadata: {{name: x}}"
        ));
        assert_eq!(assess(&live).unwrap(), None);
    }

    #[test_case("apps/v1beta1", "Deployment" ; "deployment v1beta1")]
    #[test_case("apps/v1beta2", "StatefulSet" ; "statefulset v1beta2")]
    #[test_case("autoscaling/v2beta2", "HorizontalPodAutoscaler" ; "hpa v2beta2")]
    #[test_case("autoscaling/v2beta1", "HorizontalPodAutoscaler" ; "hpa v2beta1")]
    #[test_case("batch/v1beta1", "Job" ; "job v1beta1")]
    fn unsupported_versions_are_errors_shown_as_unknown(api_version: &str, kind: &str) {
        let live = yaml(&format!(
            "apiVersion: {api_version}\nkind: {kind}\nmetadata: {{name: x}}"
        ));
        let err = assess(&live).unwrap_err();
        assert!(
            matches!(err, HealthError::UnsupportedVersion { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains(api_version), "{err}");
        assert_eq!(Health::from_error(&err).status, HealthStatus::Unknown);
    }

    #[test]
    fn a_field_of_the_wrong_type_is_an_error_naming_it() {
        let live = yaml(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: three}",
        );
        let err = assess(&live).unwrap_err();
        assert_eq!(
            err.to_string(),
            "failed to read Deployment `web`: field `spec.replicas` is not an integer"
        );
    }
}
