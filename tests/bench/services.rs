//! `cargo bench --bench services`: what syncsim's engine and its Service mechanism cost on real syncs.
//!
//! Runs real syncs (Docker, the busybox test image and, when present, the offline kit) a few
//! times and prints, per run: total duration, time inside steps (containers starting, probes,
//! hooks running) and time between steps (dry run, polling, hook deletion: the engine's own
//! cost). Compare the ratio, not absolute figures: the machines are shared and noisy.
//!
//! It also prints what Services cost (see `cluster::service`): how many are plain DNS names and
//! how many need a proxy container, the time spent starting proxies (in the background after
//! the Services' apply, off the steps' critical path), the endpoint updates, and one HTTP round
//! trip through a proxy against the same request straight to the pod.
use std::{sync::Arc, time::Duration};
use syncsim::{
    cluster::{ClusterOptions, DockerCluster, ServiceCosts},
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
) -> (Duration, Duration, Duration, ServiceCosts) {
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
    let costs = cluster.service_costs();
    cluster.teardown(Duration::ZERO).await;
    assert_eq!(r.outcome, engine::Outcome::Succeeded, "{}", r.message);
    (r.duration, r.step_time(), r.between_steps(), costs)
}

/// One HTTP request through a Service proxy and the same one straight to the pod, from a
/// client container on the app network (median of `n` each, in the client's shell: `nc`).
async fn hop_cost(rt: &Arc<dyn ContainerRuntime>, n: usize) -> (Duration, Duration) {
    let yaml = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: syncsim-test/busybox:1
          imagePullPolicy: Never
          command: [sh, -c, 'mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www']
          ports: [{name: http, containerPort: 8080}]
          readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: client, annotations: {argocd.argoproj.io/sync-wave: "1"}}
spec:
  selector: {matchLabels: {app: client}}
  template:
    metadata: {labels: {app: client}}
    spec:
      containers:
        - {name: c, image: syncsim-test/busybox:1, imagePullPolicy: Never, command: [sleep, "3600"]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: last, annotations: {argocd.argoproj.io/sync-wave: "2"}}
"#;
    let objects = manifest::from_yaml_str(yaml, "hop.yaml").expect("hop fixture");
    let plan = plan::build(&objects, &PlanOptions::default()).expect("plan");
    let app = "bench-svc-hop";
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
    assert_eq!(r.outcome, engine::Outcome::Succeeded, "{}", r.message);
    let key = |name: &str| manifest::ObjectKey {
        group: "apps".into(),
        kind: "Deployment".into(),
        namespace: "default".into(),
        name: name.into(),
    };
    let client = cluster.containers_of(&key("client")).pop().expect("client");
    let web = cluster.containers_of(&key("web")).pop().expect("web");
    let web_ip = rt
        .inspect_container(&web)
        .await
        .expect("web")
        .ip
        .expect("ip");
    let time = |host: String, port: u16| {
        let rt = rt.clone();
        let client = client.clone();
        async move {
            let script =
                format!("printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 {host} {port} | tail -n 1");
            let cmd = ["sh".to_string(), "-c".to_string(), script];
            let mut times = Vec::new();
            for _ in 0..n {
                let t = std::time::Instant::now();
                let out = rt
                    .exec(&client, &cmd, Duration::from_secs(10))
                    .await
                    .expect("exec");
                assert_eq!(out.output.trim(), "ok", "{host}:{port}");
                times.push(t.elapsed());
            }
            times.sort();
            times[n / 2]
        }
    };
    let through = time("web".into(), 80).await;
    let direct = time(web_ip, 8080).await;
    cluster.teardown(Duration::ZERO).await;
    (through, direct)
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
            let (total, steps, between, costs) =
                once(&rt, &source, &format!("bench-sync-{i}"), ns).await;
            let ratio = between.as_secs_f64() / total.as_secs_f64();
            overheads.push(ratio);
            println!(
                "  run {i}: total {:>7.3}s  in steps {:>7.3}s  between steps {:>6.3}s  ({:.1}% overhead)",
                total.as_secs_f64(),
                steps.as_secs_f64(),
                between.as_secs_f64(),
                ratio * 100.0
            );
            println!(
                "         Services: {} plain DNS, {} proxied by {} proxy containers (started in {:.3}s in all, {} endpoint updates)",
                costs.plain_dns,
                costs.proxied,
                costs.proxies,
                costs.proxy_setup.as_secs_f64(),
                costs.endpoint_updates
            );
        }
        overheads.sort_by(f64::total_cmp);
        println!(
            "  median overhead: {:.1}% of the total",
            overheads[overheads.len() / 2] * 100.0
        );
    }
    let (through, direct) = hop_cost(&rt, 15).await;
    println!(
        "Service proxy hop: median request {:.1} ms through the proxy, {:.1} ms straight to the pod (client exec included)",
        through.as_secs_f64() * 1e3,
        direct.as_secs_f64() * 1e3
    );
}
