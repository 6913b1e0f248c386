//! `syncsim watch` end to end on the busybox test image: automated sync on a source change with
//! prune, no sync for a hook-only change (hooks never make an app OutOfSync), self-heal of a
//! removed container without hooks, and Ctrl-C tearing everything down.
mod common;

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};
use syncsim::runtime::{
    docker::DockerRuntime, ContainerRuntime, ContainerStatus, ListedKind, LABEL_APP,
    LABEL_MANAGED_BY, LABEL_RESOURCE, MANAGED_BY_VALUE,
};

const APP: &str = "t-watch";
const IMAGE: &str = "syncsim-test/busybox:1";

fn source(settings: &str, with_gone: bool, migrate: &str) -> String {
    let mut docs = vec![
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  MODE: \"{settings}\"\n"),
        format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers:\n        - name: main\n          image: {IMAGE}\n          command: [sleep, '3600']\n"),
        format!("apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n    argocd.argoproj.io/hook: PostSync\n    argocd.argoproj.io/hook-delete-policy: HookSucceeded\nspec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: main\n          image: {IMAGE}\n          command: [echo, \"{migrate}\"]\n"),
    ];
    if with_gone {
        docs.push(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gone\ndata: {a: b}\n".into(),
        );
    }
    docs.join("---\n")
}

/// A source folder `app/` for `watch`, beside a `syncsim.yaml` saying that namespace `demo`
/// exists on the cluster (the API server refuses objects in a namespace that does not).
fn source_dir(root: &Path) -> std::path::PathBuf {
    std::fs::write(
        root.join("syncsim.yaml"),
        "apiVersion: syncsim.dev/v1alpha1\nkind: Config\ncluster:\n  namespaces: [demo]\n",
    )
    .unwrap();
    let dir = root.join("app");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// A `syncsim watch` child that a failing test does not leave running (it would hold the app,
/// and its containers, after the test): dropped while it runs, it gets Ctrl-C, so its
/// teardown runs, and SIGKILL if it has not exited 30 s later.
struct Watch(Child);

impl Watch {
    /// Starts `syncsim watch ARGS DIR` with its state in `state`, stdout to `out` and stderr to
    /// `err`.
    fn spawn(state: &Path, args: &[&str], dir: &Path, out: &Path, err: &Path) -> Self {
        Watch(
            Command::new(env!("CARGO_BIN_EXE_syncsim"))
                .env("SYNCSIM_STATE_DIR", state)
                .arg("watch")
                .args(args)
                .arg(dir)
                .stdout(Stdio::from(std::fs::File::create(out).unwrap()))
                .stderr(Stdio::from(std::fs::File::create(err).unwrap()))
                .spawn()
                .expect("spawn watch"),
        )
    }
}

impl std::ops::Deref for Watch {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Watch {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if !matches!(self.0.try_wait(), Ok(None)) {
            return;
        }
        let _ = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if !matches!(self.0.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until `file` contains `needle` `n` times.
fn wait_for(file: &Path, needle: &str, n: usize, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while read(file).matches(needle).count() < n {
        if let Ok(Some(st)) = child.try_wait() {
            panic!("watch exited ({st}) before `{needle}`:\n{}", read(file));
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {n}× `{needle}` in:\n{}",
            read(file)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs docker"]
async fn watch_syncs_on_change_prunes_self_heals_without_hooks_and_tears_down_on_ctrl_c() {
    common::ensure_test_image();
    let state = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let (out, err) = (logs.path().join("out"), logs.path().join("err"));
    let dir = source_dir(src.path());
    let app_yaml = dir.join("app.yaml");
    std::fs::write(&app_yaml, source("one", true, "v1")).unwrap();
    let rt = DockerRuntime::connect().await.expect("docker");

    let mut child = Watch::spawn(
        state.path(),
        &[
            "--app",
            APP,
            "--dest-namespace",
            "demo",
            "--prune",
            "--self-heal",
            "--interval",
            "200ms",
            "--debounce",
            "300ms",
        ],
        &dir,
        &out,
        &err,
    );

    // 1. Initial sync.
    wait_for(&out, "Phase:              Succeeded", 1, &mut child);

    // 2. A resource changed and one was removed: automated sync with prune; hooks run again.
    std::fs::write(&app_yaml, source("two", false, "v1")).unwrap();
    wait_for(&out, "Phase:              Succeeded", 2, &mut child);
    let second = read(&out);
    let second = &second[second.rfind("Application:").unwrap()..];
    assert!(second.contains("configmap/settings configured"), "{second}");
    assert!(second.contains("Pruned"), "{second}");
    assert!(second.contains("deployment.apps/web unchanged"), "{second}");
    assert!(second.contains("job.batch/migrate created"), "{second}");

    // 3. Only a hook changed: the app stays Synced, so no automated sync.
    std::fs::write(&app_yaml, source("two", false, "v2")).unwrap();
    wait_for(&err, "the app is Synced", 1, &mut child);
    assert_eq!(read(&out).matches("Application:").count(), 2);

    // 4. Self-heal: remove web's container; a selective sync re-creates it, no hook runs.
    let labels = [
        (LABEL_MANAGED_BY.to_string(), MANAGED_BY_VALUE.to_string()),
        (LABEL_APP.to_string(), APP.to_string()),
        (
            LABEL_RESOURCE.to_string(),
            "apps/Deployment/web".to_string(),
        ),
    ];
    let web: Vec<_> = rt.list_labelled(&labels).await.unwrap();
    let web = web
        .iter()
        .find(|l| l.kind == ListedKind::Container)
        .expect("web container");
    rt.remove_container(&web.id).await.unwrap();
    wait_for(
        &err,
        "self-heal: apps/Deployment/web drifted",
        1,
        &mut child,
    );
    wait_for(&out, "Application:", 3, &mut child);
    let heal = read(&out);
    let heal = &heal[heal.rfind("Application:").unwrap()..];
    assert!(heal.contains("deployment.apps/web configured"), "{heal}");
    assert!(
        !heal.contains("migrate"),
        "no hook in a self-heal sync: {heal}"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now: Vec<_> = rt.list_labelled(&labels).await.unwrap();
        let mut running = false;
        for l in now
            .iter()
            .filter(|l| l.kind == ListedKind::Container && l.id != web.id)
        {
            running |= matches!(rt.inspect_container(&l.id).await, Ok(s) if s.status == ContainerStatus::Running);
        }
        if running {
            break;
        }
        assert!(Instant::now() < deadline, "web not recreated");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // 5. Ctrl-C: stops watching and tears down.
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(130), "{}", read(&err));
    assert!(read(&err).contains("torn down"), "{}", read(&err));
    let labels = &labels[..2];
    let left = rt.list_labelled(labels).await.unwrap();
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(!state.path().join(format!("{APP}.json")).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs docker"]
async fn watch_retries_a_failed_automated_sync_with_backoff_then_gives_up() {
    const RETRY_APP: &str = "t-watch-retry";
    common::ensure_test_image();
    let state = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let (out, err) = (logs.path().join("out"), logs.path().join("err"));
    // A PostSync hook that always fails: every attempt of the operation ends Failed.
    let failing = source("one", false, "v1")
        .replace("command: [echo, \"v1\"]", "command: [sh, -c, 'exit 3']");
    let dir = source_dir(src.path());
    std::fs::write(dir.join("app.yaml"), failing).unwrap();
    let started = Instant::now();
    let mut child = Watch::spawn(
        state.path(),
        &[
            "--app",
            RETRY_APP,
            "--dest-namespace",
            "demo",
            "--interval",
            "100ms",
            "--retry-limit",
            "2",
            "--retry-backoff",
            "200ms",
        ],
        &dir,
        &out,
        &err,
    );

    wait_for(&err, "Retrying attempt #1 in 400ms.", 1, &mut child);
    wait_for(&err, "Retrying attempt #2 in 800ms.", 1, &mut child);
    wait_for(
        &err,
        "one or more synchronization tasks completed unsuccessfully (retried 2 times).",
        1,
        &mut child,
    );
    // The first attempt and two retries, each a whole operation from scratch.
    assert_eq!(
        read(&out).matches("Phase:              Failed").count(),
        3,
        "{}",
        read(&out)
    );
    assert!(
        started.elapsed() >= Duration::from_millis(1200),
        "waits of 400 ms and 800 ms"
    );
    // No fourth attempt once the limit is reached.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(read(&out).matches("Application:").count(), 3);

    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let code = child.wait().unwrap().code();
    assert_eq!(
        code,
        Some(1),
        "the last automated sync failed: {}",
        read(&err)
    );
    let rt = DockerRuntime::connect().await.expect("docker");
    let labels = [
        (LABEL_MANAGED_BY.to_string(), MANAGED_BY_VALUE.to_string()),
        (LABEL_APP.to_string(), RETRY_APP.to_string()),
    ];
    let left = rt.list_labelled(&labels).await.unwrap();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// Every automated sync goes through the API server's checks, as on a cluster: a misspelled
/// field is refused (strict field validation, apimachinery's `unknown field`) and the sync fails.
#[test]
#[ignore = "needs docker"]
fn watch_syncs_are_checked_by_the_api_server() {
    const APP_CHECKED: &str = "t-watch-checked";
    common::ensure_test_image();
    let state = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let (out, err) = (logs.path().join("out"), logs.path().join("err"));
    let dir = source_dir(src.path());
    let misspelled = source("one", false, "v1").replace(
        "          command: [sleep, '3600']\n",
        "          command: [sleep, '3600']\n          imagePullPolcy: IfNotPresent\n",
    );
    std::fs::write(dir.join("app.yaml"), misspelled).unwrap();
    let mut child = Watch::spawn(
        state.path(),
        &[
            "--app",
            APP_CHECKED,
            "--dest-namespace",
            "demo",
            "--interval",
            "100ms",
            "--retry-limit",
            "0",
        ],
        &dir,
        &out,
        &err,
    );
    wait_for(&out, "Phase:              Failed", 1, &mut child);
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let all = read(&out) + &read(&err);
    assert!(all.contains("unknown field"), "{all}");
    assert!(all.contains("imagePullPolcy"), "{all}");
}
