//! `cargo bench --bench plan`: times `plan::build` on 10 000 generated objects, then the whole
//! `syncsim plan FILE -o json` command (read, parse, lint, plan, print) on a generated 10 000-object
//! render, against the targets of ≤ 150 ms median wall time and ≤ 150 MB peak RSS.
//!
//! The command runs the release binary (`SYNCSIM_BENCH_BIN` to choose another): 1 warm-up run,
//! then [`RUNS`] timed ones, output to /dev/null. Peak RSS is the child's `ru_maxrss` from
//! `wait4`. `SYNCSIM_BENCH_KEEP=DIR` writes the render to `DIR/render.yaml` and keeps it (to
//! profile the command by hand).
use serde_json::json;
use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};
use syncsim::{
    manifest::{Object, Origin},
    plan::{self, PlanOptions},
};

const OBJECTS: usize = 10_000;
const ITERATIONS: usize = 15;
/// Timed runs of the whole command (after one warm-up run).
const RUNS: usize = 7;
/// Targets of the whole command: median wall time and peak resident set.
const TARGET_MS: f64 = 150.0;
const TARGET_MB: f64 = 150.0;

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
    let mut next = lcg(42);
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

/// A deterministic pseudo-random sequence (a 64-bit LCG).
fn lcg(mut seed: u64) -> impl FnMut() -> usize {
    move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    }
}

/// A rendered app of `n` objects as multi-document YAML, as `kustomize build` prints it: 50
/// Namespaces, then ConfigMaps with data, Secrets, ServiceAccounts, Services, Deployments with
/// pod templates (probes, env, resources) and hook Jobs (PreSync/PostSync with delete policies),
/// most with sync-waves. About 290 bytes an object; a few objects draw warnings (a fractional
/// wave, a misspelled hook type), as real renders do.
fn render(n: usize) -> String {
    let mut next = lcg(7);
    let mut s = String::with_capacity(n * 320);
    for i in 0..n {
        s.push_str("---\n");
        if i < 50 {
            let _ = write!(
                s,
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-{i}\n"
            );
            continue;
        }
        let ns = format!("team-{}", next() % 50);
        let app = format!("app-{}", next() % 400);
        let wave = match i % 500 {
            0 => "\"1.5\"".to_string(),
            _ => format!("\"{}\"", next() % 6),
        };
        match next() % 20 {
            0..=5 => {
                let _ = write!(
                    s,
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app}-config-{i}\n  \
                     namespace: {ns}\n  labels:\n    app: {app}\ndata:\n  LOG_LEVEL: info\n  \
                     DATABASE_URL: postgres://db.{ns}.svc:5432/{app}\n  FEATURE_FLAGS: \
                     a,b,c\n"
                );
            }
            6..=7 => {
                let _ = write!(
                    s,
                    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {app}-secret-{i}\n  \
                     namespace: {ns}\ntype: Opaque\ndata:\n  password: cGFzc3dvcmQte2l9\n"
                );
            }
            8 => {
                let _ = write!(
                    s,
                    "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {app}-sa-{i}\n  \
                     namespace: {ns}\n"
                );
            }
            9..=12 => {
                let _ = write!(
                    s,
                    "apiVersion: v1\nkind: Service\nmetadata:\n  name: {app}-svc-{i}\n  \
                     namespace: {ns}\n  annotations:\n    argocd.argoproj.io/sync-wave: {wave}\n\
                     spec:\n  selector:\n    app: {app}\n  ports:\n  - port: 80\n    \
                     targetPort: 8080\n"
                );
            }
            13..=17 => {
                let _ = write!(
                    s,
                    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {app}-{i}\n  \
                     namespace: {ns}\n  annotations:\n    argocd.argoproj.io/sync-wave: {wave}\n\
                     spec:\n  replicas: 2\n  selector:\n    matchLabels: {{app: {app}}}\n  \
                     template:\n    metadata:\n      labels: {{app: {app}}}\n    spec:\n      \
                     containers:\n      - name: {app}\n        image: registry.local/{app}:1.{}\n        \
                     ports: [{{containerPort: 8080}}]\n        env:\n        - {{name: PORT, value: \
                     \"8080\"}}\n        readinessProbe:\n          httpGet: {{path: /healthz, \
                     port: 8080}}\n        resources:\n          requests: {{cpu: 50m, memory: \
                     64Mi}}\n",
                    next() % 30
                );
            }
            _ => {
                let phase = match next() % 50 {
                    0 => "Presync",
                    1..=25 => "PreSync",
                    _ => "PostSync",
                };
                let _ = write!(
                    s,
                    "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {app}-migrate-{i}\n  \
                     namespace: {ns}\n  annotations:\n    argocd.argoproj.io/hook: {phase}\n    \
                     argocd.argoproj.io/hook-delete-policy: BeforeHookCreation,HookSucceeded\n    \
                     argocd.argoproj.io/sync-wave: {wave}\nspec:\n  backoffLimit: 1\n  \
                     template:\n    spec:\n      restartPolicy: Never\n      containers:\n      \
                     - name: migrate\n        image: registry.local/{app}-migrate:1.0\n        \
                     args: [migrate, --to, latest]\n"
                );
            }
        }
    }
    s
}

/// The syncsim binary to measure: `SYNCSIM_BENCH_BIN`, else the release build (next to this
/// profile's, so `cargo bench --profile dev` still measures the optimized binary).
fn syncsim_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("SYNCSIM_BENCH_BIN") {
        return bin.into();
    }
    env!("CARGO_BIN_EXE_syncsim")
        .replace("/debug/", "/release/")
        .into()
}

/// One run of `syncsim plan FILE -o json`, output to /dev/null: wall time and peak RSS in bytes.
/// The child is reaped by `wait4` (for its resource usage), not by `Child::wait`.
#[allow(clippy::zombie_processes)]
fn run_plan(bin: &Path, file: &Path) -> (Duration, u64) {
    let start = Instant::now();
    let child = Command::new(bin)
        .arg("plan")
        .arg(file)
        .args(["-o", "json"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("syncsim starts");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: `usage` is a plain C struct, written by wait4 for our own child; `child` is never
    // waited on through std, so the pid is reaped exactly once.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = start.elapsed();
    assert_eq!(rc, pid, "wait4: {}", std::io::Error::last_os_error());
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "syncsim plan failed (status {status})"
    );
    // Linux reports ru_maxrss in KiB.
    (elapsed, usage.ru_maxrss as u64 * 1024)
}

/// Times the whole command on a generated render and prints the figures against the targets.
fn bench_command() {
    let bin = syncsim_bin();
    if !bin.exists() {
        println!(
            "syncsim plan: no release binary at {}; run `cargo build --release` first (skipped)",
            bin.display()
        );
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = std::env::var_os("SYNCSIM_BENCH_KEEP")
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    let file = dir.join("render.yaml");
    let text = render(OBJECTS);
    std::fs::write(&file, &text).expect("render written");
    run_plan(&bin, &file);
    let mut times = Vec::with_capacity(RUNS);
    let mut peak = 0;
    for _ in 0..RUNS {
        let (t, rss) = run_plan(&bin, &file);
        times.push(t);
        peak = peak.max(rss);
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let median = ms(times[RUNS / 2]);
    let peak_mb = peak as f64 / 1e6;
    let met = if median <= TARGET_MS && peak_mb <= TARGET_MB {
        "met"
    } else {
        "NOT met"
    };
    println!(
        "syncsim plan FILE -o json ({OBJECTS} objects, {:.1} MB), {RUNS} runs: median {median:.0} ms \
         (min {:.0}, max {:.0}), peak RSS {peak_mb:.0} MB; targets <= {TARGET_MS:.0} ms, \
         <= {TARGET_MB:.0} MB: {met}",
        text.len() as f64 / 1e6,
        ms(times[0]),
        ms(times[RUNS - 1]),
    );
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
    bench_command();
}
