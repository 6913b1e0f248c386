//! `syncsim test`: find scenario files, run them (several at once with `-j`), render verdicts
//! for the terminal and as JUnit.
use super::run::{ScenarioResult, Verdict};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    time::Duration,
};

/// Scenario files under `paths`: a file as given; a directory's `*.yaml`/`*.yml` files (not
/// recursive, `README*` excluded), sorted.
///
/// # Errors
///
/// A message when a path does not exist or a directory cannot be read.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("cannot list `{}`: {e}", p.display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|f| is_scenario_file(f))
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(format!("`{}` has no *.yaml scenario files", p.display()));
            }
            out.extend(files);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(format!(
                "`{}` does not exist (give scenario files or directories)",
                p.display()
            ));
        }
    }
    Ok(out)
}

fn is_scenario_file(p: &Path) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    p.is_file()
        && (name.ends_with(".yaml") || name.ends_with(".yml"))
        && !name.starts_with("readme")
}

fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

/// One scenario's verdict for the terminal: `PASS`/`FAIL`/`ERROR`, then every unmet
/// expectation, the faults that fired and the failing tasks' log tails.
pub fn render_result(r: &ScenarioResult) -> String {
    let word = match r.verdict {
        Verdict::Pass => "PASS ",
        Verdict::Fail(_) => "FAIL ",
        Verdict::Error(_) => "ERROR",
    };
    let mut s = format!("{word} {} ({}) in {}\n", r.name, r.path, secs(r.duration));
    match &r.verdict {
        Verdict::Pass => return s,
        Verdict::Fail(unmet) => {
            for u in unmet {
                let _ = writeln!(s, "      scenario `{}`: {u}", r.name);
            }
        }
        Verdict::Error(e) => {
            let _ = writeln!(s, "      scenario `{}` could not run: {e}", r.name);
        }
    }
    if let Some(sum) = &r.summary {
        let _ = writeln!(s, "      sync ended: {sum}");
    }
    for f in &r.faults_fired {
        let _ = writeln!(s, "      fault fired: {f}");
    }
    for (task, lines) in &r.failed_logs {
        let _ = writeln!(s, "      log tail of {task}:");
        if lines.is_empty() {
            let _ = writeln!(s, "        (no log lines)");
        }
        for l in lines {
            let _ = writeln!(s, "        | {l}");
        }
    }
    s
}

/// The closing line: `8 scenarios: 7 passed, 1 failed`.
pub fn render_summary(results: &[ScenarioResult], elapsed: Duration) -> String {
    let count = |f: fn(&Verdict) -> bool| results.iter().filter(|r| f(&r.verdict)).count();
    let passed = count(|v| matches!(v, Verdict::Pass));
    let failed = count(|v| matches!(v, Verdict::Fail(_)));
    let errors = count(|v| matches!(v, Verdict::Error(_)));
    let mut s = format!(
        "{} scenario{}: {passed} passed, {failed} failed",
        results.len(),
        if results.len() == 1 { "" } else { "s" }
    );
    if errors > 0 {
        let _ = write!(s, ", {errors} could not run");
    }
    let _ = write!(s, " ({})", secs(elapsed));
    s
}

/// JUnit XML: one test suite, one test case per scenario.
pub fn to_junit(results: &[ScenarioResult], elapsed: Duration) -> String {
    let mut report = Report::new("syncsim-test");
    let mut suite = TestSuite::new("scenarios");
    for r in results {
        let status = match &r.verdict {
            Verdict::Pass => TestCaseStatus::success(),
            Verdict::Fail(unmet) => {
                let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                st.set_message(unmet.first().map(|u| u.to_string()).unwrap_or_default());
                st.set_type("unmet expectation");
                st.set_description(render_result(r));
                st
            }
            Verdict::Error(e) => {
                let mut st = TestCaseStatus::non_success(NonSuccessKind::Error);
                st.set_message(e.clone());
                st.set_description(render_result(r));
                st
            }
        };
        let mut case = TestCase::new(r.name.clone(), status);
        case.set_classname(format!("scenario.{}", r.path));
        case.set_time(r.duration);
        suite.add_test_case(case);
    }
    suite.set_time(elapsed);
    report.add_test_suite(suite);
    report
        .to_string()
        .unwrap_or_else(|e| format!("<!-- failed to render JUnit: {e} -->"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::expect::Unmet;

    fn result(name: &str, verdict: Verdict) -> ScenarioResult {
        ScenarioResult {
            name: name.into(),
            path: format!("scenarios/{name}.yaml"),
            app: format!("{name}-abc123"),
            duration: Duration::from_millis(1500),
            verdict,
            summary: Some(
                "Failed (one or more synchronization tasks completed unsuccessfully)".into(),
            ),
            failed_logs: vec![("Job/migrate".into(), vec!["error: V3 failed".into()])],
            faults_fired: vec![],
        }
    }

    fn unmet() -> Unmet {
        Unmet {
            expectation: "expect.phase".into(),
            wanted: "Succeeded".into(),
            observed: "Failed".into(),
        }
    }

    #[test]
    fn a_failure_names_scenario_expectation_observation_and_log_tail() {
        let text = render_result(&result("broken", Verdict::Fail(vec![unmet()])));
        assert!(
            text.starts_with("FAIL  broken (scenarios/broken.yaml) in 1.5s\n"),
            "{text}"
        );
        assert!(
            text.contains("scenario `broken`: expect.phase: expected Succeeded, observed Failed"),
            "{text}"
        );
        assert!(
            text.contains("log tail of Job/migrate:\n        | error: V3 failed"),
            "{text}"
        );
        assert_eq!(
            render_result(&result("ok", Verdict::Pass)),
            "PASS  ok (scenarios/ok.yaml) in 1.5s\n"
        );
    }

    #[test]
    fn junit_has_one_case_per_scenario_with_failures() {
        let xml = to_junit(
            &[
                result("ok", Verdict::Pass),
                result("broken", Verdict::Fail(vec![unmet()])),
            ],
            Duration::from_secs(3),
        );
        assert!(
            xml.contains("tests=\"2\"") && xml.contains("failures=\"1\""),
            "{xml}"
        );
        assert!(xml.contains("<testcase name=\"broken\""), "{xml}");
        assert!(
            xml.contains("expect.phase: expected Succeeded, observed Failed"),
            "{xml}"
        );
    }

    #[test]
    fn directories_give_their_yaml_files_without_readme() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["b.yaml", "a.yml", "README.yaml", "notes.md"] {
            std::fs::write(dir.path().join(f), "x").unwrap();
        }
        std::fs::create_dir(dir.path().join("files")).unwrap();
        let got = discover(&[dir.path().to_path_buf()]).unwrap();
        let names: Vec<String> = got
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
            .collect();
        assert_eq!(names, ["a.yml", "b.yaml"]);
        assert!(discover(&[dir.path().join("nope")])
            .unwrap_err()
            .contains("does not exist"));
    }

    #[test]
    fn summary_counts_verdicts() {
        let rs = [
            result("a", Verdict::Pass),
            result("b", Verdict::Fail(vec![])),
            result("c", Verdict::Error("x".into())),
        ];
        assert_eq!(
            render_summary(&rs, Duration::from_secs(2)),
            "3 scenarios: 1 passed, 1 failed, 1 could not run (2.0s)"
        );
    }
}
