//! Container probes: parsed from a pod's `Probe`, executed once against a running container, and
//! a pure tracker that turns a stream of results into Ready / NotReady / Failed.
//!
//! The decision is kept apart from the waiting (STYLE.md §3): [`run_once`] performs one probe,
//! [`ProbeTracker`] decides, and the caller's poll loop only sleeps until
//! [`ProbeTracker::next_probe_at`].
//!
//! # Timing
//!
//! syncsim polls faster than Kubernetes' `periodSeconds` (every [`DEFAULT_POLL_INTERVAL`] by
//! default) so that a rehearsal does not wait 10 s for a pod that is ready after 300 ms. Counting
//! fast polls against `failureThreshold` would then fail a container `period / poll` times too
//! early, so the thresholds are converted into **time budgets in real periods**:
//!
//! * a probe fails (liveness/startup `Failed`, readiness back to `NotReady`) once every result
//!   for `failureThreshold × periodSeconds` since the last success (or since probing began, after
//!   `initialDelaySeconds`) was a failure, which is when kubelet would have seen its
//!   `failureThreshold`-th consecutive failure;
//! * a probe succeeds once results have been successful for `(successThreshold − 1) ×
//!   periodSeconds`, i.e. immediately for the usual `successThreshold: 1`.
use crate::runtime::{ContainerRuntime, ContainerState, ContainerStatus};
use k8s_openapi::{api::core::v1 as k8s, apimachinery::pkg::util::intstr::IntOrString};
use std::{fmt, time::Duration};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    time::Instant,
};

/// How often syncsim probes by default, whatever `periodSeconds` says (see the module docs).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(200);

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

/// The result of one probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeResult {
    /// The probe passed; the message may carry a caveat (HTTPS checked as TCP).
    Success { message: String },
    /// The probe failed, with kubelet-like detail.
    Failure { message: String },
}

impl ProbeResult {
    pub fn is_success(&self) -> bool {
        matches!(self, ProbeResult::Success { .. })
    }

    pub fn message(&self) -> &str {
        match self {
            ProbeResult::Success { message } | ProbeResult::Failure { message } => message,
        }
    }

    fn ok() -> Self {
        ProbeResult::Success {
            message: String::new(),
        }
    }

    fn fail(message: impl Into<String>) -> Self {
        ProbeResult::Failure {
            message: message.into(),
        }
    }
}

/// Runs `probe` once against `container` and waits at most `probe.timeout` for it.
///
/// exec runs through [`ContainerRuntime::exec`]; tcpSocket and httpGet connect to
/// `127.0.0.1:<host port>` where the runtime published the container port
/// ([`ContainerState::host_ports`]).
///
/// # Caveats
///
/// Docker's userland proxy accepts connections on a published port even when nothing listens in
/// the container, and closes them at once. A TCP probe therefore waits briefly after connecting
/// and counts an immediate close as a failure.
pub async fn run_once<R: ContainerRuntime + ?Sized>(
    rt: &R,
    container: &ContainerState,
    probe: &Probe,
) -> ProbeResult {
    if container.status != ContainerStatus::Running {
        return ProbeResult::fail("container is not running");
    }
    let host_port = |port: u16| {
        container.host_ports.get(&port).copied().ok_or_else(|| {
            ProbeResult::fail(format!(
                "container port {port} is not published on the host"
            ))
        })
    };
    let timed_out = || ProbeResult::fail(format!("probe timed out after {:?}", probe.timeout));
    match &probe.action {
        ProbeAction::Exec(cmd) => {
            // The runtime enforces the timeout too; the outer one guards against a stuck engine.
            let run = rt.exec(&container.id, cmd, probe.timeout);
            match tokio::time::timeout(probe.timeout + Duration::from_millis(500), run).await {
                Err(_) => timed_out(),
                Ok(Err(err)) => ProbeResult::fail(format!("exec failed: {err}")),
                Ok(Ok(r)) if r.exit_code == 0 => ProbeResult::ok(),
                Ok(Ok(r)) => ProbeResult::fail(format!(
                    "command exited with code {}{}",
                    r.exit_code,
                    tail(&r.output)
                        .map(|t| format!(": {t}"))
                        .unwrap_or_default()
                )),
            }
        }
        ProbeAction::Tcp { port } => {
            let hp = match host_port(*port) {
                Ok(hp) => hp,
                Err(fail) => return fail,
            };
            match tokio::time::timeout(probe.timeout, tcp_check(hp, probe.timeout)).await {
                Err(_) => timed_out(),
                Ok(r) => r,
            }
        }
        ProbeAction::Http {
            port,
            path,
            scheme,
            host,
            headers,
        } => {
            let hp = match host_port(*port) {
                Ok(hp) => hp,
                Err(fail) => return fail,
            };
            let check = async {
                match scheme {
                    HttpScheme::Https => match tcp_check(hp, probe.timeout).await {
                        ProbeResult::Success { .. } => ProbeResult::Success {
                            message:
                                "https probe checked as a tcp connect (syncsim has no TLS client)"
                                    .into(),
                        },
                        failure => failure,
                    },
                    HttpScheme::Http => {
                        let host = host.clone().unwrap_or_else(|| "127.0.0.1".into());
                        http_get(hp, &format!("{host}:{port}"), path, headers).await
                    }
                }
            };
            match tokio::time::timeout(probe.timeout, check).await {
                Err(_) => timed_out(),
                Ok(r) => r,
            }
        }
    }
}

/// The last non-empty line of exec output, shortened for a message.
fn tail(output: &str) -> Option<String> {
    let line = output
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())?;
    Some(line.chars().take(200).collect())
}

/// How long to watch a fresh connection for Docker's proxy closing it.
const PROXY_CLOSE_GRACE: Duration = Duration::from_millis(100);

async fn tcp_check(host_port: u16, timeout: Duration) -> ProbeResult {
    let mut stream = match TcpStream::connect(("127.0.0.1", host_port)).await {
        Ok(s) => s,
        Err(err) => return ProbeResult::fail(format!("dial tcp 127.0.0.1:{host_port}: {err}")),
    };
    let mut buf = [0u8; 1];
    match tokio::time::timeout(PROXY_CLOSE_GRACE.min(timeout / 2), stream.read(&mut buf)).await {
        // Silence (the server waits for us) or a greeting: something listens.
        Err(_) | Ok(Ok(1..)) => ProbeResult::ok(),
        Ok(Ok(0)) | Ok(Err(_)) => ProbeResult::fail(format!(
            "connection to 127.0.0.1:{host_port} was closed at once (nothing listening in the container?)"
        )),
    }
}

/// Upper bound on the response head we read.
const MAX_HEAD: usize = 8 * 1024;

async fn http_get(
    host_port: u16,
    host: &str,
    path: &str,
    headers: &[(String, String)],
) -> ProbeResult {
    let mut stream = match TcpStream::connect(("127.0.0.1", host_port)).await {
        Ok(s) => s,
        Err(err) => return ProbeResult::fail(format!("Get \"http://{host}{path}\": {err}")),
    };
    let has = |name: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    let mut request = format!("GET {path} HTTP/1.1\r\n");
    if !has("host") {
        request.push_str(&format!("Host: {host}\r\n"));
    }
    if !has("user-agent") {
        request.push_str("User-Agent: kube-probe/1.33\r\n");
    }
    if !has("accept") {
        request.push_str("Accept: */*\r\n");
    }
    for (name, value) in headers {
        // Header injection through a value is the manifest author's own problem, but keep the
        // request well-formed.
        if name.contains(['\r', '\n', ':']) || value.contains(['\r', '\n']) {
            return ProbeResult::fail(format!("invalid http header `{name}`"));
        }
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("Connection: close\r\n\r\n");
    if let Err(err) = stream.write_all(request.as_bytes()).await {
        return ProbeResult::fail(format!("Get \"http://{host}{path}\": {err}"));
    }
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.contains(&b'\n') && head.len() < MAX_HEAD {
        match stream.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(err) => return ProbeResult::fail(format!("Get \"http://{host}{path}\": {err}")),
        }
    }
    let line = String::from_utf8_lossy(&head);
    let line = line.lines().next().unwrap_or("");
    let code = line
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|c| c.parse::<u16>().ok());
    match code {
        Some(c) if (200..400).contains(&c) => ProbeResult::ok(),
        Some(c) => ProbeResult::fail(format!("HTTP probe failed with statuscode: {c}")),
        None if head.is_empty() => {
            ProbeResult::fail(format!("Get \"http://{host}{path}\": empty response"))
        }
        None => ProbeResult::fail(format!(
            "Get \"http://{host}{path}\": malformed HTTP response"
        )),
    }
}

/// What a tracker concludes so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeStatus {
    /// Still within `initialDelaySeconds`: nothing probed yet.
    Waiting,
    /// Readiness: the container is ready. Liveness: alive. Startup: started (terminal).
    Ready,
    /// Not (or no longer) ready; liveness/startup: failing but within the failure budget.
    NotReady,
    /// Liveness or startup failed for the whole failure budget: kubelet would kill the container.
    Failed { message: String },
}

/// Pure tracker for one probe of one container start. Feed it results with the instant they were
/// taken; it applies `initialDelaySeconds`, `successThreshold` and `failureThreshold` as time
/// budgets (see the module docs).
#[derive(Debug, Clone)]
pub struct ProbeTracker {
    kind: ProbeKind,
    initial_delay: Duration,
    period: Duration,
    success_threshold: u32,
    failure_threshold: u32,
    poll_interval: Duration,
    /// When probing may begin: container start + initial delay.
    begins: Instant,
    /// Start of the current run of successes.
    success_since: Option<Instant>,
    /// Last success, or `begins` if none: failures are budgeted from here.
    failures_from: Instant,
    last_probe: Option<Instant>,
    status: ProbeStatus,
}

impl ProbeTracker {
    /// A tracker for `probe` on a container that started at `started`.
    pub fn new(probe: &Probe, started: Instant) -> Self {
        let begins = started + probe.initial_delay;
        Self {
            kind: probe.kind,
            initial_delay: probe.initial_delay,
            period: probe.period,
            success_threshold: probe.success_threshold.max(1),
            failure_threshold: probe.failure_threshold.max(1),
            poll_interval: DEFAULT_POLL_INTERVAL.min(probe.period),
            begins,
            success_since: None,
            failures_from: begins,
            last_probe: None,
            status: ProbeStatus::Waiting,
        }
    }

    /// Polls every `interval` instead of [`DEFAULT_POLL_INTERVAL`] (use `probe.period` for
    /// Kubernetes' pace). Zero is raised to 1 ms.
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// When the caller should run the next probe.
    pub fn next_probe_at(&self) -> Instant {
        match self.last_probe {
            None => self.begins,
            Some(last) => (last + self.poll_interval).max(self.begins),
        }
    }

    /// Whether probing is over for this container start: a startup probe that succeeded, or a
    /// liveness/startup probe that failed.
    pub fn is_settled(&self) -> bool {
        matches!(self.status, ProbeStatus::Failed { .. })
            || (self.kind == ProbeKind::Startup && self.status == ProbeStatus::Ready)
    }

    pub fn status(&self) -> &ProbeStatus {
        &self.status
    }

    /// The status at `now` without a new result: only `Waiting` turns into `NotReady` once the
    /// initial delay is over.
    pub fn status_at(&self, now: Instant) -> ProbeStatus {
        match &self.status {
            ProbeStatus::Waiting if now >= self.begins => ProbeStatus::NotReady,
            s => s.clone(),
        }
    }

    /// Records a result taken at `at` and returns the new status. Results taken before the initial
    /// delay elapsed, or after the tracker settled, are ignored.
    pub fn record(&mut self, at: Instant, result: &ProbeResult) -> &ProbeStatus {
        if at < self.begins || self.is_settled() {
            return &self.status;
        }
        self.last_probe = Some(at);
        match result {
            ProbeResult::Success { .. } => {
                let since = *self.success_since.get_or_insert(at);
                self.failures_from = at;
                let needed = self.period * (self.success_threshold - 1);
                if at.duration_since(since) >= needed {
                    self.status = ProbeStatus::Ready;
                } else if self.status == ProbeStatus::Waiting {
                    self.status = ProbeStatus::NotReady;
                }
            }
            ProbeResult::Failure { message } => {
                self.success_since = None;
                let budget = self.period * self.failure_threshold;
                if at.duration_since(self.failures_from) >= budget {
                    self.status = match self.kind {
                        ProbeKind::Readiness => ProbeStatus::NotReady,
                        ProbeKind::Liveness | ProbeKind::Startup => ProbeStatus::Failed {
                            message: format!(
                                "{} probe failed {} times in a row over {:?}: {message}",
                                self.kind, self.failure_threshold, budget
                            ),
                        },
                    };
                } else if self.status == ProbeStatus::Waiting {
                    self.status = ProbeStatus::NotReady;
                }
            }
        }
        &self.status
    }

    /// The initial delay this tracker applies.
    pub fn initial_delay(&self) -> Duration {
        self.initial_delay
    }
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

    fn probe(kind: ProbeKind, initial: u64, period: u64, success: u32, failure: u32) -> Probe {
        Probe {
            kind,
            action: ProbeAction::Tcp { port: 80 },
            initial_delay: Duration::from_secs(initial),
            period: Duration::from_secs(period),
            timeout: Duration::from_secs(1),
            success_threshold: success,
            failure_threshold: failure,
        }
    }

    fn ok() -> ProbeResult {
        ProbeResult::Success {
            message: String::new(),
        }
    }

    fn bad() -> ProbeResult {
        ProbeResult::Failure {
            message: "refused".into(),
        }
    }

    #[test]
    fn initial_delay_is_waited_and_early_results_ignored() {
        let start = Instant::now();
        let mut now = start;
        let mut t = ProbeTracker::new(&probe(ProbeKind::Readiness, 5, 10, 1, 3), start);
        assert_eq!(t.next_probe_at(), start + Duration::from_secs(5));
        assert_eq!(t.status_at(start), ProbeStatus::Waiting);
        now += Duration::from_secs(1);
        assert_eq!(t.record(now, &ok()), &ProbeStatus::Waiting);
        now += Duration::from_secs(4);
        assert_eq!(t.status_at(now), ProbeStatus::NotReady);
        assert_eq!(t.record(now, &ok()), &ProbeStatus::Ready);
    }

    #[test]
    fn polls_faster_than_the_period() {
        let start = Instant::now();
        let mut t = ProbeTracker::new(&probe(ProbeKind::Readiness, 0, 10, 1, 3), start);
        t.record(start, &bad());
        assert_eq!(t.next_probe_at(), start + DEFAULT_POLL_INTERVAL);
        let t = t.with_poll_interval(Duration::from_secs(10));
        assert_eq!(t.next_probe_at(), start + Duration::from_secs(10));
    }

    #[test]
    fn fast_failures_do_not_exhaust_the_failure_threshold() {
        let start = Instant::now();
        let mut now = start;
        let mut t = ProbeTracker::new(&probe(ProbeKind::Liveness, 0, 10, 1, 3), start);
        // 100 failures at 200 ms = 20 s < 3 × 10 s: still within budget.
        for _ in 0..100 {
            assert_eq!(t.record(now, &bad()), &ProbeStatus::NotReady);
            now += Duration::from_millis(200);
        }
        now += Duration::from_secs(10);
        let status = t.record(now, &bad()).clone();
        assert!(
            matches!(&status, ProbeStatus::Failed { message } if message.contains("refused")),
            "{status:?}"
        );
        assert!(t.is_settled());
        // Settled: later results change nothing.
        assert_eq!(t.record(now, &ok()), &status);
    }

    #[test]
    fn a_success_resets_the_failure_budget() {
        let start = Instant::now();
        let mut now = start;
        let mut t = ProbeTracker::new(&probe(ProbeKind::Liveness, 0, 1, 1, 2), start);
        t.record(start, &ok());
        now += Duration::from_millis(1500);
        assert_eq!(t.record(now, &bad()), &ProbeStatus::Ready);
        now += Duration::from_millis(400);
        t.record(now, &ok());
        now += Duration::from_millis(1900);
        assert_eq!(t.record(now, &bad()), &ProbeStatus::Ready);
        now += Duration::from_millis(100);
        assert!(matches!(t.record(now, &bad()), ProbeStatus::Failed { .. }));
    }

    #[test]
    fn readiness_stays_ready_within_budget_then_becomes_not_ready_and_recovers() {
        let start = Instant::now();
        let mut now = start;
        let mut t = ProbeTracker::new(&probe(ProbeKind::Readiness, 0, 1, 1, 3), start);
        assert_eq!(t.record(start, &ok()), &ProbeStatus::Ready);
        now += Duration::from_secs(2);
        assert_eq!(t.record(now, &bad()), &ProbeStatus::Ready);
        now += Duration::from_secs(1);
        assert_eq!(t.record(now, &bad()), &ProbeStatus::NotReady);
        assert!(!t.is_settled(), "readiness never settles");
        now += Duration::from_secs(1);
        assert_eq!(t.record(now, &ok()), &ProbeStatus::Ready);
    }

    #[test]
    fn success_threshold_counts_in_real_periods() {
        let start = Instant::now();
        let mut now = start;
        let mut t = ProbeTracker::new(&probe(ProbeKind::Readiness, 0, 2, 3, 3), start);
        assert_eq!(t.record(start, &ok()), &ProbeStatus::NotReady);
        now += Duration::from_millis(3900);
        assert_eq!(t.record(now, &ok()), &ProbeStatus::NotReady);
        now += Duration::from_millis(100);
        assert_eq!(t.record(now, &ok()), &ProbeStatus::Ready);
    }

    #[test]
    fn a_failure_restarts_the_success_streak() {
        let start = Instant::now();
        let mut now = start;
        let mut t = ProbeTracker::new(&probe(ProbeKind::Readiness, 0, 1, 2, 3), start);
        t.record(start, &ok());
        now += Duration::from_millis(500);
        t.record(now, &bad());
        now += Duration::from_millis(600);
        assert_eq!(t.record(now, &ok()), &ProbeStatus::NotReady);
        now += Duration::from_secs(1);
        assert_eq!(t.record(now, &ok()), &ProbeStatus::Ready);
    }

    #[test]
    fn startup_fails_after_its_budget_from_the_initial_delay_and_settles_on_success() {
        let start = Instant::now();
        let mut now = start;
        let mut failing = ProbeTracker::new(&probe(ProbeKind::Startup, 2, 1, 1, 3), start);
        now += Duration::from_secs(4);
        assert_eq!(failing.record(now, &bad()), &ProbeStatus::NotReady);
        now += Duration::from_secs(1);
        assert!(matches!(
            failing.record(now, &bad()),
            ProbeStatus::Failed { .. }
        ));

        let mut passing = ProbeTracker::new(&probe(ProbeKind::Startup, 0, 1, 1, 3), start);
        assert_eq!(passing.record(now, &ok()), &ProbeStatus::Ready);
        assert!(passing.is_settled());
    }
}
