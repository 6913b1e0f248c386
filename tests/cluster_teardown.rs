//! Teardown removes what the ledger recorded and sweeps anything else carrying the run label.
#[path = "common/fake_cluster.rs"]
mod fake_cluster;

use fake_cluster::{cluster, plan_of, APP};
use std::{sync::Arc, time::Duration};
use syncsim::{
    cluster::{ClusterOptions, DockerCluster},
    engine::Cluster,
    runtime::{
        fake::{FakeRuntime, Op},
        ContainerRuntime, ContainerSpec, Labels, VolumeSpec, LABEL_MANAGED_BY, LABEL_RUN,
        MANAGED_BY_VALUE,
    },
};

#[tokio::test(start_paused = true)]
async fn teardown_sweeps_objects_of_the_run_that_the_ledger_never_recorded() {
    let fake = Arc::new(FakeRuntime::new());
    let rt: Arc<dyn ContainerRuntime> = fake.clone();
    let opts = ClusterOptions {
        app: "sweep".into(),
        run_id: "run-1".into(),
        ..ClusterOptions::default()
    };
    let cluster = DockerCluster::new(rt.clone(), opts, &[])
        .await
        .expect("network");
    let mut labels = Labels::new();
    labels.insert(LABEL_MANAGED_BY.into(), MANAGED_BY_VALUE.into());
    labels.insert(LABEL_RUN.into(), "run-1".into());
    // As if a controller was aborted between Docker's create and the ledger's record.
    rt.create_container(&ContainerSpec {
        name: "orphan".into(),
        image: "x".into(),
        labels: labels.clone(),
        ..ContainerSpec::default()
    })
    .await
    .expect("create");
    rt.create_volume(&VolumeSpec {
        name: "orphan-vol".into(),
        labels,
    })
    .await
    .expect("volume");
    // Another run's object must survive.
    let mut other = Labels::new();
    other.insert(LABEL_MANAGED_BY.into(), MANAGED_BY_VALUE.into());
    other.insert(LABEL_RUN.into(), "run-2".into());
    rt.create_container(&ContainerSpec {
        name: "other".into(),
        image: "x".into(),
        labels: other,
        ..ContainerSpec::default()
    })
    .await
    .expect("create");

    let report = cluster.teardown(Duration::ZERO).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let left: Vec<String> = fake.objects().into_iter().map(|o| o.name).collect();
    assert_eq!(left, vec!["other".to_string()]);
    assert_eq!(
        (report.containers, report.networks, report.volumes),
        (1, 1, 1)
    );
}

const WEB: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: main
          image: busybox
          command: ["sleep", "3600"]
"#;

#[tokio::test(start_paused = true)]
async fn a_container_the_engine_creates_after_its_controller_was_aborted_is_recorded_and_removed() {
    // The engine takes 2 s to create the pod's container and, like Docker, completes the create
    // even when its client goes away. Teardown aborts the controller 500 ms into the create:
    // the container must still be recorded and removed, and teardown must not return before.
    let fake = Arc::new(
        FakeRuntime::new().with_slow_create(format!("syncsim-{APP}-web-"), Duration::from_secs(2)),
    );
    let (objects, plan) = plan_of(WEB);
    let cluster = cluster(&fake, &objects).await;
    let web = plan.tasks().find(|t| t.name() == "web").expect("web");
    cluster.dry_run(web).await.expect("dry run");
    cluster.apply(web).await.expect("apply");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !fake
            .calls()
            .iter()
            .any(|c| c.op == Op::Create && c.object.contains("-web-")),
        "the create is still in flight"
    );
    let report = cluster.teardown(Duration::ZERO).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.containers, 1, "{report:?}");
    tokio::time::sleep(Duration::from_secs(10)).await;
    let left = fake.objects();
    assert!(left.is_empty(), "left behind: {left:?}");
}
