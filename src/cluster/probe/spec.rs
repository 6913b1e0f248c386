//! A container's probe as Kubernetes specifies it, parsed with Kubernetes' defaults.
use k8s_openapi::{api::core::v1 as k8s, apimachinery::pkg::util::intstr::IntOrString};
use std::{fmt, time::Duration};

/// Which of a container's probes this is; they differ in what a failure means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProbeKind {
    /// Gates the pod's Ready condition; a failure only makes it NotReady.
    Readiness,
    /// A failure restarts the container.
    Liveness,
    /// Runs first; liveness and readiness start once it succeeded; a failure restarts the container.
    Startup,
}

impl fmt::Display for ProbeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProbeKind::Readiness => "readiness",
            ProbeKind::Liveness => "liveness",
            ProbeKind::Startup => "startup",
        })
    }
}

/// A probe with Kubernetes' defaults applied and named ports resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub kind: ProbeKind,
    pub action: ProbeAction,
    pub initial_delay: Duration,
    pub period: Duration,
    pub timeout: Duration,
    pub success_threshold: u32,
    pub failure_threshold: u32,
}

/// What a probe does. Ports are container ports; the runtime publishes them on 127.0.0.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeAction {
    /// Runs a command in the container; exit code 0 is success.
    Exec(Vec<String>),
    /// Opens a TCP connection.
    Tcp { port: u16 },
    /// Sends `GET path`; a status from 200 to 399 is success.
    Http {
        port: u16,
        path: String,
        scheme: HttpScheme,
        /// `httpGet.host`: only used for the `Host` header (the connection goes to 127.0.0.1).
        host: Option<String>,
        headers: Vec<(String, String)>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpScheme {
    Http,
    /// syncsim has no TLS client: an HTTPS probe is checked as a TCP connect (documented in the
    /// result message). Kubernetes does not verify certificates either, so only the HTTP status
    /// is lost.
    Https,
}

/// Why a container's probe cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// gRPC probes (and anything else syncsim cannot run).
    #[error("{kind} probe of container `{container}` uses {what}, which syncsim does not support")]
    Unsupported {
        kind: ProbeKind,
        container: String,
        what: &'static str,
    },
    /// None of exec, httpGet, tcpSocket, grpc is set.
    #[error("{kind} probe of container `{container}` has no handler (exec, httpGet or tcpSocket)")]
    NoHandler { kind: ProbeKind, container: String },
    /// A named port that the container does not declare, or a number out of range.
    #[error("{kind} probe of container `{container}` refers to port `{port}`, which the container does not declare")]
    UnknownPort {
        kind: ProbeKind,
        container: String,
        port: String,
    },
    /// A negative duration or threshold, or an empty exec command.
    #[error("{kind} probe of container `{container}` has an invalid `{field}`")]
    InvalidField {
        kind: ProbeKind,
        container: String,
        field: &'static str,
    },
}

impl Probe {
    /// Parses `probe` (the container's `kind` probe) with Kubernetes' defaults: period 10 s,
    /// timeout 1 s, success threshold 1, failure threshold 3, no initial delay.
    ///
    /// # Errors
    ///
    /// gRPC probes are unsupported; a missing handler, an unknown named port, a negative value or
    /// a success threshold other than 1 on a liveness/startup probe are errors.
    pub fn parse(
        kind: ProbeKind,
        probe: &k8s::Probe,
        container: &k8s::Container,
    ) -> Result<Self, ProbeError> {
        let cname = || container.name.clone();
        let invalid = |field| ProbeError::InvalidField {
            kind,
            container: cname(),
            field,
        };
        let seconds = |v: Option<i32>, default: u64, field: &'static str| match v {
            None | Some(0) => Ok(Duration::from_secs(default)),
            Some(s) if s > 0 => Ok(Duration::from_secs(s as u64)),
            Some(_) => Err(invalid(field)),
        };
        let threshold = |v: Option<i32>, default: u32, field: &'static str| match v {
            None | Some(0) => Ok(default),
            Some(t) if t > 0 => Ok(t as u32),
            Some(_) => Err(invalid(field)),
        };
        let initial_delay = match probe.initial_delay_seconds {
            None => Duration::ZERO,
            Some(s) if s >= 0 => Duration::from_secs(s as u64),
            Some(_) => return Err(invalid("initialDelaySeconds")),
        };
        let success_threshold = threshold(probe.success_threshold, 1, "successThreshold")?;
        if kind != ProbeKind::Readiness && success_threshold != 1 {
            // Kubernetes' validation: must be 1 for liveness and startup probes.
            return Err(invalid("successThreshold"));
        }
        let action = if let Some(exec) = &probe.exec {
            let cmd = exec.command.clone().unwrap_or_default();
            if cmd.is_empty() {
                return Err(invalid("exec.command"));
            }
            ProbeAction::Exec(cmd)
        } else if let Some(tcp) = &probe.tcp_socket {
            ProbeAction::Tcp {
                port: resolve_port(kind, &tcp.port, container)?,
            }
        } else if let Some(http) = &probe.http_get {
            let scheme = match http.scheme.as_deref().unwrap_or("HTTP") {
                s if s.eq_ignore_ascii_case("HTTP") => HttpScheme::Http,
                s if s.eq_ignore_ascii_case("HTTPS") => HttpScheme::Https,
                _ => return Err(invalid("httpGet.scheme")),
            };
            let mut path = http.path.clone().unwrap_or_default();
            if !path.starts_with('/') {
                path.insert(0, '/');
            }
            ProbeAction::Http {
                port: resolve_port(kind, &http.port, container)?,
                path,
                scheme,
                host: http.host.clone().filter(|h| !h.is_empty()),
                headers: http
                    .http_headers
                    .iter()
                    .flatten()
                    .map(|h| (h.name.clone(), h.value.clone()))
                    .collect(),
            }
        } else if probe.grpc.is_some() {
            return Err(ProbeError::Unsupported {
                kind,
                container: cname(),
                what: "grpc",
            });
        } else {
            return Err(ProbeError::NoHandler {
                kind,
                container: cname(),
            });
        };
        Ok(Self {
            kind,
            action,
            initial_delay,
            period: seconds(probe.period_seconds, 10, "periodSeconds")?,
            timeout: seconds(probe.timeout_seconds, 1, "timeoutSeconds")?,
            success_threshold,
            failure_threshold: threshold(probe.failure_threshold, 3, "failureThreshold")?,
        })
    }

    /// The container ports this probe needs published on the host.
    pub fn port(&self) -> Option<u16> {
        match &self.action {
            ProbeAction::Exec(_) => None,
            ProbeAction::Tcp { port } | ProbeAction::Http { port, .. } => Some(*port),
        }
    }
}

/// A numeric port, or a name looked up in the container's `ports` (then a numeric string).
fn resolve_port(
    kind: ProbeKind,
    port: &IntOrString,
    container: &k8s::Container,
) -> Result<u16, ProbeError> {
    let unknown = |p: String| ProbeError::UnknownPort {
        kind,
        container: container.name.clone(),
        port: p,
    };
    let number = match port {
        IntOrString::Int(n) => *n,
        IntOrString::String(name) => container
            .ports
            .iter()
            .flatten()
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .map(|p| p.container_port)
            .or_else(|| name.parse().ok())
            .ok_or_else(|| unknown(name.clone()))?,
    };
    u16::try_from(number)
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| unknown(number.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(yaml: &str) -> k8s::Container {
        serde_yaml::from_str(yaml).expect("test yaml")
    }

    fn parse(kind: ProbeKind, yaml: &str) -> Result<Probe, ProbeError> {
        let c = container(yaml);
        let probe = match kind {
            ProbeKind::Readiness => c.readiness_probe.clone(),
            ProbeKind::Liveness => c.liveness_probe.clone(),
            ProbeKind::Startup => c.startup_probe.clone(),
        };
        Probe::parse(kind, &probe.expect("probe in yaml"), &c)
    }

    #[test]
    fn defaults_are_kubernetes_defaults() {
        let p = parse(
            ProbeKind::Readiness,
            "name: web\nreadinessProbe: {tcpSocket: {port: 80}}",
        )
        .unwrap();
        assert_eq!(p.action, ProbeAction::Tcp { port: 80 });
        assert_eq!(p.initial_delay, Duration::ZERO);
        assert_eq!(p.period, Duration::from_secs(10));
        assert_eq!(p.timeout, Duration::from_secs(1));
        assert_eq!((p.success_threshold, p.failure_threshold), (1, 3));
    }

    #[test]
    fn http_get_with_named_port_headers_and_timings() {
        let p = parse(
            ProbeKind::Liveness,
            "name: web\nports: [{name: http, containerPort: 8080}]\n\
             livenessProbe:\n  httpGet: {path: healthz, port: http, httpHeaders: [{name: X-Probe, value: '1'}]}\n  \
             initialDelaySeconds: 5\n  periodSeconds: 2\n  timeoutSeconds: 3\n  failureThreshold: 4",
        )
        .unwrap();
        assert_eq!(
            p.action,
            ProbeAction::Http {
                port: 8080,
                path: "/healthz".into(),
                scheme: HttpScheme::Http,
                host: None,
                headers: vec![("X-Probe".into(), "1".into())],
            }
        );
        assert_eq!(
            (p.initial_delay, p.period, p.timeout, p.failure_threshold),
            (
                Duration::from_secs(5),
                Duration::from_secs(2),
                Duration::from_secs(3),
                4
            )
        );
    }

    #[test]
    fn exec_probe_keeps_the_command() {
        let p = parse(
            ProbeKind::Startup,
            "name: db\nstartupProbe: {exec: {command: [pg_isready, -h, 127.0.0.1]}}",
        )
        .unwrap();
        assert_eq!(
            p.action,
            ProbeAction::Exec(vec!["pg_isready".into(), "-h".into(), "127.0.0.1".into()])
        );
    }

    #[test]
    fn unknown_named_port_is_an_error_naming_it() {
        let err = parse(
            ProbeKind::Readiness,
            "name: web\nreadinessProbe: {tcpSocket: {port: metrics}}",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "readiness probe of container `web` refers to port `metrics`, which the container does not declare"
        );
    }

    #[test]
    fn grpc_is_unsupported() {
        let err = parse(
            ProbeKind::Liveness,
            "name: api\nlivenessProbe: {grpc: {port: 9090}}",
        )
        .unwrap_err();
        assert!(
            matches!(err, ProbeError::Unsupported { what: "grpc", .. }),
            "{err}"
        );
    }

    #[test]
    fn probe_without_handler_is_an_error() {
        let err = parse(
            ProbeKind::Readiness,
            "name: web\nreadinessProbe: {periodSeconds: 1}",
        )
        .unwrap_err();
        assert!(matches!(err, ProbeError::NoHandler { .. }), "{err}");
    }

    #[test]
    fn liveness_success_threshold_must_be_one() {
        let err = parse(
            ProbeKind::Liveness,
            "name: w\nlivenessProbe: {tcpSocket: {port: 1}, successThreshold: 2}",
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                ProbeError::InvalidField {
                    field: "successThreshold",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn port_out_of_range_is_an_error() {
        let err = parse(
            ProbeKind::Readiness,
            "name: w\nreadinessProbe: {tcpSocket: {port: 70000}}",
        )
        .unwrap_err();
        assert!(matches!(err, ProbeError::UnknownPort { .. }), "{err}");
    }
}
