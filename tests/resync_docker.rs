//! Re-syncs against a kept environment on the real Docker engine (busybox test image,
//! `compose/testimages/build.sh`): adoption, hooks re-run, unchanged workloads untouched,
//! StatefulSet data kept, prune, self-heal, the immutable-Job error. Each test uses its own app
//! and ends by checking that nothing labelled with it is left.
mod common;

use std::{sync::Arc, time::Duration};
use syncsim::{
    cluster::{ClusterOptions, DockerCluster},
    engine::{EngineOptions, OperationPhase, Outcome, ResultCode, RunEvent, SyncReport},
    manifest::{self, Object, ObjectKey},
    plan::{self, Plan, PlanOptions},
    rehearsal::Environment,
    runtime::{
        docker::DockerRuntime, ContainerRuntime, LABEL_APP, LABEL_MANAGED_BY, MANAGED_BY_VALUE,
    },
    state::EnvRecord,
};
use tokio_util::sync::CancellationToken;

const NS: &str = "demo";
const IMAGE: &str = "syncsim-test/busybox:1";

fn setup() {
    static ONCE: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| {
        common::ensure_test_image();
        // Records go to a directory of this test process (set before any test thread reads it).
        let dir = std::env::temp_dir().join(format!("syncsim-resync-{}", std::process::id()));
        std::env::set_var("SYNCSIM_STATE_DIR", dir);
    });
}

/// What differs between the syncs of a test.
#[derive(Clone)]
struct Src {
    /// Printed by the PostSync hook `migrate` (HookSucceeded).
    migrate: &'static str,
    /// An env var of the StatefulSet `db`'s pod template.
    db_env: &'static str,
    /// Include the Deployment `old`.
    old: bool,
    /// The Deployment `web`'s sleep.
    web_sleep: &'static str,
}

fn yaml(s: &Src) -> String {
    let mut docs = vec![
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  MODE: demo\n".to_string(),
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers:\n        - name: main\n          image: {IMAGE}\n          command: [sleep, '{}']\n",
            s.web_sleep
        ),
        format!(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n  annotations:\n    argocd.argoproj.io/sync-wave: \"-1\"\nspec:\n  replicas: 1\n  serviceName: db\n  selector:\n    matchLabels: {{app: db}}\n  template:\n    metadata:\n      labels: {{app: db}}\n    spec:\n      containers:\n        - name: main\n          image: {IMAGE}\n          command: [sleep, '3600']\n          env: [{{name: VERSION, value: \"{}\"}}]\n          volumeMounts: [{{name: data, mountPath: /data}}]\n  volumeClaimTemplates:\n    - metadata: {{name: data}}\n      spec:\n        accessModes: [ReadWriteOnce]\n        resources: {{requests: {{storage: 1Mi}}}}\n",
            s.db_env
        ),
        format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n    argocd.argoproj.io/hook: PostSync\n    argocd.argoproj.io/hook-delete-policy: HookSucceeded\nspec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: main\n          image: {IMAGE}\n          command: [echo, \"{}\"]\n",
            s.migrate
        ),
        // A named hook with the default policy (BeforeHookCreation): it stays after the sync.
        format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: seed\n  annotations:\n    argocd.argoproj.io/hook: PostSync\nspec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: main\n          image: {IMAGE}\n          command: [echo, seeded]\n"
        ),
    ];
    if s.old {
        docs.push(format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: old\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: old}}\n  template:\n    metadata:\n      labels: {{app: old}}\n    spec:\n      containers:\n        - name: main\n          image: {IMAGE}\n          command: [sleep, '3600']\n"
        ));
    }
    docs.join("---\n")
}

fn render(text: &str) -> (Vec<Object>, Plan) {
    let objects = manifest::from_yaml_str(text, "resync.yaml").expect("parses");
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

async fn runtime() -> Arc<dyn ContainerRuntime> {
    Arc::new(DockerRuntime::connect().await.expect("docker"))
}

fn copts(app: &str) -> ClusterOptions {
    ClusterOptions {
        app: app.into(),
        job_backoff_base: Duration::from_millis(200),
        ..ClusterOptions::default()
    }
}

fn eopts(app: &str, prune: bool) -> EngineOptions {
    EngineOptions {
        app: app.into(),
        timeout: Duration::from_secs(120),
        prune,
        ..EngineOptions::default()
    }
}

/// One `syncsim sync [--prune] [--keep]` of `text` through the library; returns the report, the
/// events and whether the environment was adopted.
async fn sync(app: &str, text: &str, prune: bool, keep: bool) -> (SyncReport, Vec<RunEvent>, bool) {
    let (objects, plan) = render(text);
    let env = Environment::open(runtime().await, copts(app), &objects)
        .await
        .expect("open");
    let mut events = Vec::new();
    let report = env
        .sync(
            &plan,
            &objects,
            &eopts(app, prune),
            &CancellationToken::new(),
            &mut |e| events.push(e),
        )
        .await;
    eprintln!("{}", syncsim::report::render(&report));
    if keep {
        env.keep("resync.yaml", NS, &[], Some(&report))
            .await
            .expect("keep");
    } else {
        let t = env.teardown(Duration::ZERO).await;
        assert!(t.errors.is_empty(), "teardown: {:?}", t.errors);
    }
    (report, events, env.adopted)
}

fn task<'a>(r: &'a SyncReport, name: &str) -> &'a syncsim::engine::TaskRun {
    r.tasks
        .iter()
        .find(|t| t.task.name() == name)
        .unwrap_or_else(|| panic!("no task {name}"))
}

fn key(kind: &str, name: &str) -> ObjectKey {
    let group = match kind {
        "Deployment" | "StatefulSet" => "apps",
        "Job" => "batch",
        _ => "",
    };
    ObjectKey {
        group: group.into(),
        kind: kind.into(),
        namespace: NS.into(),
        name: name.into(),
    }
}

/// The recorded container ids of `kind/name` in the kept environment.
fn kept_ids(app: &str, kind: &str, name: &str) -> Vec<String> {
    let rec = EnvRecord::load(app).expect("load").expect("kept record");
    let o = rec.object(&key(kind, name)).expect("recorded object");
    o.pods
        .iter()
        .flat_map(|p| p.containers.iter().map(|c| c.id.clone()))
        .collect()
}

async fn exec(id: &str, script: &str) -> String {
    let rt = runtime().await;
    let cmd = vec!["sh".to_string(), "-c".to_string(), script.to_string()];
    let r = rt
        .exec(id, &cmd, Duration::from_secs(10))
        .await
        .expect("exec");
    assert_eq!(r.exit_code, 0, "{script}: {}", r.output);
    r.output.trim().to_string()
}

/// Every object labelled with `app`.
async fn labelled(app: &str) -> Vec<syncsim::runtime::Listed> {
    let labels = [
        (LABEL_MANAGED_BY.to_string(), MANAGED_BY_VALUE.to_string()),
        (LABEL_APP.to_string(), app.to_string()),
    ];
    runtime().await.list_labelled(&labels).await.expect("list")
}

async fn assert_nothing_left(app: &str) {
    let labels = [
        (LABEL_MANAGED_BY.to_string(), MANAGED_BY_VALUE.to_string()),
        (LABEL_APP.to_string(), app.to_string()),
    ];
    let left = runtime().await.list_labelled(&labels).await.expect("list");
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(EnvRecord::load(app).expect("load").is_none(), "record left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs docker"]
async fn resync_reruns_hooks_keeps_unchanged_workloads_and_their_data_and_prunes() {
    setup();
    let app = "t-resync";
    let v1 = Src {
        migrate: "v1",
        db_env: "1",
        old: true,
        web_sleep: "3600",
    };
    let (r1, _, adopted) = sync(app, &yaml(&v1), false, true).await;
    assert!(!adopted);
    assert_eq!(r1.outcome, Outcome::Succeeded, "{}", r1.message);
    let web = kept_ids(app, "Deployment", "web");
    let db = kept_ids(app, "StatefulSet", "db");
    let old = kept_ids(app, "Deployment", "old");
    assert_eq!((web.len(), db.len(), old.len()), (1, 1, 1));
    // A "row" written after the first sync.
    exec(&db[0], "echo row-1 > /data/rows").await;

    // Second sync: the PostSync hook changed, `old` left the source; without --prune.
    let v2 = Src {
        migrate: "v2",
        old: false,
        ..v1.clone()
    };
    let (r2, ev2, adopted) = sync(app, &yaml(&v2), false, true).await;
    assert!(adopted, "the kept environment is adopted");
    assert_eq!(r2.outcome, Outcome::Succeeded, "{}", r2.message);
    assert_eq!(task(&r2, "web").message, "deployment.apps/web unchanged");
    assert_eq!(task(&r2, "db").message, "statefulset.apps/db unchanged");
    assert_eq!(
        task(&r2, "settings").message,
        "configmap/settings unchanged"
    );
    assert_eq!(kept_ids(app, "Deployment", "web"), web, "web untouched");
    assert_eq!(kept_ids(app, "StatefulSet", "db"), db, "db untouched");
    // Hooks ran again: HookSucceeded `migrate` was gone and is created; `seed`
    // (BeforeHookCreation) still existed and was deleted, then recreated.
    let migrate = task(&r2, "migrate");
    assert_eq!(migrate.message, "job.batch/migrate created");
    assert_eq!(migrate.hook_phase, Some(OperationPhase::Succeeded));
    assert_eq!(task(&r2, "seed").message, "job.batch/seed created");
    assert!(ev2
        .iter()
        .any(|e| matches!(e, RunEvent::Status { message, .. }
        if message == "waiting for deletion of hook batch/Job/seed")));
    let o = task(&r2, "old");
    assert_eq!(o.result, Some(ResultCode::PruneSkipped));
    assert_eq!(o.message, "ignored (requires pruning)");
    assert_eq!(
        kept_ids(app, "Deployment", "old"),
        old,
        "not pruned without --prune"
    );

    // Third sync with --prune and changed StatefulSet and Deployment templates: `old` is
    // deleted, `db` is recreated on the same volume, `web` rolls to a new pod.
    let v3 = Src {
        db_env: "2",
        web_sleep: "3601",
        ..v2.clone()
    };
    let (r3, _, _) = sync(app, &yaml(&v3), true, true).await;
    assert_eq!(r3.outcome, Outcome::Succeeded, "{}", r3.message);
    assert_eq!(task(&r3, "old").result, Some(ResultCode::Pruned));
    assert_eq!(task(&r3, "db").message, "statefulset.apps/db configured");
    assert_eq!(task(&r3, "web").message, "deployment.apps/web configured");
    let web3 = kept_ids(app, "Deployment", "web");
    assert_eq!(web3.len(), 1, "only the new pod is kept");
    assert_ne!(web3, web);
    let rec = EnvRecord::load(app).unwrap().unwrap();
    assert!(rec.object(&key("Deployment", "old")).is_none());
    let rt = runtime().await;
    assert!(
        rt.inspect_container(&old[0]).await.is_err(),
        "old's container removed"
    );
    let db3 = kept_ids(app, "StatefulSet", "db");
    assert_ne!(db3, db, "db recreated");
    assert_eq!(exec(&db3[0], "cat /data/rows").await, "row-1", "data kept");

    // A last sync without --keep tears the adopted environment down, record included.
    let (r4, _, adopted) = sync(app, &yaml(&v3), true, false).await;
    assert!(adopted);
    assert_eq!(r4.outcome, Outcome::Succeeded, "{}", r4.message);
    assert_nothing_left(app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs docker"]
async fn self_heal_recreates_a_removed_container_without_running_hooks() {
    setup();
    let app = "t-selfheal";
    let src = yaml(&Src {
        migrate: "v1",
        db_env: "1",
        old: false,
        web_sleep: "3600",
    });
    let (objects, plan) = render(&src);
    let rt = runtime().await;
    let env = Environment::open(rt.clone(), copts(app), &objects)
        .await
        .expect("open");
    let cancel = CancellationToken::new();
    let r = env
        .sync(&plan, &objects, &eopts(app, true), &cancel, &mut |_| {})
        .await;
    assert_eq!(r.outcome, Outcome::Succeeded, "{}", r.message);
    assert!(env
        .self_heal(&plan, &eopts(app, true), &cancel, &mut |_| {})
        .await
        .is_none());
    let before = env.cluster.containers_of(&key("Deployment", "web"));
    rt.remove_container(&before[0]).await.expect("docker rm -f");
    // The controller notices on its next poll.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while env.cluster.drifted().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "drift not detected");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(env.cluster.drifted(), [key("Deployment", "web")]);
    let heal = env
        .self_heal(&plan, &eopts(app, true), &cancel, &mut |_| {})
        .await
        .expect("a self-heal sync");
    assert_eq!(heal.outcome, Outcome::Succeeded, "{}", heal.message);
    let names: Vec<&str> = heal.tasks.iter().map(|t| t.task.name()).collect();
    assert_eq!(
        names,
        ["web"],
        "selective: only the drifted resource, no hooks"
    );
    assert_eq!(task(&heal, "web").message, "deployment.apps/web configured");
    // A single-wave operation is not health-checked (§2.7 L): wait for the new pod here.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let after = loop {
        let ids = env.cluster.containers_of(&key("Deployment", "web"));
        if let Some(id) = ids.first() {
            let state = rt.inspect_container(id).await.expect("inspect");
            if state.status == syncsim::runtime::ContainerStatus::Running {
                break ids;
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "no new container");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(after.len(), 1);
    assert_ne!(after, before);
    assert!(env.cluster.drifted().is_empty());
    let t = env.teardown(Duration::ZERO).await;
    assert!(t.errors.is_empty(), "{:?}", t.errors);
    assert_nothing_left(app).await;
}

fn job(command: &str, options: &str) -> String {
    format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: init\n  annotations:\n    argocd.argoproj.io/sync-options: \"{options}\"\nspec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: main\n          image: {IMAGE}\n          command: [echo, \"{command}\"]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after\n  annotations:\n    argocd.argoproj.io/sync-wave: \"1\"\ndata: {{a: b}}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs docker"]
async fn changed_non_hook_job_fails_as_immutable_unless_forced() {
    setup();
    let app = "t-immutable";
    let (r1, _, _) = sync(app, &job("one", ""), false, true).await;
    assert_eq!(r1.outcome, Outcome::Succeeded, "{}", r1.message);
    // Unchanged: a no-op, the Job stays Complete and is not re-run.
    let (r2, _, _) = sync(app, &job("one", ""), false, true).await;
    assert_eq!(r2.outcome, Outcome::Succeeded, "{}", r2.message);
    assert_eq!(task(&r2, "init").message, "job.batch/init unchanged");
    // Changed template: Argo CD's immutable-field failure; the later wave does not run.
    let (r3, _, _) = sync(app, &job("two", "Replace=true"), false, true).await;
    assert_eq!(r3.outcome, Outcome::Failed);
    let msg = "Job.batch \"init\" is invalid: spec.template: Invalid value: \
               core.PodTemplateSpec{...}: field is immutable";
    assert_eq!(task(&r3, "init").message, msg);
    assert_eq!(task(&r3, "init").result, Some(ResultCode::SyncFailed));
    assert_eq!(
        r3.message,
        format!("one or more objects failed to apply, reason: {msg}")
    );
    assert_eq!(task(&r3, "after").result, None);
    // Force=true: delete and recreate, the Job runs again.
    let (r4, _, _) = sync(app, &job("two", "Force=true"), false, false).await;
    assert_eq!(r4.outcome, Outcome::Succeeded, "{}", r4.message);
    assert_eq!(task(&r4, "init").message, "job.batch/init configured");
    assert_nothing_left(app).await;
}

/// A network without a record is what a killed run left (issue #14: `sync` and `watch` hold
/// the app's lock, so no live run owns it): opening the app sweeps it and starts afresh. This
/// test used to pin a refusal that made every later sync of the app fail until `down`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs docker"]
async fn a_network_without_a_record_is_swept_before_a_fresh_environment() {
    setup();
    let app = "t-unrecorded";
    let rt = runtime().await;
    let _left = DockerCluster::new(rt.clone(), copts(app), &[])
        .await
        .expect("network");
    let before = labelled(app).await;
    assert_eq!(before.len(), 1, "the leftover network");
    let env = Environment::open(rt.clone(), copts(app), &[])
        .await
        .expect("opens after sweeping");
    assert!(!env.adopted);
    let after = labelled(app).await;
    assert_eq!(after.len(), 1, "one network: the new one");
    assert_ne!(after[0].id, before[0].id, "the leftover was removed");
    env.teardown(Duration::ZERO).await;
    assert_nothing_left(app).await;
}

/// Runs the built binary with this process's state directory.
fn cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_syncsim"))
        .args(args)
        .output()
        .expect("run syncsim")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs docker"]
async fn down_keeps_claim_volumes_unless_asked_and_a_new_sync_finds_the_data() {
    setup();
    let app = "t-down";
    let src = Src {
        migrate: "v1",
        db_env: "1",
        old: false,
        web_sleep: "3600",
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.yaml");
    std::fs::write(&file, yaml(&src)).unwrap();
    // Namespace `demo` exists (as in tests/fixtures/syncsim.yaml).
    std::fs::write(
        dir.path().join("syncsim.yaml"),
        "apiVersion: syncsim.dev/v1alpha1\nkind: Config\ncluster: {namespaces: [demo]}\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let out = cli(&["sync", "--keep", "--app", app, "--dest-namespace", NS, file]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let db = kept_ids(app, "StatefulSet", "db");
    exec(&db[0], "echo row-1 > /data/rows").await;

    // `down` without --volumes: everything but the claim volume goes, the record too.
    let out = cli(&["down", "--app", app]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("kept 1 PersistentVolumeClaim volumes"),
        "{err}"
    );
    assert!(EnvRecord::load(app).unwrap().is_none());
    let labels = [
        (LABEL_MANAGED_BY.to_string(), MANAGED_BY_VALUE.to_string()),
        (LABEL_APP.to_string(), app.to_string()),
    ];
    let left = runtime().await.list_labelled(&labels).await.unwrap();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].name, "syncsim-t-down-demo-data-db-0");

    // A new sync of the app starts afresh on the same claim volume: the data is there.
    let out = cli(&["sync", "--keep", "--app", app, "--dest-namespace", NS, file]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let db = kept_ids(app, "StatefulSet", "db");
    assert_eq!(exec(&db[0], "cat /data/rows").await, "row-1");

    let out = cli(&["down", "--app", app, "--volumes"]);
    assert!(out.status.success());
    assert_nothing_left(app).await;
}
