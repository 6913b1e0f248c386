//! `syncsim sync` against the real Docker engine, on the busybox test image
//! (`compose/testimages/build.sh`). Each test uses its own app name and ends by checking that
//! nothing labelled with it is left.
mod common;

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use syncsim::{
    cluster::{ClusterOptions, DockerCluster},
    engine::{self, EngineOptions, OperationPhase, Outcome, RunEvent, SyncReport},
    manifest,
    plan::{self, Phase, PlanOptions},
    runtime::{
        docker::DockerRuntime, ContainerRuntime, ListedKind, LABEL_APP, LABEL_MANAGED_BY,
        MANAGED_BY_VALUE,
    },
};
use tokio_util::sync::CancellationToken;

const SMALL: &str = include_str!("fixtures/sync/small.yaml");

/// Replaces documents of `SMALL` by name with `patch(name, doc)`.
fn small_with(edit: impl Fn(&str) -> Option<String>) -> String {
    SMALL
        .split("\n---\n")
        .map(|doc| edit(doc).unwrap_or_else(|| doc.to_string()))
        .collect::<Vec<_>>()
        .join("\n---\n")
}

struct Run {
    report: SyncReport,
    leftovers: usize,
    /// The pod sandboxes seen during the run.
    sandboxes: BTreeSet<String>,
    /// When each sandbox was first seen (looked for every 100 ms).
    sandboxes_seen: BTreeMap<String, Instant>,
    /// When each step started.
    steps_started: Vec<((Phase, i64), Instant)>,
    /// The containers seen with ports published on the host during the run.
    published: BTreeSet<String>,
    /// Whether the runtime reached the containers' addresses on the app's network.
    reached: bool,
}

impl Run {
    /// The sync succeeded and left nothing behind.
    fn assert_succeeded_cleanly(&self) {
        assert_eq!(
            self.report.outcome,
            Outcome::Succeeded,
            "{}",
            self.report.message
        );
        assert_eq!(self.leftovers, 0);
    }
}

/// The Docker engine, as if the machine always had spare CPU: what may be done ahead is.
async fn docker_with_room() -> DockerRuntime {
    DockerRuntime::connect()
        .await
        .expect("docker")
        .assume_spare_cpu()
}

async fn sync_yaml(app: &str, yaml: &str, timeout: Duration) -> Run {
    let rt = DockerRuntime::connect().await.expect("docker");
    sync_yaml_on(rt, app, yaml, timeout).await
}

/// Syncs `yaml` on `rt`, watching what the run creates.
async fn sync_yaml_on(rt: DockerRuntime, app: &str, yaml: &str, timeout: Duration) -> Run {
    sync_yaml_with(rt, app, yaml, timeout, |_| {}).await
}

/// [`sync_yaml_on`] with the cluster's options edited by `edit`.
async fn sync_yaml_with(
    rt: DockerRuntime,
    app: &str,
    yaml: &str,
    timeout: Duration,
    edit: impl FnOnce(&mut ClusterOptions),
) -> Run {
    common::ensure_test_image();
    let objects = manifest::from_yaml_str(yaml, "small.yaml").expect("fixture parses");
    let plan = plan::build(
        &objects,
        &PlanOptions {
            dest_namespace: "demo".into(),
            ..PlanOptions::default()
        },
    )
    .expect("plan");
    let rt: Arc<dyn ContainerRuntime> = Arc::new(rt);
    let mut opts = ClusterOptions {
        app: app.into(),
        job_backoff_base: Duration::from_millis(200),
        ..ClusterOptions::default()
    };
    edit(&mut opts);
    let cluster = DockerCluster::new(rt.clone(), opts, &objects)
        .await
        .expect("network");
    let eopts = EngineOptions {
        app: app.into(),
        timeout,
        ..EngineOptions::default()
    };
    let labels = [
        (LABEL_MANAGED_BY.to_string(), MANAGED_BY_VALUE.to_string()),
        (LABEL_APP.to_string(), app.to_string()),
    ];
    let reached = rt.reaches_network(cluster.network()).await;
    let done = CancellationToken::new();
    let watch = async {
        let (mut sandboxes, mut published) = (BTreeSet::new(), BTreeSet::new());
        let mut seen = BTreeMap::new();
        while !done.is_cancelled() {
            for l in rt.list_labelled(&labels).await.unwrap_or_default() {
                if l.name.starts_with(&format!("syncsim-{app}-POD-")) {
                    sandboxes.insert(l.name.clone());
                    seen.entry(l.name.clone()).or_insert_with(Instant::now);
                }
                if l.kind == ListedKind::Container {
                    if let Ok(st) = rt.inspect_container(&l.id).await {
                        if !st.host_ports.is_empty() {
                            published.insert(l.name);
                        }
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        (sandboxes, published, seen)
    };
    let steps_started = Mutex::new(Vec::new());
    let run = async {
        let report = engine::run(
            &plan,
            &cluster,
            &eopts,
            &CancellationToken::new(),
            &mut |e| {
                if let RunEvent::StepStarted { phase, wave, .. } = &e {
                    let mut steps = steps_started.lock().expect("steps");
                    steps.push(((*phase, *wave), Instant::now()));
                }
                eprintln!("{e:?}")
            },
        )
        .await;
        done.cancel();
        report
    };
    let (report, (sandboxes, published, sandboxes_seen)) = tokio::join!(run, watch);
    let t = cluster.teardown(Duration::ZERO).await;
    assert!(t.errors.is_empty(), "teardown errors: {:?}", t.errors);
    let leftovers = rt.list_labelled(&labels).await.expect("list").len();
    Run {
        report,
        leftovers,
        sandboxes,
        sandboxes_seen,
        steps_started: steps_started.into_inner().expect("steps"),
        published,
        reached,
    }
}

fn task<'a>(r: &'a SyncReport, name: &str) -> &'a engine::TaskRun {
    r.tasks
        .iter()
        .find(|t| t.task.name() == name)
        .unwrap_or_else(|| panic!("no task {name}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs docker"]
async fn small_app_syncs_in_argo_order_and_hooks_reach_services_configmaps_and_secrets() {
    let run = sync_yaml("t-small-ok", SMALL, Duration::from_secs(120)).await;
    let r = &run.report;
    assert_eq!(r.outcome, Outcome::Succeeded, "{}", r.message);
    assert_eq!(r.message, "successfully synced (no more tasks)");
    // Applied order: PreSync, Sync w0 (ConfigMap, Secret, Service, Deployment), Sync w1, PostSync 0, 1.
    let mut applied: Vec<(&str, std::time::Duration)> = r
        .tasks
        .iter()
        .filter_map(|t| Some((t.task.name(), t.applied_at?)))
        .collect();
    applied.sort_by_key(|(_, at)| *at);
    let names: Vec<&str> = applied.iter().map(|(n, _)| *n).collect();
    assert_eq!(names.first(), Some(&"precheck"));
    assert_eq!(&names[names.len() - 2..], ["fetch", "after"]);
    // The slow Deployment (ready after 2 s) held back PostSync.
    let slow = task(r, "slow");
    let fetch = task(r, "fetch");
    assert!(fetch.applied_at.unwrap() >= slow.applied_at.unwrap() + Duration::from_secs(2));
    // The hook reached `web` by Service name and got ConfigMap/Secret env; the secret value
    // itself never shows up in a report.
    assert_eq!(fetch.hook_phase, Some(OperationPhase::Succeeded));
    assert_eq!(
        task(r, "notify").result,
        None,
        "SyncFail hook must not run on success"
    );
    assert_eq!(
        fetch.deleted_by,
        Some(syncsim::plan::DeletePolicy::HookSucceeded)
    );
    let json = syncsim::report::to_json(r).to_string();
    assert!(!json.contains("s3cr3t-value"));
    // Where this machine reaches the pods' addresses (a local engine's bridge), the probes
    // dial them and nothing is published on the host; elsewhere every probed port is.
    assert_eq!(run.published.is_empty(), run.reached, "{:?}", run.published);
    assert_eq!(run.leftovers, 0);
}

/// With every probed port published on the engine's 127.0.0.1 (as with an engine whose
/// containers this machine cannot reach), the httpGet probe goes through Docker's proxy and
/// the sync is the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs docker"]
async fn the_small_app_syncs_the_same_when_its_probes_go_through_published_ports() {
    let rt = DockerRuntime::connect()
        .await
        .expect("docker")
        .publish_ports();
    let run = sync_yaml_on(rt, "t-small-published", SMALL, Duration::from_secs(120)).await;
    let r = &run.report;
    assert_eq!(r.outcome, Outcome::Succeeded, "{}", r.message);
    assert_eq!(task(r, "fetch").hook_phase, Some(OperationPhase::Succeeded));
    assert!(!run.reached);
    assert!(
        run.published.iter().any(|n| n.contains("-web-")),
        "the web pod's probed port is published: {:?}",
        run.published
    );
    assert_eq!(run.leftovers, 0);
}

/// A pod's containers share one network namespace, so a probe on the second container dials
/// the pod's address, as the kubelet dials the pod IP for every container
/// (pkg/kubelet/prober/prober.go takes `status.PodIP`). The pod gets a sandbox holding that
/// address; without one (its image unavailable) the second container joins the first one's
/// namespace and Docker gives it no address of its own. Either way it must become Ready, with
/// its port reached directly or published. (A short progress deadline makes a pod that never
/// turns Ready fail the sync in 30 s.)
const TWO_CONTAINERS: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: two
spec:
  replicas: 1
  progressDeadlineSeconds: 30
  selector:
    matchLabels: {app: two}
  template:
    metadata:
      labels: {app: two}
    spec:
      containers:
        - name: main
          image: syncsim-test/busybox:1
          command: ["sleep", "3600"]
        - name: side
          image: syncsim-test/busybox:1
          command: ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8081 -h /www"]
          readinessProbe:
            httpGet: {path: /, port: 8081}
            periodSeconds: 1
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: after
  annotations:
    argocd.argoproj.io/sync-wave: "1"
data: {k: v}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs docker"]
async fn a_probe_on_a_pods_second_container_reaches_it_at_the_pods_address() {
    let run = sync_yaml("t-two-ctrs", TWO_CONTAINERS, Duration::from_secs(60)).await;
    run.assert_succeeded_cleanly();
    assert!(
        run.sandboxes.iter().any(|n| n.contains("-POD-two-")),
        "{:?}",
        run.sandboxes
    );
    let rt = DockerRuntime::connect()
        .await
        .expect("docker")
        .publish_ports();
    let run = sync_yaml_on(
        rt,
        "t-two-ctrs-pub",
        TWO_CONTAINERS,
        Duration::from_secs(60),
    )
    .await;
    run.assert_succeeded_cleanly();
    assert!(
        run.published.iter().any(|n| n.contains("-two-")),
        "the second container's probed port is published on the sandbox: {:?}",
        run.published
    );
    let rt = DockerRuntime::connect().await.expect("docker");
    let run = sync_yaml_with(
        rt,
        "t-two-ctrs-first",
        TWO_CONTAINERS,
        Duration::from_secs(60),
        |o| o.service_proxy_image = "syncsim-test/absent:1".into(),
    )
    .await;
    run.assert_succeeded_cleanly();
    assert!(run.sandboxes.is_empty(), "{:?}", run.sandboxes);
}

/// On a cluster a container's restart leaves its pod's network alone: the sandbox (pause
/// container) holds it, so a sidecar keeps its address while the main container crashes and
/// comes back (pkg/kubelet/kuberuntime/kuberuntime_manager.go restarts a container inside the
/// existing sandbox). Here `main` exits 1 on its first start, then runs and turns Ready; `side`
/// serves its port throughout, and a PostSync hook reaches it through a Service once the
/// Deployment is Healthy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs docker"]
async fn a_sidecar_keeps_the_pods_network_while_the_first_container_restarts() {
    let yaml = TWO_CONTAINERS.replace(
        r#"command: ["sleep", "3600"]"#,
        r#"command: ["sh", "-c", "if [ -e /tmp/started ]; then touch /tmp/ok; exec sleep 3600; fi; touch /tmp/started; sleep 1; exit 1"]
          readinessProbe:
            exec: {command: ["test", "-e", "/tmp/ok"]}
            periodSeconds: 1"#,
    ) + r#"---
apiVersion: v1
kind: Service
metadata:
  name: two
spec:
  selector: {app: two}
  ports: [{port: 8081, targetPort: 8081}]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: fetch
  annotations:
    argocd.argoproj.io/hook: PostSync
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: fetch
          image: syncsim-test/busybox:1
          command: ["sh", "-c", "wget -qO- http://two:8081/ | grep ok"]
"#;
    let run = sync_yaml("t-two-restart", &yaml, Duration::from_secs(60)).await;
    run.assert_succeeded_cleanly();
    assert_eq!(
        task(&run.report, "fetch").hook_phase,
        Some(OperationPhase::Succeeded)
    );
}

/// Pods whose sandboxes start ahead (`src/cluster/kubelet/sandbox.rs`) are reached the same
/// way: the httpGet probe at the sandbox's address (or its published port), the Service through
/// the sandbox's address, the hook's `wget` from a pod in a sandbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs docker"]
async fn the_small_app_syncs_the_same_when_its_pods_get_sandboxes_started_ahead() {
    let rt = docker_with_room().await;
    let app = "t-small-sandbox";
    // The ConfigMap and Secret a wave earlier, so that `web` can be prepared while they are.
    let yaml = small_with(|doc| {
        let earlier = |name: &str| {
            doc.replacen(
                &format!("  name: {name}\n"),
                &format!(
                    "  name: {name}\n  annotations:\n    argocd.argoproj.io/sync-wave: \"-1\"\n"
                ),
                1,
            )
        };
        if doc.contains("kind: ConfigMap") {
            Some(earlier("web-content"))
        } else if doc.contains("kind: Secret") {
            Some(earlier("web-secret"))
        } else {
            None
        }
    });
    let run = sync_yaml_on(rt, app, &yaml, Duration::from_secs(120)).await;
    let sandboxes = &run.sandboxes;
    let r = &run.report;
    assert_eq!(r.outcome, Outcome::Succeeded, "{}", r.message);
    assert_eq!(task(r, "fetch").hook_phase, Some(OperationPhase::Succeeded));
    // The web pod (httpGet readiness probe, behind a Service) and the PostSync hooks had one.
    let owners: BTreeSet<&str> = sandboxes
        .iter()
        .filter_map(|n| n.strip_prefix(&format!("syncsim-{app}-POD-")))
        .filter_map(|pod| pod.split('-').next())
        .collect();
    assert!(
        ["web", "fetch", "after"].iter().all(|p| owners.contains(p)),
        "{sandboxes:?}"
    );
    assert_eq!(run.leftovers, 0);
}

/// A later step's pod is prepared while an earlier step is waited for
/// (`src/cluster/kubelet/prepared.rs`): the sandbox of the PostSync wave 1 Job runs before the
/// PostSync wave 0 step starts, two steps ahead, and the sync is the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs docker"]
async fn a_later_steps_job_gets_its_sandbox_while_an_earlier_step_is_waited_for() {
    let rt = docker_with_room().await;
    let app = "t-later-ahead";
    let job = |name: &str, wave| {
        common::post_sync_job(name, wave, "syncsim-test/busybox:1", r#"["true"]"#)
    };
    // Ready 3 s after its start: time for the Jobs to be prepared.
    let slow = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: slow
spec:
  replicas: 1
  selector:
    matchLabels: {app: slow}
  template:
    metadata:
      labels: {app: slow}
    spec:
      containers:
        - name: main
          image: syncsim-test/busybox:1
          command: ["sh", "-c", "sleep 3; touch /tmp/ready; exec sleep 3600"]
          readinessProbe:
            exec: {command: ["test", "-f", "/tmp/ready"]}
"#;
    let yaml = format!("{slow}---\n{}---\n{}", job("first", 0), job("second", 1));
    let run = sync_yaml_on(rt, app, &yaml, Duration::from_secs(60)).await;
    run.assert_succeeded_cleanly();
    let started = |wave: i64| {
        run.steps_started
            .iter()
            .find(|(step, _)| *step == (Phase::PostSync, wave))
            .map(|(_, at)| *at)
            .unwrap_or_else(|| panic!("no PostSync {wave} step: {:?}", run.steps_started))
    };
    let seen = |job: &str| {
        run.sandboxes_seen
            .iter()
            .find(|(name, _)| name.starts_with(&format!("syncsim-{app}-POD-{job}-")))
            .map(|(_, at)| *at)
            .unwrap_or_else(|| panic!("no sandbox for {job}: {:?}", run.sandboxes))
    };
    assert!(
        seen("second") < started(0),
        "{run:?}",
        run = run.sandboxes_seen
    );
    assert!(seen("first") < started(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs docker"]
async fn failing_postsync_job_fails_sync_runs_syncfail_hook_and_keeps_succeeded_hooks() {
    const FAILING_FETCH: &str = r#"apiVersion: batch/v1
kind: Job
metadata:
  name: fetch
  annotations:
    argocd.argoproj.io/hook: PostSync
    argocd.argoproj.io/hook-delete-policy: HookSucceeded
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: syncsim-test/busybox:1
          command: ["sh", "-c", "echo migrating; echo 'ERROR: relation exists' >&2; exit 3"]"#;
    let yaml = small_with(|doc| {
        doc.contains("  name: fetch\n")
            .then(|| FAILING_FETCH.to_string())
    });
    let run = sync_yaml("t-small-fail", &yaml, Duration::from_secs(120)).await;
    let r = &run.report;
    assert_eq!(r.outcome, Outcome::Failed, "{}", r.message);
    assert_eq!(
        r.message,
        "one or more synchronization tasks completed unsuccessfully"
    );
    let fetch = task(r, "fetch");
    assert_eq!(fetch.hook_phase, Some(OperationPhase::Failed));
    assert!(fetch.message.contains("backoff limit"), "{}", fetch.message);
    assert!(
        fetch
            .log_tail
            .iter()
            .any(|l| l.contains("ERROR: relation exists")),
        "{:?}",
        fetch.log_tail
    );
    assert_eq!(
        task(r, "after").result,
        None,
        "the next PostSync wave never starts"
    );
    assert_eq!(
        task(r, "notify").hook_phase,
        Some(OperationPhase::Succeeded),
        "SyncFail hook ran"
    );
    // HookSucceeded hooks are not deleted when the operation fails (#27506).
    assert_eq!(task(r, "precheck").deleted_by, None);
    assert_eq!(run.leftovers, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs docker"]
async fn job_is_retried_up_to_backoff_limit_with_a_new_container_each_time() {
    let yaml = r#"
apiVersion: batch/v1
kind: Job
metadata:
  name: flaky
  annotations:
    argocd.argoproj.io/hook: PostSync
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: syncsim-test/busybox:1
          command: ["sh", "-c", "echo attempt on $(hostname); exit 1"]
"#;
    let run = sync_yaml("t-backoff", yaml, Duration::from_secs(60)).await;
    let r = &run.report;
    assert_eq!(r.outcome, Outcome::Failed);
    let flaky = task(r, "flaky");
    let live_failed = flaky.message.clone();
    assert!(live_failed.contains("backoff limit"), "{live_failed}");
    assert_eq!(run.leftovers, 0);
}

/// An image that can be neither found nor pulled: on a cluster the pod stays Pending with
/// `ImagePullBackOff` (pkg/kubelet/images/types.go) and Argo CD waits until the operation is
/// terminated. It used to fail the dry run with a message Argo CD never prints (issue #9).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs docker"]
async fn missing_image_keeps_its_pod_pending_and_the_operation_running() {
    let yaml = small_with(|doc| {
        doc.contains("name: after")
            .then(|| doc.replace("syncsim-test/busybox:1", "ghcr.io/example/missing:9.9"))
    });
    let run = sync_yaml("t-missing-image", &yaml, Duration::from_secs(20)).await;
    let r = &run.report;
    assert!(
        matches!(r.outcome, Outcome::TimedOut { .. }),
        "{:?}: {}",
        r.outcome,
        r.message
    );
    assert!(
        !r.message.contains("dry run"),
        "no dry-run failure: {}",
        r.message
    );
    assert!(r
        .tasks
        .iter()
        .filter(|t| t.task.phase == Phase::SyncFail)
        .all(|t| t.result.is_none()));
    assert_eq!(run.leftovers, 0);
}
