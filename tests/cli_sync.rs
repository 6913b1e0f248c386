//! `syncsim sync` and `syncsim down` end to end through the built binary.
//!
//! The Docker tests (`#[ignore = "needs docker"]`) run on the busybox test image
//! (`compose/testimages/build.sh`, built once per test binary), each with its own `--app` name,
//! and each ends by asserting that nothing labelled with that app is left on the engine.
//! Run them with `cargo test --test cli_sync -- --include-ignored`.
mod common;

use assert_cmd::Command;
use serde_json::Value;
use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::Stdio,
    sync::mpsc,
    time::{Duration, Instant},
};
use syncsim::runtime::{Listed, ListedKind};

const SMALL: &str = include_str!("fixtures/sync/small.yaml");

const TABLE_HEADER: &str = "TIMESTAMP GROUP KIND NAMESPACE NAME STATUS HEALTH HOOK MESSAGE";

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// The binary under test, hard-linked (or copied) once to a private name: the target directory
/// may be shared with other checkouts whose builds replace `target/debug/syncsim` while these
/// tests run.
fn binary() -> &'static Path {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli_sync-bin");
        std::fs::create_dir_all(&dir).expect("tmp dir");
        // Links of earlier runs whose process is gone.
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if !Path::new("/proc").join(e.file_name()).exists() {
                let _ =
                    std::fs::remove_dir_all(e.path()).or_else(|_| std::fs::remove_file(e.path()));
            }
        }
        let own = dir.join(std::process::id().to_string());
        std::fs::create_dir_all(&own).expect("tmp dir");
        let to = own.join("syncsim");
        let _ = std::fs::remove_file(&to);
        let from = env!("CARGO_BIN_EXE_syncsim");
        if std::fs::hard_link(from, &to).is_err() {
            std::fs::copy(from, &to).expect("copy the syncsim binary");
        }
        to
    })
}

fn syncsim() -> Command {
    let mut cmd = Command::new(binary());
    // Never inherit the wave delay of the developer's shell.
    cmd.env_remove("ARGOCD_SYNC_WAVE_DELAY")
        .env_remove("SYNCSIM_LOG")
        // Kept-environment records of these tests stay out of the developer's state directory.
        .env(
            "SYNCSIM_STATE_DIR",
            std::env::temp_dir().join(format!("syncsim-cli-state-{}", std::process::id())),
        );
    cmd
}

/// Every Docker object labelled as syncsim's for `app`.
use common::labelled;

fn assert_nothing_left(app: &str) {
    let left = labelled(app);
    assert!(
        left.is_empty(),
        "labelled objects of app `{app}` left behind: {:?}",
        left.iter()
            .map(|l| format!("{:?} {}", l.kind, l.name))
            .collect::<Vec<_>>()
    );
}

/// Prepares a Docker test: the image exists and no leftover of an earlier aborted run is in the way.
fn docker_test(app: &str) {
    common::ensure_test_image();
    if !labelled(app).is_empty() {
        syncsim().args(["down", "--app", app]).assert().success();
    }
}

/// `small.yaml` with the documents for which `edit` returns `Some` replaced, written to a file.
fn small_with(dir: &tempfile::TempDir, edit: impl Fn(&str) -> Option<String>) -> PathBuf {
    let yaml = SMALL
        .split("\n---\n")
        .map(|doc| edit(doc).unwrap_or_else(|| doc.to_string()))
        .collect::<Vec<_>>()
        .join("\n---\n");
    let path = dir.path().join("app.yaml");
    std::fs::write(&path, yaml).expect("write fixture");
    // Namespace `demo` exists, as for the fixtures (tests/fixtures/syncsim.yaml).
    std::fs::copy(fixture("syncsim.yaml"), dir.path().join("syncsim.yaml")).expect("config");
    path
}

/// Whitespace-collapsed lines, so table columns compare independently of their widths.
fn collapsed(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

fn run(cmd: &mut Command) -> Output {
    let start = Instant::now();
    let out = cmd.output().expect("run syncsim");
    let o = Output {
        code: out
            .status
            .code()
            .expect("exited normally (not by a signal)"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: start.elapsed(),
    };
    eprintln!(
        "--- exit {} after {:.1}s\n--- stdout:\n{}\n--- stderr:\n{}",
        o.code,
        o.elapsed.as_secs_f64(),
        o.stdout,
        o.stderr
    );
    o
}

/// `syncsim sync SOURCE --app APP --dest-namespace demo --job-backoff 200ms --timeout TIMEOUT`.
fn sync_cmd(app: &str, source: &Path, timeout: &str) -> Command {
    let mut cmd = syncsim();
    cmd.arg("sync")
        .arg(source)
        .args([
            "--app",
            app,
            "--dest-namespace",
            "demo",
            "--job-backoff",
            "200ms",
        ])
        .args(["--timeout", timeout]);
    cmd
}

// ----- success, JSON, JUnit -----

#[test]
#[ignore = "needs docker"]
fn sync_small_app_succeeds_with_summary_table_and_live_progress() {
    let app = "cli-ok";
    docker_test(app);
    let out = run(&mut sync_cmd(app, &fixture("sync/small.yaml"), "60s"));
    assert_eq!(out.code, 0);
    let stdout = collapsed(&out.stdout);
    assert!(
        stdout.contains(&format!("Application: {app}")),
        "{stdout:?}"
    );
    assert!(
        stdout.contains(&"Phase: Succeeded".to_string()),
        "{stdout:?}"
    );
    assert!(
        stdout.contains(&"Message: successfully synced (no more tasks)".to_string()),
        "{stdout:?}"
    );
    assert!(stdout.contains(&TABLE_HEADER.to_string()), "{stdout:?}");
    // One row per started task; the SyncFail hook never ran.
    let row = |name: &str| {
        stdout
            .iter()
            .find(|l| l.split(' ').nth(4) == Some(name))
            .cloned()
    };
    let web = row("web").expect("a row for web");
    assert!(
        web.contains(" Deployment demo web Synced Healthy "),
        "{web}"
    );
    let fetch = row("fetch").expect("a row for the fetch hook");
    assert!(fetch.contains(" batch Job demo fetch "), "{fetch}");
    assert!(fetch.contains(" PostSync "), "{fetch}");
    assert_eq!(row("notify"), None, "the SyncFail hook must not run");
    // Everything ran; a SyncFail hook that did not run on success is not listed as pending.
    assert!(!out.stdout.contains("Not started"), "{}", out.stdout);
    // Live progress on stderr, in order.
    let progress = [
        "validating 9 tasks (dry run)",
        "▶ PreSync wave 0",
        "▶ Sync wave 0",
        "▶ Sync wave 1",
        "▶ PostSync wave 0",
        "▶ PostSync wave 1",
        "deleted hook batch/Job/fetch",
    ];
    let mut from = 0;
    for p in progress {
        let at = out.stderr[from..]
            .find(p)
            .unwrap_or_else(|| panic!("stderr lacks `{p}` after byte {from}:\n{}", out.stderr));
        from += at + p.len();
    }
    assert!(
        out.stderr.contains(&format!("syncsim: app `{app}`")),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("s3cr3t-value") && !out.stderr.contains("s3cr3t-value"));
    assert_nothing_left(app);
}

#[test]
#[ignore = "needs docker"]
fn sync_json_output_is_only_json_and_junit_has_one_testcase_per_task() {
    let app = "cli-json";
    docker_test(app);
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("report.xml");
    let html = dir.path().join("run.html");
    let out = run(sync_cmd(app, &fixture("sync/small.yaml"), "60s")
        .args(["-o", "json", "--junit"])
        .arg(&junit)
        .arg("--html")
        .arg(&html));
    assert_eq!(out.code, 0);
    let report: Value =
        serde_json::from_str(&out.stdout).expect("stdout is exactly one JSON value");
    assert_eq!(report["schemaVersion"], 1);
    assert_eq!(report["app"], app);
    assert_eq!(report["outcome"], "Succeeded");
    assert_eq!(report["exitCode"], 0);
    assert_eq!(report["operation"]["phase"], "Succeeded");
    let steps: Vec<(String, i64, String)> = report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["phase"].as_str().unwrap().to_string(),
                s["wave"].as_i64().unwrap(),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(String, i64, String)> = [
        ("PreSync", 0, "Succeeded"),
        ("Sync", 0, "Succeeded"),
        ("Sync", 1, "Succeeded"),
        ("PostSync", 0, "Succeeded"),
        ("PostSync", 1, "Succeeded"),
        ("SyncFail", 0, "NotStarted"),
    ]
    .iter()
    .map(|(p, w, s)| (p.to_string(), *w, s.to_string()))
    .collect();
    assert_eq!(steps, want);
    let resources = report["resources"].as_array().expect("resources");
    assert_eq!(resources.len(), 9);
    let res = |name: &str, kind: &str| {
        resources
            .iter()
            .find(|r| r["name"] == name && r["kind"] == kind)
            .unwrap_or_else(|| panic!("no resource {kind}/{name}"))
    };
    let web = res("web", "Deployment");
    assert_eq!(web["group"], "apps");
    assert_eq!(web["namespace"], "demo");
    assert_eq!(web["status"], "Synced");
    assert_eq!(web["health"], "Healthy");
    assert_eq!(web["hook"], false);
    assert_eq!(res("web-content", "ConfigMap")["simulated"], false);
    let fetch = res("fetch", "Job");
    assert_eq!(fetch["hook"], true);
    assert_eq!(fetch["hookType"], "PostSync");
    assert_eq!(fetch["hookPhase"], "Succeeded");
    assert_eq!(fetch["deletedByPolicy"], "HookSucceeded");
    // Every hook's log, succeeded ones too, taken before HookSucceeded deleted the hook.
    for (hook, line) in [("precheck", "precheck ok"), ("after", "after")] {
        let r = res(hook, "Job");
        assert_eq!(r["deletedByPolicy"], "HookSucceeded", "{r}");
        assert_eq!(r["logTail"], serde_json::json!([line]), "{r}");
        assert_eq!(r["logTruncated"], false, "{r}");
    }
    assert_eq!(
        web["logTail"],
        serde_json::json!([]),
        "resources have no hook log"
    );
    let notify = res("notify", "Job");
    assert_eq!(notify["status"], Value::Null);
    assert_eq!(notify["appliedAt"], Value::Null);
    assert!(!out.stdout.contains("s3cr3t-value"));
    // Progress still goes to stderr.
    assert!(out.stderr.contains("▶ Sync wave 1"), "{}", out.stderr);

    let xml = std::fs::read_to_string(&junit).expect("JUnit file written");
    assert_eq!(xml.matches("<testcase ").count(), 9, "{xml}");
    assert!(xml.contains("PostSync wave 0 Job/fetch (demo)"), "{xml}");
    assert_eq!(xml.matches("<failure").count(), 0, "{xml}");
    assert!(
        xml.contains("<system-out>precheck ok</system-out>"),
        "a succeeded hook's log is its system-out: {xml}"
    );
    let page = std::fs::read_to_string(&html).expect("--html wrote the timeline");
    assert!(page.starts_with("<!DOCTYPE html>"), "{page:.200}");
    assert!(page.contains("precheck ok") && page.contains("<details class=\"log\""));
    assert_eq!(
        xml.matches("<skipped").count(),
        1,
        "only the SyncFail hook: {xml}"
    );
    assert_nothing_left(app);
}

// ----- failure, timeout -----

#[test]
#[ignore = "needs docker"]
fn failing_postsync_hook_exits_1_prints_its_logs_runs_syncfail_and_skips_next_wave() {
    const FAILING_FETCH: &str = r#"apiVersion: batch/v1
kind: Job
metadata:
  name: fetch
  annotations:
    argocd.argoproj.io/hook: PostSync
    argocd.argoproj.io/hook-delete-policy: HookSucceeded
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: syncsim-test/busybox:1
          command: ["sh", "-c", "echo migrating; echo 'ERROR: relation exists' >&2; exit 3"]"#;
    let app = "cli-fail";
    docker_test(app);
    let dir = tempfile::tempdir().unwrap();
    let src = small_with(&dir, |doc| {
        doc.contains("  name: fetch\n")
            .then(|| FAILING_FETCH.to_string())
    });
    let out = run(&mut sync_cmd(app, &src, "60s"));
    assert_eq!(out.code, 1);
    let stdout = collapsed(&out.stdout);
    assert!(stdout.contains(&"Phase: Failed".to_string()), "{stdout:?}");
    assert!(
        stdout.contains(
            &"Message: one or more synchronization tasks completed unsuccessfully".to_string()
        ),
        "{stdout:?}"
    );
    assert!(stdout.contains(&TABLE_HEADER.to_string()), "{stdout:?}");
    // The failed hook's log tail comes after the table.
    let table_at = out.stdout.find("TIMESTAMP").unwrap();
    let logs_at = out
        .stdout
        .find("--- logs of failed hook Job/fetch (PostSync)")
        .expect("log section of the failed hook");
    assert!(logs_at > table_at);
    let tail = &out.stdout[logs_at..];
    assert!(tail.contains("migrating"), "{tail}");
    assert!(tail.contains("ERROR: relation exists"), "{tail}");
    // The SyncFail hook ran; the next PostSync wave never started.
    let notify = stdout
        .iter()
        .find(|l| l.split(' ').nth(4) == Some("notify"))
        .expect("a row for the SyncFail hook");
    assert!(notify.contains(" SyncFail "), "{notify}");
    assert!(
        out.stderr.contains("▶ SyncFail: starting 1 hook(s)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout
            .contains("Not started (1): Job/after (PostSync wave 1)"),
        "{}",
        out.stdout
    );
    assert!(!out.stderr.contains("▶ PostSync wave 1"), "{}", out.stderr);
    assert_nothing_left(app);
}

#[test]
#[ignore = "needs docker"]
fn timeout_while_a_statefulset_never_becomes_ready_exits_4_and_says_what_argo_waits_for() {
    let app = "cli-timeout";
    docker_test(app);
    let out = run(&mut sync_cmd(app, &fixture("cli/stuck.yaml"), "3s"));
    assert_eq!(out.code, 4);
    assert!(
        out.stderr.contains(
            "Argo CD would still be Running: waiting for healthy state of apps/StatefulSet/stuck"
        ),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--timeout 3s"), "{}", out.stderr);
    assert!(
        out.stdout
            .contains("Not started (1): ConfigMap/later (Sync wave 1)"),
        "{}",
        out.stdout
    );
    assert!(
        out.elapsed < Duration::from_secs(20),
        "took {:?}",
        out.elapsed
    );
    assert_nothing_left(app);
}

// ----- signals -----

struct Interrupted {
    code: i32,
    stdout: String,
    stderr: String,
    /// From the first signal to the exit.
    after_first: Duration,
}

/// Starts `syncsim sync SOURCE ARGS…` on a fixture whose StatefulSet `stuck` never becomes ready,
/// waits until its container exists, then sends `signals` with kill(1): the first at once, each
/// further one 300 ms after syncsim acknowledged the first (its teardown is then under way).
fn interrupt_mid_wave(app: &str, source: &str, args: &[&str], signals: &[&str]) -> Interrupted {
    docker_test(app);
    let mut child = std::process::Command::new(binary())
        .arg("sync")
        .arg(fixture(source))
        .args(["--app", app, "--timeout", "60s"])
        .args(args)
        .env_remove("ARGOCD_SYNC_WAVE_DELAY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn syncsim");
    let (tx, rx) = mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            all.push_str(&line);
            all.push('\n');
            let _ = tx.send(line);
        }
        all
    });
    let stdout = child.stdout.take().unwrap();
    let out_reader =
        std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let wait_line = |what: &str, limit: Duration| {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
                if line.contains(what) {
                    return true;
                }
            }
        }
        false
    };
    // Wait until the wave is under way: the StatefulSet was applied and its container exists.
    assert!(
        wait_line("statefulset.apps/stuck created", Duration::from_secs(30)),
        "the StatefulSet was never applied"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline
        && !labelled(app)
            .iter()
            .any(|l| l.kind == ListedKind::Container)
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid = child.id().to_string();
    let kill = |signal: &str| {
        let st = std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("run kill");
        assert!(st.success());
    };
    kill(signals[0]);
    let start = Instant::now();
    if signals.len() > 1 {
        assert!(
            wait_line(
                "interrupted: stopping and cleaning up",
                Duration::from_secs(10)
            ),
            "the first signal was not acknowledged"
        );
        for signal in &signals[1..] {
            std::thread::sleep(Duration::from_millis(300));
            kill(signal);
        }
    }
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("syncsim did not exit within 30s of {signals:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let after_first = start.elapsed();
    let stderr = reader.join().unwrap();
    let stdout = out_reader.join().unwrap();
    eprintln!(
        "--- {signals:?}: exit {:?} {:.1}s after the first signal\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}",
        status.code(),
        after_first.as_secs_f64()
    );
    Interrupted {
        code: status.code().expect("exited normally, not by a signal"),
        stdout,
        stderr,
        after_first,
    }
}

#[test]
#[ignore = "needs docker"]
fn sigint_mid_wave_exits_130_and_removes_everything() {
    let app = "cli-sigint";
    let r = interrupt_mid_wave(app, "cli/stuck.yaml", &[], &["-INT"]);
    assert_eq!(r.code, 130);
    assert!(
        r.stderr.contains("interrupted: stopping and cleaning up"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout.contains(
            "interrupted (Argo CD was: waiting for healthy state of apps/StatefulSet/stuck)"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("Not started (1): ConfigMap/later (Sync wave 1)"),
        "{}",
        r.stdout
    );
    assert_nothing_left(app);
}

#[test]
#[ignore = "needs docker"]
fn sigterm_mid_wave_exits_130_with_a_json_report_and_removes_everything() {
    let app = "cli-sigterm";
    let r = interrupt_mid_wave(app, "cli/stuck.yaml", &["-o", "json"], &["-TERM"]);
    assert_eq!(r.code, 130);
    assert!(
        r.stderr.contains("interrupted: stopping and cleaning up"),
        "{}",
        r.stderr
    );
    let report: Value = serde_json::from_str(&r.stdout).expect("stdout is the JSON report");
    assert_eq!(report["outcome"], "Interrupted");
    assert_eq!(report["exitCode"], 130);
    assert_nothing_left(app);
}

#[test]
#[ignore = "needs docker"]
fn second_sigint_forces_the_cleanup_and_still_removes_everything() {
    // The container ignores SIGTERM (`sleep` as PID 1), so the graceful teardown after the first
    // Ctrl-C would wait for the whole stop grace period; the second Ctrl-C cuts it short.
    let app = "cli-sigint2";
    let r = interrupt_mid_wave(app, "cli/stubborn.yaml", &[], &["-INT", "-INT"]);
    assert_eq!(r.code, 130);
    assert!(r.stderr.contains("forcing cleanup"), "{}", r.stderr);
    assert!(
        r.after_first < Duration::from_secs(3),
        "the forced cleanup took {:?}",
        r.after_first
    );
    assert_nothing_left(app);
}

// ----- --keep and down -----

#[test]
#[ignore = "needs docker"]
fn keep_leaves_everything_up_and_down_removes_it_then_is_a_no_op() {
    let app = "cli-keep";
    docker_test(app);
    let out = run(sync_cmd(app, &fixture("cli/keep.yaml"), "60s").arg("--keep"));
    assert_eq!(out.code, 0);
    assert!(
        out.stderr
            .contains(&format!("remove with `syncsim down --app {app}`")),
        "{}",
        out.stderr
    );
    let kept = labelled(app);
    let count = |k: ListedKind| kept.iter().filter(|l| l.kind == k).count();
    assert_eq!(count(ListedKind::Container), 1, "{kept:?}");
    assert_eq!(count(ListedKind::Network), 1, "{kept:?}");
    assert_eq!(count(ListedKind::Volume), 1, "{kept:?}");
    assert!(kept.iter().any(|l| l.name == format!("syncsim-{app}")));

    // Syncing again with --keep adopts the kept environment (issue #6): nothing changed, so the
    // same container, network and volume stay.
    let again = run(sync_cmd(app, &fixture("cli/keep.yaml"), "60s").arg("--keep"));
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stderr.contains("adopted the kept environment"),
        "{}",
        again.stderr
    );
    let ids = |v: &[Listed]| {
        let mut ids: Vec<String> = v.iter().map(|l| l.id.clone()).collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&labelled(app)), ids(&kept));

    // `down` keeps the PVC's volume (the data) unless `--volumes`.
    let down = run(syncsim().args(["down", "--app", app]));
    assert_eq!(down.code, 0);
    assert!(
        down.stderr
            .contains("removed 1 containers, 1 networks, 0 volumes"),
        "{}",
        down.stderr
    );
    assert_eq!(labelled(app).len(), 1, "the claim volume stays");
    let down = run(syncsim().args(["down", "--app", app, "--volumes"]));
    assert_eq!(down.code, 0);
    assert!(
        down.stderr
            .contains("removed 0 containers, 0 networks, 1 volumes"),
        "{}",
        down.stderr
    );
    assert_nothing_left(app);

    let again = run(syncsim().args(["down", "--app", app]));
    assert_eq!(again.code, 0);
    assert!(
        again
            .stderr
            .contains("removed 0 containers, 0 networks, 0 volumes"),
        "{}",
        again.stderr
    );
}

/// `sync` used to turn `--app CLI_Kept_App` into `cli-kept-app` silently (so `rel_a` and
/// `rel-a` were one app); now every subcommand refuses a name that is not a DNS-1123 label
/// with exit 2 and the name to use, before it touches the engine.
#[test]
fn sync_down_and_status_refuse_an_app_name_that_is_not_a_dns_label() {
    for args in [
        vec!["sync", "x.yaml", "--app", "CLI_Kept_App"],
        vec!["down", "--app", "CLI_Kept_App"],
        vec!["status", "--app", "CLI_Kept_App"],
    ] {
        let out = run(syncsim()
            .args(&args)
            .env("DOCKER_HOST", "unix:///nonexistent.sock"));
        assert_eq!(out.code, 2, "{args:?}");
        assert!(
            out.stderr.contains("did you mean `--app cli-kept-app`?"),
            "{args:?}: {}",
            out.stderr
        );
    }
}

// ----- bad input and environment (no Docker needed) -----

#[test]
fn missing_source_exits_2_naming_the_path() {
    let out = run(syncsim().args(["sync", "does/not/exist.yaml", "--app", "cli-nosrc"]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("does/not/exist.yaml"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

/// A missing renderer is an environment problem (exit 3, README § Exit codes) for every
/// subcommand that renders, before any Docker call; `watch` exited 2 before the rehearsal layer.
#[test]
fn a_missing_renderer_exits_3_in_sync_watch_and_status() {
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("kustomization.yaml"), "resources: []\n").unwrap();
    let source = src.path().to_str().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let record = syncsim::state::EnvRecord {
        version: syncsim::state::RECORD_VERSION,
        app: "cli-norenderer".into(),
        network: "syncsim-cli-norenderer".into(),
        source: source.into(),
        dest_namespace: "default".into(),
        images: vec![],
        saved_at: String::new(),
        last_operation: None,
        secret_salt: String::new(),
        objects: vec![],
    };
    std::fs::write(
        state.path().join("cli-norenderer.json"),
        serde_json::to_string(&record).unwrap(),
    )
    .unwrap();
    for args in [
        vec!["sync", source, "--app", "cli-norenderer", "--no-build"],
        vec!["watch", source, "--app", "cli-norenderer"],
        vec!["status", "--app", "cli-norenderer"],
    ] {
        let out = run(syncsim()
            .env("PATH", empty.path())
            .env("SYNCSIM_STATE_DIR", state.path())
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .args(&args));
        assert_eq!(out.code, 3, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr
                .contains("neither `kustomize` nor `kubectl` is on PATH"),
            "{args:?}: {}",
            out.stderr
        );
    }
}

#[test]
fn image_flag_without_equals_exits_2() {
    let out = run(syncsim()
        .arg("sync")
        .arg(fixture("sync/small.yaml"))
        .args(["--image", "postgres:16"]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("is not FROM=TO"), "{}", out.stderr);
}

#[test]
fn down_without_app_or_all_exits_2() {
    let out = run(syncsim().arg("down"));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--app NAME"), "{}", out.stderr);
}

#[test]
fn docker_unreachable_exits_3_with_a_clear_message() {
    for args in [
        vec![
            "sync".to_string(),
            fixture("sync/small.yaml").display().to_string(),
            "--app".into(),
            "cli-nodocker".into(),
        ],
        vec!["down".into(), "--app".into(), "cli-nodocker".into()],
    ] {
        let out = run(syncsim()
            .args(&args)
            .env("DOCKER_HOST", "unix:///nonexistent.sock"));
        assert_eq!(out.code, 3, "{args:?}");
        assert!(
            out.stderr.contains("/nonexistent.sock"),
            "{args:?}: {}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "{}", out.stdout);
    }
}

// ----- missing image -----

/// syncsim's preflight (not Argo CD's, issue #9): an image that can be neither found nor
/// pulled would hang the sync on a cluster (ImagePullBackOff), so the run stops before the
/// operation with exit 3, naming the image and the fixes.
#[test]
#[ignore = "needs docker"]
fn missing_image_exits_3_before_the_operation_and_suggests_image_flag() {
    let app = "cli-noimage";
    docker_test(app);
    let dir = tempfile::tempdir().unwrap();
    let src = small_with(&dir, |doc| {
        doc.contains("name: after")
            .then(|| doc.replace("syncsim-test/busybox:1", "ghcr.io/example/missing:9.9"))
    });
    let out = run(&mut sync_cmd(app, &src, "60s"));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("ghcr.io/example/missing:9.9")
            && out.stderr.contains("--image FROM=TO")
            && out.stderr.contains("ImagePullBackOff")
            && out.stderr.contains("--allow-missing-images"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("▶ PreSync"), "{}", out.stderr);
    assert_nothing_left(app);
    // Following the suggestion works.
    let mapped = run(sync_cmd(app, &src, "60s").args([
        "--image",
        "ghcr.io/example/missing:9.9=syncsim-test/busybox:1",
    ]));
    assert_eq!(mapped.code, 0);
    assert_nothing_left(app);
}
