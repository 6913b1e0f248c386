//! The "done when", through the CLI on the seed stack (`k8s/overlays/local`, offline
//! kit images): `sync --keep`, edit the flyway-shortlink Job, `sync` again: only the changed and
//! hook objects are touched, PostSync runs again, Postgres keeps its container and its data,
//! and the report says `unchanged` / `created`. Then `status` and `down --volumes`.
mod common;

use assert_cmd::Command;
use serde_json::Value;
use std::{path::Path, sync::Arc, time::Duration};
use syncsim::{
    manifest::ObjectKey,
    runtime::{
        docker::DockerRuntime, ContainerRuntime, LABEL_APP, LABEL_MANAGED_BY, MANAGED_BY_VALUE,
    },
    state::EnvRecord,
};

const REPO: &str = env!("CARGO_MANIFEST_DIR");
const APP: &str = "t-seed-resync";

fn syncsim(state: &Path, args: &[&str]) -> (i32, String, String, Duration) {
    let start = std::time::Instant::now();
    let out = Command::cargo_bin("syncsim")
        .expect("binary")
        .current_dir(REPO)
        .env("SYNCSIM_STATE_DIR", state)
        .args(args)
        .output()
        .expect("run syncsim");
    let took = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    eprintln!("$ syncsim {} ({took:.1?})\n{stderr}", args.join(" "));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        stderr,
        took,
    )
}

/// An overlay in `dir` over the repo's `k8s/overlays/local` (kustomize refuses absolute
/// resource paths, so the path is relative) that edits the flyway-shortlink Job.
fn edited_overlay(dir: &Path) {
    let depth = dir.components().count() - 1;
    let up = "../".repeat(depth);
    let local = format!("{up}{}/k8s/overlays/local", REPO.trim_start_matches('/'));
    let text = format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - {local}\npatches:\n  - target: {{kind: Job, name: flyway-shortlink}}\n    patch: |-\n      - op: add\n        path: /spec/template/spec/containers/0/env/-\n        value: {{name: SYNCSIM_EDIT, value: \"2\"}}\n"
    );
    std::fs::write(dir.join("kustomization.yaml"), text).unwrap();
}

fn postgres_id(state: &Path) -> String {
    let rec = EnvRecord::load_from(&state.join(format!("{APP}.json")))
        .expect("record")
        .expect("kept");
    let key = ObjectKey {
        group: "apps".into(),
        kind: "StatefulSet".into(),
        namespace: "shortlink".into(),
        name: "postgres".into(),
    };
    rec.object(&key).expect("postgres recorded").pods[0].containers[0]
        .id
        .clone()
}

async fn psql(rt: &dyn ContainerRuntime, id: &str, sql: &str) -> String {
    let cmd: Vec<String> = [
        "psql",
        "-X",
        "-At",
        "-U",
        "shortlink",
        "-d",
        "shortlink",
        "-c",
        sql,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let r = rt
        .exec(id, &cmd, Duration::from_secs(30))
        .await
        .expect("exec");
    assert_eq!(r.exit_code, 0, "{sql}: {}", r.output);
    r.output.trim().to_string()
}

fn resources(json: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(json).expect("json report");
    v["resources"].as_array().expect("resources").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs docker"]
async fn resync_of_the_seed_stack_reruns_postsync_and_leaves_postgres_and_its_data_alone() {
    common::ensure_kit();
    let state = tempfile::tempdir().unwrap();
    let overlay = tempfile::tempdir().unwrap();
    edited_overlay(overlay.path());
    let overlay_path = overlay.path().to_str().unwrap();
    let rt: Arc<dyn ContainerRuntime> = Arc::new(DockerRuntime::connect().await.expect("docker"));
    syncsim(state.path(), &["down", "--app", APP, "--volumes"]);

    // 1. sync --keep.
    let (code, _, _, t1) = syncsim(
        state.path(),
        &["sync", "--keep", "--app", APP, "k8s/overlays/local"],
    );
    assert_eq!(code, 0, "first sync");
    let pg = postgres_id(state.path());
    psql(
        rt.as_ref(),
        &pg,
        "CREATE TABLE resync_probe (v text); INSERT INTO resync_probe VALUES ('kept')",
    )
    .await;

    // 2. The flyway-shortlink Job changed: sync again (kept again, to look inside).
    let (code, out, err, t2) = syncsim(
        state.path(),
        &[
            "sync",
            "--keep",
            "--app",
            APP,
            "-o",
            "json",
            // The same app on the same cluster: its description (namespace `shortlink`
            // exists) and image builds live beside the overlay this one edits.
            "--config",
            "k8s/overlays/local/syncsim.yaml",
            overlay_path,
        ],
    );
    assert_eq!(code, 0, "second sync: {out}");
    assert!(err.contains("adopted the kept environment"), "{err}");
    let res = resources(&out);
    let mut hooks = 0;
    for r in &res {
        let (name, msg) = (r["name"].as_str().unwrap(), r["message"].as_str().unwrap());
        if r["hook"].as_bool().unwrap() {
            hooks += 1;
            if r["syncPhase"] == "SyncFail" {
                assert!(r["status"].is_null(), "SyncFail hook {name} must not run");
                continue;
            }
            assert!(msg.ends_with(" created"), "hook {name} re-created: {msg}");
            assert_eq!(r["hookPhase"], "Succeeded", "hook {name}");
        } else {
            assert!(msg.ends_with(" unchanged"), "{name} untouched: {msg}");
        }
    }
    assert!(hooks >= 4, "PostSync hooks ran again");
    let flyway = res
        .iter()
        .find(|r| r["name"] == "flyway-shortlink")
        .unwrap();
    assert_eq!(flyway["message"], "job.batch/flyway-shortlink created");
    assert_eq!(flyway["syncPhase"], "PostSync");
    assert_eq!(postgres_id(state.path()), pg, "postgres kept its container");
    assert_eq!(
        psql(rt.as_ref(), &pg, "SELECT v FROM resync_probe").await,
        "kept",
        "the row written after the first sync survived"
    );
    // The text report says the same.
    let (code, status, _, _) = syncsim(state.path(), &["status", "--app", APP]);
    assert_eq!(code, 0);
    assert!(status.contains("Sync Status:        Synced"), "{status}");
    assert!(status.contains("Health Status:      Healthy"), "{status}");
    eprintln!("first sync {t1:.1?}, re-sync {t2:.1?}");

    // 3. down --volumes removes everything, record included.
    let (code, _, _, _) = syncsim(state.path(), &["down", "--app", APP, "--volumes"]);
    assert_eq!(code, 0);
    let labels = [
        (LABEL_MANAGED_BY.to_string(), MANAGED_BY_VALUE.to_string()),
        (LABEL_APP.to_string(), APP.to_string()),
    ];
    let left = rt.list_labelled(&labels).await.expect("list");
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(!state.path().join(format!("{APP}.json")).exists());
}
