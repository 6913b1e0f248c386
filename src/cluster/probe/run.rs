//! Running one probe against a running container: exec through the runtime, tcpSocket and
//! httpGet against the pod's address where this process reaches it (as the kubelet dials the
//! pod's IP), otherwise against the port the runtime published on 127.0.0.1.
use super::{http::http_get, HttpScheme, Probe, ProbeAction};
use crate::runtime::{ContainerRuntime, ContainerState, ContainerStatus};
use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    time::Duration,
};
use tokio::{io::AsyncReadExt, net::TcpStream};

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

    pub(super) fn ok() -> Self {
        ProbeResult::Success {
            message: String::new(),
        }
    }

    pub(super) fn fail(message: impl Into<String>) -> Self {
        ProbeResult::Failure {
            message: message.into(),
        }
    }
}

/// Where a tcpSocket or httpGet probe connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Target {
    pub addr: SocketAddr,
    /// Through Docker's userland proxy (a port published on 127.0.0.1), which accepts a
    /// connection even when nothing listens in the container, and closes it at once.
    pub via_proxy: bool,
}

impl Target {
    /// The published host port of `port` when there is one, else the container's own address
    /// (the pod's IP, what the kubelet dials).
    fn of(container: &ContainerState, port: u16) -> Result<Self, ProbeResult> {
        if let Some(hp) = container.host_ports.get(&port) {
            return Ok(Self {
                addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), *hp),
                via_proxy: true,
            });
        }
        match container.ip.as_deref().and_then(|ip| ip.parse().ok()) {
            Some(ip) => Ok(Self {
                addr: SocketAddr::new(ip, port),
                via_proxy: false,
            }),
            None => Err(ProbeResult::fail(format!(
                "container port {port} is not published on the host and the container has no address"
            ))),
        }
    }
}

/// Runs `probe` once against `container` and waits at most `probe.timeout` for it.
///
/// exec runs through [`ContainerRuntime::exec`]; tcpSocket and httpGet connect to the
/// container's address, or to `127.0.0.1:<host port>` where the runtime published the container
/// port ([`ContainerState::host_ports`]).
///
/// # Caveats
///
/// Docker's userland proxy accepts connections on a published port even when nothing listens in
/// the container, and closes them at once. A TCP probe through it therefore waits briefly after
/// connecting and counts an immediate close as a failure.
pub async fn run_once<R: ContainerRuntime + ?Sized>(
    rt: &R,
    container: &ContainerState,
    probe: &Probe,
) -> ProbeResult {
    if container.status != ContainerStatus::Running {
        return ProbeResult::fail("container is not running");
    }
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
            let target = match Target::of(container, *port) {
                Ok(t) => t,
                Err(fail) => return fail,
            };
            match tokio::time::timeout(probe.timeout, tcp_check(target, probe.timeout)).await {
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
            let target = match Target::of(container, *port) {
                Ok(t) => t,
                Err(fail) => return fail,
            };
            let check = async {
                match scheme {
                    HttpScheme::Https => match tcp_check(target, probe.timeout).await {
                        ProbeResult::Success { .. } => ProbeResult::Success {
                            message:
                                "https probe checked as a tcp connect (syncsim has no TLS client)"
                                    .into(),
                        },
                        failure => failure,
                    },
                    HttpScheme::Http => {
                        // The kubelet's default Host is the pod's IP.
                        let host = host.clone().unwrap_or_else(|| target.addr.ip().to_string());
                        http_get(target.addr, &format!("{host}:{port}"), path, headers).await
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

async fn tcp_check(target: Target, timeout: Duration) -> ProbeResult {
    let addr = target.addr;
    let mut stream = match TcpStream::connect(addr).await {
        Ok(s) => s,
        Err(err) => return ProbeResult::fail(format!("dial tcp {addr}: {err}")),
    };
    // Direct, a connection is the kubelet's success (it closes it at once).
    if !target.via_proxy {
        return ProbeResult::ok();
    }
    let mut buf = [0u8; 1];
    match tokio::time::timeout(PROXY_CLOSE_GRACE.min(timeout / 2), stream.read(&mut buf)).await {
        // Silence (the server waits for us) or a greeting: something listens.
        Err(_) | Ok(Ok(1..)) => ProbeResult::ok(),
        Ok(Ok(0)) | Ok(Err(_)) => ProbeResult::fail(format!(
            "connection to {addr} was closed at once (nothing listening in the container?)"
        )),
    }
}
