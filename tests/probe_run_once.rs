//! `probe::run_once` against real sockets on 127.0.0.1 and a minimal in-test runtime for exec.
use async_trait::async_trait;
use std::{collections::BTreeMap, sync::Mutex, time::Duration};
use syncsim::{
    cluster::probe::{run_once, HttpScheme, Probe, ProbeAction, ProbeKind, ProbeResult},
    runtime::{
        ContainerRuntime, ContainerSpec, ContainerState, ContainerStatus, Error, ExecResult,
        Listed, NetworkSpec, Result, VolumeSpec,
    },
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

/// Answers `exec` with a scripted result and records the commands; every other verb is an error.
#[derive(Default)]
struct ExecOnly {
    reply: Option<ExecResult>,
    delay: Duration,
    calls: Mutex<Vec<(String, Vec<String>)>>,
}

fn unsupported<T>() -> Result<T> {
    Err(Error::NotFound {
        object: "anything (test double)".into(),
    })
}

#[async_trait]
impl ContainerRuntime for ExecOnly {
    async fn ping(&self) -> Result<String> {
        unsupported()
    }
    async fn image_exists(&self, _: &str) -> Result<bool> {
        unsupported()
    }
    async fn pull_image(&self, _: &str) -> Result<()> {
        unsupported()
    }
    async fn create_network(&self, _: &NetworkSpec) -> Result<String> {
        unsupported()
    }
    async fn remove_network(&self, _: &str) -> Result<()> {
        unsupported()
    }
    async fn create_volume(&self, _: &VolumeSpec) -> Result<String> {
        unsupported()
    }
    async fn remove_volume(&self, _: &str) -> Result<()> {
        unsupported()
    }
    async fn create_container(&self, _: &ContainerSpec) -> Result<String> {
        unsupported()
    }
    async fn start_container(&self, _: &str) -> Result<()> {
        unsupported()
    }
    async fn inspect_container(&self, _: &str) -> Result<ContainerState> {
        unsupported()
    }
    async fn exec(&self, id: &str, cmd: &[String], _timeout: Duration) -> Result<ExecResult> {
        self.calls
            .lock()
            .unwrap()
            .push((id.to_string(), cmd.to_vec()));
        tokio::time::sleep(self.delay).await;
        match &self.reply {
            Some(r) => Ok(r.clone()),
            None => Err(Error::NotFound {
                object: format!("container `{id}`"),
            }),
        }
    }
    async fn logs(&self, _: &str, _: usize) -> Result<Vec<String>> {
        unsupported()
    }
    async fn stop_container(&self, _: &str, _: Duration) -> Result<()> {
        unsupported()
    }
    async fn remove_container(&self, _: &str) -> Result<()> {
        unsupported()
    }
    async fn disconnect_network(&self, _: &str, _: &str) -> Result<()> {
        unsupported()
    }
    async fn list_labelled(&self, _: &[(String, String)]) -> Result<Vec<Listed>> {
        unsupported()
    }
}

fn running(ports: &[(u16, u16)]) -> ContainerState {
    ContainerState {
        id: "c1".into(),
        status: ContainerStatus::Running,
        ip: None,
        host_ports: ports.iter().copied().collect::<BTreeMap<_, _>>(),
    }
}

fn probe(action: ProbeAction) -> Probe {
    Probe {
        kind: ProbeKind::Readiness,
        action,
        initial_delay: Duration::ZERO,
        period: Duration::from_secs(1),
        timeout: Duration::from_millis(500),
        success_threshold: 1,
        failure_threshold: 3,
    }
}

fn http(port: u16, path: &str) -> ProbeAction {
    ProbeAction::Http {
        port,
        path: path.into(),
        scheme: HttpScheme::Http,
        host: None,
        headers: vec![("X-Check".into(), "yes".into())],
    }
}

/// A one-shot HTTP server: answers the first request with `status` and returns the request head.
async fn http_server(status: &'static str) -> (u16, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 512];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = sock.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        let reply = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        sock.write_all(reply.as_bytes()).await.unwrap();
        String::from_utf8(head).unwrap()
    });
    (port, handle)
}

#[tokio::test]
async fn tcp_probe_succeeds_when_something_listens() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accept = tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(sock);
    });
    let r = run_once(
        &ExecOnly::default(),
        &running(&[(6379, port)]),
        &probe(ProbeAction::Tcp { port: 6379 }),
    )
    .await;
    assert!(r.is_success(), "{r:?}");
    accept.await.unwrap();
}

#[tokio::test]
async fn tcp_probe_fails_when_nothing_listens() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let r = run_once(
        &ExecOnly::default(),
        &running(&[(6379, port)]),
        &probe(ProbeAction::Tcp { port: 6379 }),
    )
    .await;
    assert!(!r.is_success(), "{r:?}");
}

#[tokio::test]
async fn tcp_probe_fails_when_the_connection_is_closed_at_once_like_dockers_proxy() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        drop(sock);
    });
    let r = run_once(
        &ExecOnly::default(),
        &running(&[(5432, port)]),
        &probe(ProbeAction::Tcp { port: 5432 }),
    )
    .await;
    assert!(r.message().contains("closed at once"), "{r:?}");
}

#[tokio::test]
async fn unpublished_port_fails_with_a_clear_message() {
    let r = run_once(
        &ExecOnly::default(),
        &running(&[]),
        &probe(ProbeAction::Tcp { port: 80 }),
    )
    .await;
    assert_eq!(
        r,
        ProbeResult::Failure {
            message:
                "container port 80 is not published on the host and the container has no address"
                    .into()
        }
    );
}

/// A running container with its own address and nothing published: probes dial the address,
/// as the kubelet dials the pod's IP.
fn running_at(ip: &str) -> ContainerState {
    ContainerState {
        ip: Some(ip.into()),
        ..running(&[])
    }
}

#[tokio::test]
async fn a_tcp_probe_of_the_pods_address_passes_on_connect_as_the_kubelets_does() {
    // Kubernetes pkg/probe/tcp/tcp.go (DoTCPProbe): dial, close, success. A server that closes
    // at once still passes: the proxy check is for Docker's published ports only.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        drop(sock);
    });
    let r = run_once(
        &ExecOnly::default(),
        &running_at("127.0.0.1"),
        &probe(ProbeAction::Tcp { port }),
    )
    .await;
    assert!(r.is_success(), "{r:?}");
}

#[tokio::test]
async fn a_tcp_probe_of_the_pods_address_fails_when_nothing_listens() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let r = run_once(
        &ExecOnly::default(),
        &running_at("127.0.0.1"),
        &probe(ProbeAction::Tcp { port }),
    )
    .await;
    assert!(!r.is_success(), "{r:?}");
    assert!(
        r.message()
            .starts_with(&format!("dial tcp 127.0.0.1:{port}: ")),
        "{r:?}"
    );
}

#[tokio::test]
async fn an_http_probe_of_the_pods_address_sends_the_pods_ip_as_host() {
    // Kubernetes pkg/kubelet/prober/prober.go: an httpGet probe without `host` targets the
    // pod's IP, which is then the request's Host.
    let (port, head) = http_server("200 OK").await;
    let r = run_once(
        &ExecOnly::default(),
        &running_at("127.0.0.1"),
        &probe(http(port, "/ready")),
    )
    .await;
    assert!(r.is_success(), "{r:?}");
    let head = head.await.unwrap();
    assert!(
        head.contains(&format!("Host: 127.0.0.1:{port}\r\n")),
        "{head}"
    );
}

#[tokio::test]
async fn stopped_container_fails_without_probing() {
    let mut state = running(&[]);
    state.status = ContainerStatus::Exited {
        code: 1,
        oom_killed: false,
    };
    let rt = ExecOnly::default();
    let r = run_once(&rt, &state, &probe(ProbeAction::Exec(vec!["true".into()]))).await;
    assert!(!r.is_success());
    assert!(rt.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn http_probe_succeeds_on_2xx_and_3xx_and_sends_host_and_headers() {
    for status in ["200 OK", "204 No Content", "302 Found"] {
        let (port, server) = http_server(status).await;
        let r = run_once(
            &ExecOnly::default(),
            &running(&[(8080, port)]),
            &probe(http(8080, "/healthz")),
        )
        .await;
        assert!(r.is_success(), "{status}: {r:?}");
        let head = server.await.unwrap();
        assert!(head.starts_with("GET /healthz HTTP/1.1\r\n"), "{head}");
        assert!(head.contains("Host: 127.0.0.1:8080\r\n"), "{head}");
        assert!(head.contains("X-Check: yes\r\n"), "{head}");
    }
}

#[tokio::test]
async fn http_probe_fails_on_4xx_and_5xx() {
    for (status, code) in [("404 Not Found", "404"), ("503 Service Unavailable", "503")] {
        let (port, _server) = http_server(status).await;
        let r = run_once(
            &ExecOnly::default(),
            &running(&[(8080, port)]),
            &probe(http(8080, "/")),
        )
        .await;
        assert_eq!(
            r,
            ProbeResult::Failure {
                message: format!("HTTP probe failed with statuscode: {code}")
            }
        );
    }
}

#[tokio::test]
async fn http_probe_times_out_on_a_silent_server() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let _server = tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(sock);
    });
    let started = std::time::Instant::now();
    let r = run_once(
        &ExecOnly::default(),
        &running(&[(8080, port)]),
        &probe(http(8080, "/")),
    )
    .await;
    assert!(r.message().contains("timed out"), "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn exec_probe_runs_the_command_in_the_container() {
    let rt = ExecOnly {
        reply: Some(ExecResult {
            exit_code: 0,
            output: String::new(),
        }),
        ..Default::default()
    };
    let cmd = vec!["pg_isready".to_string(), "-q".to_string()];
    let r = run_once(&rt, &running(&[]), &probe(ProbeAction::Exec(cmd.clone()))).await;
    assert!(r.is_success(), "{r:?}");
    assert_eq!(*rt.calls.lock().unwrap(), vec![("c1".to_string(), cmd)]);
}

#[tokio::test]
async fn exec_probe_fails_on_nonzero_exit_with_the_last_output_line() {
    let rt = ExecOnly {
        reply: Some(ExecResult {
            exit_code: 2,
            output: "checking\nno response\n".into(),
        }),
        ..Default::default()
    };
    let r = run_once(
        &rt,
        &running(&[]),
        &probe(ProbeAction::Exec(vec!["check".into()])),
    )
    .await;
    assert_eq!(
        r,
        ProbeResult::Failure {
            message: "command exited with code 2: no response".into()
        }
    );
}

#[tokio::test]
async fn exec_probe_fails_when_the_runtime_errors_or_hangs() {
    let rt = ExecOnly::default();
    let r = run_once(
        &rt,
        &running(&[]),
        &probe(ProbeAction::Exec(vec!["x".into()])),
    )
    .await;
    assert!(r.message().starts_with("exec failed"), "{r:?}");

    let slow = ExecOnly {
        reply: Some(ExecResult {
            exit_code: 0,
            output: String::new(),
        }),
        delay: Duration::from_secs(30),
        ..Default::default()
    };
    let started = std::time::Instant::now();
    let r = run_once(
        &slow,
        &running(&[]),
        &probe(ProbeAction::Exec(vec!["x".into()])),
    )
    .await;
    assert!(r.message().contains("timed out"), "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

/// A one-shot server that reads the request head and answers with `reply` verbatim (possibly
/// nothing), then closes.
async fn raw_server(reply: &'static [u8]) -> (u16, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 512];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = sock.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        sock.write_all(reply).await.unwrap();
        String::from_utf8(head).unwrap()
    });
    (port, handle)
}

#[tokio::test]
async fn http_probe_reports_an_empty_or_malformed_response() {
    for (reply, expected) in [
        (&b""[..], "Get \"http://127.0.0.1:8080/\": empty response"),
        (
            &b"SSH-2.0-OpenSSH_9.6\r\n\r\n"[..],
            "Get \"http://127.0.0.1:8080/\": malformed HTTP response",
        ),
    ] {
        let (port, _server) = raw_server(reply).await;
        let r = run_once(
            &ExecOnly::default(),
            &running(&[(8080, port)]),
            &probe(http(8080, "/")),
        )
        .await;
        assert_eq!(
            r,
            ProbeResult::Failure {
                message: expected.into()
            }
        );
    }
}

#[tokio::test]
async fn http_probe_sends_kubelets_headers_and_the_probes_host() {
    let (port, server) = http_server("200 OK").await;
    let action = ProbeAction::Http {
        port: 8080,
        path: "/ready?full=1".into(),
        scheme: HttpScheme::Http,
        host: Some("web.shop".into()),
        headers: vec![("Accept".into(), "application/json".into())],
    };
    let r = run_once(
        &ExecOnly::default(),
        &running(&[(8080, port)]),
        &probe(action),
    )
    .await;
    assert!(r.is_success(), "{r:?}");
    let head = server.await.unwrap();
    assert!(head.starts_with("GET /ready?full=1 HTTP/1.1\r\n"), "{head}");
    assert!(head.contains("Host: web.shop:8080\r\n"), "{head}");
    assert!(head.contains("User-Agent: kube-probe/1.33\r\n"), "{head}");
    assert!(head.contains("Accept: application/json\r\n"), "{head}");
    assert!(
        !head.contains("*/*"),
        "the probe's Accept replaces kubelet's: {head}"
    );
}

#[tokio::test]
async fn http_probe_host_header_replaces_the_default_host() {
    let (port, server) = http_server("200 OK").await;
    let action = ProbeAction::Http {
        port: 8080,
        path: "/".into(),
        scheme: HttpScheme::Http,
        host: None,
        headers: vec![("Host".into(), "api.example.com".into())],
    };
    let r = run_once(
        &ExecOnly::default(),
        &running(&[(8080, port)]),
        &probe(action),
    )
    .await;
    assert!(r.is_success(), "{r:?}");
    let head = server.await.unwrap();
    assert!(head.contains("Host: api.example.com\r\n"), "{head}");
    assert!(!head.contains("127.0.0.1:8080"), "{head}");
}

#[tokio::test]
async fn http_probe_with_an_invalid_header_fails_without_sending_it() {
    let (port, _server) = http_server("200 OK").await;
    let action = ProbeAction::Http {
        port: 8080,
        path: "/".into(),
        scheme: HttpScheme::Http,
        host: None,
        headers: vec![("X-Bad".into(), "a\r\nInjected: yes".into())],
    };
    let r = run_once(
        &ExecOnly::default(),
        &running(&[(8080, port)]),
        &probe(action),
    )
    .await;
    assert_eq!(
        r,
        ProbeResult::Failure {
            message: "invalid http header `X-Bad`".into()
        }
    );
}
