//! `syncsim replay`: the recorded Applications in `argocd/recorded/` compared with syncsim's
//! plan (no Docker), disagreements, bad input, and `--rehearse` / `--write-scenario` on Docker
//! with the image kit (`compose/build-images.sh`).
//!
//! The records follow Argo CD's `OperationState`, `SyncOperationResult` and `ResourceResult`
//! (`pkg/apis/application/v1alpha1/types.go` upstream: `operation.sync.revision`, `phase`,
//! `message`, `startedAt`, `finishedAt`, `syncResult.revision`, `syncResult.resources[]` with
//! group/version/kind/namespace/name/status/message/hookPhase/hookType/syncPhase).
mod common;

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn recorded(name: &str) -> PathBuf {
    repo().join("argocd/recorded").join(name)
}

fn syncsim() -> Command {
    let mut cmd = Command::cargo_bin("syncsim").unwrap();
    cmd.current_dir(repo()).env_remove("SYNCSIM_LOG");
    cmd
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(cmd: &mut Command) -> Out {
    let o = cmd.output().expect("run syncsim");
    let out = Out {
        code: o.status.code().expect("exited normally"),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    };
    eprintln!(
        "--- exit {}\n--- stdout:\n{}\n--- stderr:\n{}",
        out.code, out.stdout, out.stderr
    );
    out
}

fn json_of(out: &Out) -> Value {
    serde_json::from_str(&out.stdout).expect("stdout is one JSON value")
}

/// The task `kind/name` of the replay JSON, with its step.
fn task<'a>(j: &'a Value, kind: &str, name: &str) -> (&'a Value, &'a Value) {
    for step in j["steps"].as_array().unwrap() {
        for t in step["tasks"].as_array().unwrap() {
            if t["kind"] == kind && t["name"] == name {
                return (step, t);
            }
        }
    }
    panic!("no task {kind}/{name} in {j}")
}

/// A copy of a recorded Application with `edit` applied, outside the checkout (so `--repo`
/// serves the repository).
fn edited(dir: &tempfile::TempDir, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(recorded(name)).unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, edit(text)).unwrap();
    path
}

fn replay_at_head(path: &Path) -> Out {
    let repo = repo();
    run(syncsim()
        .arg("replay")
        .arg(path)
        .args(["--revision", "HEAD", "--repo"])
        .arg(&repo))
}

// ----- compare, no Docker -----

#[test]
fn the_recorded_success_agrees_with_the_plan_at_the_recorded_revision() {
    // No --revision: the record's syncResult.revision, a commit of this repository's history.
    let out = run(syncsim().args(["replay", "argocd/recorded/succeeded.yaml", "-o", "json"]));
    assert_eq!(out.code, 0);
    let j = json_of(&out);
    assert_eq!(j["agree"], true);
    assert_eq!(
        j["revisionFrom"],
        "status.operationState.syncResult.revision"
    );
    assert_eq!(j["recorded"]["phase"], "Succeeded");
    assert_eq!(j["syncsim"]["mode"], "plan");
    let steps: Vec<String> = j["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| format!("{}/{}", s["phase"].as_str().unwrap(), s["wave"]))
        .collect();
    assert_eq!(
        steps,
        [
            "Sync/0",
            "Sync/2",
            "Sync/3",
            "PostSync/0",
            "PostSync/1",
            "PostSync/2"
        ]
    );
    let (_, init) = task(&j, "Job", "clickhouse-init");
    assert_eq!(init["argo"]["hookPhase"], "Succeeded");
    assert_eq!(init["syncsim"]["runs"], true);
    assert_eq!(j["disagreements"], serde_json::json!([]));
}

#[test]
fn the_recorded_failed_migration_agrees_step_by_step_in_text() {
    let out = run(syncsim().args(["replay", "argocd/recorded/failed-migration.yaml"]));
    assert_eq!(out.code, 0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines.contains(&"step 5: PostSync wave 1"), "{lines:?}");
    assert!(lines
        .iter()
        .any(|l| l.starts_with("  = Job/flyway-shortlink")
            && l.contains("Argo CD: Synced, Failed: Job has reached the specified backoff limit")
            && l.contains("syncsim: runs")));
    assert!(lines
        .iter()
        .any(|l| l.starts_with("  = Job/clickhouse-init")
            && l.contains("not run by either: after the failure in PostSync wave 1")));
    assert!(out.stdout.contains(
        "agree: Argo CD's recorded operation matches syncsim's plan (21 tasks compared)"
    ));
}

#[test]
fn the_recorded_failed_sync_wave_stops_syncsim_after_sync_wave_2() {
    let out = run(syncsim().args([
        "replay",
        "argocd/recorded/failed-sync-wave.yaml",
        "-o",
        "json",
    ]));
    assert_eq!(out.code, 0);
    let j = json_of(&out);
    assert_eq!(j["agree"], true);
    let (step, deploy) = task(&j, "Deployment", "shortlink");
    assert_eq!(
        (step["phase"].as_str(), step["wave"].as_i64()),
        (Some("Sync"), Some(2))
    );
    assert_eq!(deploy["argo"]["hookPhase"], "Failed");
    for (kind, name) in [("Deployment", "admin"), ("Job", "flyway-admin")] {
        let (_, t) = task(&j, kind, name);
        assert_eq!(t["argo"], Value::Null, "{t}");
        assert_eq!(t["syncsim"]["runs"], false, "{t}");
        assert_eq!(
            t["note"], "not run by either: after the failure in Sync wave 2",
            "{t}"
        );
    }
}

#[test]
fn another_wave_a_hook_syncsim_would_not_run_and_an_unplanned_task_are_disagreements() {
    let dir = tempfile::tempdir().unwrap();
    let block = |text: &str, name: &str| -> String {
        let start = text.find(&format!("        name: {name}\n")).unwrap();
        let begin = text[..start].rfind("      - ").unwrap();
        let end = text[start..]
            .find("      - ")
            .map_or(text.len(), |e| start + e);
        text[begin..end].to_string()
    };
    // flyway-shortlink recorded before flyway-admin (another wave than syncsim's), and a
    // smoke-test hook syncsim's plan does not have.
    let path = edited(&dir, "failed-migration.yaml", |t| {
        let admin = block(&t, "flyway-admin");
        let shortlink = block(&t, "flyway-shortlink");
        let swapped = t
            .replacen(&admin, "@ADMIN@", 1)
            .replacen(&shortlink, &admin, 1);
        let smoke = shortlink.replace("flyway-shortlink", "smoke-test");
        swapped.replacen("@ADMIN@", &format!("{shortlink}{smoke}"), 1)
    });
    let out = replay_at_head(&path);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains(
        "Job/flyway-admin: Argo CD ran it after Job/flyway-shortlink (PostSync wave 1 in \
         syncsim's plan), but syncsim plans it earlier, in PostSync wave 0"
    ));
    assert!(out.stdout.contains(
        "Job/smoke-test: Argo CD ran it (PostSync hook); syncsim's plan has no such task"
    ));
    // A hook after the failure: Argo CD ran clickhouse-init, syncsim would have stopped.
    let path = edited(&dir, "failed-migration.yaml", |t| {
        let topic = block(&t, "kafka-create-stats-topic");
        let init = topic.replace("kafka-create-stats-topic", "clickhouse-init");
        format!("{t}{init}")
    });
    let out = replay_at_head(&path);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains(
        "Job/clickhouse-init: Argo CD ran it; syncsim would not, having stopped after the \
         failure in PostSync wave 1"
    ));
    // A resource Argo CD ran as a hook.
    let path = edited(&dir, "succeeded.yaml", |t| {
        let admin = block(&t, "admin");
        let admin_deploy = t[t.find(&admin).unwrap() + admin.len()..].to_string();
        let deploy = block(&admin_deploy, "admin");
        t.replacen(
            &deploy,
            &deploy.replace(
                "        syncPhase: Sync\n",
                "        hookType: Sync\n        syncPhase: Sync\n",
            ),
            1,
        )
    });
    let out = replay_at_head(&path);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains(
        "Deployment/admin: Argo CD ran it as a Sync hook; syncsim plans it as a resource"
    ));
    // A success message that only a final wave without a hook gives.
    let path = edited(&dir, "succeeded.yaml", |t| {
        t.replace(
            "    message: successfully synced (no more tasks)",
            "    message: successfully synced (all tasks run)",
        )
    });
    let out = replay_at_head(&path);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains(
        "operation: Argo CD ended `successfully synced (all tasks run)`; syncsim's plan ends \
         `successfully synced (no more tasks)` (its final step holds a hook)"
    ));
}

// ----- bad input -----

#[test]
fn bad_records_exit_2_naming_the_file_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    type Edit = fn(String) -> String;
    let cases: [(&str, Edit, &str); 3] = [
        (
            "status.operationState: is missing",
            |t| t[..t.find("status:").unwrap()].to_string(),
            "kubectl get application",
        ),
        (
            "status.operationState.phase: `Done` is not an operation phase",
            |t| t.replace("    phase: Succeeded", "    phase: Done"),
            "Succeeded",
        ),
        (
            "kind: is `v1` `ConfigMap`, not an Argo CD Application",
            |_| "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n".into(),
            "-o yaml",
        ),
    ];
    for (want, edit, fix) in cases {
        let path = edited(&dir, "succeeded.yaml", edit);
        let out = run(syncsim().arg("replay").arg(&path));
        assert_eq!(out.code, 2, "{want}");
        assert!(
            out.stderr.contains(&format!("{}: {want}", path.display())),
            "{want}: {}",
            out.stderr
        );
        assert!(out.stderr.contains(fix), "the fix for {want}");
    }
}

#[test]
fn a_recorded_revision_missing_from_the_clone_exits_2_and_says_how_to_fix_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = edited(&dir, "failed-migration.yaml", |t| {
        t.replace(
            "2756cf60459186920f60aed625a8309c475723dc",
            "0123456789abcdef0123456789abcdef01234567",
        )
    });
    let repo = repo();
    let out = run(syncsim().arg("replay").arg(&path).arg("--repo").arg(&repo));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("status.operationState.syncResult.revision"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--revision HEAD"), "{}", out.stderr);
}

// ----- rehearsal on Docker -----

#[test]
#[ignore = "needs docker and the image kit"]
fn rehearse_makes_the_recorded_migration_failure_recur_and_the_written_scenario_passes() {
    common::ensure_kit();
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("replay-failed-migration.yaml");
    let out = run(syncsim()
        .args([
            "replay",
            "argocd/recorded/failed-migration.yaml",
            "--rehearse",
            "-o",
            "json",
        ])
        .arg("--write-scenario")
        .arg(&scenario));
    assert_eq!(out.code, 0, "the rehearsal reproduces the record");
    let j = json_of(&out);
    assert_eq!(j["syncsim"]["mode"], "rehearsal");
    assert_eq!(j["syncsim"]["phase"], "Failed");
    assert_eq!(
        j["syncsim"]["message"],
        "one or more synchronization tasks completed unsuccessfully"
    );
    let (step, failed) = task(&j, "Job", "flyway-shortlink");
    assert_eq!(
        (step["phase"].as_str(), step["wave"].as_i64()),
        (Some("PostSync"), Some(1))
    );
    assert_eq!(failed["syncsim"]["hookPhase"], "Failed");
    assert_eq!(
        failed["syncsim"]["message"], failed["argo"]["message"],
        "the same hook fails with the recorded message"
    );
    let (_, init) = task(&j, "Job", "clickhouse-init");
    assert_eq!(init["syncsim"]["runs"], false);

    // The scenario it wrote passes `syncsim test` on its own.
    let text = std::fs::read_to_string(&scenario).expect("--write-scenario wrote the file");
    assert!(text.contains("hookCommand"), "{text}");
    let out = run(syncsim().arg("test").arg(&scenario));
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.contains("PASS  replay-shortlink-local"),
        "{}",
        out.stdout
    );
}
