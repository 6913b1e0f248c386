//! Services and PersistentVolumeClaims behave as on a cluster, through the built binary:
//! `port` → `targetPort` (numbers and names), only Ready pods receive traffic, a Service name
//! resolves once the Service exists, headless Services reach Ready pods and give StatefulSet
//! pods their `<pod>.<svc>` names, and a claim of the default class (WaitForFirstConsumer) stays
//! Pending until a pod uses it.
//!
//! Each scenario's checks run inside a client Job (busybox `nc`): a failed check fails the Job
//! and so the sync. Docker tests on the busybox test image (`compose/testimages/build.sh`, which
//! also tags the Service proxy image); run with
//! `cargo test --test services_docker -- --include-ignored`.
mod common;

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

const IMAGE: &str = "syncsim-test/busybox:1";

/// `get HOST PORT`: the last line of an HTTP GET (the body of busybox httpd's one-line pages).
const GET: &str =
    r#"get() { printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 "$1" "$2" 2>/dev/null | tail -n 1; }"#;

fn syncsim() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_syncsim"));
    cmd.env_remove("ARGOCD_SYNC_WAVE_DELAY")
        .env_remove("SYNCSIM_LOG")
        .env(
            "SYNCSIM_STATE_DIR",
            std::env::temp_dir().join(format!("syncsim-services-state-{}", std::process::id())),
        );
    cmd
}

use common::labelled;

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Writes `yaml` and runs `syncsim sync` on it; prints everything for a failing assertion.
fn sync(app: &str, yaml: &str, timeout: &str) -> Output {
    sync_args(app, yaml, timeout, &[])
}

/// [`sync`] with more arguments.
fn sync_args(app: &str, yaml: &str, timeout: &str, extra: &[&str]) -> Output {
    common::ensure_test_image();
    if !labelled(app).is_empty() {
        let st = syncsim()
            .args(["down", "--app", app])
            .status()
            .expect("down");
        assert!(st.success());
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path: PathBuf = dir.path().join("app.yaml");
    std::fs::write(&path, yaml.replace("IMAGE", IMAGE)).expect("write");
    // The cluster these apps sync to already has their namespace, as the test fixtures' has.
    std::fs::write(
        dir.path().join("syncsim.yaml"),
        "apiVersion: syncsim.dev/v1alpha1\nkind: Config\ncluster:\n  namespaces: [demo]\n",
    )
    .expect("write syncsim.yaml");
    let start = Instant::now();
    let out = syncsim()
        .arg("sync")
        .arg(Path::new(&path))
        .args(["--app", app, "--dest-namespace", "demo"])
        .args(["--job-backoff", "200ms", "--timeout", timeout])
        .args(extra)
        .output()
        .expect("run syncsim");
    let o = Output {
        code: out.status.code().expect("exited normally"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    eprintln!(
        "--- exit {} after {:.1}s\n--- stdout:\n{}\n--- stderr:\n{}",
        o.code,
        start.elapsed().as_secs_f64(),
        o.stdout,
        o.stderr
    );
    let left = labelled(app);
    assert!(
        left.is_empty(),
        "left behind: {:?}",
        left.iter().map(|l| &l.name).collect::<Vec<_>>()
    );
    o
}

/// A Deployment of busybox httpd pods labelled `app: LABEL` answering `BODY` on port 8080,
/// named `http`. `extra` is added to the container (indented for it).
fn web(name: &str, label: &str, body: &str, wave: i32, extra: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  annotations: {{argocd.argoproj.io/sync-wave: "{wave}"}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: {label}, role: {name}}}}}
  template:
    metadata: {{labels: {{app: {label}, role: {name}}}}}
    spec:
      containers:
        - name: web
          image: IMAGE
          imagePullPolicy: Never
          command: [sh, -c, 'mkdir -p /www && echo {body} > /www/index.html && exec httpd -f -p 8080 -h /www']
          ports: [{{name: http, containerPort: 8080}}]
{extra}"#
    )
}

fn service(name: &str, label: &str, ports: &str, wave: i32) -> String {
    format!(
        r#"apiVersion: v1
kind: Service
metadata:
  name: {name}
  annotations: {{argocd.argoproj.io/sync-wave: "{wave}"}}
spec:
  selector: {{app: {label}}}
  ports: {ports}
"#
    )
}

/// A Sync hook Job running `script` (after [`GET`]) in `wave`: the operation waits for it, and
/// fails when a check fails.
fn client(name: &str, wave: i32, script: &str) -> String {
    let script: String = format!("{GET}\n{script}")
        .lines()
        .map(|l| format!("              {l}\n"))
        .collect();
    format!(
        r#"apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
  annotations: {{argocd.argoproj.io/hook: Sync, argocd.argoproj.io/sync-wave: "{wave}"}}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: client
          image: IMAGE
          imagePullPolicy: Never
          command:
            - sh
            - -c
            - |
{script}"#
    )
}

fn docs(parts: &[String]) -> String {
    parts.join("---\n")
}

#[test]
#[ignore = "needs docker"]
fn a_service_forwards_its_port_to_a_numeric_or_named_target_port() {
    let yaml = docs(&[
        web("backend", "backend", "hello-backend", 0, ""),
        service("backend", "backend", "[{port: 80, targetPort: 8080}]", 0),
        service(
            "backend-named",
            "backend",
            "[{port: 81, targetPort: http}]",
            0,
        ),
        // Two ports: both endpoint files are written by one update.
        service(
            "backend-two",
            "backend",
            "[{name: a, port: 82, targetPort: 8080}, {name: b, port: 83, targetPort: http}]",
            0,
        ),
        client(
            "client",
            1,
            r#"for hp in "backend 80" "backend-named 81" "backend.demo.svc.cluster.local 80" "backend-named.demo 81" "backend-two 82" "backend-two 83"; do
  r=$(get $hp); echo "$hp -> $r"; [ "$r" = hello-backend ] || exit 1
done
# The Service port is 80, not the pod's 8080.
r=$(get backend 8080); echo "backend 8080 -> '$r'"; [ -z "$r" ] || exit 1"#,
        ),
    ]);
    let out = sync_args("svc-remap", &yaml, "90s", &["-vv"]);
    assert_eq!(
        out.code, 0,
        "the client Job reached the Service through its port"
    );
    // The three Services of wave 0 (applied concurrently, ports apart) share one proxy.
    let proxies: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("Service proxy syncsim-svc-remap-svc-"))
        .collect();
    assert_eq!(proxies.len(), 1, "{proxies:?}");
    let served = proxies[0]
        .split("serves ")
        .nth(1)
        .and_then(|rest| rest.split(" (set up").next())
        .expect("the Services served");
    let mut served: Vec<&str> = served.split(", ").collect();
    served.sort_unstable();
    assert_eq!(
        served,
        ["demo/backend", "demo/backend-named", "demo/backend-two"]
    );
}

#[test]
#[ignore = "needs docker"]
fn an_unready_pod_receives_no_traffic_until_it_is_ready() {
    // `slow` passes its readiness probe 20 s after it starts; `ready` at once.
    let probe = r#"          readinessProbe:
            exec: {command: [test, -f, /tmp/ready]}
            periodSeconds: 1
"#;
    let slow = web("slow", "pool", "slow", 0, probe).replace(
        "mkdir -p /www",
        "(sleep 20; touch /tmp/ready) & mkdir -p /www",
    );
    let yaml = docs(&[
        web("ready", "pool", "ready", 0, ""),
        slow,
        service("pool", "pool", "[{port: 80, targetPort: http}]", 0),
        client(
            "client",
            0,
            r#"n=0; until [ "$(get pool 80)" = ready ]; do n=$((n+1)); [ $n -lt 300 ] || exit 1; sleep 0.2; done
for i in $(seq 30); do
  r=$(get pool 80); [ "$r" = ready ] || { echo "the unready pod answered: '$r'"; exit 1; }
done
echo "only the Ready pod answered, 30 times"
n=0; until [ "$(get pool 80)" = slow ]; do n=$((n+1)); [ $n -lt 400 ] || { echo "slow never answered"; exit 1; }; sleep 0.2; done
echo "slow answers once Ready""#,
        ),
    ]);
    let out = sync("svc-ready", &yaml, "120s");
    assert_eq!(out.code, 0, "only Ready endpoints received traffic");
}

#[test]
#[ignore = "needs docker"]
fn a_service_name_resolves_only_once_the_service_exists() {
    let yaml = docs(&[
        web("backend", "backend", "hello-backend", 0, ""),
        client(
            "before",
            1,
            r#"out=$(nc -w 2 late 80 </dev/null 2>&1); echo "$out"
case "$out" in *"bad address"*) exit 0;; *) exit 1;; esac"#,
        ),
        service("late", "backend", "[{port: 80, targetPort: 8080}]", 2),
        client(
            "after",
            3,
            r#"r=$(get late 80); echo "late 80 -> $r"; [ "$r" = hello-backend ]"#,
        ),
    ]);
    let out = sync("svc-late", &yaml, "90s");
    assert_eq!(
        out.code, 0,
        "`late` did not resolve before wave 2, then did"
    );
}

#[test]
#[ignore = "needs docker"]
fn a_headless_service_reaches_ready_pods_and_names_statefulset_pods() {
    // db-1 passes its readiness probe 20 s after it starts; db-0 at once.
    let yaml = docs(&[
        r#"apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{port: 8080, targetPort: 8080}]
"#
        .to_string(),
        r#"apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  podManagementPolicy: Parallel
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
        - name: db
          image: IMAGE
          imagePullPolicy: Never
          command: [sh, -c, '(case $(hostname) in *-1) sleep 20;; esac; touch /tmp/ready) & mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www']
          ports: [{name: http, containerPort: 8080}]
          readinessProbe:
            exec: {command: [test, -f, /tmp/ready]}
            periodSeconds: 1
"#
        .to_string(),
        client(
            "client",
            0,
            r#"n=0; until [ "$(get db 8080)" = db-0 ]; do n=$((n+1)); [ $n -lt 300 ] || exit 1; sleep 0.2; done
for i in $(seq 30); do
  r=$(get db 8080); [ "$r" = db-0 ] || { echo "the unready pod answered: '$r'"; exit 1; }
done
r=$(get db-0.db 8080); echo "db-0.db -> $r"; [ "$r" = db-0 ] || exit 1
n=0; until [ "$(get db 8080)" = db-1 ]; do n=$((n+1)); [ $n -lt 400 ] || { echo "db-1 never answered"; exit 1; }; sleep 0.2; done
r=$(get db-1.db.demo.svc.cluster.local 8080); echo "db-1.db.demo.svc.cluster.local -> $r"; [ "$r" = db-1 ]"#,
        ),
    ]);
    let out = sync("svc-headless", &yaml, "120s");
    assert_eq!(out.code, 0, "the headless Service reached Ready pods only");
}

fn claim_and_consumer(consumer_wave: i32) -> String {
    let consumer = web("consumer", "consumer", "ok", consumer_wave, "").replace(
        "          ports: [{name: http, containerPort: 8080}]\n",
        "          ports: [{name: http, containerPort: 8080}]\n          volumeMounts: [{name: data, mountPath: /data}]\n      volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]\n",
    );
    docs(&[
        r#"apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Mi}}
"#
        .to_string(),
        consumer,
        // A later wave: the operation waits for wave 0 to be healthy before it.
        r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: after
  annotations: {argocd.argoproj.io/sync-wave: "5"}
data: {a: "1"}
"#
        .to_string(),
    ])
}

#[test]
#[ignore = "needs docker"]
fn a_wait_for_first_consumer_claim_before_its_consumer_hangs_the_sync() {
    // The default class `standard` binds on first consumer: the claim (wave 0) stays Pending,
    // so Argo CD never reaches wave 1, where its consumer is.
    let out = sync("svc-wffc-hang", &claim_and_consumer(1), "8s");
    assert_eq!(out.code, 4, "a timeout, not a failure");
    assert!(
        out.stderr
            .contains("Argo CD would still be Running: waiting for healthy state of")
            && out.stderr.contains("PersistentVolumeClaim/data"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.contains("Deployment/consumer (Sync wave 1)"),
        "{}",
        out.stdout
    );
}

#[test]
#[ignore = "needs docker"]
fn a_wait_for_first_consumer_claim_binds_once_its_consumer_is_created() {
    let out = sync("svc-wffc-bound", &claim_and_consumer(0), "60s");
    assert_eq!(
        out.code, 0,
        "the claim bound when its consumer's pod was created"
    );
}
