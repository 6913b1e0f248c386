//! `cargo bench --bench sync`: how much time syncsim adds on top of what the containers need.
//!
//! Runs real syncs (Docker, the busybox test image and, when present, the offline kit) a few
//! times and prints, per run: total duration, time inside steps (containers starting, probes,
//! hooks running) and time between steps (dry run, polling, hook deletion: the engine's own
//! cost). Compare the ratio, not absolute figures: the machines are shared and noisy.
use std::{sync::Arc, time::Duration};
use syncsim::{
    cluster::{ClusterOptions, DockerCluster},
    engine::{self, EngineOptions},
    manifest,
    plan::{self, PlanOptions},
    runtime::{docker::DockerRuntime, ContainerRuntime},
};
use tokio_util::sync::CancellationToken;

async fn once(
    rt: &Arc<dyn ContainerRuntime>,
    source: &str,
    app: &str,
    ns: &str,
) -> (Duration, Duration, Duration) {
    let objects = manifest::load(source, &manifest::LoadOptions::default())
        .expect("source")
        .objects;
    let plan = plan::build(
        &objects,
        &PlanOptions {
            dest_namespace: ns.into(),
            ..PlanOptions::default()
        },
    )
    .expect("plan");
    let opts = ClusterOptions {
        app: app.into(),
        ..ClusterOptions::default()
    };
    let cluster = DockerCluster::new(rt.clone(), opts, &objects)
        .await
        .expect("network");
    let eopts = EngineOptions {
        app: app.into(),
        ..EngineOptions::default()
    };
    let r = engine::run(
        &plan,
        &cluster,
        &eopts,
        &CancellationToken::new(),
        &mut |_| {},
    )
    .await;
    cluster.teardown(Duration::ZERO).await;
    assert_eq!(r.outcome, engine::Outcome::Succeeded, "{}", r.message);
    (r.duration, r.step_time(), r.between_steps())
}

fn image_exists(image: &str) -> bool {
    std::process::Command::new("docker")
        .args(["image", "inspect", image])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[tokio::main]
async fn main() {
    let root = env!("CARGO_MANIFEST_DIR");
    let st = std::process::Command::new(format!("{root}/compose/testimages/build.sh"))
        .status()
        .expect("build.sh");
    assert!(st.success());
    let rt: Arc<dyn ContainerRuntime> = Arc::new(DockerRuntime::connect().await.expect("docker"));
    let mut cases = vec![(
        "small fixture",
        format!("{root}/tests/fixtures/sync/small.yaml"),
        "demo",
        5,
    )];
    if image_exists("syncsim-kit/postgres:15") {
        cases.push((
            "k8s/overlays/local",
            format!("{root}/k8s/overlays/local"),
            "shortlink",
            3,
        ));
    } else {
        println!(
            "(offline kit not built: skipping k8s/overlays/local; run compose/build-images.sh)"
        );
    }
    for (name, source, ns, runs) in cases {
        println!("{name}: {runs} runs");
        let mut overheads = Vec::new();
        for i in 0..runs {
            let (total, steps, between) = once(&rt, &source, &format!("bench-sync-{i}"), ns).await;
            let ratio = between.as_secs_f64() / total.as_secs_f64();
            overheads.push(ratio);
            println!(
                "  run {i}: total {:>7.3}s  in steps {:>7.3}s  between steps {:>6.3}s  ({:.1}% overhead)",
                total.as_secs_f64(),
                steps.as_secs_f64(),
                between.as_secs_f64(),
                ratio * 100.0
            );
        }
        overheads.sort_by(f64::total_cmp);
        println!(
            "  median overhead: {:.1}% of the total",
            overheads[overheads.len() / 2] * 100.0
        );
    }
}
