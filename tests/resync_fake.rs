//! Keep and adopt on the scripted fake runtime (no Docker, paused time): what the kept record
//! holds, that adoption re-attaches to the same containers without creating any, and how a
//! re-apply treats unchanged, changed and drifted objects.
use std::{sync::Arc, time::Duration};
use syncsim::{
    cluster::{ClusterOptions, DockerCluster},
    engine::{self, EngineOptions, Outcome, ResultCode, SyncReport},
    manifest::{self, Object},
    plan::{self, Plan, PlanOptions},
    runtime::{
        fake::{FakeRuntime, Script},
        ContainerRuntime,
    },
    state::ObjectRecord,
};
use tokio_util::sync::CancellationToken;

const APP: &str = "fake";

fn yaml(cm: &str, job: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings, namespace: d}}\ndata: {{MODE: \"{cm}\"}}\n---\n\
         apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: db, namespace: d}}\nspec:\n  replicas: 2\n  selector: {{matchLabels: {{app: db}}}}\n  template:\n    metadata: {{labels: {{app: db}}}}\n    spec: {{containers: [{{name: main, image: img}}]}}\n---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: d}}\nspec:\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec: {{containers: [{{name: main, image: img}}]}}\n---\n\
         apiVersion: batch/v1\nkind: Job\nmetadata: {{name: init, namespace: d, annotations: {{argocd.argoproj.io/sync-wave: \"1\"}}}}\nspec:\n  template:\n    spec: {{restartPolicy: Never, containers: [{{name: main, image: img, command: [\"{job}\"]}}]}}\n"
    )
}

fn render(text: &str) -> (Vec<Object>, Plan) {
    let objects = manifest::from_yaml_str(text, "fake.yaml").unwrap();
    let plan = plan::build(&objects, &PlanOptions::default()).unwrap();
    (objects, plan)
}

async fn sync(cluster: &DockerCluster, plan: &Plan) -> SyncReport {
    let opts = EngineOptions {
        timeout: Duration::from_secs(60),
        ..EngineOptions::default()
    };
    engine::run(plan, cluster, &opts, &CancellationToken::new(), &mut |_| {}).await
}

fn msg<'a>(r: &'a SyncReport, name: &str) -> &'a str {
    &r.tasks
        .iter()
        .find(|t| t.task.name() == name)
        .unwrap()
        .message
}

fn creates(fake: &FakeRuntime) -> usize {
    fake.calls()
        .iter()
        .filter(|c| c.to_string().starts_with("create syncsim-"))
        .count()
}

/// Containers run forever, except the Job's, which exits 0.
fn fake() -> FakeRuntime {
    FakeRuntime::new().script_container(
        "syncsim-fake-init-",
        Script::exits(0, Duration::from_millis(100)),
    )
}

fn opts() -> ClusterOptions {
    ClusterOptions {
        app: APP.into(),
        poll_interval: Duration::from_millis(50),
        ..ClusterOptions::default()
    }
}

/// Syncs `text` on a fresh cluster, keeps it, and returns the record.
async fn keep(fake: &Arc<FakeRuntime>, text: &str) -> Vec<ObjectRecord> {
    let (objects, plan) = render(text);
    let rt: Arc<dyn ContainerRuntime> = fake.clone();
    let cluster = DockerCluster::new(rt, opts(), &objects).await.unwrap();
    let r = sync(&cluster, &plan).await;
    assert_eq!(r.outcome, Outcome::Succeeded, "{}", r.message);
    // The last wave (the Job) is not waited for: let it finish before keeping.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let kept = cluster.snapshot();
    cluster.detach(Duration::ZERO).await;
    kept
}

#[tokio::test(start_paused = true)]
async fn kept_record_holds_specs_pods_and_final_job_status() {
    let fake = Arc::new(fake());
    let kept = keep(&fake, &yaml("a", "true")).await;
    let get = |n: &str| kept.iter().find(|o| o.name == n).unwrap();
    assert_eq!(get("db").pods.len(), 2);
    assert_eq!(get("db").pods[0].name, "db-0");
    assert_eq!(get("db").object["spec"]["replicas"], 2);
    assert_eq!(
        get("web").object["spec"]["replicas"],
        1,
        "API defaults recorded"
    );
    assert!(get("init").status.as_ref().unwrap()["conditions"][0]["type"] == "Complete");
    assert!(kept.iter().all(|o| o.object.get("status").is_none()));
    assert_eq!(get("settings").spec_hash.len(), 64);
}

#[tokio::test(start_paused = true)]
async fn adoption_reuses_containers_and_reapply_is_unchanged_in_place_or_immutable() {
    let fake = Arc::new(fake());
    let kept = keep(&fake, &yaml("a", "true")).await;
    let created = creates(&fake);
    let rt: Arc<dyn ContainerRuntime> = fake.clone();

    // Same source: nothing is created, every resource is unchanged, the Job stays Complete.
    let (objects, plan) = render(&yaml("a", "true"));
    let cluster = DockerCluster::adopt(rt.clone(), opts(), &objects, &kept)
        .await
        .unwrap();
    let r = sync(&cluster, &plan).await;
    assert_eq!(r.outcome, Outcome::Succeeded, "{}", r.message);
    for (name, m) in [
        ("settings", "configmap/settings unchanged"),
        ("db", "statefulset.apps/db unchanged"),
        ("web", "deployment.apps/web unchanged"),
        ("init", "job.batch/init unchanged"),
    ] {
        assert_eq!(msg(&r, name), m);
    }
    assert_eq!(creates(&fake), created, "no container created on adoption");

    // A changed ConfigMap is updated in place; a changed Job template is immutable.
    let (_, plan) = render(&yaml("b", "false"));
    let r = sync(&cluster, &plan).await;
    assert_eq!(msg(&r, "settings"), "configmap/settings configured");
    assert_eq!(
        msg(&r, "init"),
        "Job.batch \"init\" is invalid: spec.template: Invalid value: \
         core.PodTemplateSpec{...}: field is immutable"
    );
    assert_eq!(r.outcome, Outcome::Failed);
    let init = r.tasks.iter().find(|t| t.task.name() == "init").unwrap();
    assert_eq!(init.result, Some(ResultCode::SyncFailed));
    assert_eq!(creates(&fake), created, "nothing recreated");

    // Drift: a removed container makes the workload drifted; re-applying re-creates it.
    let web = cluster.containers_of(&plan.tasks().find(|t| t.name() == "web").unwrap().key());
    fake.remove_container(&web[0]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let drifted: Vec<String> = cluster.drifted().iter().map(|k| k.name.clone()).collect();
    assert_eq!(drifted, ["web"]);
    let (_, plan) = render(&yaml("b", "true"));
    let r = sync(&cluster, &plan).await;
    assert_eq!(msg(&r, "web"), "deployment.apps/web configured");
    assert_eq!(msg(&r, "db"), "statefulset.apps/db unchanged");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(cluster.drifted().is_empty());
    let web_creates = fake
        .call_log()
        .iter()
        .filter(|c| c.starts_with("create syncsim-fake-web-"))
        .count();
    assert_eq!(web_creates, 2, "web re-created once");

    // Teardown removes the adopted objects too.
    let t = cluster.teardown(Duration::ZERO).await;
    assert!(t.errors.is_empty(), "{:?}", t.errors);
    assert!(fake.objects().is_empty(), "{:?}", fake.objects());
}

#[tokio::test(start_paused = true)]
async fn a_record_whose_network_is_gone_is_stale_and_a_fresh_environment_starts() {
    use syncsim::{
        rehearsal::Environment,
        state::{EnvRecord, RECORD_VERSION},
    };
    let dir = std::env::temp_dir().join(format!("syncsim-resync-fake-{}", std::process::id()));
    std::env::set_var("SYNCSIM_STATE_DIR", &dir);
    let fake = Arc::new(fake());
    let kept = keep(&fake, &yaml("a", "true")).await;
    let record = EnvRecord {
        version: RECORD_VERSION,
        app: "stale".into(),
        network: "syncsim-stale".into(),
        source: "x".into(),
        dest_namespace: "default".into(),
        images: vec![],
        saved_at: String::new(),
        last_operation: None,
        secret_salt: String::new(),
        objects: kept,
    };
    record.save().unwrap();
    let rt: Arc<dyn ContainerRuntime> = fake.clone();
    let o = ClusterOptions {
        app: "stale".into(),
        ..opts()
    };
    let env = Environment::open(rt, o, &[]).await.expect("open");
    assert!(!env.adopted, "nothing to adopt: the network is gone");
    assert!(
        EnvRecord::load("stale").unwrap().is_none(),
        "stale record removed"
    );
    assert!(
        fake.objects().iter().any(|l| l.name == "syncsim-stale"),
        "a fresh network"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(start_paused = true)]
async fn hooks_on_resync_follow_their_delete_policies() {
    // §3.5: a kept HookFailed-only hook is applied over (unchanged: not re-run, counts as
    // succeeded at once); a kept BeforeHookCreation hook is deleted and re-created.
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: d}\n---\n\
        apiVersion: batch/v1\nkind: Job\nmetadata: {name: hf, namespace: d, annotations: {argocd.argoproj.io/hook: PostSync, argocd.argoproj.io/hook-delete-policy: HookFailed}}\nspec:\n  template:\n    spec: {restartPolicy: Never, containers: [{name: main, image: img}]}\n---\n\
        apiVersion: batch/v1\nkind: Job\nmetadata: {name: bhc, namespace: d, annotations: {argocd.argoproj.io/hook: PostSync}}\nspec:\n  template:\n    spec: {restartPolicy: Never, containers: [{name: main, image: img}]}\n";
    let fake = Arc::new(
        FakeRuntime::new()
            .script_container(
                "syncsim-fake-hf-",
                Script::exits(0, Duration::from_millis(100)),
            )
            .script_container(
                "syncsim-fake-bhc-",
                Script::exits(0, Duration::from_millis(100)),
            ),
    );
    let kept = keep(&fake, text).await;
    assert!(kept.iter().any(|o| o.name == "hf" && o.hook));
    assert!(kept.iter().any(|o| o.name == "bhc" && o.hook));
    let hf_runs = || {
        fake.call_log()
            .iter()
            .filter(|c| c.starts_with("create syncsim-fake-hf-"))
            .count()
    };
    let bhc_runs = || {
        fake.call_log()
            .iter()
            .filter(|c| c.starts_with("create syncsim-fake-bhc-"))
            .count()
    };
    assert_eq!((hf_runs(), bhc_runs()), (1, 1));

    let (objects, plan) = render(text);
    let rt: Arc<dyn ContainerRuntime> = fake.clone();
    let cluster = DockerCluster::adopt(rt, opts(), &objects, &kept)
        .await
        .unwrap();
    let r = sync(&cluster, &plan).await;
    assert_eq!(r.outcome, Outcome::Succeeded, "{}", r.message);
    assert_eq!(msg(&r, "hf"), "job.batch/hf unchanged");
    assert_eq!(msg(&r, "bhc"), "job.batch/bhc created");
    assert_eq!(hf_runs(), 1, "HookFailed-only hook not re-run");
    assert_eq!(bhc_runs(), 2, "BeforeHookCreation hook re-run");
    cluster.teardown(Duration::ZERO).await;
    assert!(fake.objects().is_empty(), "{:?}", fake.objects());
}
