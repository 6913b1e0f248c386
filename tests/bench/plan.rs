//! `cargo bench --bench plan`: times `plan::build` on 10 000 generated objects.
use serde_json::json;
use std::time::{Duration, Instant};
use syncsim::{
    manifest::{Object, Origin},
    plan::{self, PlanOptions},
};

const OBJECTS: usize = 10_000;
const ITERATIONS: usize = 15;

/// Mixed kinds, namespaces, waves (some invalid, some Helm weights), hooks (some in two phases,
/// some skipped or misspelled), delete policies and a few CRDs with their custom resources.
fn generate(n: usize) -> Vec<Object> {
    const KINDS: [&str; 10] = [
        "ConfigMap",
        "Secret",
        "Service",
        "Deployment",
        "StatefulSet",
        "Job",
        "Ingress",
        "ServiceAccount",
        "Widget",
        "Namespace",
    ];
    const HOOKS: [&str; 8] = [
        "",
        "",
        "",
        "",
        "PreSync",
        "PostSync",
        "PreSync,PostSync",
        "presync",
    ];
    let mut seed: u64 = 42;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    (0..n)
        .map(|i| {
            let kind = KINDS[next() % KINDS.len()];
            let mut ann = serde_json::Map::new();
            match next() % 10 {
                0 => {}
                1 => {
                    ann.insert("helm.sh/hook-weight".into(), json!((next() % 7).to_string()));
                }
                2 => {
                    ann.insert("argocd.argoproj.io/sync-wave".into(), json!("1.5"));
                }
                _ => {
                    let w = next() % 20;
                    ann.insert("argocd.argoproj.io/sync-wave".into(), json!(format!("{}", w as i64 - 5)));
                }
            }
            let hook = HOOKS[next() % HOOKS.len()];
            if !hook.is_empty() && kind != "Namespace" {
                ann.insert("argocd.argoproj.io/hook".into(), json!(hook));
                ann.insert("argocd.argoproj.io/hook-delete-policy".into(), json!("HookSucceeded"));
            }
            let (api, name, ns) = match kind {
                "Namespace" => ("v1", format!("ns{}", i % 50), String::new()),
                "Widget" => ("example.com/v1", format!("w{i}"), format!("ns{}", next() % 50)),
                _ => ("v1", format!("{}-{i}", kind.to_lowercase()), format!("ns{}", next() % 50)),
            };
            let mut value = json!({
                "apiVersion": api,
                "kind": kind,
                "metadata": {"name": name, "annotations": ann},
                "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "c", "image": "nginx"}]}}}
            });
            if !ns.is_empty() {
                value["metadata"]["namespace"] = json!(ns);
            }
            Object::new(value, Origin { file: format!("gen/{}.yaml", i / 100), document: i % 100, line: Some(1) })
        })
        .collect()
}

fn main() {
    let objects = generate(OBJECTS);
    let opts = PlanOptions::default();
    let mut times: Vec<Duration> = Vec::with_capacity(ITERATIONS);
    let mut tasks = 0;
    for _ in 0..ITERATIONS {
        let start = Instant::now();
        let plan = plan::build(std::hint::black_box(&objects), &opts).expect("plan builds");
        times.push(start.elapsed());
        tasks = plan.tasks().count();
        std::hint::black_box(plan);
    }
    times.sort();
    println!(
        "plan::build, {OBJECTS} objects -> {tasks} tasks, {ITERATIONS} iterations: min {:.1} ms, median {:.1} ms, max {:.1} ms",
        times[0].as_secs_f64() * 1e3,
        times[ITERATIONS / 2].as_secs_f64() * 1e3,
        times[ITERATIONS - 1].as_secs_f64() * 1e3,
    );
}
