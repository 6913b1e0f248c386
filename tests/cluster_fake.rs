//! The simulated cluster's controllers (`syncsim::cluster::DockerCluster`) on the scripted
//! in-memory runtime (`FakeRuntime`), with paused time: no Docker, no real sleeping.
//!
//! Each test applies objects through the engine's `Cluster` trait (or runs the whole engine),
//! watches the fake runtime's containers as virtual time passes, and ends with a teardown that
//! must leave `FakeRuntime::objects()` empty.
#[path = "common/fake_cluster.rs"]
mod fake_cluster;

use fake_cluster::{plan_of, APP, NS};
use serde_json::Value;
use std::{sync::Arc, time::Duration};
use syncsim::{
    cluster::DockerCluster,
    engine::{self, Cluster, EngineOptions, Outcome},
    plan::{Plan, Task},
    runtime::{
        fake::{FakeRuntime, Op, Script},
        ContainerRuntime, ContainerStatus, ListedKind,
    },
};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How often the tests look at the fake runtime (virtual time).
const TICK: Duration = Duration::from_millis(10);

struct Sim {
    fake: Arc<FakeRuntime>,
    cluster: DockerCluster,
    plan: Plan,
}

async fn sim(fake: FakeRuntime, yaml: &str) -> Sim {
    let (objects, plan) = plan_of(yaml);
    let fake = Arc::new(fake);
    let cluster = fake_cluster::cluster(&fake, &objects).await;
    Sim {
        fake,
        cluster,
        plan,
    }
}

impl Sim {
    fn task(&self, name: &str) -> &Task {
        self.plan
            .tasks()
            .find(|t| t.name() == name)
            .unwrap_or_else(|| panic!("no task {name}"))
    }

    async fn apply(&self, name: &str) {
        let task = self.task(name).clone();
        self.cluster.dry_run(&task).await.expect("dry run");
        self.cluster.apply(&task).await.expect("apply");
    }

    async fn status(&self, name: &str) -> Value {
        let key = self.task(name).key();
        let live = self.cluster.get(&key).await.expect("live object");
        live["status"].clone()
    }

    /// Names of containers created so far whose name starts with `prefix`, in creation order.
    fn created(&self, prefix: &str) -> Vec<String> {
        self.fake
            .calls()
            .into_iter()
            .filter(|c| c.op == Op::Create && c.object.starts_with(prefix))
            .map(|c| c.object)
            .collect()
    }

    /// Existing containers named `prefix…` that are running now.
    async fn running(&self, prefix: &str) -> Vec<String> {
        let mut out = Vec::new();
        for l in self.fake.objects() {
            if l.kind != ListedKind::Container || !l.name.starts_with(prefix) {
                continue;
            }
            let st = self.fake.inspect_container(&l.id).await.expect("inspect");
            if st.status == ContainerStatus::Running {
                out.push(l.name);
            }
        }
        out
    }

    /// Tears down and checks that nothing is left in the runtime.
    async fn teardown(self) {
        let t = self.cluster.teardown(Duration::from_secs(1)).await;
        assert!(t.errors.is_empty(), "teardown errors: {:?}", t.errors);
        assert_eq!(t.networks, 1);
        let left = self.fake.objects();
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}

/// Advances virtual time by `TICK` until `cond` holds or `limit` passes; returns whether it held.
async fn until(limit: Duration, mut cond: impl AsyncFnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if cond().await {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        tokio::time::sleep(TICK).await;
    }
}

fn condition(status: &Value) -> Option<(String, String)> {
    let c = status["conditions"].as_array()?.first()?;
    Some((
        c["type"].as_str()?.to_string(),
        c["reason"].as_str().unwrap_or_default().to_string(),
    ))
}

fn job(name: &str, spec: &str, command: &str) -> String {
    format!(
        r#"apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
spec:
{spec}
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: busybox
          command: ["sh", "-c", "{command}"]
"#
    )
}

// ----- Jobs -----

#[tokio::test(start_paused = true)]
async fn job_retries_with_a_new_container_per_attempt_and_exponential_backoff_until_the_limit() {
    let prefix = format!("syncsim-{APP}-flaky-");
    let fake = FakeRuntime::new().script_container(
        prefix.clone(),
        Script::exits(1, Duration::from_secs(1)).logs(["attempt failed"]),
    );
    let s = sim(fake, &job("flaky", "  backoffLimit: 2", "exit 1")).await;
    let t0 = Instant::now();
    s.apply("flaky").await;
    // Record when each attempt's container was created.
    let mut created_at: Vec<Duration> = Vec::new();
    let failed = until(Duration::from_secs(60), async || {
        let n = s.created(&prefix).len();
        while created_at.len() < n {
            created_at.push(t0.elapsed());
        }
        condition(&s.status("flaky").await).is_some_and(|(t, _)| t == "Failed")
    })
    .await;
    assert!(failed, "the Job never failed: {}", s.status("flaky").await);
    let st = s.status("flaky").await;
    assert_eq!(
        condition(&st),
        Some(("Failed".into(), "BackoffLimitExceeded".into())),
        "{st}"
    );
    assert_eq!(st["failed"], 3, "{st}");
    assert_eq!(st["succeeded"], 0, "{st}");
    // backoffLimit 2: the first attempt and two retries, each in a new container.
    let names = s.created(&prefix);
    assert_eq!(names.len(), 3, "{names:?}");
    let mut unique = names.clone();
    unique.dedup();
    assert_eq!(unique.len(), 3, "a new container per attempt: {names:?}");
    assert_eq!(created_at.len(), 3);
    // Each attempt runs 1 s; then the backoff is 1 s (base), then 2 s (doubled). The controller
    // notices exits on its poll (150 ms), so allow that much slack.
    let gap1 = created_at[1] - created_at[0];
    let gap2 = created_at[2] - created_at[1];
    let slack = Duration::from_millis(400);
    assert!(
        gap1 >= Duration::from_secs(2) && gap1 <= Duration::from_secs(2) + slack,
        "first retry after {gap1:?}"
    );
    assert!(
        gap2 >= Duration::from_secs(3) && gap2 <= Duration::from_secs(3) + slack,
        "second retry after {gap2:?}"
    );
    // Nothing more is started after the Job failed.
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(s.created(&prefix).len(), 3);
    // The failed Job's logs come from its last attempt.
    let logs = s.cluster.logs(&s.task("flaky").key(), 10).await;
    assert_eq!(logs, ["attempt failed"]);
    s.teardown().await;
}

#[tokio::test(start_paused = true)]
async fn job_active_deadline_fails_it_with_deadline_exceeded_and_stops_its_pod() {
    let prefix = format!("syncsim-{APP}-slowjob-");
    let fake = FakeRuntime::new(); // the container runs forever
    let s = sim(
        fake,
        &job(
            "slowjob",
            "  activeDeadlineSeconds: 2\n  backoffLimit: 5",
            "sleep 3600",
        ),
    )
    .await;
    let t0 = Instant::now();
    s.apply("slowjob").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(condition(&s.status("slowjob").await), None);
    assert_eq!(s.running(&prefix).await.len(), 1);
    let failed = until(Duration::from_secs(10), async || {
        condition(&s.status("slowjob").await).is_some()
    })
    .await;
    assert!(failed);
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    let st = s.status("slowjob").await;
    assert_eq!(
        condition(&st),
        Some(("Failed".into(), "DeadlineExceeded".into())),
        "{st}"
    );
    assert_eq!(s.running(&prefix).await, Vec::<String>::new(), "pod killed");
    assert_eq!(s.created(&prefix).len(), 1, "no retry after the deadline");
    s.teardown().await;
}

#[tokio::test(start_paused = true)]
async fn job_completions_3_parallelism_2_runs_3_pods_never_more_than_2_at_once() {
    let prefix = format!("syncsim-{APP}-batch-");
    let fake = FakeRuntime::new()
        .script_container(prefix.clone(), Script::exits(0, Duration::from_secs(1)));
    let s = sim(
        fake,
        &job("batch", "  completions: 3\n  parallelism: 2", "true"),
    )
    .await;
    s.apply("batch").await;
    let mut max_running = 0;
    let done = until(Duration::from_secs(30), async || {
        max_running = max_running.max(s.running(&prefix).await.len());
        condition(&s.status("batch").await).is_some()
    })
    .await;
    assert!(done);
    let st = s.status("batch").await;
    assert_eq!(
        condition(&st),
        Some(("Complete".into(), String::new())),
        "{st}"
    );
    assert_eq!(st["succeeded"], 3, "{st}");
    assert_eq!(st["failed"], 0, "{st}");
    assert_eq!(s.created(&prefix).len(), 3);
    assert_eq!(max_running, 2, "parallelism is used and honoured");
    s.teardown().await;
}

// ----- StatefulSet -----

#[tokio::test(start_paused = true)]
async fn statefulset_starts_pod_1_only_after_pod_0_is_ready_and_names_its_claim_volumes() {
    let yaml = r#"apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  replicas: 2
  serviceName: db
  selector:
    matchLabels:
      app: db
  template:
    metadata:
      labels:
        app: db
    spec:
      containers:
        - name: main
          image: busybox
          command: ["sleep", "3600"]
          readinessProbe:
            exec:
              command: ["test", "-f", "/tmp/ready"]
            periodSeconds: 1
          volumeMounts:
            - name: data
              mountPath: /data
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: ["ReadWriteOnce"]
        resources:
          requests:
            storage: 1Gi
"#;
    let fake = FakeRuntime::new()
        .script_container(
            format!("syncsim-{APP}-db-"),
            Script::default().ready_after(Duration::from_secs(3)),
        )
        .with_exec_result(format!("syncsim-{APP}-db-"), 0);
    let s = sim(fake, yaml).await;
    let t0 = Instant::now();
    s.apply("db").await;
    let pod1 = format!("syncsim-{APP}-db-1-");
    let started = until(Duration::from_secs(30), async || {
        !s.created(&pod1).is_empty()
    })
    .await;
    assert!(started, "pod db-1 never started");
    let at = t0.elapsed();
    assert!(
        at >= Duration::from_secs(3),
        "db-1 created {at:?} after apply, before db-0 was ready"
    );
    assert_eq!(s.created(&format!("syncsim-{APP}-db-0-")).len(), 1);
    // The readiness probe ran as an exec in db-0 and failed until the container was ready.
    let probes: Vec<_> = s
        .fake
        .calls()
        .into_iter()
        .filter(|c| c.op == Op::Exec && c.object.starts_with(&format!("syncsim-{APP}-db-0-")))
        .collect();
    assert!(probes.len() >= 3, "{probes:?}");
    assert!(probes
        .iter()
        .all(|c| c.detail.as_deref() == Some("test -f /tmp/ready")));
    let ready = until(Duration::from_secs(30), async || {
        s.status("db").await["readyReplicas"] == 2
    })
    .await;
    assert!(ready, "{}", s.status("db").await);
    // One volume per pod per template: `<template>-<sts>-<ordinal>`, mounted by that pod.
    let volumes: Vec<String> = s
        .fake
        .objects()
        .into_iter()
        .filter(|l| l.kind == ListedKind::Volume)
        .map(|l| l.name)
        .collect();
    let v0 = format!("syncsim-{APP}-{NS}-data-db-0");
    let v1 = format!("syncsim-{APP}-{NS}-data-db-1");
    assert_eq!(volumes, [v0.clone(), v1.clone()]);
    for (pod, volume) in [("db-0", &v0), ("db-1", &v1)] {
        let name = s.created(&format!("syncsim-{APP}-{pod}-"))[0].clone();
        let spec = s.fake.container_spec(&name).expect("spec");
        assert!(
            spec.mounts
                .iter()
                .any(|m| &m.volume == volume && m.target == "/data"),
            "{pod}: {:?}",
            spec.mounts
        );
    }
    s.teardown().await;
}

// ----- Deployments: restarts, readiness -----

#[tokio::test(start_paused = true)]
async fn crashing_pod_is_restarted_with_backoff_and_reports_crashloopbackoff_meanwhile() {
    let yaml = r#"apiVersion: v1
kind: Pod
metadata:
  name: crashy
spec:
  containers:
    - name: main
      image: busybox
      command: ["sh", "-c", "exit 1"]
"#;
    let name = format!("syncsim-{APP}-crashy-main");
    let fake =
        FakeRuntime::new().script_container(name.clone(), Script::exits(1, Duration::from_secs(1)));
    let s = sim(fake, yaml).await;
    let t0 = Instant::now();
    s.apply("crashy").await;
    let mut starts: Vec<Duration> = Vec::new();
    let mut saw_backoff = false;
    until(Duration::from_secs(12), async || {
        let n = s
            .fake
            .calls()
            .iter()
            .filter(|c| c.op == Op::Start && c.object == name)
            .count();
        while starts.len() < n {
            starts.push(t0.elapsed());
        }
        let st = s.status("crashy").await;
        let c = &st["containerStatuses"][0];
        if c["state"]["waiting"]["reason"] == "CrashLoopBackOff" {
            saw_backoff = true;
            assert_eq!(st["phase"], "Running", "{st}");
            assert_eq!(c["ready"], false, "{st}");
            assert_eq!(c["lastState"]["terminated"]["exitCode"], 1, "{st}");
        }
        false
    })
    .await;
    assert!(saw_backoff, "CrashLoopBackOff never reported");
    // Same container restarted (kubelet restarts in place): run 1 s, back off 1 s, 2 s, 4 s…
    assert_eq!(s.created(&name).len(), 1);
    assert!(starts.len() >= 3, "{starts:?}");
    let gap1 = starts[1] - starts[0];
    let gap2 = starts[2] - starts[1];
    assert!(gap1 >= Duration::from_secs(2), "{starts:?}");
    assert!(gap2 >= Duration::from_secs(3), "{starts:?}");
    assert!(gap2 > gap1, "exponential: {starts:?}");
    let st = s.status("crashy").await;
    assert!(
        st["containerStatuses"][0]["restartCount"].as_u64() >= Some(2),
        "{st}"
    );
    s.teardown().await;
}

#[tokio::test(start_paused = true)]
async fn crashing_deployment_is_restarted_and_never_ready() {
    let yaml = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
        - name: main
          image: busybox
          command: ["sh", "-c", "exit 1"]
"#;
    let prefix = format!("syncsim-{APP}-api-");
    let fake = FakeRuntime::new()
        .script_container(prefix.clone(), Script::exits(1, Duration::from_secs(1)));
    let s = sim(fake, yaml).await;
    s.apply("api").await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let starts = s
        .fake
        .calls()
        .iter()
        .filter(|c| c.op == Op::Start && c.object.starts_with(&prefix))
        .count();
    // Starts at 0 s, ~2 s, ~5 s (1 s run + 1 s, 2 s, 4 s backoff): 3 within 10 s, not more.
    assert_eq!(starts, 3);
    assert_eq!(s.created(&prefix).len(), 1, "restarted in place");
    let st = s.status("api").await;
    assert_eq!(st["readyReplicas"], 0, "{st}");
    assert_eq!(st["replicas"], 1, "{st}");
    s.teardown().await;
}

fn probed_deployment(name: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
        - name: main
          image: busybox
          command: ["sleep", "3600"]
          readinessProbe:
            exec:
              command: ["cat", "/tmp/healthy"]
            periodSeconds: 1
            failureThreshold: 1
"#
    )
}

#[tokio::test(start_paused = true)]
async fn exec_readiness_probe_follows_the_runtime_exec_result() {
    let fake = FakeRuntime::new()
        .with_exec_result(format!("syncsim-{APP}-good-"), 0)
        .with_exec_result(format!("syncsim-{APP}-bad-"), 1);
    let yaml = format!(
        "{}---\n{}",
        probed_deployment("good"),
        probed_deployment("bad")
    );
    let s = sim(fake, &yaml).await;
    s.apply("good").await;
    s.apply("bad").await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let good = s.status("good").await;
    assert_eq!(good["readyReplicas"], 2, "{good}");
    assert_eq!(good["availableReplicas"], 2, "{good}");
    let bad = s.status("bad").await;
    assert_eq!(bad["replicas"], 2, "{bad}");
    assert_eq!(bad["readyReplicas"], 0, "{bad}");
    // The probe command reached the runtime as an exec, at least once per period per pod
    // (syncsim probes faster than `periodSeconds`, see `cluster::probe`).
    let execs = s
        .fake
        .calls()
        .into_iter()
        .filter(|c| c.op == Op::Exec && c.object.starts_with(&format!("syncsim-{APP}-bad-")))
        .collect::<Vec<_>>();
    assert!(execs.len() >= 2 * 9, "{} execs: {execs:?}", execs.len());
    assert!(execs
        .iter()
        .all(|c| c.detail.as_deref() == Some("cat /tmp/healthy")));
    s.teardown().await;
}

// ----- delete, teardown, whole operation -----

#[tokio::test(start_paused = true)]
async fn deleting_an_object_removes_its_containers_and_teardown_removes_the_rest() {
    let fake = FakeRuntime::new().script_container(
        format!("syncsim-{APP}-once-"),
        Script::exits(0, Duration::from_secs(1)),
    );
    let yaml = format!(
        "{}---\n{}",
        job("once", "  backoffLimit: 0", "true"),
        probed_deployment("web")
    );
    let s = sim(fake, &yaml).await;
    s.apply("once").await;
    s.apply("web").await;
    assert!(
        until(Duration::from_secs(10), async || {
            condition(&s.status("once").await).is_some()
        })
        .await
    );
    s.cluster
        .delete(&s.task("once").key())
        .await
        .expect("delete");
    assert!(s.cluster.get(&s.task("once").key()).await.is_none());
    let left: Vec<String> = s.fake.objects().into_iter().map(|l| l.name).collect();
    assert!(
        !left
            .iter()
            .any(|n| n.starts_with(&format!("syncsim-{APP}-once-"))),
        "{left:?}"
    );
    assert_eq!(
        left.iter()
            .filter(|n| n.starts_with(&format!("syncsim-{APP}-web-")))
            .count(),
        2,
        "{left:?}"
    );
    s.teardown().await;
}

#[tokio::test(start_paused = true)]
async fn whole_operation_on_the_fake_runtime_succeeds_in_order_and_tears_down_cleanly() {
    let yaml = format!(
        "{}---\n{}---\n{}",
        job("migrate", "  backoffLimit: 1", "migrate").replace(
            "metadata:\n  name: migrate\n",
            "metadata:\n  name: migrate\n  annotations:\n    argocd.argoproj.io/hook: PostSync\n",
        ),
        probed_deployment("web"),
        r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  annotations:
    argocd.argoproj.io/sync-wave: "-1"
data:
  a: b
"#
    );
    let fake = FakeRuntime::new()
        .script_container(
            format!("syncsim-{APP}-migrate-"),
            Script::exits(0, Duration::from_secs(2)),
        )
        .script_container(
            format!("syncsim-{APP}-web-"),
            Script::default().ready_after(Duration::from_secs(4)),
        )
        .with_exec_result(format!("syncsim-{APP}-web-"), 0);
    let s = sim(fake, &yaml).await;
    let opts = EngineOptions {
        app: APP.into(),
        timeout: Duration::from_secs(120),
        ..EngineOptions::default()
    };
    let t0 = Instant::now();
    let report = engine::run(
        &s.plan,
        &s.cluster,
        &opts,
        &CancellationToken::new(),
        &mut |_| {},
    )
    .await;
    assert_eq!(report.outcome, Outcome::Succeeded, "{}", report.message);
    // The PostSync hook waited for the Deployment to be ready (4 s) and ran 2 s.
    assert!(t0.elapsed() >= Duration::from_secs(6), "{:?}", t0.elapsed());
    let creates: Vec<String> = s
        .fake
        .calls()
        .into_iter()
        .filter(|c| c.op == Op::Create)
        .map(|c| c.object)
        // Pods' sandboxes (started ahead, see src/cluster/kubelet/sandbox.rs) aside.
        .filter(|name| !name.starts_with(&format!("syncsim-{APP}-POD-")))
        .collect();
    assert_eq!(creates.len(), 3, "{creates:?}");
    assert!(
        creates[2].starts_with(&format!("syncsim-{APP}-migrate-")),
        "{creates:?}"
    );
    s.teardown().await;
}

#[tokio::test(start_paused = true)]
async fn detach_right_after_apply_leaves_the_pods_running() {
    // `sync --keep` when the operation did not wait for its last wave: detach comes right after
    // the apply, before the controllers have run.
    let yaml = format!(
        "{}---\n{}",
        probed_deployment("web"),
        job("seed", "  backoffLimit: 0", "true")
    );
    let s = sim(FakeRuntime::new(), &yaml).await;
    s.apply("web").await;
    s.apply("seed").await;
    s.cluster.detach(Duration::from_secs(30)).await;
    let web = s.running(&format!("syncsim-{APP}-web-")).await;
    assert_eq!(web.len(), 2, "{:?}", s.fake.objects());
    assert_eq!(s.running(&format!("syncsim-{APP}-seed-")).await.len(), 1);
    // Detached controllers do nothing more; the ledger still knows everything for teardown.
    let calls = s.fake.calls().len();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(s.fake.calls().len(), calls, "a controller still runs");
    s.teardown().await;
}

#[tokio::test(start_paused = true)]
async fn a_second_teardown_removes_what_the_first_could_not() {
    // The forced teardown after a second Ctrl-C, or a retry after an engine hiccup, must still
    // know every object the first teardown did not remove, from the ledger alone (here the sweep
    // by run label cannot list anything).
    let fake = FakeRuntime::new()
        .fail_op_times(Op::Remove, format!("syncsim-{APP}-web-"), 1)
        .fail_op_times(Op::RemoveNetwork, format!("syncsim-{APP}"), 1)
        .fail_op(Op::List, "");
    let s = sim(fake, &probed_deployment("web")).await;
    s.apply("web").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let first = s.cluster.teardown(Duration::ZERO).await;
    assert_eq!(first.containers, 1, "{first:?}");
    assert_eq!(first.errors.len(), 3, "{first:?}");
    assert_eq!(
        s.fake.objects().len(),
        2,
        "one container and the network left"
    );
    let second = s.cluster.teardown(Duration::ZERO).await;
    assert_eq!((second.containers, second.networks), (1, 1), "{second:?}");
    let left = s.fake.objects();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[tokio::test(start_paused = true)]
async fn job_with_restart_policy_on_failure_restarts_in_place_and_counts_toward_the_limit() {
    let prefix = format!("syncsim-{APP}-retry-");
    let fake = FakeRuntime::new()
        .script_container(prefix.clone(), Script::exits(2, Duration::from_secs(1)));
    let yaml = job("retry", "  backoffLimit: 2", "exit 2")
        .replace("restartPolicy: Never", "restartPolicy: OnFailure");
    let s = sim(fake, &yaml).await;
    s.apply("retry").await;
    let failed = until(Duration::from_secs(60), async || {
        condition(&s.status("retry").await).is_some()
    })
    .await;
    assert!(failed, "{}", s.status("retry").await);
    let st = s.status("retry").await;
    assert_eq!(
        condition(&st),
        Some(("Failed".into(), "BackoffLimitExceeded".into())),
        "{st}"
    );
    assert_eq!(st["failed"], 3, "{st}");
    assert_eq!(s.created(&prefix).len(), 1, "one pod, restarted in place");
    let starts = s
        .fake
        .calls()
        .iter()
        .filter(|c| c.op == Op::Start && c.object.starts_with(&prefix))
        .count();
    assert_eq!(starts, 3, "{st}");
    assert_eq!(s.running(&prefix).await, Vec::<String>::new());
    s.teardown().await;
}

#[tokio::test(start_paused = true)]
async fn deployment_recovers_from_a_transient_container_start_failure() {
    // E.g. a second container joining the first one's network namespace just as it restarts.
    let prefix = format!("syncsim-{APP}-web-");
    let fake = FakeRuntime::new()
        .with_exec_result(prefix.clone(), 0)
        .fail_op_times(Op::Start, prefix.clone(), 1);
    let yaml = probed_deployment("web").replace("replicas: 2", "replicas: 1");
    let s = sim(fake, &yaml).await;
    s.apply("web").await;
    let ready = until(Duration::from_secs(60), async || {
        s.status("web").await["readyReplicas"] == 1
    })
    .await;
    assert!(ready, "{} {:#?}", s.status("web").await, s.fake.call_log());
    // Retried once, after the back-off, in the same container.
    let starts = s
        .fake
        .calls()
        .iter()
        .filter(|c| c.op == Op::Start && c.object.starts_with(&prefix))
        .count();
    assert_eq!(starts, 2);
    assert_eq!(s.created(&prefix).len(), 1);
    s.teardown().await;
}
