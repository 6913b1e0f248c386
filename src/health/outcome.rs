//! From health to task outcome (§3.3): when is a hook complete, when may a resource's wave end.
use super::{Health, HealthError, HealthStatus};

/// The phase of a hook task, as Argo CD records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum HookPhase {
    /// Not finished: the hook's wave waits.
    Running,
    Succeeded,
    Failed,
    /// The hook's health could not be evaluated.
    Error,
}

/// A hook's phase and the message Argo CD shows with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookOutcome {
    pub phase: HookPhase,
    pub message: String,
}

/// The outcome of a resource (non-hook) task once applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ResourcePhase {
    /// Still waiting: the wave cannot end (Progressing, Suspended, Unknown, Missing, errors).
    Running,
    /// Healthy, or a kind without health check: the wave may end.
    Succeeded,
    /// Degraded: the operation fails.
    Failed,
}

/// The phase of the hook named `name` given its assessed health (§3.3, Argo CD's
/// `getOperationPhase`): Healthy or no check → Succeeded (`<name> created` when there is no
/// check), Progressing/Suspended → Running, Degraded/Unknown → Failed, Missing → Succeeded, an
/// evaluation error → Error.
pub fn hook_phase(name: &str, health: &Result<Option<Health>, HealthError>) -> HookOutcome {
    let created = || format!("{name} created");
    let (phase, message) = match health {
        Err(err) => (HookPhase::Error, err.to_string()),
        Ok(None) => (HookPhase::Succeeded, created()),
        Ok(Some(h)) => match h.status {
            HealthStatus::Healthy => (HookPhase::Succeeded, h.message.clone()),
            HealthStatus::Progressing | HealthStatus::Suspended => {
                (HookPhase::Running, h.message.clone())
            }
            HealthStatus::Degraded | HealthStatus::Unknown => {
                (HookPhase::Failed, h.message.clone())
            }
            // Argo CD's switch has no case for Missing: the default "created" outcome stands.
            HealthStatus::Missing => (HookPhase::Succeeded, created()),
        },
    };
    HookOutcome { phase, message }
}

/// The outcome of a resource task given its assessed health (§3.3, §5.4): only Healthy and "no
/// health check" end the wait, Degraded fails, everything else (including errors) waits.
pub fn resource_phase(health: &Result<Option<Health>, HealthError>) -> ResourcePhase {
    match health {
        Ok(None) => ResourcePhase::Succeeded,
        Ok(Some(h)) => match h.status {
            HealthStatus::Healthy => ResourcePhase::Succeeded,
            HealthStatus::Degraded => ResourcePhase::Failed,
            HealthStatus::Progressing
            | HealthStatus::Suspended
            | HealthStatus::Unknown
            | HealthStatus::Missing => ResourcePhase::Running,
        },
        Err(_) => ResourcePhase::Running,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    fn some(status: HealthStatus) -> Result<Option<Health>, HealthError> {
        Ok(Some(Health::new(status, "msg")))
    }

    fn err() -> Result<Option<Health>, HealthError> {
        Err(HealthError::UnsupportedVersion {
            api_version: "batch/v2".into(),
            kind: "Job".into(),
            name: "j".into(),
        })
    }

    #[test_case(some(HealthStatus::Healthy), HookPhase::Succeeded, ResourcePhase::Succeeded ; "healthy")]
    #[test_case(Ok(None), HookPhase::Succeeded, ResourcePhase::Succeeded ; "no health check")]
    #[test_case(some(HealthStatus::Progressing), HookPhase::Running, ResourcePhase::Running ; "progressing")]
    #[test_case(some(HealthStatus::Suspended), HookPhase::Running, ResourcePhase::Running ; "suspended waits")]
    #[test_case(some(HealthStatus::Degraded), HookPhase::Failed, ResourcePhase::Failed ; "degraded")]
    #[test_case(some(HealthStatus::Unknown), HookPhase::Failed, ResourcePhase::Running ; "unknown fails hooks only")]
    #[test_case(some(HealthStatus::Missing), HookPhase::Succeeded, ResourcePhase::Running ; "missing")]
    #[test_case(err(), HookPhase::Error, ResourcePhase::Running ; "evaluation error")]
    fn table_3_3(
        health: Result<Option<Health>, HealthError>,
        hook: HookPhase,
        resource: ResourcePhase,
    ) {
        assert_eq!(hook_phase("h", &health).phase, hook);
        assert_eq!(resource_phase(&health), resource);
    }

    #[test]
    fn hook_without_health_check_says_created() {
        assert_eq!(hook_phase("init-cm", &Ok(None)).message, "init-cm created");
    }

    #[test]
    fn hook_message_is_the_health_message() {
        let out = hook_phase(
            "job",
            &Ok(Some(Health::new(
                HealthStatus::Degraded,
                "BackoffLimitExceeded",
            ))),
        );
        assert_eq!(out.message, "BackoffLimitExceeded");
    }
}
