//! The HTML timeline in a real browser: render a JSON report, load the file in headless
//! Chromium (`--dump-dom` gives the DOM after the page's script ran) and check what a user sees.
//!
//! The fixture `tests/fixtures/report/local-broken-migration.json` is the JSON report
//! (`syncsim sync -o json`) of a real run of the example app `k8s/overlays/local` with the broken
//! V3 migration of `scenarios/broken-migration.yaml`: PostSync wave 1 fails at
//! Job/flyway-shortlink with its captured log, PostSync wave 2 never starts.
//!
//! Needs `chromium` on PATH (`.ci/run` installs Debian's package). With
//! `SYNCSIM_UPDATE_SCREENSHOT=1` the screenshot test also refreshes `docs/timeline.png`.
mod common;

use serde_json::{json, Value};
use std::{
    path::{Path, PathBuf},
    process::Command,
};
use syncsim::report::html;

fn fixture() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/report/local-broken-migration.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn chromium() -> &'static str {
    common::ensure_chromium();
    for c in ["chromium", "chromium-browser", "google-chrome"] {
        if Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return c;
        }
    }
    panic!("chromium is not installed (Debian: apt-get install -y chromium)");
}

/// Runs headless Chromium on `file` (plus `suffix`, e.g. `#filter=Job`) with `args`; returns
/// stdout.
fn browse(dir: &Path, file: &Path, suffix: &str, args: &[&str]) -> String {
    let url = format!("file://{}{suffix}", file.display());
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        // Screenshots only once everything is painted (sticky rows otherwise cut tiles).
        .args([
            "--run-all-compositor-stages-before-draw",
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .args(args)
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed on {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn render_to(dir: &Path, report: &Value) -> PathBuf {
    let file = dir.join("timeline.html");
    html::write(&file, report).unwrap();
    file
}

/// The DOM of each resource row, in document order: (opening tag, whole row).
fn rows(dom: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let parts: Vec<&str> = dom.split("<div class=\"row res").skip(1).collect();
    for p in parts {
        let tag = &p[..p.find('>').unwrap()];
        out.push((tag, p));
    }
    out
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    Some(&tag[start..start + tag[start..].find('"')?])
}

#[test]
#[ignore = "needs chromium"]
fn failed_sync_in_the_browser() {
    let report = fixture();
    let dir = tempfile::tempdir().unwrap();
    let file = render_to(dir.path(), &report);
    let dom = browse(dir.path(), &file, "", &["--dump-dom"]);
    assert!(dom.contains("data-ready=\"1\""), "the script ran: {dom}");

    // One section per recorded step, each with its band when it started.
    let steps = report["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 6);
    assert_eq!(dom.matches("<section class=\"step\"").count(), steps.len());
    let started = steps.iter().filter(|s| !s["startedAt"].is_null()).count();
    assert_eq!(started, 5, "PostSync wave 2 never started");
    assert_eq!(dom.matches("class=\"step-band ").count(), started);
    assert!(dom.contains("data-phase=\"PostSync\" data-wave=\"2\" data-status=\"NotStarted\""));

    // One row per resource; one bar for each applied resource, none for the others.
    let resources = report["resources"].as_array().unwrap();
    let rows = rows(&dom);
    assert_eq!(rows.len(), resources.len());
    for (r, (tag, row)) in resources.iter().zip(&rows) {
        assert_eq!(attr(tag, "data-name"), r["name"].as_str());
        let row = &row[..row.find("</section>").unwrap_or(row.len())];
        let bars = row.matches("<div class=\"bar ").count();
        let want = usize::from(!r["appliedAt"].is_null());
        assert_eq!(bars, want, "bars of {}", r["name"]);
    }
    assert_eq!(
        dom.matches("<div class=\"bar ").count(),
        resources.len() - 1,
        "all but clickhouse-init were applied"
    );

    // The failed task: marked, its row red, listed with the operation's failure message.
    let failed: Vec<&str> = rows
        .iter()
        .filter(|(tag, _)| tag.starts_with(" failed\""))
        .filter_map(|(tag, _)| attr(tag, "data-name"))
        .collect();
    assert_eq!(failed, ["flyway-shortlink"]);
    let failure = &dom[dom.find("id=\"failure\"").expect("failure box")..];
    let failure = &failure[..failure.find("</section>").unwrap()];
    assert!(failure.contains("Job/flyway-shortlink"));
    assert!(failure.contains("Job has reached the specified backoff limit"));
    assert!(dom.contains("one or more synchronization tasks completed unsuccessfully"));

    // Its log is there, expandable (and open, since it failed).
    let (_, shortlink) = rows
        .iter()
        .find(|(tag, _)| attr(tag, "data-name") == Some("flyway-shortlink"))
        .unwrap();
    let log_at = shortlink
        .find("<details class=\"log\" open=\"\">")
        .expect("an open log");
    let log = &shortlink[log_at..shortlink.find("</details>").unwrap()];
    assert!(log.contains("<summary>log (13 lines)</summary>"), "{log}");
    assert!(log.contains("applying migration: V3__add_click_source"));
    assert!(log.contains("ERROR: column \"referer\" does not exist"));
    assert!(log.contains("schema now at version 2"));

    // Nothing hidden without a filter.
    assert!(dom.contains(&format!("data-shown=\"{}\"", resources.len())));
    assert!(!dom.contains(" hidden=\"\""));
}

#[test]
#[ignore = "needs chromium"]
fn filter_from_the_url_fragment() {
    let report = fixture();
    let dir = tempfile::tempdir().unwrap();
    let file = render_to(dir.path(), &report);
    let jobs = |r: &&Value| r["kind"] == "Job";
    let resources = report["resources"].as_array().unwrap();
    let n_jobs = resources.iter().filter(jobs).count();
    assert_eq!(n_jobs, 4);

    for fragment in ["#filter=Job", "#kind=job", "?filter=Job"] {
        let dom = browse(dir.path(), &file, fragment, &["--dump-dom"]);
        assert!(
            dom.contains(&format!("data-shown=\"{n_jobs}\"")),
            "{fragment}"
        );
        for (tag, _) in rows(&dom) {
            let hidden = tag.contains(" hidden=\"\"");
            assert_eq!(
                hidden,
                attr(tag, "data-kind") != Some("Job"),
                "{fragment}: {tag}"
            );
        }
        // Sync steps have no Job: hidden as a whole.
        assert_eq!(
            dom.matches("<section class=\"step\" id=\"s0\" data-phase=\"Sync\" data-wave=\"0\" data-status=\"Succeeded\" hidden=\"\"").count(),
            1,
            "{fragment}"
        );
        assert!(dom.contains(&format!("{n_jobs} of {} resources", resources.len())));
    }

    // A name filter and the problems filter.
    let dom = browse(dir.path(), &file, "#name=flyway", &["--dump-dom"]);
    let shown: Vec<&str> = rows(&dom)
        .into_iter()
        .filter(|(tag, _)| !tag.contains(" hidden=\"\""))
        .filter_map(|(tag, _)| attr(tag, "data-name"))
        .collect();
    assert_eq!(
        shown,
        [
            "flyway-admin-migrations",
            "flyway-shortlink-migrations",
            "flyway-admin",
            "flyway-shortlink"
        ]
    );
    let dom = browse(dir.path(), &file, "#problems=1", &["--dump-dom"]);
    assert!(dom.contains("data-shown=\"1\""));
}

/// 300 resources over 12 waves, names with markup and terminal escapes: every row renders,
/// nothing leaks as markup, and a filter still works.
#[test]
#[ignore = "needs chromium"]
fn three_hundred_resources() {
    let start = "2026-12-01T10:00:00.000Z";
    let at = |ms: u64| {
        humantime::format_rfc3339_millis(
            humantime::parse_rfc3339(start).unwrap() + std::time::Duration::from_millis(ms),
        )
        .to_string()
    };
    let kinds = [
        "ConfigMap",
        "Secret",
        "Service",
        "Deployment",
        "StatefulSet",
    ];
    let mut steps = Vec::new();
    let mut resources = Vec::new();
    for wave in 0..12u64 {
        steps.push(json!({"phase": "Sync", "wave": wave, "status": "Succeeded",
            "startedAt": at(wave * 5000), "finishedAt": at(wave * 5000 + 4000)}));
        for i in 0..25u64 {
            let n = wave * 25 + i;
            resources.push(json!({
                "group": "", "version": "v1", "kind": kinds[(n % 5) as usize], "namespace": "big",
                "name": format!("svc-{n:03}<b>\u{1b}[1m"), "syncPhase": "Sync", "wave": wave,
                "hook": false, "status": "Synced", "health": "Healthy", "hookPhase": "Running",
                "message": "created", "appliedAt": at(wave * 5000 + i),
                "finishedAt": at(wave * 5000 + 100 * i + 500), "logTail": []}));
        }
    }
    let report = json!({"schemaVersion": 1, "app": "big", "outcome": "Succeeded", "exitCode": 0,
        "operation": {"phase": "Succeeded", "message": "successfully synced (all tasks run)",
            "startedAt": start, "finishedAt": at(60_000), "durationSeconds": 60.0},
        "steps": steps, "resources": resources});
    let dir = tempfile::tempdir().unwrap();
    let file = render_to(dir.path(), &report);
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(size < 400_000, "{size} bytes for 300 resources");

    let dom = browse(dir.path(), &file, "#kind=StatefulSet", &["--dump-dom"]);
    let rows = rows(&dom);
    assert_eq!(rows.len(), 300);
    assert_eq!(dom.matches("<div class=\"bar ").count(), 300);
    assert_eq!(dom.matches("<section class=\"step\"").count(), 12);
    assert!(dom.contains("data-shown=\"60\""));
    assert!(!dom.contains("<b>"), "a name became markup");
    assert!(dom.contains("svc-299&lt;b&gt;"));

    let png = dir.path().join("big.png");
    browse(
        dir.path(),
        &file,
        "",
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1400,900",
        ],
    );
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
}

/// The example's timeline as a picture (README). Checks a PNG comes out; with
/// `SYNCSIM_UPDATE_SCREENSHOT=1` also writes it to `docs/timeline.png`.
#[test]
#[ignore = "needs chromium"]
fn screenshot_of_the_example() {
    let dir = tempfile::tempdir().unwrap();
    let file = render_to(dir.path(), &fixture());
    let png = dir.path().join("timeline.png");
    browse(
        dir.path(),
        &file,
        "",
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1400,900",
            "--hide-scrollbars",
        ],
    );
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG"));
    assert!(
        bytes.len() > 20_000,
        "an empty page is smaller: {} bytes",
        bytes.len()
    );
    if std::env::var_os("SYNCSIM_UPDATE_SCREENSHOT").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join("timeline.png"), bytes).unwrap();
    }
}

/// `syncsim report RUN.json --html FILE` (no browser needed).
#[test]
fn report_subcommand_writes_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/report/local-broken-migration.json");
    let out = dir.path().join("run.html");
    assert_cmd::Command::cargo_bin("syncsim")
        .unwrap()
        .arg("report")
        .arg(&fixture)
        .arg("--html")
        .arg(&out)
        .assert()
        .code(0);
    let page = std::fs::read_to_string(&out).unwrap();
    assert_eq!(page, html::render(&fixture_value(&fixture)));
    assert!(page.contains("id=\"failure\""));

    let bad = dir.path().join("plan.json");
    std::fs::write(&bad, "{\"steps\": []}").unwrap();
    assert_cmd::Command::cargo_bin("syncsim")
        .unwrap()
        .arg("report")
        .arg(&bad)
        .arg("--html")
        .arg(dir.path().join("x.html"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(bad.display().to_string()));
    assert!(!dir.path().join("x.html").exists());
}

fn fixture_value(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}
