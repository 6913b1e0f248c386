//! `DockerRuntime` against the real engine, with the tiny busybox image from
//! `compose/testimages/build.sh` (built on first use when missing).
//!
//! Every test labels what it creates with its own run id, tears down with the runtime's own
//! verbs, and then asserts nothing labelled with its run id is left. The harness removes leftovers
//! even when a test fails.
//!
//! Run: `cargo test --test docker_runtime -- --include-ignored`
mod common;

use std::{future::Future, sync::Arc, time::Duration};
use syncsim::runtime::{
    docker::DockerRuntime, ContainerRuntime, ContainerSpec, ContainerState, ContainerStatus, Error,
    FileSpec, Labels, ListedKind, Mount, NetworkAttachment, NetworkSpec, VolumeSpec,
    LABEL_MANAGED_BY, LABEL_RESOURCE, LABEL_RUN, MANAGED_BY_VALUE,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const IMAGE: &str = "syncsim-test/busybox:1";
const GRACE: Duration = Duration::from_secs(1);
const WAIT: Duration = Duration::from_secs(20);

/// One test's view: the runtime plus its unique run id.
#[derive(Clone)]
struct Ctx {
    rt: Arc<DockerRuntime>,
    run: String,
}

impl Ctx {
    fn filter(&self) -> Vec<(String, String)> {
        vec![(LABEL_RUN.to_string(), self.run.clone())]
    }

    fn labels(&self, resource: &str) -> Labels {
        Labels::from([
            (LABEL_MANAGED_BY.to_string(), MANAGED_BY_VALUE.to_string()),
            (LABEL_RUN.to_string(), self.run.clone()),
            (LABEL_RESOURCE.to_string(), resource.to_string()),
        ])
    }

    fn name(&self, short: &str) -> String {
        format!("{}-{short}", self.run)
    }

    async fn network(&self, short: &str) -> String {
        let name = self.name(short);
        self.rt
            .create_network(&NetworkSpec {
                name: name.clone(),
                labels: self.labels(short),
            })
            .await
            .expect("create network");
        name
    }

    async fn volume(&self, short: &str) -> String {
        let name = self.name(short);
        self.rt
            .create_volume(&VolumeSpec {
                name: name.clone(),
                labels: self.labels(short),
            })
            .await
            .expect("create volume");
        name
    }

    /// A busybox container spec running `sh -c script`.
    fn spec(&self, short: &str, script: &str) -> ContainerSpec {
        ContainerSpec {
            name: self.name(short),
            image: IMAGE.to_string(),
            cmd: Some(vec!["sh".into(), "-c".into(), script.into()]),
            labels: self.labels(short),
            ..ContainerSpec::default()
        }
    }

    async fn run_container(&self, spec: &ContainerSpec) -> String {
        let id = self.rt.create_container(spec).await.expect("create");
        self.rt.start_container(&id).await.expect("start");
        id
    }

    async fn wait_for(&self, id: &str, what: &str, pred: impl Fn(&ContainerState) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let state = self.rt.inspect_container(id).await.expect("inspect");
            if pred(&state) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "container {id} never became {what}: {state:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn wait_exited(&self, id: &str) -> ContainerStatus {
        self.wait_for(id, "exited", |s| {
            matches!(s.status, ContainerStatus::Exited { .. })
        })
        .await;
        self.rt.inspect_container(id).await.expect("inspect").status
    }

    /// Runs `cmd` in `id` until it exits 0 (e.g. a server is up) or the deadline passes.
    async fn exec_until_ok(&self, id: &str, cmd: &[&str]) -> String {
        let cmd: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let r = self
                .rt
                .exec(id, &cmd, Duration::from_secs(10))
                .await
                .expect("exec");
            if r.exit_code == 0 {
                return r.output;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{cmd:?} kept failing: {r:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn teardown(&self, containers: &[&str], networks: &[&str], volumes: &[&str]) {
        for id in containers {
            self.rt.stop_container(id, GRACE).await.expect("stop");
            self.rt
                .remove_container(id)
                .await
                .expect("remove container");
        }
        for n in networks {
            self.rt.remove_network(n).await.expect("remove network");
        }
        for v in volumes {
            self.rt.remove_volume(v).await.expect("remove volume");
        }
    }
}

/// Runs `body` with a fresh run id; afterwards asserts that nothing labelled with the run id
/// is left, and removes leftovers whatever happened (also when `body` panicked).
async fn with_run<F, Fut>(test: &str, body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    common::ensure_test_image();
    let rt = Arc::new(DockerRuntime::connect().await.expect("connect to Docker"));
    let uuid = uuid::Uuid::new_v4().simple().to_string();
    let ctx = Ctx {
        rt: rt.clone(),
        run: format!("sst-{test}-{}", &uuid[..8]),
    };
    let outcome = tokio::spawn(body(ctx.clone())).await;
    let left = rt
        .list_labelled(&ctx.filter())
        .await
        .expect("list leftovers");
    for kind in [
        ListedKind::Container,
        ListedKind::Network,
        ListedKind::Volume,
    ] {
        for o in left.iter().filter(|o| o.kind == kind) {
            let _ = match kind {
                ListedKind::Container => rt.remove_container(&o.id).await,
                ListedKind::Network => rt.remove_network(&o.id).await,
                ListedKind::Volume => rt.remove_volume(&o.id).await,
            };
        }
    }
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
    let names: Vec<_> = left
        .iter()
        .map(|o| format!("{:?} {}", o.kind, o.name))
        .collect();
    assert!(names.is_empty(), "left behind by the test: {names:?}");
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
#[ignore = "needs docker"]
async fn ping_names_engine_and_api() {
    let rt = DockerRuntime::connect().await.expect("connect");
    let ping = rt.ping().await.expect("ping");
    assert!(
        ping.starts_with("Docker ") && ping.contains("(API 1."),
        "{ping}"
    );
}

#[tokio::test]
#[ignore = "needs docker"]
async fn containers_reach_each_other_by_alias_until_disconnected() {
    with_run("alias", |ctx| async move {
        let net = ctx.network("net").await;
        let mut server = ctx.spec("server", "exec httpd -f -p 8080 -h /www");
        server.network = NetworkAttachment::Network {
            name: net.clone(),
            aliases: strings(&["web", "web.demo"]),
        };
        server.files = vec![FileSpec {
            path: "/www/index.html".into(),
            content: b"hello from server\n".to_vec(),
            mode: 0o644,
        }];
        let mut client = ctx.spec("client", "exec sleep 300");
        client.network = NetworkAttachment::Network {
            name: net.clone(),
            aliases: vec![],
        };
        let server_id = ctx.run_container(&server).await;
        let client_id = ctx.run_container(&client).await;

        let state = ctx.rt.inspect_container(&server_id).await.unwrap();
        assert_eq!(state.status, ContainerStatus::Running);
        assert!(state.ip.as_deref().is_some_and(|ip| !ip.is_empty()));
        for alias in ["web", "web.demo"] {
            let url = format!("http://{alias}:8080/");
            let out = ctx
                .exec_until_ok(&client_id, &["wget", "-q", "-O", "-", &url])
                .await;
            assert_eq!(out, "hello from server\n");
        }

        ctx.rt.disconnect_network(&net, &client_id).await.unwrap();
        ctx.rt.disconnect_network(&net, &client_id).await.unwrap();
        let cmd = strings(&["wget", "-q", "-T", "2", "-O", "-", "http://web:8080/"]);
        let r = ctx
            .rt
            .exec(&client_id, &cmd, Duration::from_secs(10))
            .await
            .unwrap();
        assert_ne!(r.exit_code, 0, "still reachable after disconnect: {r:?}");

        ctx.teardown(&[&client_id, &server_id], &[&net], &[]).await;
    })
    .await;
}

#[tokio::test]
#[ignore = "needs docker"]
async fn files_are_in_place_before_start_with_their_modes() {
    with_run("files", |ctx| async move {
        let mut spec = ctx.spec(
            "files",
            "stat -c '%a %n' /etc/app/run.sh /etc/app/conf.txt /tmp/secret /etc/app /opt/deep/er; \
             stat -c '%a' /tmp; cat /etc/app/conf.txt; /etc/app/run.sh",
        );
        spec.files = vec![
            FileSpec {
                path: "/etc/app/run.sh".into(),
                content: b"#!/bin/sh\necho script ran\n".to_vec(),
                mode: 0o755,
            },
            FileSpec {
                path: "/etc/app/conf.txt".into(),
                content: b"key=value\n".to_vec(),
                mode: 0o640,
            },
            FileSpec {
                path: "/tmp/secret".into(),
                content: b"s3cr3t".to_vec(),
                mode: 0o600,
            },
            FileSpec {
                path: "/opt/deep/er".into(),
                content: Vec::new(),
                mode: 0o444,
            },
        ];
        let id = ctx.run_container(&spec).await;
        assert_eq!(
            ctx.wait_exited(&id).await,
            ContainerStatus::Exited {
                code: 0,
                oom_killed: false
            }
        );
        let logs = ctx.rt.logs(&id, 100).await.unwrap();
        assert_eq!(
            logs,
            strings(&[
                "755 /etc/app/run.sh",
                "640 /etc/app/conf.txt",
                "600 /tmp/secret",
                "755 /etc/app",
                "444 /opt/deep/er",
                // An existing directory keeps its mode (no directory entry clobbers it).
                "1777",
                "key=value",
                "script ran",
            ])
        );
        ctx.teardown(&[&id], &[], &[]).await;
    })
    .await;
}

#[tokio::test]
#[ignore = "needs docker"]
async fn entrypoint_cmd_env_workdir_and_hostname() {
    with_run("args", |ctx| async move {
        // cmd only: the image ENTRYPOINT (none) stays; later env entries win.
        let mut only_cmd = ctx.spec("cmd", "echo cmd:$A:$B:$(pwd):$(hostname)");
        only_cmd.env = vec![
            ("A".into(), "1".into()),
            ("B".into(), "2".into()),
            ("B".into(), "3".into()),
        ];
        only_cmd.working_dir = Some("/tmp".into());
        only_cmd.hostname = Some("box".into());
        // entrypoint only: replaces ENTRYPOINT and drops the image CMD (`sh`).
        let mut only_entrypoint = ctx.spec("ep", "");
        only_entrypoint.entrypoint = Some(strings(&["echo", "ep"]));
        only_entrypoint.cmd = None;
        // both.
        let mut both = ctx.spec("both", "");
        both.entrypoint = Some(strings(&["echo", "ep"]));
        both.cmd = Some(strings(&["a", "b"]));
        // neither: the image CMD `sh` with no stdin exits 0 at once.
        let mut neither = ctx.spec("neither", "");
        neither.cmd = None;

        let mut ids = Vec::new();
        for (spec, expected) in [
            (&only_cmd, vec!["cmd:1:3:/tmp:box"]),
            (&only_entrypoint, vec!["ep"]),
            (&both, vec!["ep a b"]),
            (&neither, vec![]),
        ] {
            let id = ctx.run_container(spec).await;
            assert_eq!(
                ctx.wait_exited(&id).await,
                ContainerStatus::Exited {
                    code: 0,
                    oom_killed: false
                },
                "{}",
                spec.name
            );
            assert_eq!(
                ctx.rt.logs(&id, 10).await.unwrap(),
                expected,
                "{}",
                spec.name
            );
            ids.push(id);
        }
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        ctx.teardown(&ids, &[], &[]).await;
    })
    .await;
}

#[tokio::test]
#[ignore = "needs docker"]
async fn exec_returns_exit_code_and_output_and_times_out() {
    with_run("exec", |ctx| async move {
        let id = ctx.run_container(&ctx.spec("exec", "exec sleep 300")).await;
        let t = Duration::from_secs(10);
        let r = ctx
            .rt
            .exec(
                &id,
                &strings(&["sh", "-c", "echo out; echo err >&2; exit 4"]),
                t,
            )
            .await
            .unwrap();
        assert_eq!(r.exit_code, 4);
        assert!(
            r.output.contains("out\n") && r.output.contains("err\n"),
            "{r:?}"
        );
        let r = ctx.rt.exec(&id, &strings(&["true"]), t).await.unwrap();
        assert_eq!((r.exit_code, r.output.as_str()), (0, ""));
        let r = ctx
            .rt
            .exec(&id, &strings(&["no-such-binary"]), t)
            .await
            .unwrap();
        // The engine cannot start it: exit 126 with the reason as output.
        assert_eq!(r.exit_code, 126, "{r:?}");
        assert!(r.output.contains("executable file not found"), "{r:?}");

        let started = std::time::Instant::now();
        let err = ctx
            .rt
            .exec(&id, &strings(&["sleep", "30"]), Duration::from_millis(500))
            .await
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(
            matches!(
                err,
                Error::Operation {
                    op: "exec in container",
                    ..
                }
            ),
            "{err:?}"
        );

        ctx.teardown(&[&id], &[], &[]).await;
        let err = ctx.rt.exec(&id, &strings(&["true"]), t).await.unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    })
    .await;
}

#[tokio::test]
#[ignore = "needs docker"]
async fn exit_code_status_and_logs_tail() {
    with_run("exit", |ctx| async move {
        let spec = ctx.spec(
            "exit",
            "for i in 1 2 3 4 5; do echo line$i; done; echo oops >&2; sleep 0.2; echo last; exit 3",
        );
        let id = ctx.rt.create_container(&spec).await.unwrap();
        let state = ctx.rt.inspect_container(&id).await.unwrap();
        assert_eq!(state.status, ContainerStatus::Created);
        assert_eq!(state.id, id);
        ctx.rt.start_container(&id).await.unwrap();
        assert_eq!(
            ctx.wait_exited(&id).await,
            ContainerStatus::Exited {
                code: 3,
                oom_killed: false
            }
        );
        assert_eq!(ctx.rt.logs(&id, 1).await.unwrap(), ["last"]);
        let all = ctx.rt.logs(&id, 100).await.unwrap();
        assert_eq!(all.len(), 7, "{all:?}");
        assert!(
            all.contains(&"oops".to_string()),
            "stderr is included: {all:?}"
        );
        // stdout and stderr are copied separately: their relative order is not guaranteed.
        let stdout: Vec<&String> = all.iter().filter(|l| *l != "oops").collect();
        assert_eq!(
            stdout,
            ["line1", "line2", "line3", "line4", "line5", "last"]
        );
        assert!(ctx.rt.logs(&id, 0).await.unwrap().is_empty());
        // Stopping an exited container is fine (304).
        ctx.teardown(&[&id], &[], &[]).await;
    })
    .await;
}

#[tokio::test]
#[ignore = "needs docker"]
async fn wait_exit_resolves_when_the_container_exits_whatever_its_code_and_when_it_is_gone() {
    with_run("wait", |ctx| async move {
        let id = ctx
            .rt
            .create_container(&ctx.spec("wait", "sleep 1; exit 5"))
            .await
            .unwrap();
        ctx.rt.start_container(&id).await.unwrap();
        // Still running: the wait does not resolve.
        let early = tokio::time::timeout(Duration::from_millis(300), ctx.rt.wait_exit(&id)).await;
        assert!(early.is_err(), "resolved while the container runs");
        tokio::time::timeout(Duration::from_secs(20), ctx.rt.wait_exit(&id))
            .await
            .expect("the wait resolves once the container exits")
            .expect("a non-zero exit is an exit, not an error");
        let state = ctx.rt.inspect_container(&id).await.unwrap();
        assert_eq!(
            state.status,
            ContainerStatus::Exited {
                code: 5,
                oom_killed: false
            },
            "resolved only once the container had exited"
        );
        // Already exited, then gone: both resolve at once.
        ctx.rt.wait_exit(&id).await.expect("exited");
        ctx.teardown(&[&id], &[], &[]).await;
        ctx.rt
            .wait_exit(&id)
            .await
            .expect("a missing container is not running");
    })
    .await;
}

#[tokio::test]
#[ignore = "needs docker"]
async fn a_container_removed_while_a_start_the_caller_gave_up_on_is_in_flight_leaves_its_network_removable(
) {
    // Teardown aborts controllers, possibly in the middle of a start, then removes their
    // containers and the network. The start runs to its end and the removal waits for it, so
    // the engine keeps no endpoint of the removed container (Docker 20.10 can, and then refuses
    // to remove the network: "has active endpoints").
    with_run("startrm", |ctx| async move {
        for round in 0..5 {
            let net = ctx.network(&format!("net{round}")).await;
            let mut spec = ctx.spec(&format!("c{round}"), "sleep 30");
            spec.network = NetworkAttachment::Network {
                name: net.clone(),
                aliases: vec![format!("c{round}")],
            };
            spec.ports = vec![8080];
            let id = ctx.rt.create_container(&spec).await.expect("create");
            let rt = ctx.rt.clone();
            let start_id = id.clone();
            let start = tokio::spawn(async move { rt.start_container(&start_id).await });
            tokio::time::sleep(Duration::from_millis(5 * round)).await;
            start.abort();
            ctx.rt.remove_container(&id).await.expect("remove");
            ctx.rt
                .remove_network(&net)
                .await
                .unwrap_or_else(|e| panic!("round {round}: network not removable: {e}"));
        }
    })
    .await;
}

#[tokio::test]
#[ignore = "needs docker"]
async fn published_port_answers_on_localhost() {
    with_run("port", |ctx| async move {
        let net = ctx.network("net").await;
        let mut spec = ctx.spec("web", "exec httpd -f -p 8080 -h /www");
        spec.network = NetworkAttachment::Network {
            name: net.clone(),
            aliases: strings(&["web"]),
        };
        spec.ports = vec![8080];
        spec.files = vec![FileSpec {
            path: "/www/index.html".into(),
            content: b"published\n".to_vec(),
            mode: 0o644,
        }];
        let id = ctx.run_container(&spec).await;
        let state = ctx.rt.inspect_container(&id).await.unwrap();
        let host_port = *state.host_ports.get(&8080).expect("8080 is published");
        assert_ne!(host_port, 8080, "a random host port");

        let body = http_get_with_retry(host_port).await;
        assert!(body.ends_with("published\n"), "{body}");
        ctx.teardown(&[&id], &[&net], &[]).await;
    })
    .await;
}

async fn http_get_with_retry(port: u16) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let attempt = async {
            let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
            s.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
                .await?;
            let mut out = String::new();
            s.read_to_string(&mut out).await?;
            Ok::<_, std::io::Error>(out)
        };
        match attempt.await {
            Ok(out) if out.starts_with("HTTP/1.") && out.contains(" 200 ") => return out,
            other => assert!(
                tokio::time::Instant::now() < deadline,
                "127.0.0.1:{port} never answered: {other:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
#[ignore = "needs docker"]
async fn sidecar_shares_the_network_namespace() {
    with_run("netns", |ctx| async move {
        let net = ctx.network("net").await;
        // Listens on loopback only: reachable from the same namespace, nowhere else.
        let mut main = ctx.spec("main", "exec httpd -f -p 127.0.0.1:8080 -h /www");
        main.network = NetworkAttachment::Network {
            name: net.clone(),
            aliases: strings(&["pod"]),
        };
        main.hostname = Some("pod-0".into());
        main.files = vec![FileSpec {
            path: "/www/index.html".into(),
            content: b"from main\n".to_vec(),
            mode: 0o644,
        }];
        let main_id = ctx.run_container(&main).await;

        let mut sidecar = ctx.spec("sidecar", "exec sleep 300");
        sidecar.network = NetworkAttachment::Container {
            id: main_id.clone(),
        };
        // Both would be refused by Docker in a shared namespace: the runtime leaves them out.
        sidecar.hostname = Some("ignored".into());
        sidecar.ports = vec![9090];
        let sidecar_id = ctx.run_container(&sidecar).await;

        let out = ctx
            .exec_until_ok(
                &sidecar_id,
                &["wget", "-q", "-O", "-", "http://127.0.0.1:8080/"],
            )
            .await;
        assert_eq!(out, "from main\n");
        let host = ctx.exec_until_ok(&sidecar_id, &["hostname"]).await;
        assert_eq!(host, "pod-0\n");
        let state = ctx.rt.inspect_container(&sidecar_id).await.unwrap();
        assert!(state.host_ports.is_empty(), "{state:?}");

        ctx.teardown(&[&sidecar_id, &main_id], &[&net], &[]).await;
    })
    .await;
}

#[tokio::test]
#[ignore = "needs docker"]
async fn memory_limit_oom_kill_is_reported() {
    with_run("oom", |ctx| async move {
        let mut spec = ctx.spec("oom", "x=0123456789abcdef; while true; do x=$x$x; done");
        spec.memory_limit_bytes = Some(16 * 1024 * 1024);
        spec.nano_cpus = Some(500_000_000);
        let id = ctx.run_container(&spec).await;
        assert_eq!(
            ctx.wait_exited(&id).await,
            ContainerStatus::Exited {
                code: 137,
                oom_killed: true
            }
        );
        // Within the limit, nothing is killed.
        let mut fine = ctx.spec(
            "fine",
            "x=0123456789abcdef; for i in 1 2 3 4 5; do x=$x$x; done",
        );
        fine.memory_limit_bytes = Some(16 * 1024 * 1024);
        let fine_id = ctx.run_container(&fine).await;
        assert_eq!(
            ctx.wait_exited(&fine_id).await,
            ContainerStatus::Exited {
                code: 0,
                oom_killed: false
            }
        );
        ctx.teardown(&[&id, &fine_id], &[], &[]).await;
    })
    .await;
}

#[tokio::test]
#[ignore = "needs docker"]
async fn volumes_are_shared_and_read_only_mounts_hold_and_subpath_is_explicit() {
    with_run("vol", |ctx| async move {
        let vol = ctx.volume("data").await;
        let mount = |read_only| Mount {
            volume: vol.clone(),
            target: "/data".into(),
            read_only,
            sub_path: None,
            ..Mount::default()
        };
        let mut writer = ctx.spec("writer", "echo persisted > /data/file");
        writer.mounts = vec![mount(false)];
        let writer_id = ctx.run_container(&writer).await;
        assert_eq!(
            ctx.wait_exited(&writer_id).await,
            ContainerStatus::Exited {
                code: 0,
                oom_killed: false
            }
        );
        let mut reader = ctx.spec("reader", "cat /data/file; touch /data/other");
        reader.mounts = vec![mount(true)];
        let reader_id = ctx.run_container(&reader).await;
        let status = ctx.wait_exited(&reader_id).await;
        assert!(
            matches!(status, ContainerStatus::Exited { code, .. } if code != 0),
            "writing to a read-only mount must fail: {status:?}"
        );
        let logs = ctx.rt.logs(&reader_id, 10).await.unwrap();
        // stdout and stderr may come in either order.
        assert!(logs.contains(&"persisted".to_string()), "{logs:?}");
        assert!(
            logs.iter().any(|l| l.contains("Read-only file system")),
            "{logs:?}"
        );

        // In use: removing the volume fails, naming it.
        let err = ctx.rt.remove_volume(&vol).await.unwrap_err();
        assert_eq!(err.to_string(), format!("failed to remove volume `{vol}`"));

        // subPath: supported from API 1.45; this engine (1.41) refuses clearly, creating nothing.
        let mut sub = ctx.spec("sub", "cat /data/file");
        sub.mounts = vec![Mount {
            sub_path: Some("nested".into()),
            ..mount(true)
        }];
        match ctx.rt.create_container(&sub).await {
            Err(Error::Operation { op, object, source }) => {
                assert_eq!(
                    (op, object.as_str()),
                    ("create container", sub.name.as_str())
                );
                assert!(source.to_string().contains("subPath `nested`"), "{source}");
                assert!(ctx.rt.api_version().as_str() < "1.45");
            }
            Ok(id) => {
                assert!(ctx.rt.api_version().as_str() >= "1.45");
                ctx.rt.remove_container(&id).await.unwrap();
            }
            Err(e) => panic!("unexpected error: {e:?}"),
        }
        ctx.teardown(&[&writer_id, &reader_id], &[], &[&vol]).await;
    })
    .await;
}

#[tokio::test]
#[ignore = "needs docker"]
async fn missing_objects_stop_and_remove_fine_but_inspect_says_not_found() {
    with_run("missing", |ctx| async move {
        let ghost = ctx.name("ghost");
        ctx.rt.stop_container(&ghost, GRACE).await.unwrap();
        ctx.rt.remove_container(&ghost).await.unwrap();
        ctx.rt.remove_network(&ghost).await.unwrap();
        ctx.rt.remove_volume(&ghost).await.unwrap();
        ctx.rt.disconnect_network(&ghost, &ghost).await.unwrap();
        for err in [
            ctx.rt.inspect_container(&ghost).await.unwrap_err(),
            ctx.rt.start_container(&ghost).await.unwrap_err(),
            ctx.rt.logs(&ghost, 5).await.unwrap_err(),
        ] {
            assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
            assert_eq!(err.to_string(), format!("container `{ghost}` not found"));
        }
        // A second network with an existing name is refused, naming it.
        let net = ctx.network("net").await;
        let err = ctx
            .rt
            .create_network(&NetworkSpec {
                name: net.clone(),
                labels: ctx.labels("net"),
            })
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), format!("failed to create network `{net}`"));
        ctx.teardown(&[], &[&net], &[]).await;
    })
    .await;
}

#[tokio::test]
#[ignore = "needs docker"]
async fn missing_image_is_absent_and_pull_fails_as_unavailable() {
    let rt = DockerRuntime::connect().await.expect("connect");
    let image = "syncsim-test/never-built:0";
    assert!(!rt.image_exists(image).await.unwrap());
    let pulled = tokio::time::timeout(Duration::from_secs(120), rt.pull_image(image))
        .await
        .expect("the pull ends");
    match pulled {
        Err(Error::ImageUnavailable { image: named, .. }) => assert_eq!(named, image),
        other => panic!("expected ImageUnavailable, got {other:?}"),
    }
    common::ensure_test_image();
    assert!(rt.image_exists(IMAGE).await.unwrap());
}

#[tokio::test]
#[ignore = "needs docker"]
async fn list_labelled_finds_exactly_what_was_created() {
    with_run("list", |ctx| async move {
        let net = ctx.network("net").await;
        let vol = ctx.volume("vol").await;
        let mut running = ctx.spec("running", "exec sleep 300");
        running.network = NetworkAttachment::Network {
            name: net.clone(),
            aliases: vec![],
        };
        let running_id = ctx.run_container(&running).await;
        let created_id = ctx
            .rt
            .create_container(&ctx.spec("created", "true"))
            .await
            .unwrap();
        // Another run's object must not show up.
        let other = Ctx {
            rt: ctx.rt.clone(),
            run: format!("{}-other", ctx.run),
        };
        let other_net = other.network("net").await;

        let listed = ctx.rt.list_labelled(&ctx.filter()).await.unwrap();
        let summary: Vec<(ListedKind, String)> =
            listed.iter().map(|o| (o.kind, o.name.clone())).collect();
        assert_eq!(
            summary,
            vec![
                (ListedKind::Container, ctx.name("created")),
                (ListedKind::Container, ctx.name("running")),
                (ListedKind::Network, net.clone()),
                (ListedKind::Volume, vol.clone()),
            ]
        );
        assert_eq!(listed[0].id, created_id);
        assert_eq!(listed[0].labels, ctx.labels("created"));
        // All labels must match.
        let mut narrow = ctx.filter();
        narrow.push((LABEL_RESOURCE.to_string(), "running".to_string()));
        let listed = ctx.rt.list_labelled(&narrow).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, running_id);
        assert!(ctx.rt.list_labelled(&[]).await.is_err());

        other.teardown(&[], &[&other_net], &[]).await;
        ctx.teardown(&[&running_id, &created_id], &[&net], &[&vol])
            .await;
        assert!(ctx
            .rt
            .list_labelled(&ctx.filter())
            .await
            .unwrap()
            .is_empty());
        assert!(other
            .rt
            .list_labelled(&other.filter())
            .await
            .unwrap()
            .is_empty());
    })
    .await;
}

/// `docker` CLI output, for what the runtime deliberately does not expose.
fn docker_cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new("docker")
        .args(args)
        .output()
        .expect("run the docker CLI")
}

#[tokio::test]
#[ignore = "needs docker"]
async fn anonymous_volumes_go_with_their_container() {
    with_run("anon", |ctx| async move {
        let mut spec = ctx.spec("anon", "echo data > /data/x");
        spec.image = "syncsim-test/busybox-volume:1".into(); // VOLUME /data
        let id = ctx.run_container(&spec).await;
        ctx.wait_exited(&id).await;
        let out = docker_cli(&["inspect", "-f", "{{range .Mounts}}{{.Name}}{{end}}", &id]);
        let volume = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(!volume.is_empty(), "no anonymous volume: {out:?}");
        assert!(docker_cli(&["volume", "inspect", &volume]).status.success());

        ctx.teardown(&[&id], &[], &[]).await;
        let gone = docker_cli(&["volume", "inspect", &volume]);
        assert!(
            !gone.status.success(),
            "volume {volume} outlived its container"
        );
    })
    .await;
}
