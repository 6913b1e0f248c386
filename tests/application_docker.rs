//! Argo CD Application files as SOURCE, synced on Docker through the CLI: the local overlay's
//! Application (`syncsim sync argocd/application-local.yaml`), and apps of apps: the small
//! fixture (tests/fixtures/apps) with and without the Application health check of `argocd-cm`,
//! and the example argocd/app-of-apps.yaml. Needs Docker, the test image, the image kit (and helm
//! for the example's Helm child): `cargo test --test application_docker -- --include-ignored`.
mod common;

use serde_json::Value;
use std::{path::Path, process::Command, time::SystemTime};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The tests that sync the example stack name their apps after its Applications
/// (`shortlink-local` both alone and as a child): one at a time, as one team's cluster.
static STACK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn stack() -> std::sync::MutexGuard<'static, ()> {
    STACK.lock().unwrap_or_else(|e| e.into_inner())
}

struct Run {
    code: Option<i32>,
    json: Value,
    stderr: String,
}

/// `syncsim ARGS -o json` from the repository root with its own state directory.
fn syncsim(args: &[&str], state: &Path) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_syncsim"))
        .args(args)
        .args(["-o", "json"])
        .current_dir(ROOT)
        .env("SYNCSIM_STATE_DIR", state)
        .output()
        .expect("run syncsim");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}):\n{stdout}\nstderr:\n{stderr}"));
    Run {
        code: out.status.code(),
        json,
        stderr,
    }
}

fn time(v: &Value) -> SystemTime {
    humantime::parse_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}"))).unwrap()
}

fn secs_between(a: &Value, b: &Value) -> f64 {
    match time(b).duration_since(time(a)) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

/// The start of the parent's Sync step of `wave`.
fn step_start(report: &Value, wave: i64) -> Value {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["phase"] == "Sync" && s["wave"] == wave)
        .unwrap_or_else(|| panic!("no Sync wave {wave}: {}", report["steps"]))["startedAt"]
        .clone()
}

fn child<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["applications"]
        .as_array()
        .unwrap_or_else(|| panic!("no applications in {report}"))
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no child {name}"))
}

fn labelled(app: &str) -> String {
    let out = Command::new("docker")
        .args(["ps", "-aq", "--filter"])
        .arg(format!("label=dev.syncsim.app={app}"))
        .output()
        .expect("docker ps");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn assert_nothing_left(apps: &[&str]) {
    for app in apps {
        assert_eq!(labelled(app), "", "{app}: containers left");
    }
}

fn networks(name: &str) -> String {
    let out = Command::new("docker")
        .args(["network", "ls", "-q", "--filter"])
        .arg(format!("name=^{name}$"))
        .output()
        .expect("docker network ls");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
#[ignore = "needs docker and the image kit"]
fn the_local_overlays_application_syncs_with_its_own_settings() {
    let _stack = stack();
    common::ensure_kit();
    let state = tempfile::tempdir().unwrap();
    let run = syncsim(&["sync", "argocd/application-local.yaml"], state.path());
    let r = &run.json;
    assert_eq!(run.code, Some(0), "{}\n{}", r["operation"], run.stderr);
    // The app is the Application: its name, project and destination namespace.
    assert_eq!(r["app"], "shortlink-local");
    assert_eq!(r["application"]["name"], "shortlink-local");
    assert_eq!(r["application"]["project"], "default");
    assert_eq!(r["application"]["destination"]["namespace"], "shortlink");
    assert_eq!(r["application"]["syncOptions"][0], "CreateNamespace=true");
    assert_eq!(r["application"]["automated"]["selfHeal"], true);
    let resources = r["resources"].as_array().unwrap();
    assert!(resources
        .iter()
        .filter(|t| t["kind"] != "Namespace")
        .all(|t| t["namespace"] == "shortlink"));
    // k8s/overlays/local/syncsim.yaml (beside the Application's source) says the namespace
    // exists, so CreateNamespace=true adds no Namespace task; its images were built or present.
    assert!(!resources.iter().any(|t| t["kind"] == "Namespace"));
    assert!(
        run.stderr.contains("k8s/overlays/local/syncsim.yaml"),
        "{}",
        run.stderr
    );
    for hook in ["flyway-admin", "flyway-shortlink", "clickhouse-init"] {
        let t = resources.iter().find(|t| t["name"] == hook).unwrap();
        assert_eq!(t["hookPhase"], "Succeeded", "{hook}");
    }
    assert_nothing_left(&["shortlink-local"]);
}

#[test]
#[ignore = "needs docker"]
fn an_app_of_apps_holds_back_the_next_wave_only_with_the_application_health_check() {
    common::ensure_test_image();
    let state = tempfile::tempdir().unwrap();
    let parent = "tests/fixtures/apps/app-of-apps.yaml";

    // Argo CD >= 1.8: an Application has no health, so fixture-web (wave 2) starts right after
    // fixture-db (wave 1) is applied, and its hook finds fixture-db not answering yet.
    let run = syncsim(&["sync", parent, "--junit", "/dev/null"], state.path());
    let r = &run.json;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(r["outcome"], "Succeeded", "the parent itself succeeds");
    assert_eq!(r["overallExitCode"], 1);
    let names: Vec<&str> = r["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["fixture-db", "fixture-web"],
        "the parent's wave order"
    );
    assert_eq!(child(r, "fixture-db")["wave"], 1);
    assert_eq!(child(r, "fixture-web")["wave"], 2);
    assert_eq!(child(r, "fixture-db")["report"]["outcome"], "Succeeded");
    let web = &child(r, "fixture-web")["report"];
    assert_eq!(web["outcome"], "Failed", "{}", web["operation"]);
    let check = web["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "check-db")
        .unwrap();
    assert_eq!(check["hookPhase"], "Failed");
    let gap = secs_between(&step_start(r, 1), &step_start(r, 2));
    assert!(gap < 5.0, "wave 2 did not wait for fixture-db: {gap}s");
    assert_eq!(
        child(r, "fixture-web")["application"]["info"][0]["value"],
        "team-web"
    );
    assert_nothing_left(&["fixture-apps", "fixture-db", "fixture-web"]);
    assert_eq!(networks("syncsim-fixture-apps"), "");

    // With argocd-cm's Application health check the parent waits until fixture-db is Healthy
    // (its pod answers after ~8 s): fixture-web's hook then reaches it through its Service.
    let junit = state.path().join("apps.xml");
    let run = syncsim(
        &[
            "sync",
            parent,
            "--argocd-cm",
            "tests/fixtures/apps/argocd-cm.yaml",
            "--junit",
            junit.to_str().unwrap(),
        ],
        state.path(),
    );
    let r = &run.json;
    assert_eq!(run.code, Some(0), "{}\n{}", r, run.stderr);
    assert_eq!(r["overallExitCode"], 0);
    assert_eq!(child(r, "fixture-web")["report"]["outcome"], "Succeeded");
    let gap = secs_between(&step_start(r, 1), &step_start(r, 2));
    assert!(
        gap >= 7.0,
        "wave 2 waited for fixture-db to be Healthy: {gap}s"
    );
    let db_apply = &child(r, "fixture-db")["report"]["operation"]["startedAt"];
    let web_start = &child(r, "fixture-web")["report"]["operation"]["startedAt"];
    assert!(secs_between(db_apply, web_start) >= 7.0);
    let xml = std::fs::read_to_string(&junit).unwrap();
    for suite in ["sync fixture-apps", "sync fixture-db", "sync fixture-web"] {
        assert!(xml.contains(&format!("name=\"{suite}\"")), "{suite}: {xml}");
    }
    assert_nothing_left(&["fixture-apps", "fixture-db", "fixture-web"]);
}

#[test]
#[ignore = "needs docker, the image kit and helm"]
fn the_app_of_apps_example_syncs_both_children_on_one_network() {
    common::ensure_helm();
    let _stack = stack();
    common::ensure_kit();
    let state = tempfile::tempdir().unwrap();
    let run = syncsim(&["sync", "argocd/app-of-apps.yaml"], state.path());
    let r = &run.json;
    assert_eq!(run.code, Some(0), "{}\n{}", r, run.stderr);
    assert_eq!(r["app"], "shortlink-apps");
    let names: Vec<&str> = r["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["shortlink-local", "shortlink-status"]);
    for c in ["shortlink-local", "shortlink-status"] {
        assert_eq!(child(r, c)["report"]["outcome"], "Succeeded", "{c}");
    }
    // Both children joined the parent's network.
    assert!(
        run.stderr.matches("network syncsim-shortlink-apps").count() >= 3,
        "{}",
        run.stderr
    );
    assert_nothing_left(&["shortlink-apps", "shortlink-local", "shortlink-status"]);
}

fn git(dir: &Path, args: &[&str]) {
    let st = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(["-c", "commit.gpgsign=false"])
        .args(args)
        .status()
        .expect("git");
    assert!(st.success(), "git {args:?}");
}

fn cli(args: &[&str], state: &Path) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_syncsim"))
        .args(args)
        .env("SYNCSIM_STATE_DIR", state)
        .output()
        .expect("run syncsim");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: a\n  replicas-hint: \"1\"\n";

#[test]
#[ignore = "needs docker"]
fn a_kept_applications_status_leaves_its_ignored_differences_out() {
    common::ensure_test_image();
    let repo = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.path().join("app")).unwrap();
    std::fs::write(repo.path().join("app/cm.yaml"), CM).unwrap();
    std::fs::write(
        repo.path().join("app.yaml"),
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: ignore-diff\n  \
         namespace: argocd\nspec:\n  project: team\n  source:\n    repoURL: https://git.example.invalid/t.git\n    \
         path: app\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: team\n  \
         syncPolicy:\n    syncOptions: [CreateNamespace=true]\n    managedNamespaceMetadata:\n      \
         labels: {owner: team}\n  ignoreDifferences:\n    - group: \"\"\n      kind: ConfigMap\n      \
         jsonPointers: [/data/replicas-hint]\n",
    )
    .unwrap();
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-qm", "app"]);
    let app = repo.path().join("app.yaml");
    let app = app.to_str().unwrap();

    // The namespace exists on no cluster: the Application's CreateNamespace=true creates it
    // first (PreSync), with the project shown.
    let (code, out, err) = cli(
        &["sync", app, "--keep", "--no-build", "-o", "json"],
        state.path(),
    );
    assert_eq!(code, Some(0), "{out}\n{err}");
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["app"], "ignore-diff");
    assert_eq!(r["application"]["project"], "team");
    let ns = r["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "Namespace")
        .unwrap_or_else(|| panic!("no Namespace task: {}", r["resources"]));
    assert_eq!(
        (&ns["name"], &ns["syncPhase"]),
        (&"team".into(), &"PreSync".into())
    );
    let cm = r["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "ConfigMap")
        .unwrap();
    assert_eq!(cm["namespace"], "team");

    let status = || {
        let (code, out, err) = cli(&["status", app], state.path());
        assert_eq!(code, Some(0), "{out}\n{err}");
        out.lines()
            .find(|l| l.starts_with("Sync Status:"))
            .unwrap_or_else(|| panic!("{out}"))
            .to_string()
    };
    assert!(status().ends_with("Synced"), "{}", status());
    // A change only in an ignored field keeps the app Synced; any other makes it OutOfSync.
    std::fs::write(
        repo.path().join("app/cm.yaml"),
        CM.replace("\"1\"", "\"3\""),
    )
    .unwrap();
    assert!(status().ends_with("Synced"), "{}", status());
    std::fs::write(
        repo.path().join("app/cm.yaml"),
        CM.replace("mode: a", "mode: b"),
    )
    .unwrap();
    assert!(status().contains("OutOfSync (1 resources)"), "{}", status());

    let (code, _, err) = cli(&["down", "--app", "ignore-diff"], state.path());
    assert_eq!(code, Some(0), "{err}");
    assert_nothing_left(&["ignore-diff"]);
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// Waits until `file` holds `needle` `n` times (the watch still running).
fn wait_for(file: &Path, needle: &str, n: usize, child: &mut std::process::Child) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    while read(file).matches(needle).count() < n {
        if let Ok(Some(st)) = child.try_wait() {
            panic!("watch exited ({st}) before `{needle}`:\n{}", read(file));
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {n}× `{needle}` in:\n{}",
            read(file)
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
#[ignore = "needs docker"]
fn watching_an_application_follows_its_automated_policy_retry_and_ignored_differences() {
    common::ensure_test_image();
    let repo = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let (out, err) = (logs.path().join("out"), logs.path().join("err"));
    std::fs::create_dir_all(repo.path().join("app")).unwrap();
    std::fs::write(repo.path().join("app/cm.yaml"), CM).unwrap();
    std::fs::write(
        repo.path().join("app/gone.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gone\ndata: {a: b}\n",
    )
    .unwrap();
    // The cluster's namespace `team` exists: watch's syncs are checked by the API server.
    std::fs::write(
        repo.path().join("syncsim.yaml"),
        "apiVersion: syncsim.dev/v1alpha1\nkind: Config\ncluster:\n  namespaces: [team]\n",
    )
    .unwrap();
    std::fs::write(
        repo.path().join("app.yaml"),
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: watch-app\n  \
         namespace: argocd\nspec:\n  source:\n    repoURL: https://git.example.invalid/t.git\n    \
         path: app\n  destination:\n    namespace: team\n  syncPolicy:\n    automated:\n      \
         prune: true\n    retry:\n      limit: 2\n      backoff: {duration: 1m, factor: 3, maxDuration: 10m}\n  \
         ignoreDifferences:\n    - kind: ConfigMap\n      group: \"\"\n      name: settings\n      \
         jsonPointers: [/data/replicas-hint]\n",
    )
    .unwrap();
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-qm", "app"]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_syncsim"))
        .env("SYNCSIM_STATE_DIR", state.path())
        .args(["watch", "--interval", "200ms", "--debounce", "300ms"])
        .arg(repo.path().join("app.yaml"))
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("spawn watch");

    // The Application's policy: automated.prune and its retry, without a flag.
    wait_for(&out, "Phase:              Succeeded", 1, &mut child);
    let e = read(&err);
    assert!(
        e.contains(
            "for app `watch-app` (automated sync, prune, retry: limit 2, 1m × 3^n up to 10m;"
        ),
        "{e}"
    );
    // A file of the Application's source removed: an automated sync prunes it.
    std::fs::remove_file(repo.path().join("app/gone.yaml")).unwrap();
    wait_for(&out, "Phase:              Succeeded", 2, &mut child);
    let second = read(&out);
    let second = &second[second.rfind("Application:").unwrap()..];
    assert!(second.contains("Pruned"), "{second}");
    // A change only in an ignored field leaves the app Synced: no sync.
    std::fs::write(
        repo.path().join("app/cm.yaml"),
        CM.replace("\"1\"", "\"5\""),
    )
    .unwrap();
    wait_for(&err, "the app is Synced", 1, &mut child);
    assert_eq!(read(&out).matches("Application:").count(), 2);

    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(child.wait().unwrap().code(), Some(130), "{}", read(&err));
    assert_nothing_left(&["watch-app"]);
}
