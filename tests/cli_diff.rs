//! `syncsim diff` end to end: the built binary on the example overlay, on git revisions, on JSON
//! reports, and on bad input.
use assert_cmd::Command;
use predicates::prelude::*;
use std::path::{Path, PathBuf};

fn syncsim() -> Command {
    Command::cargo_bin("syncsim").unwrap()
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// The Done-when: prod against a copy where the shortlink wave (2) became wave 5 shows
/// exactly that move, and nothing else.
#[test]
fn prod_against_a_copy_with_one_wave_moved() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("k8s"), &tmp.path().join("k8s"));
    let waves = tmp.path().join("k8s/overlays/prod/sync-waves.yaml");
    let text = std::fs::read_to_string(&waves).unwrap();
    assert_eq!(
        text.matches("sync-wave: \"2\"").count(),
        2,
        "shortlink's Deployment and Service"
    );
    std::fs::write(&waves, text.replace("sync-wave: \"2\"", "sync-wave: \"5\"")).unwrap();
    let moved = tmp.path().join("k8s/overlays/prod");

    syncsim()
        .current_dir(repo())
        .args(["diff", "k8s/overlays/prod"])
        .arg(&moved)
        .assert()
        .code(1)
        .stdout(format!(
            "--- k8s/overlays/prod (plan)\n+++ {} (plan)\n\
             Sync wave 5:\n\
             \x20 ~ Service/shortlink (ns shortlink) moved from Sync wave 2 to Sync wave 5\n\
             \x20 ~ Deployment/shortlink (ns shortlink) moved from Sync wave 2 to Sync wave 5\n\
             2 differences\n",
            moved.display()
        ));

    let out = syncsim()
        .current_dir(repo())
        .args(["diff", "-o", "json", "k8s/overlays/prod"])
        .arg(&moved)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["differences"], 2);
    assert_eq!(v["operation"], serde_json::json!([]));
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(
        (&steps[0]["phase"], &steps[0]["wave"]),
        (&"Sync".into(), &5.into())
    );
    for c in steps[0]["changes"].as_array().unwrap() {
        assert_eq!(c["change"], "moved");
        assert_eq!(c["from"], serde_json::json!({"phase": "Sync", "wave": 2}));
        assert_eq!(c["task"]["name"], "shortlink");
    }

    // The same source twice: no differences, exit 0.
    syncsim()
        .current_dir(repo())
        .args(["diff", "k8s/overlays/prod", "k8s/overlays/prod"])
        .assert()
        .code(0)
        .stdout(predicate::str::ends_with("no differences\n"));
}

fn git(dir: &Path, args: &[&str]) {
    let st = std::process::Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&st.stderr)
    );
}

const APP: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations:
    argocd.argoproj.io/hook: PreSync
    argocd.argoproj.io/hook-delete-policy: HookSucceeded
";

/// `DIR@REV` reads DIR at a git revision; run from a subdirectory of the repository.
#[test]
fn revisions_of_a_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("deploy/app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join("app.yaml"), APP).unwrap();
    git(tmp.path(), &["init", "-q"]);
    git(tmp.path(), &["add", "."]);
    git(tmp.path(), &["commit", "-qm", "v1"]);
    std::fs::write(
        app.join("app.yaml"),
        APP.replace("hook: PreSync", "hook: PostSync")
            .replace("HookSucceeded", "HookSucceeded,HookFailed"),
    )
    .unwrap();
    git(tmp.path(), &["commit", "-qam", "v2"]);

    syncsim()
        .current_dir(tmp.path().join("deploy"))
        .args(["diff", "app@HEAD~1", "app@HEAD"])
        .assert()
        .code(1)
        .stdout(
            "--- app@HEAD~1 (plan)\n+++ app@HEAD (plan)\nPostSync wave 0:\n\
             \x20 ~ Job/migrate (ns default) moved from PreSync wave 0 to PostSync wave 0\n\
             \x20 ~ Job/migrate (ns default) delete policies HookSucceeded -> HookFailed,HookSucceeded\n\
             2 differences\n",
        );
    // The working tree against HEAD: nothing changed since.
    syncsim()
        .current_dir(tmp.path())
        .args(["diff", "deploy/app@HEAD", "deploy/app"])
        .assert()
        .code(0);
    syncsim()
        .current_dir(tmp.path())
        .args(["diff", "deploy/app@no-such-rev", "deploy/app"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("deploy/app@no-such-rev"));
    syncsim()
        .current_dir(tmp.path())
        .args(["diff", "deploy/other@HEAD", "deploy/app"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "deploy/other does not exist at revision HEAD",
        ));
}

/// Two run reports: the failed run of the fixture against the same run made successful.
#[test]
fn run_reports() {
    let tmp = tempfile::tempdir().unwrap();
    let failed = repo().join("tests/fixtures/report/local-broken-migration.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&failed).unwrap()).unwrap();
    v["outcome"] = "Succeeded".into();
    for r in v["resources"].as_array_mut().unwrap() {
        if r["name"] == "flyway-shortlink" {
            r["hookPhase"] = "Succeeded".into();
            r["health"] = "Healthy".into();
            r["message"] = "job.batch/flyway-shortlink created".into();
        }
    }
    let ok = tmp.path().join("ok.json");
    std::fs::write(&ok, v.to_string()).unwrap();
    syncsim()
        .arg("diff")
        .arg(&failed)
        .arg(&ok)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "operation:\n  ~ outcome \"Failed\" -> \"Succeeded\"\n",
        ))
        .stdout(predicate::str::contains(
            "PostSync wave 1:\n  ~ Job/flyway-shortlink (ns shortlink) hookPhase Failed -> Succeeded\n\
             \x20 ~ Job/flyway-shortlink (ns shortlink) health Degraded -> Healthy\n\
             \x20 ~ Job/flyway-shortlink (ns shortlink) message Job has reached the specified backoff limit -> job.batch/flyway-shortlink created\n",
        ))
        .stdout(predicate::str::ends_with("4 differences\n"));
    syncsim()
        .args(["diff", "-o", "html"])
        .arg(&failed)
        .arg(&ok)
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with("<!DOCTYPE html>"))
        .stdout(predicate::str::contains("4 differences"));
}

#[test]
fn bad_input_exits_2_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, "{\"hello\": 1}").unwrap();
    let good = repo().join("tests/fixtures/plan-prod.json");
    syncsim()
        .arg("diff")
        .arg(&bad)
        .arg(&good)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(bad.display().to_string()))
        .stderr(predicate::str::contains("neither a plan"));
    syncsim()
        .arg("diff")
        .arg(&good)
        .arg(tmp.path().join("missing"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "missing: no such file or directory",
        ));
    syncsim()
        .args(["diff", "--threshold", "lots"])
        .arg(&good)
        .arg(&good)
        .assert()
        .code(2);
}
