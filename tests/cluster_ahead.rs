//! Containers created ahead of their step (`src/cluster/kubelet/prepared.rs`), on the scripted
//! in-memory runtime with paused time: the next step's pods get their containers created (never
//! started) while the current step is waited for, under the names their pods will have; a pod
//! takes its prepared container only when nothing changed since; nothing prepared outlives the
//! run or a kept environment. Pods with generated names also get their sandbox (`…-POD-<pod>`, the
//! pod's network) started ahead when the machine has spare CPU (`kubelet/sandbox.rs`).
mod common;
#[path = "common/fake_cluster.rs"]
mod fake_cluster;

use fake_cluster::{cluster, plan_of, APP};
use std::{sync::Arc, time::Duration};
use syncsim::{
    cluster::DockerCluster,
    engine::{self, Cluster, EngineOptions, Outcome},
    plan::{Plan, Task},
    runtime::{
        fake::{FakeRuntime, Op, Script},
        ContainerRuntime, ContainerStatus, ListedKind, NetworkAttachment,
    },
};
use tokio_util::sync::CancellationToken;

fn task<'a>(plan: &'a Plan, name: &str) -> &'a Task {
    plan.tasks()
        .find(|t| t.name() == name)
        .unwrap_or_else(|| panic!("no task {name}"))
}

async fn apply(cluster: &DockerCluster, task: &Task) {
    cluster.dry_run(task).await.expect("dry run");
    cluster.apply(task).await.expect("apply");
}

/// Whether a container is a pod's sandbox.
fn is_sandbox(name: &str) -> bool {
    name.starts_with(&format!("syncsim-{APP}-POD-"))
}

/// The sandboxes' name prefix for pods' containers named `prefix…`.
fn sandbox_prefix(prefix: &str) -> String {
    prefix.replacen(
        &format!("syncsim-{APP}-"),
        &format!("syncsim-{APP}-POD-"),
        1,
    )
}

/// Names of the calls `op` on containers named `prefix…` (sandboxes aside), in order.
fn calls(fake: &FakeRuntime, op: Op, prefix: &str) -> Vec<String> {
    fake.calls()
        .into_iter()
        .filter(|c| c.op == op && c.object.starts_with(prefix) && !is_sandbox(&c.object))
        .map(|c| c.object)
        .collect()
}

/// Containers named `prefix…` that exist now (sandboxes aside), with whether they run.
async fn containers(fake: &FakeRuntime, prefix: &str) -> Vec<(String, bool)> {
    listed(fake, prefix, false).await
}

/// The sandboxes named `prefix…` that exist now, with whether they run.
async fn sandboxes(fake: &FakeRuntime, prefix: &str) -> Vec<(String, bool)> {
    listed(fake, &sandbox_prefix(prefix), true).await
}

async fn listed(fake: &FakeRuntime, prefix: &str, sandbox: bool) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for l in fake.objects() {
        if l.kind == ListedKind::Container
            && l.name.starts_with(prefix)
            && is_sandbox(&l.name) == sandbox
        {
            let st = fake.inspect_container(&l.id).await.expect("inspect");
            out.push((l.name, st.status == ContainerStatus::Running));
        }
    }
    out.sort();
    out
}

fn settings(value: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  annotations:
    argocd.argoproj.io/sync-wave: "-1"
data:
  greeting: {value}
"#
    )
}

const WEB: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: main
          image: busybox
          command: ["sleep", "3600"]
          env:
            - name: GREETING
              valueFrom:
                configMapKeyRef: {name: settings, key: greeting}
"#;

/// [`WEB`] with an exec readiness probe.
fn web_with_readiness() -> String {
    WEB.replace(
        "          env:",
        "          readinessProbe:\n            exec: {command: [\"true\"]}\n          env:",
    )
}

/// The operation of `plan` on `cluster` (2 minutes at most).
async fn run(plan: &Plan, cluster: &DockerCluster) -> syncsim::engine::SyncReport {
    let opts = EngineOptions {
        app: APP.into(),
        timeout: Duration::from_secs(120),
        ..EngineOptions::default()
    };
    engine::run(plan, cluster, &opts, &CancellationToken::new(), &mut |_| {}).await
}

fn web_prefix() -> String {
    format!("syncsim-{APP}-web-")
}

async fn teardown_leaves_nothing(cluster: &DockerCluster, fake: &FakeRuntime) {
    let t = cluster.teardown(Duration::ZERO).await;
    assert!(t.errors.is_empty(), "teardown errors: {:?}", t.errors);
    let left = fake.objects();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// A cluster with `settings` applied and `web` announced as the next step, 2 s later.
async fn web_prepared(
    objects: &[syncsim::manifest::Object],
    plan: &Plan,
) -> (Arc<FakeRuntime>, DockerCluster) {
    web_prepared_on(FakeRuntime::new(), objects, plan).await
}

/// [`web_prepared`] on a machine whose CPUs are busy, with the plan.
async fn web_prepared_busy() -> (Plan, Arc<FakeRuntime>, DockerCluster) {
    let (objects, plan) = plan_of(&format!("{}---\n{WEB}", settings("hello")));
    let (fake, cluster) =
        web_prepared_on(FakeRuntime::new().with_busy_cpu(), &objects, &plan).await;
    (plan, fake, cluster)
}

async fn web_prepared_on(
    fake: FakeRuntime,
    objects: &[syncsim::manifest::Object],
    plan: &Plan,
) -> (Arc<FakeRuntime>, DockerCluster) {
    let fake = Arc::new(fake);
    let cluster = cluster(&fake, objects).await;
    apply(&cluster, task(plan, "settings")).await;
    cluster.step_applied(&[vec![task(plan, "web")]]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    (fake, cluster)
}

#[tokio::test(start_paused = true)]
async fn the_next_steps_pods_are_created_ahead_never_started_and_taken_when_their_step_applies() {
    let (objects, plan) = plan_of(&format!("{}---\n{WEB}", settings("hello")));
    let (fake, cluster) = web_prepared(&objects, &plan).await;
    // Created under the Deployment's pod names, not started: invisible until the step applies.
    let ahead = containers(&fake, &web_prefix()).await;
    assert_eq!(ahead.len(), 2, "{ahead:?}");
    assert!(ahead.iter().all(|(_, running)| !running), "{ahead:?}");
    assert!(calls(&fake, Op::Start, &web_prefix()).is_empty());
    // Their sandboxes run: they hold the pods' network (a generated pod name resolves for no
    // one who could not know it) and run nothing of the app.
    let boxes = sandboxes(&fake, &web_prefix()).await;
    assert_eq!(boxes.len(), 2, "{boxes:?}");
    assert!(boxes.iter().all(|(_, running)| *running), "{boxes:?}");
    for (name, _) in &ahead {
        let spec = fake.container_spec(name).expect("spec");
        let owner = sandbox_prefix(name.trim_end_matches("main"));
        let owner = owner.trim_end_matches('-');
        let sandbox = fake.container_spec(owner).expect("its sandbox");
        assert!(
            matches!(&spec.network, NetworkAttachment::Container { id } if fake.container_spec(id) == Some(sandbox.clone())),
            "{name} joins {owner}: {:?}",
            spec.network
        );
        assert_eq!(spec.hostname, None);
        assert!(spec.ports.is_empty());
        let pod = owner.trim_start_matches(&format!("syncsim-{APP}-POD-"));
        assert_eq!(sandbox.hostname.as_deref(), Some(pod));
        assert!(
            matches!(&sandbox.network, NetworkAttachment::Network { aliases, .. } if aliases == &[pod.to_string()]),
            "{:?}",
            sandbox.network
        );
        assert!(sandbox.env.is_empty() && sandbox.files.is_empty() && sandbox.mounts.is_empty());
    }

    apply(&cluster, task(&plan, "web")).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        sandboxes(&fake, &web_prefix()).await,
        boxes,
        "the same sandboxes"
    );
    let started = containers(&fake, &web_prefix()).await;
    assert_eq!(
        started,
        ahead
            .iter()
            .map(|(n, _)| (n.clone(), true))
            .collect::<Vec<_>>(),
        "the pods took the containers created ahead"
    );
    assert_eq!(
        calls(&fake, Op::Create, &web_prefix()).len(),
        2,
        "no second create"
    );
    let spec = fake.container_spec(&started[0].0).expect("spec");
    assert!(spec.env.contains(&("GREETING".into(), "hello".into())));
    teardown_leaves_nothing(&cluster, &fake).await;
}

#[tokio::test(start_paused = true)]
async fn a_container_created_before_its_configmap_changed_is_replaced_by_one_that_sees_the_change()
{
    let (objects, plan) = plan_of(&format!("{}---\n{WEB}", settings("hello")));
    let (_, changed) = plan_of(&format!("{}---\n{WEB}", settings("bonjour")));
    let (fake, cluster) = web_prepared(&objects, &plan).await;
    let ahead = containers(&fake, &web_prefix()).await;
    assert_eq!(ahead.len(), 2, "{ahead:?}");

    // The ConfigMap changes after the containers were created: a pod sees the ConfigMap as it
    // is when the pod starts (what the kubelet reads), so the prepared containers are stale.
    apply(&cluster, task(&changed, "settings")).await;
    apply(&cluster, task(&plan, "web")).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let started = containers(&fake, &web_prefix()).await;
    assert_eq!(started.len(), 2, "{started:?}");
    assert!(started.iter().all(|(_, running)| *running), "{started:?}");
    for (name, _) in &started {
        let spec = fake.container_spec(name).expect("spec");
        assert!(
            spec.env.contains(&("GREETING".into(), "bonjour".into())),
            "{name}: {:?}",
            spec.env
        );
    }
    assert_eq!(
        calls(&fake, Op::Remove, &web_prefix()).len(),
        2,
        "stale ones removed"
    );
    teardown_leaves_nothing(&cluster, &fake).await;
}

#[tokio::test(start_paused = true)]
async fn containers_created_ahead_for_a_step_that_never_comes_are_not_kept_and_not_leaked() {
    let (objects, plan) = plan_of(&format!("{}---\n{WEB}", settings("hello")));
    // A kept environment (`--keep`) holds only what its pods run.
    let fake = Arc::new(FakeRuntime::new());
    let kept = cluster(&fake, &objects).await;
    apply(&kept, task(&plan, "settings")).await;
    kept.step_applied(&[vec![task(&plan, "web")]]).await;
    kept.detach(Duration::from_secs(5)).await;
    assert_eq!(containers(&fake, &web_prefix()).await, vec![]);
    assert_eq!(sandboxes(&fake, &web_prefix()).await, vec![]);
    assert!(kept.snapshot().iter().all(|o| o.pods.is_empty()));
    teardown_leaves_nothing(&kept, &fake).await;

    // Teardown right after the step applied: the creates still in flight are awaited and
    // removed with the rest.
    let fake = Arc::new(FakeRuntime::new());
    let torn = cluster(&fake, &objects).await;
    apply(&torn, task(&plan, "settings")).await;
    torn.step_applied(&[vec![task(&plan, "web")]]).await;
    teardown_leaves_nothing(&torn, &fake).await;
}

#[tokio::test(start_paused = true)]
async fn a_teardown_cut_short_by_a_second_ctrl_c_still_waits_for_the_creates_ahead_in_flight() {
    // The engine is slow: each create ahead takes 2 s. A graceful teardown begins while they
    // are in flight and is dropped 100 ms later for a forced one (what a second Ctrl-C does,
    // `rehearsal/env.rs`). The forced one must still wait for them, or a container created
    // after its sweep is left behind (seen in CI: `interrupts.rs`, SIGINT twice).
    let (objects, plan) = plan_of(&format!("{}---\n{WEB}", settings("hello")));
    let fake = Arc::new(FakeRuntime::new().with_slow_create(web_prefix(), Duration::from_secs(2)));
    let cluster = cluster(&fake, &objects).await;
    apply(&cluster, task(&plan, "settings")).await;
    cluster.step_applied(&[vec![task(&plan, "web")]]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        containers(&fake, &web_prefix()).await.is_empty(),
        "the creates are still in flight"
    );
    tokio::select! {
        _ = cluster.teardown(Duration::from_secs(10)) => panic!("the graceful teardown ended"),
        () = tokio::time::sleep(Duration::from_millis(100)) => {}
    }
    teardown_leaves_nothing(&cluster, &fake).await;
    // Nothing tries to create anything once the teardown returned (on Docker, a create that
    // lands between the sweep's listing and its removals is left behind).
    let seen = fake.calls().len();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let late: Vec<_> = fake.calls()[seen..]
        .iter()
        .filter(|c| c.op == Op::Create)
        .cloned()
        .collect();
    assert!(late.is_empty(), "created after teardown: {late:?}");
    let left = fake.objects();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[tokio::test(start_paused = true)]
async fn a_posts_sync_job_is_created_while_sync_is_waited_for_and_started_only_once_it_is_healthy()
{
    let web = web_with_readiness();
    let (objects, plan) = plan_of(&format!("{}---\n{web}---\n{}", settings("hi"), migrate()));
    let fake = Arc::new(
        FakeRuntime::new()
            .script_container(
                format!("syncsim-{APP}-migrate-"),
                Script::exits(0, Duration::from_secs(1)),
            )
            .script_container(
                web_prefix(),
                Script::default().ready_after(Duration::from_secs(4)),
            )
            .with_exec_result(web_prefix(), 0),
    );
    let cluster = cluster(&fake, &objects).await;
    let job = format!("syncsim-{APP}-migrate-");
    let run = run(&plan, &cluster);
    // While the Sync wave is waited for (web is Ready after 4 s), the PostSync Job's container
    // exists, created ahead, and does not run.
    let during = async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        containers(&fake, &job).await
    };
    let (report, during) = tokio::join!(run, during);
    assert_eq!(report.outcome, Outcome::Succeeded, "{}", report.message);
    assert_eq!(during.len(), 1, "{during:?}");
    assert!(!during[0].1, "started before Sync was healthy: {during:?}");
    // The Job's pod took it: one create, and it ran (the hook succeeded).
    assert_eq!(calls(&fake, Op::Create, &job), vec![during[0].0.clone()]);
    assert_eq!(calls(&fake, Op::Start, &job), vec![during[0].0.clone()]);
    // Its sandbox was started ahead too, and stopped once the pod finished, as the kubelet
    // stops a finished pod's sandbox.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let boxes = sandboxes(&fake, &job).await;
    assert_eq!(boxes.len(), 1, "{boxes:?}");
    assert!(!boxes[0].1, "still running: {boxes:?}");
    teardown_leaves_nothing(&cluster, &fake).await;
}

/// `web` (wave 0) and `api` (wave 1), each Ready 4 s after it starts, then the PostSync Job
/// `migrate` (1 s), on `fake`; the run and what exists of `migrate` 3 s into each Sync wave.
async fn three_steps_on(fake: FakeRuntime) -> (Arc<FakeRuntime>, DockerCluster, [Listing; 2]) {
    three_steps(fake, &migrate(), "").await
}

/// The PostSync Job of [`three_steps_on`].
fn migrate() -> String {
    common::post_sync_job("migrate", 0, "busybox", r#"["migrate"]"#)
}

/// [`three_steps_on`] with `migrate` as the Job and `extra` among the objects.
async fn three_steps(
    fake: FakeRuntime,
    migrate: &str,
    extra: &str,
) -> (Arc<FakeRuntime>, DockerCluster, [Listing; 2]) {
    let web = web_with_readiness();
    let api = web.replace("web", "api").replace(
        "  name: api\n",
        "  name: api\n  annotations:\n    argocd.argoproj.io/sync-wave: \"1\"\n",
    );
    let (objects, plan) = plan_of(&format!(
        "{}---\n{web}---\n{api}---\n{migrate}{extra}",
        settings("hi")
    ));
    let ready_after_4s = || Script::default().ready_after(Duration::from_secs(4));
    let api_prefix = format!("syncsim-{APP}-api-");
    let fake = Arc::new(
        fake.script_container(
            format!("syncsim-{APP}-migrate-"),
            Script::exits(0, Duration::from_secs(1)),
        )
        .script_container(web_prefix(), ready_after_4s())
        .script_container(api_prefix.clone(), ready_after_4s())
        .with_exec_result(web_prefix(), 0)
        .with_exec_result(api_prefix, 0),
    );
    let cluster = cluster(&fake, &objects).await;
    let job = format!("syncsim-{APP}-migrate-");
    let run = run(&plan, &cluster);
    let during = async {
        let mut seen = Vec::new();
        for _ in 0..2 {
            tokio::time::sleep(Duration::from_secs(3)).await;
            seen.push((containers(&fake, &job).await, sandboxes(&fake, &job).await));
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        seen
    };
    let (report, during) = tokio::join!(run, during);
    assert_eq!(report.outcome, Outcome::Succeeded, "{}", report.message);
    let during: [Listing; 2] = during.try_into().expect("two looks");
    // Whenever it was created, the Job's pod took it: one create, and it ran.
    let created = calls(&fake, Op::Create, &job);
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(calls(&fake, Op::Start, &job), created);
    (fake, cluster, during)
}

/// A pod's containers and its sandboxes, each with whether it runs.
type Listing = (Vec<(String, bool)>, Vec<(String, bool)>);

#[tokio::test(start_paused = true)]
async fn a_later_steps_pods_are_prepared_while_an_earlier_step_leaves_room() {
    let (fake, cluster, [in_web, in_api]) = three_steps_on(FakeRuntime::new()).await;
    // Two steps ahead, while web is waited for: created, not started, its sandbox running.
    let (ctrs, boxes) = &in_web;
    assert_eq!(ctrs.len(), 1, "{in_web:?}");
    assert!(!ctrs[0].1, "started before its step: {in_web:?}");
    assert_eq!(boxes.len(), 1, "{in_web:?}");
    assert!(boxes[0].1, "{in_web:?}");
    // Announced again as the next step: nothing more is prepared (one create, above).
    assert_eq!(in_api, in_web);
    teardown_leaves_nothing(&cluster, &fake).await;
}

#[tokio::test(start_paused = true)]
async fn without_room_a_later_steps_pods_wait_until_their_step_is_the_next() {
    let (fake, cluster, [in_web, in_api]) =
        three_steps_on(FakeRuntime::new().with_busy_cpu()).await;
    assert_eq!(in_web, (vec![], vec![]), "prepared without room");
    // The next step's: prepared at once, owning its network (no room for a sandbox).
    let (ctrs, boxes) = &in_api;
    assert_eq!(ctrs.len(), 1, "{in_api:?}");
    assert!(!ctrs[0].1, "started before its step: {in_api:?}");
    assert_eq!(boxes, &vec![], "{in_api:?}");
    teardown_leaves_nothing(&cluster, &fake).await;
}

#[tokio::test(start_paused = true)]
async fn a_later_steps_pod_that_needs_what_an_earlier_step_applies_is_prepared_after_it() {
    // `migrate` reads a ConfigMap applied with api: while web is waited for it cannot be
    // prepared exactly; once api's step has applied it, it is.
    let migrate = migrate().replace(
        "          command: [\"migrate\"]\n",
        "          command: [\"migrate\"]\n          envFrom:\n            - configMapRef: {name: late}\n",
    );
    let late = r#"---
apiVersion: v1
kind: ConfigMap
metadata:
  name: late
  annotations:
    argocd.argoproj.io/sync-wave: "1"
data:
  A: b
"#;
    let (fake, cluster, [in_web, in_api]) = three_steps(FakeRuntime::new(), &migrate, late).await;
    assert_eq!(in_web, (vec![], vec![]), "prepared without its ConfigMap");
    let (ctrs, boxes) = &in_api;
    assert_eq!(ctrs.len(), 1, "{in_api:?}");
    assert!(!ctrs[0].1, "started before its step: {in_api:?}");
    assert_eq!(boxes.len(), 1, "{in_api:?}");
    teardown_leaves_nothing(&cluster, &fake).await;
}

#[tokio::test(start_paused = true)]
async fn on_a_machine_without_spare_cpu_the_pods_are_only_created_ahead_and_own_their_network() {
    let (plan, fake, cluster) = web_prepared_busy().await;
    let ahead = containers(&fake, &web_prefix()).await;
    assert_eq!(ahead.len(), 2, "{ahead:?}");
    assert_eq!(sandboxes(&fake, &web_prefix()).await, vec![]);
    for (name, _) in &ahead {
        let spec = fake.container_spec(name).expect("spec");
        assert!(
            matches!(&spec.network, NetworkAttachment::Network { aliases, .. } if aliases.len() == 1),
            "{name}: {:?}",
            spec.network
        );
    }
    apply(&cluster, task(&plan, "web")).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let started = containers(&fake, &web_prefix()).await;
    assert_eq!(started.len(), 2, "{started:?}");
    assert!(started.iter().all(|(_, running)| *running), "{started:?}");
    assert_eq!(
        calls(&fake, Op::Create, &web_prefix()).len(),
        2,
        "no second create"
    );
    teardown_leaves_nothing(&cluster, &fake).await;
}

#[tokio::test(start_paused = true)]
async fn pods_prepared_while_the_cpus_were_busy_get_their_sandbox_once_there_is_room() {
    let (plan, fake, cluster) = web_prepared_busy().await;
    // Created owning their network while the CPUs were busy (see the test above).
    assert_eq!(sandboxes(&fake, &web_prefix()).await, vec![]);
    let first = calls(&fake, Op::Create, &web_prefix());
    assert_eq!(first.len(), 2, "{first:?}");
    // The current step's pods have started: the machine has room before the gate opens.
    fake.set_busy_cpu(false);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let boxes = sandboxes(&fake, &web_prefix()).await;
    assert_eq!(boxes.len(), 2, "{boxes:?}");
    assert!(boxes.iter().all(|(_, running)| *running), "{boxes:?}");
    let ahead = containers(&fake, &web_prefix()).await;
    assert_eq!(ahead.len(), 2, "the first ones were removed: {ahead:?}");
    for (name, running) in &ahead {
        assert!(!running, "{name} started before its step");
        let spec = fake.container_spec(name).expect("spec");
        assert!(
            matches!(&spec.network, NetworkAttachment::Container { .. }),
            "{name}: {:?}",
            spec.network
        );
    }
    // The step takes them as they are: no create once its gate opens.
    apply(&cluster, task(&plan, "web")).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let started = containers(&fake, &web_prefix()).await;
    assert!(started.iter().all(|(_, running)| *running), "{started:?}");
    assert_eq!(calls(&fake, Op::Create, &web_prefix()).len(), 4);
    teardown_leaves_nothing(&cluster, &fake).await;
}

#[tokio::test(start_paused = true)]
async fn a_teardown_does_not_wait_for_spare_cpu_time_that_never_comes() {
    let (_, fake, cluster) = web_prepared_busy().await;
    // Half-way between two looks at the CPUs (every 100 ms, paused time: it passes only when
    // something sleeps).
    tokio::time::sleep(Duration::from_millis(50)).await;
    let began = tokio::time::Instant::now();
    teardown_leaves_nothing(&cluster, &fake).await;
    assert_eq!(began.elapsed(), Duration::ZERO, "teardown waited");
}

#[tokio::test(start_paused = true)]
async fn a_sandbox_started_ahead_goes_when_a_service_gives_its_pod_a_name_before_it_starts() {
    // Realised as plain DNS (no probe, same port, no pod yet): the pods started after it
    // answer to `front` themselves, so their names are known in advance and they get no
    // sandbox.
    const SERVICE: &str = r#"apiVersion: v1
kind: Service
metadata:
  name: front
spec:
  selector:
    app: web
  ports:
    - port: 80
"#;
    let (objects, plan) = plan_of(&format!("{}---\n{WEB}---\n{SERVICE}", settings("hi")));
    let (fake, cluster) = web_prepared(&objects, &plan).await;
    assert_eq!(sandboxes(&fake, &web_prefix()).await.len(), 2);

    apply(
        &cluster,
        plan.tasks().find(|t| t.kind() == "Service").expect("svc"),
    )
    .await;
    apply(&cluster, task(&plan, "web")).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(sandboxes(&fake, &web_prefix()).await, vec![], "removed");
    let started = containers(&fake, &web_prefix()).await;
    assert_eq!(started.len(), 2, "{started:?}");
    for (name, running) in &started {
        assert!(running, "{name}");
        let spec = fake.container_spec(name).expect("spec");
        assert!(
            matches!(&spec.network, NetworkAttachment::Network { aliases, .. } if aliases.iter().any(|a| a == "front.demo.svc.cluster.local")),
            "{name}: {:?}",
            spec.network
        );
    }
    teardown_leaves_nothing(&cluster, &fake).await;
}
