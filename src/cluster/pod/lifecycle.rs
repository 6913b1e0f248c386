//! A container's `lifecycle.postStart` handler, as the kubelet runs it
//! (pkg/kubelet/kuberuntime/kuberuntime_container.go, `startContainer`; pkg/kubelet/lifecycle/
//! handlers.go): right after the container starts and before the pod's next container starts;
//! when it fails, the container is killed (`FailedPostStartHook`) and restarted per the pod's
//! restart policy. `exec` and `sleep` handlers run; an `httpGet` or `tcpSocket` one is not (a
//! warning says so). `preStop` handlers are not run: a container is stopped with SIGTERM.
use k8s_openapi::api::core::v1 as k8s;
use std::time::Duration;

/// What runs after a container starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostStart {
    /// A command run in the container (`exec`), which must exit 0.
    Exec(Vec<String>),
    /// A pause (`sleep`, Kubernetes 1.29+).
    Sleep(Duration),
}

/// The postStart handler of `c`, if syncsim runs it; a warning for one it does not.
pub(super) fn post_start(c: &k8s::Container, warnings: &mut Vec<String>) -> Option<PostStart> {
    let h = c.lifecycle.as_ref()?.post_start.as_ref()?;
    if let Some(exec) = &h.exec {
        return Some(PostStart::Exec(exec.command.clone().unwrap_or_default()));
    }
    if let Some(sleep) = &h.sleep {
        return Some(PostStart::Sleep(Duration::from_secs(
            u64::try_from(sleep.seconds).unwrap_or_default(),
        )));
    }
    let kind = if h.http_get.is_some() {
        "httpGet"
    } else if h.tcp_socket.is_some() {
        "tcpSocket"
    } else {
        return None;
    };
    warnings.push(format!(
        "container `{}` has a {kind} postStart handler, which syncsim does not run",
        c.name
    ));
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(lifecycle: &str) -> k8s::Container {
        serde_yaml::from_str(&format!("name: web\nlifecycle: {lifecycle}\n")).unwrap()
    }

    #[test]
    fn exec_and_sleep_handlers_run_others_are_named() {
        let mut warnings = Vec::new();
        assert_eq!(
            post_start(
                &container("{postStart: {exec: {command: [sh, -c, 'touch /ready']}}}"),
                &mut warnings
            ),
            Some(PostStart::Exec(vec![
                "sh".into(),
                "-c".into(),
                "touch /ready".into()
            ]))
        );
        assert_eq!(
            post_start(
                &container("{postStart: {sleep: {seconds: 2}}}"),
                &mut warnings
            ),
            Some(PostStart::Sleep(Duration::from_secs(2)))
        );
        assert_eq!(
            post_start(
                &container("{preStop: {sleep: {seconds: 2}}}"),
                &mut warnings
            ),
            None
        );
        assert!(warnings.is_empty());
        assert_eq!(
            post_start(
                &container("{postStart: {httpGet: {port: 80}}}"),
                &mut warnings
            ),
            None
        );
        assert_eq!(
            warnings,
            ["container `web` has a httpGet postStart handler, which syncsim does not run"]
        );
    }
}
