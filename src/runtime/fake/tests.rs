//! Tests of the fake runtime itself.
use super::{ExecScript, FakeRuntime, Op, Script, STOP_EXIT_CODE};
use crate::runtime::{
    ContainerRuntime, ContainerSpec, ContainerStatus, Error, Labels, Mount, NetworkAttachment,
    NetworkSpec, VolumeSpec, LABEL_RUN,
};
use std::time::Duration;
use tokio::time::Instant;

fn labels(run: &str) -> Labels {
    Labels::from([(LABEL_RUN.to_string(), run.to_string())])
}

fn container(name: &str, network: &str) -> ContainerSpec {
    ContainerSpec {
        name: name.into(),
        image: "img:1".into(),
        network: NetworkAttachment::Network {
            name: network.into(),
            aliases: vec![name.into()],
        },
        ports: vec![8080],
        labels: labels("r1"),
        ..ContainerSpec::default()
    }
}

fn run_filter() -> Vec<(String, String)> {
    vec![(LABEL_RUN.to_string(), "r1".to_string())]
}

#[tokio::test(start_paused = true)]
async fn scripted_exit_happens_after_run_for_without_sleeping_for_real() {
    let fake = FakeRuntime::new().script_container(
        "job",
        Script::exits(3, Duration::from_secs(30)).logs(["a", "b", "c"]),
    );
    let net = NetworkSpec {
        name: "n".into(),
        labels: labels("r1"),
    };
    fake.create_network(&net).await.unwrap();
    let id = fake
        .create_container(&container("job-1", "n"))
        .await
        .unwrap();
    assert_eq!(
        fake.inspect_container(&id).await.unwrap().status,
        ContainerStatus::Created
    );
    fake.start_container(&id).await.unwrap();
    let state = fake.inspect_container(&id).await.unwrap();
    assert_eq!(state.status, ContainerStatus::Running);
    assert!(state.ip.is_some());
    assert_eq!(state.host_ports.keys().copied().collect::<Vec<_>>(), [8080]);

    let real = std::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert!(real.elapsed() < Duration::from_secs(5));
    let state = fake.inspect_container(&id).await.unwrap();
    assert_eq!(
        state.status,
        ContainerStatus::Exited {
            code: 3,
            oom_killed: false
        }
    );
    assert!(state.host_ports.is_empty());
    assert_eq!(fake.logs(&id, 2).await.unwrap(), ["b", "c"]);
}

#[tokio::test(start_paused = true)]
async fn exec_reports_not_ready_then_scripted_result_and_times_out() {
    let fake = FakeRuntime::new()
        .script_container("web", Script::default().ready_after(Duration::from_secs(2)))
        .with_exec_result("web", 0)
        .with_exec_result("web-slow", 7)
        .with_exec(
            "web-hang",
            ExecScript {
                takes: Duration::from_secs(60),
                ..ExecScript::default()
            },
        );
    fake.create_network(&NetworkSpec {
        name: "n".into(),
        labels: labels("r1"),
    })
    .await
    .unwrap();
    let cmd = vec!["true".to_string()];
    let t = Duration::from_secs(1);
    let web = fake
        .create_container(&container("web-0", "n"))
        .await
        .unwrap();
    assert!(matches!(
        fake.exec(&web, &cmd, t).await,
        Err(Error::Operation { .. })
    ));
    fake.start_container(&web).await.unwrap();
    assert_eq!(fake.exec(&web, &cmd, t).await.unwrap().exit_code, 1);
    assert!(!fake.is_ready("web-0"));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(fake.is_ready("web-0"));
    assert_eq!(fake.exec(&web, &cmd, t).await.unwrap().exit_code, 0);

    let slow = fake
        .create_container(&container("web-slow", "n"))
        .await
        .unwrap();
    fake.start_container(&slow).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(fake.exec(&slow, &cmd, t).await.unwrap().exit_code, 7);

    let hang = fake
        .create_container(&container("web-hang", "n"))
        .await
        .unwrap();
    fake.start_container(&hang).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = Instant::now();
    assert!(fake.exec(&hang, &cmd, t).await.is_err());
    assert_eq!(before.elapsed(), t);
}

#[tokio::test]
async fn failures_images_and_cleanup_bookkeeping() {
    let fake = FakeRuntime::new()
        .with_missing_image("ghcr.io/x:1")
        .with_pullable_image("later:1")
        .fail_op(Op::Start, "db")
        .fail_op_times(Op::Create, "flaky", 1);
    assert!(!fake.image_exists("ghcr.io/x:1").await.unwrap());
    assert!(matches!(
        fake.pull_image("ghcr.io/x:1").await,
        Err(Error::ImageUnavailable { .. })
    ));
    assert!(!fake.image_exists("later:1").await.unwrap());
    fake.pull_image("later:1").await.unwrap();
    assert!(fake.image_exists("later:1").await.unwrap());

    fake.create_network(&NetworkSpec {
        name: "n".into(),
        labels: labels("r1"),
    })
    .await
    .unwrap();
    fake.create_volume(&VolumeSpec {
        name: "data".into(),
        labels: labels("r1"),
    })
    .await
    .unwrap();
    let mut db = container("db-0", "n");
    db.mounts.push(Mount {
        volume: "data".into(),
        target: "/data".into(),
        read_only: false,
        sub_path: None,
        ..Mount::default()
    });
    let db = fake.create_container(&db).await.unwrap();
    let err = fake.start_container(&db).await.unwrap_err();
    assert_eq!(err.to_string(), "failed to start container `db-0`");
    assert!(fake
        .create_container(&container("flaky", "n"))
        .await
        .is_err());
    let flaky = fake
        .create_container(&container("flaky", "n"))
        .await
        .unwrap();
    fake.start_container(&flaky).await.unwrap();
    assert!(fake.remove_network("n").await.is_err(), "network in use");
    assert!(fake.remove_volume("data").await.is_err(), "volume in use");
    assert_eq!(fake.list_labelled(&run_filter()).await.unwrap().len(), 4);

    fake.stop_container(&flaky, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(
        fake.inspect_container(&flaky).await.unwrap().status,
        ContainerStatus::Exited {
            code: STOP_EXIT_CODE,
            oom_killed: false
        }
    );
    for id in [&db, &flaky] {
        fake.remove_container(id).await.unwrap();
        fake.remove_container(id).await.unwrap();
    }
    assert!(matches!(
        fake.inspect_container(&db).await,
        Err(Error::NotFound { .. })
    ));
    fake.remove_volume("data").await.unwrap();
    fake.remove_network("n").await.unwrap();
    fake.remove_network("n").await.unwrap();
    assert!(fake.list_labelled(&run_filter()).await.unwrap().is_empty());
    assert!(fake.objects().is_empty());
    assert!(fake.list_labelled(&[]).await.is_err());

    let log = fake.call_log();
    assert!(log.contains(&"start db-0".to_string()), "{log:#?}");
    assert!(
        log.contains(&"stop flaky: grace 5s".to_string()),
        "{log:#?}"
    );
    assert_eq!(
        log.iter().filter(|l| *l == "create flaky: img:1").count(),
        2
    );
}

#[tokio::test]
async fn shared_namespace_needs_a_running_owner() {
    let fake = FakeRuntime::new();
    fake.create_network(&NetworkSpec {
        name: "n".into(),
        labels: labels("r1"),
    })
    .await
    .unwrap();
    let owner = fake
        .create_container(&container("pod-a", "n"))
        .await
        .unwrap();
    let sidecar = ContainerSpec {
        name: "pod-b".into(),
        image: "img:1".into(),
        network: NetworkAttachment::Container { id: owner.clone() },
        ..ContainerSpec::default()
    };
    let sidecar = fake.create_container(&sidecar).await.unwrap();
    assert!(fake.start_container(&sidecar).await.is_err());
    fake.start_container(&owner).await.unwrap();
    fake.start_container(&sidecar).await.unwrap();
    let state = fake.inspect_container(&sidecar).await.unwrap();
    assert_eq!(state.status, ContainerStatus::Running);
    assert!(state.ip.is_none() && state.host_ports.is_empty());
}
