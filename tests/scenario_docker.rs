//! `syncsim test` end to end on the busybox fixtures (`tests/fixtures/scenario/`), against the
//! real Docker engine. Each test checks that nothing labelled with its scenarios' app names is
//! left afterwards.
mod common;

use assert_cmd::Command;
use std::path::Path;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/scenario");

fn fixture(name: &str) -> String {
    format!("{FIXTURES}/{name}")
}

/// Docker objects (containers, networks, volumes) whose app label starts with `prefix-`.
fn leftovers(prefix: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (what, fmt) in [
        ("ps", "{{.Label \"dev.syncsim.app\"}} {{.Names}}"),
        ("network", "{{.Label \"dev.syncsim.app\"}} {{.Name}}"),
        ("volume", "{{.Label \"dev.syncsim.app\"}} {{.Name}}"),
    ] {
        let mut cmd = std::process::Command::new("docker");
        match what {
            "ps" => cmd.args(["ps", "-a"]),
            other => cmd.args([other, "ls"]),
        };
        let out = cmd
            .args([
                "--filter",
                "label=dev.syncsim.managed-by=syncsim",
                "--format",
                fmt,
            ])
            .output()
            .expect("docker");
        found.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| l.starts_with(&format!("{prefix}-")))
                .map(String::from),
        );
    }
    found
}

fn syncsim_test(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("syncsim")
        .unwrap()
        .arg("test")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
#[ignore = "needs docker"]
fn passing_scenarios_pass_in_parallel_and_write_junit() {
    common::ensure_test_image();
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("scenarios.xml");
    let html = dir.path().join("timelines");
    let (code, stdout, stderr) = syncsim_test(&[
        "--html",
        html.to_str().unwrap(),
        &fixture("pass.yaml"),
        &fixture("broken-migration.yaml"),
        &fixture("web-unreachable.yaml"),
        &fixture("image-unavailable.yaml"),
        &fixture("oom.yaml"),
        "-j",
        "2",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    for name in [
        "pass",
        "broken-migration",
        "web-unreachable",
        "image-unavailable",
        "oom",
    ] {
        assert!(
            stdout.contains(&format!("PASS  {name} (")),
            "{name}: {stdout}"
        );
    }
    assert!(
        stdout.contains("5 scenarios: 5 passed, 0 failed"),
        "{stdout}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("tests=\"5\"") && xml.contains("failures=\"0\""),
        "{xml}"
    );
    assert!(xml.contains("<testcase name=\"broken-migration\""), "{xml}");
    // Every hook's log is in the scenario's system-out; one HTML timeline per scenario.
    assert!(
        xml.contains("--- log of hook Job/migrate (PostSync) ---"),
        "{xml}"
    );
    let page = std::fs::read_to_string(html.join("broken-migration.html"))
        .expect("test --html wrote broken-migration.html");
    assert!(
        page.contains("V3__broken.sql failed: syntax error"),
        "the failed hook's log"
    );
    let mut written: Vec<String> = std::fs::read_dir(&html)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(
        written,
        [
            "broken-migration.html",
            "image-unavailable.html",
            "oom.html",
            "pass.html",
            "web-unreachable.html"
        ]
    );
    for prefix in [
        "pass",
        "broken-migration",
        "web-unreachable",
        "image-unavailable",
        "oom",
    ] {
        assert_eq!(
            leftovers(prefix),
            Vec::<String>::new(),
            "{prefix} left objects behind"
        );
    }
}

#[test]
#[ignore = "needs docker"]
fn a_wrong_expectation_fails_naming_scenario_expectation_and_observation() {
    common::ensure_test_image();
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("wrong.xml");
    let (code, stdout, stderr) = syncsim_test(&[
        &fixture("wrong-expectation.yaml"),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("FAIL  wrong-expectation ("), "{stdout}");
    for line in [
        "scenario `wrong-expectation`: expect.phase: expected Succeeded, observed Failed (one or more synchronization tasks completed unsuccessfully)",
        "scenario `wrong-expectation`: expect.hookPhases.migrate: expected Succeeded, observed Failed",
        "scenario `wrong-expectation`: expect.exec[0] (in db: cat /data/version): expected output \"V3\", observed \"V2\"",
        "log tail of Job/migrate:",
        "| migration V3__broken.sql failed: syntax error",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("failures=\"1\""), "{xml}");
    assert!(
        xml.contains("expect.phase: expected Succeeded, observed Failed"),
        "{xml}"
    );
    assert_eq!(leftovers("wrong-expectation"), Vec::<String>::new());
}

#[test]
fn bad_scenario_files_exit_2_before_running_anything() {
    let (code, stdout, stderr) = syncsim_test(&[&fixture("bad"), &fixture("pass.yaml")]);
    assert_eq!(code, 2, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.is_empty(), "nothing ran: {stdout}");
    let bad = Path::new(FIXTURES).join("bad");
    assert!(
        stderr.contains(&format!("{}:5:", bad.join("bad-duration.yaml").display()))
            && stderr.contains("`a while` is not a duration"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{}:5:", bad.join("bad-target.yaml").display()))
            && stderr.contains("no rendered workload is called `postgres`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("2 of 3 scenario file(s) cannot be used; nothing was run"),
        "{stderr}"
    );
}
