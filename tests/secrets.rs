//! Secrets are never stored or printed (issue #14, item 4).
//!
//! Syncs the example (`k8s/overlays/local`, whose `postgres-credentials` Secret is the one the
//! migrations and the apps use) with `--keep`, `-o json`, `--junit` and `-v`, renders the
//! HTML timeline of the JSON report, re-syncs the kept environment (adoption re-reads the
//! values from the source), asks `status`, then `down`: no output, report, record or state
//! file holds any Secret value of the render, in clear or base64. Values that the render also
//! has outside Secrets (e.g. `shortlink`, the namespace and the database user) are no secret
//! and are left out of the grep. Needs Docker and the image kit (`compose/build-images.sh`):
//! `cargo test --test secrets -- --include-ignored`.
mod common;

use base64::Engine as _;
use std::{
    path::{Path, PathBuf},
    process::Command,
};

const OVERLAY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/k8s/overlays/local");
const APP: &str = "secrets-local";

/// Every Secret value of the render, as written and base64-encoded (or decoded), minus the
/// values that also appear outside Secrets.
fn secret_values() -> Vec<String> {
    let objects = syncsim::manifest::load(OVERLAY, &syncsim::manifest::LoadOptions::default())
        .expect("render the overlay")
        .objects;
    let b64 = base64::engine::general_purpose::STANDARD;
    let (secrets, others): (Vec<_>, Vec<_>) = objects.iter().partition(|o| o.kind() == "Secret");
    let public: String = others.iter().map(|o| o.value.to_string()).collect();
    let mut values = Vec::new();
    for s in &secrets {
        for (field, map) in ["stringData", "data"]
            .iter()
            .filter_map(|f| Some((*f, s.value.get(*f)?.as_object()?)))
        {
            for v in map.values().filter_map(|v| v.as_str()) {
                let plain = if field == "data" {
                    String::from_utf8(b64.decode(v).expect("base64")).expect("text")
                } else {
                    v.to_string()
                };
                if !public.contains(&plain) {
                    values.push(b64.encode(&plain));
                    values.push(plain);
                }
            }
        }
    }
    assert!(
        values.iter().any(|v| v == "shortlink-example-password"),
        "the example's password is among the values: {values:?}"
    );
    values
}

struct Run {
    state: tempfile::TempDir,
    out: tempfile::TempDir,
    /// Every output so far: (what, text).
    seen: Vec<(String, String)>,
}

impl Run {
    fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_syncsim"));
        c.env_remove("ARGOCD_SYNC_WAVE_DELAY")
            .env_remove("SYNCSIM_LOG")
            .env("SYNCSIM_STATE_DIR", self.state.path());
        c
    }

    fn file(&self, name: &str) -> PathBuf {
        self.out.path().join(name)
    }

    /// Runs `args`, records stdout and stderr, returns the exit code.
    fn run(&mut self, what: &str, args: &[&str]) -> Option<i32> {
        let o = self.cmd().args(args).output().unwrap();
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        eprintln!("--- {what}: exit {:?}\n{stderr}", o.status.code());
        self.seen.push((format!("{what} stdout"), stdout));
        self.seen.push((format!("{what} stderr"), stderr));
        o.status.code()
    }

    fn read(&mut self, what: &str, path: &Path) {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        self.seen.push((what.to_string(), text));
    }
}

#[test]
#[ignore = "needs docker"]
fn no_output_report_or_record_holds_a_secret_value() {
    common::ensure_kit();
    let values = secret_values();
    let mut r = Run {
        state: tempfile::tempdir().unwrap(),
        out: tempfile::tempdir().unwrap(),
        seen: Vec::new(),
    };
    let _ = r.cmd().args(["down", "--app", APP, "--volumes"]).output();
    let (json, junit, html) = (r.file("r.json"), r.file("r.xml"), r.file("r.html"));
    let sync = [
        "sync",
        OVERLAY,
        "--app",
        APP,
        "--keep",
        "--no-build",
        "--timeout",
        "5m",
        "-v",
        "--junit",
        junit.to_str().unwrap(),
        "-o",
        "json",
    ];
    let code = r.run("sync", &sync);
    std::fs::write(&json, &r.seen[r.seen.len() - 2].1).unwrap();
    let cleanup = |r: &Run| {
        let _ = r.cmd().args(["down", "--app", APP, "--volumes"]).output();
    };
    if code != Some(0) {
        cleanup(&r);
        panic!("the example syncs: exit {code:?}");
    }
    r.read("JUnit report", &junit);
    let record = r.state.path().join(format!("{APP}.json"));
    r.read("record after the first sync", &record);
    assert!(
        r.seen
            .last()
            .unwrap()
            .1
            .contains("syncsim-redacted:sha256:"),
        "the record holds hashes of the Secret's values"
    );
    assert_eq!(
        r.run(
            "report --html",
            &[
                "report",
                json.to_str().unwrap(),
                "--html",
                html.to_str().unwrap()
            ]
        ),
        Some(0)
    );
    r.read("HTML report", &html);
    // A re-sync adopts the kept environment: unchanged Secret values are re-read from the
    // source, so the Secret is unchanged and nothing is recreated for it.
    let resync = r.run(
        "re-sync",
        &[
            "sync",
            OVERLAY,
            "--app",
            APP,
            "--keep",
            "--no-build",
            "--timeout",
            "5m",
        ],
    );
    r.read("record after the re-sync", &record);
    let status = r.run("status", &["status", "--app", APP]);
    let status_out = r.seen[r.seen.len() - 2].1.clone();
    cleanup(&r);
    assert_eq!(resync, Some(0));
    assert_eq!(status, Some(0));
    let secret_row = status_out
        .lines()
        .find(|l| l.contains("postgres-credentials"))
        .unwrap_or_else(|| panic!("status lists the Secret:\n{status_out}"));
    assert!(
        secret_row.contains("Synced") && !secret_row.contains("OutOfSync"),
        "the kept Secret compares equal to the source by hash: {secret_row}"
    );
    let mut hits = Vec::new();
    for (what, text) in &r.seen {
        for v in &values {
            if text.contains(v.as_str()) {
                hits.push(format!("{what} contains {v:?}"));
            }
        }
    }
    assert!(hits.is_empty(), "{}", hits.join("\n"));
    // State files are private.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode(r.state.path()) & 0o077,
        0,
        "the state directory is 0700"
    );
    for e in std::fs::read_dir(r.state.path()).unwrap().flatten() {
        assert_eq!(mode(&e.path()), 0o600, "{}", e.path().display());
    }
}
