//! `syncsim plan` end to end: the built binary, its stdout, stderr and exit code.
use assert_cmd::Command;
use predicates::prelude::*;
use std::path::Path;

fn syncsim() -> Command {
    Command::cargo_bin("syncsim").unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

const GOOD: &str = "\
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
    argocd.argoproj.io/hook: PostSync
    argocd.argoproj.io/hook-delete-policy: HookSucceeded
";

#[test]
fn plan_of_stdin_prints_steps() {
    syncsim()
        .args(["plan", "-"])
        .write_stdin(GOOD)
        .assert()
        .success()
        .stdout(predicate::str::contains("step 1: Sync wave 0 (1 task)\n  ConfigMap/settings  ns=default\n"))
        .stdout(predicate::str::contains(
            "step 2: PostSync wave 0 (1 task)\n  Job/migrate  ns=default  [hook, delete: HookSucceeded]\n",
        ));
}

#[test]
fn plan_json_has_the_documented_shape() {
    let out = syncsim()
        .args(["plan", "-", "-o", "json", "--dest-namespace", "shop"])
        .write_stdin(GOOD)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let task = &v["steps"][1]["tasks"][0];
    assert_eq!(v["steps"][1]["phase"], "PostSync");
    assert_eq!(v["steps"][1]["wave"], 0);
    assert_eq!(task["group"], "batch");
    assert_eq!(task["kind"], "Job");
    assert_eq!(task["namespace"], "shop");
    assert_eq!(task["name"], "migrate");
    assert_eq!(task["hook"], true);
    assert_eq!(task["deletePolicies"], serde_json::json!(["HookSucceeded"]));
    assert_eq!(task["origin"], "<stdin>:6");
    assert_eq!(v["ignored"], serde_json::json!([]));
    assert_eq!(v["warnings"], serde_json::json!([]));
}

#[test]
fn generate_name_hooks_use_the_revision() {
    let yaml = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: m-\n  annotations:\n    argocd.argoproj.io/hook: PreSync\n";
    syncsim()
        .args(["plan", "-", "--revision", "FooBarBaz"])
        .write_stdin(yaml)
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"Job/m-foobarb-presync-\d+ ").unwrap());
}

#[test]
fn warnings_go_to_stderr_and_the_text_output() {
    let yaml = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\n  annotations:\n    argocd.argoproj.io/hook: presync\n";
    syncsim()
        .args(["plan", "-"])
        .write_stdin(yaml)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "warning: <stdin>:1: Job/j: hook type `presync` is not valid",
        ))
        .stdout(predicate::str::contains(
            "not applied:\n  Job/j  ns=default  ignored:",
        ))
        .stdout(predicate::str::contains("did you mean `PreSync`?"));
}

#[test]
fn yaml_syntax_error_exits_2_naming_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "bad.yaml",
        "apiVersion: v1\nkind: [ConfigMap\nmetadata: {}\n",
    );
    syncsim().args(["plan", &f]).assert().code(2).stderr(
        predicate::str::is_match(r"^error: invalid YAML at .*bad\.yaml:\d+:\d+\n  caused by: ")
            .unwrap(),
    );
}

#[test_case::test_case("kind: ConfigMap\nmetadata: {name: web}\n", "object `ConfigMap/web` at", "has no `apiVersion`" ; "missing apiVersion")]
#[test_case::test_case("apiVersion: v1\nmetadata: {name: web}\n", "object `<no kind>/web` at", "has no `kind`" ; "missing kind")]
#[test_case::test_case("apiVersion: v1\nkind: ConfigMap\nmetadata: {labels: {a: b}}\n", "object `ConfigMap/<no name>` at", "has neither `metadata.name` nor `metadata.generateName`" ; "missing name and generateName")]
fn invalid_object_exits_2_naming_file_line_and_object(doc: &str, object: &str, problem: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "app.yaml", &format!("{GOOD}---\n{doc}"));
    syncsim()
        .args(["plan", &f])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "error: {object} {f}:14 {problem}"
        )));
}

#[test]
fn missing_path_exits_2() {
    syncsim()
        .args(["plan", "no/such/dir"])
        .assert()
        .code(2)
        .stderr("error: source `no/such/dir` does not exist (give a directory, a file, or `-` for standard input)\n");
}

#[cfg(unix)]
fn fake_tool(dir: &Path, name: &str, script: &str) {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(unix)]
#[test]
fn kustomize_failure_exits_2_with_kustomize_stderr() {
    let src = tempfile::tempdir().unwrap();
    write(
        src.path(),
        "kustomization.yaml",
        "resources: [missing.yaml]\n",
    );
    let bin = tempfile::tempdir().unwrap();
    fake_tool(
        bin.path(),
        "kubectl",
        "if [ \"$1\" = version ]; then echo 'Kustomize Version: v5.5.0'; exit 0; fi\n\
         echo 'error: accumulating resources: missing.yaml: no such file' >&2; exit 1",
    );
    let dir = src.path().to_str().unwrap();
    syncsim()
        .env("PATH", bin.path())
        .args(["plan", dir])
        .assert()
        .code(2)
        .stderr(format!(
            "error: `kubectl kustomize {dir}` failed with exit status: 1\n  caused by: error: accumulating resources: missing.yaml: no such file\n"
        ));
}

#[test]
fn real_kustomize_failure_exits_2_when_kubectl_is_installed() {
    let src = tempfile::tempdir().unwrap();
    write(
        src.path(),
        "kustomization.yaml",
        "resources: [missing.yaml]\n",
    );
    let has_renderer = ["kustomize", "kubectl"].iter().any(|t| {
        std::process::Command::new(t)
            .arg("version")
            .arg("--client")
            .output()
            .is_ok()
    });
    let assert = syncsim()
        .args(["plan", src.path().to_str().unwrap()])
        .assert();
    if has_renderer {
        assert
            .code(2)
            .stderr(predicate::str::contains("missing.yaml"));
    } else {
        assert.code(3);
    }
}

#[test]
fn kustomization_without_renderer_exits_3() {
    let src = tempfile::tempdir().unwrap();
    write(src.path(), "kustomization.yaml", "resources: []\n");
    let empty = tempfile::tempdir().unwrap();
    syncsim()
        .env("PATH", empty.path())
        .args(["plan", src.path().to_str().unwrap()])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "neither `kustomize` nor `kubectl` is on PATH",
        ));
}

#[test]
fn verbose_flag_shows_the_renderer() {
    syncsim()
        .args(["-v", "plan", "-"])
        .write_stdin(GOOD)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "rendered `-` with standard input: 2 objects",
        ));
}

/// The renderer's version is asked for while it renders (`manifest/load.rs`, `ToolVersion`)
/// and still reported: `kubectl kustomize` names the kustomize built into it.
#[test]
fn verbose_flag_shows_the_kustomize_version() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = syncsim()
        .args(["-v", "plan", &format!("{root}/k8s/overlays/local")])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("rendered `"))
        .unwrap_or_else(|| panic!("no render line in: {stderr}"));
    let version = line
        .split("(kustomize v")
        .nth(1)
        .unwrap_or_else(|| panic!("no kustomize version in: {line}"));
    assert!(version.starts_with(|c: char| c.is_ascii_digit()), "{line}");
}

#[test]
fn plain_directory_source_is_planned() {
    let src = tempfile::tempdir().unwrap();
    write(src.path(), "a.yaml", GOOD);
    write(
        src.path(),
        "b.json",
        r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"}}"#,
    );
    syncsim()
        .args(["plan", src.path().to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "step 1: Sync wave 0 (2 tasks)\n  Secret/s  ns=default\n  ConfigMap/settings",
        ));
}
