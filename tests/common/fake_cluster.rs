//! The simulated cluster on the scripted in-memory runtime (`FakeRuntime`), shared by the test
//! binaries that drive it with paused time (`cluster_fake`, `cluster_ahead`). Included with
//! `#[path = "common/fake_cluster.rs"] mod fake_cluster;`.
use std::{sync::Arc, time::Duration};
use syncsim::{
    cluster::{ClusterOptions, DockerCluster},
    manifest::{self, Object},
    plan::{self, Plan, PlanOptions},
    runtime::{fake::FakeRuntime, ContainerRuntime},
};

/// The app every test runs as.
pub const APP: &str = "t";
/// The destination namespace of every test.
pub const NS: &str = "demo";

/// The objects of `yaml` and Argo CD's plan for them, in [`NS`].
pub fn plan_of(yaml: &str) -> (Vec<Object>, Plan) {
    let objects = manifest::from_yaml_str(yaml, "test.yaml").expect("test manifest parses");
    let plan = plan::build(
        &objects,
        &PlanOptions {
            dest_namespace: NS.into(),
            ..PlanOptions::default()
        },
    )
    .expect("plan");
    (objects, plan)
}

/// A cluster for [`APP`] on `fake`, with 1 s Job and restart backoff.
pub async fn cluster(fake: &Arc<FakeRuntime>, objects: &[Object]) -> DockerCluster {
    let rt: Arc<dyn ContainerRuntime> = fake.clone();
    let opts = ClusterOptions {
        app: APP.into(),
        job_backoff_base: Duration::from_secs(1),
        restart_backoff_base: Duration::from_secs(1),
        ..ClusterOptions::default()
    };
    DockerCluster::new(rt, opts, objects)
        .await
        .expect("network")
}
