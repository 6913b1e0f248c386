//! Teardown removes what the ledger recorded and sweeps anything else carrying the run label.
use std::{sync::Arc, time::Duration};
use syncsim::{
    cluster::{ClusterOptions, DockerCluster},
    runtime::{
        fake::FakeRuntime, ContainerRuntime, ContainerSpec, Labels, VolumeSpec, LABEL_MANAGED_BY,
        LABEL_RUN, MANAGED_BY_VALUE,
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
