//! The CLI as the Docker trust tests drive it: a source folder with a cluster description, a
//! sync of it and the removal of what a sync kept. Included by `trust_docker.rs` and
//! `kubelet_docker.rs`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub const IMAGE: &str = "syncsim-test/busybox:1";

/// A source folder with `app.yaml` and a `syncsim.yaml` describing the cluster.
pub fn source(app_yaml: &str, cluster: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.yaml");
    std::fs::write(&file, app_yaml).unwrap();
    std::fs::write(
        dir.path().join("syncsim.yaml"),
        format!("apiVersion: syncsim.dev/v1alpha1\nkind: Config\ncluster: {cluster}\n"),
    )
    .unwrap();
    (dir, file)
}

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn sync(app: &str, file: &Path, extra: &[&str]) -> Out {
    let state = std::env::temp_dir().join(format!("syncsim-trust-state-{app}"));
    let out = Command::new(env!("CARGO_BIN_EXE_syncsim"))
        .env("SYNCSIM_STATE_DIR", &state)
        .arg("sync")
        .arg(file)
        .args(["--app", app, "--job-backoff", "200ms"])
        .args(extra)
        .output()
        .expect("run syncsim");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Removes everything of `app`, PersistentVolumeClaim volumes included (`down` keeps them by
/// default, like a cluster keeps claims' data).
pub fn down(app: &str) {
    let state = std::env::temp_dir().join(format!("syncsim-trust-state-{app}"));
    let _ = Command::new(env!("CARGO_BIN_EXE_syncsim"))
        .env("SYNCSIM_STATE_DIR", &state)
        .args(["down", "--app", app, "--volumes"])
        .output();
}

/// A ConfigMap in wave 1: the Deployment's wave is not the last, so Argo CD waits for its
/// health (the overall last wave is never waited for).
pub const LATER_WAVE: &str = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after\n  annotations: {argocd.argoproj.io/sync-wave: \"1\"}\ndata: {a: b}\n";

pub fn deployment(name: &str, image: &str, extra_container: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      containers:\n        - name: main\n          image: {image}\n          command: [sh, -c, 'sleep 3600']\n{extra_container}"
    )
}

/// A StatefulSet: unlike a Deployment it has no progress deadline, so a pod that cannot start
/// makes Argo CD wait for ever.
pub fn statefulset(name: &str, image: &str, extra_container: &str) -> String {
    deployment(name, image, extra_container).replace(
        "kind: Deployment\nmetadata: {name: NAME}\nspec:\n"
            .replace("NAME", name)
            .as_str(),
        &format!("kind: StatefulSet\nmetadata: {{name: {name}}}\nspec:\n  serviceName: {name}\n"),
    )
}
