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
/// recursive, `README*` excluded), sorted; a file found twice is listed once.
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
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|f| seen.insert(std::fs::canonicalize(f).unwrap_or_else(|_| f.clone())));
    Ok(out)
}

/// `--partition`: which share of the scenario files this machine runs, like nextest's.
///
/// - `count:K/N` (or `K/N`): the files as [`discover`] lists them, dealt round-robin: the
///   1st to shard 1, the 2nd to shard 2 … the (N+1)th to shard 1 again. Even shard sizes; a
///   new file moves the files after it to other shards.
/// - `hash:K/N`: a file goes to shard `1 + SHA-256(its path as given, with '/' separators)
///   mod N`. A file's shard never depends on the others (stable as scenarios come and go);
///   sizes are only even on average.
///
/// Every machine must list the same paths (same arguments, same checkout) so that the shards
/// are disjoint and together complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partition {
    Count { shard: u32, total: u32 },
    Hash { shard: u32, total: u32 },
}

impl std::str::FromStr for Partition {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (kind, rest) = match s.split_once(':') {
            Some((k, r)) => (k, r),
            None => ("count", s),
        };
        let bad = || {
            format!("`{s}` is not a partition: use count:K/N or hash:K/N with 1 <= K <= N (e.g. --partition hash:2/4)")
        };
        let (k, n) = rest.split_once('/').ok_or_else(bad)?;
        let shard: u32 = k.trim().parse().map_err(|_| bad())?;
        let total: u32 = n.trim().parse().map_err(|_| bad())?;
        if shard == 0 || total == 0 || shard > total {
            return Err(bad());
        }
        match kind {
            "count" => Ok(Partition::Count { shard, total }),
            "hash" => Ok(Partition::Hash { shard, total }),
            _ => Err(bad()),
        }
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Partition::Count { shard, total } => write!(f, "count:{shard}/{total}"),
            Partition::Hash { shard, total } => write!(f, "hash:{shard}/{total}"),
        }
    }
}

impl Partition {
    /// This shard's files, in the order given.
    pub fn select(&self, files: &[PathBuf]) -> Vec<PathBuf> {
        files
            .iter()
            .enumerate()
            .filter(|(i, f)| self.shard_of(*i, f) == self.shard())
            .map(|(_, f)| f.clone())
            .collect()
    }

    fn shard(&self) -> u32 {
        match *self {
            Partition::Count { shard, .. } | Partition::Hash { shard, .. } => shard,
        }
    }

    /// The 1-based shard of the `index`-th file `file`.
    fn shard_of(&self, index: usize, file: &Path) -> u32 {
        match *self {
            Partition::Count { total, .. } => (index % total as usize) as u32 + 1,
            Partition::Hash { total, .. } => {
                use sha2::{Digest, Sha256};
                let path = file.to_string_lossy().replace('\\', "/");
                let d = Sha256::digest(path.as_bytes());
                let n = u64::from_be_bytes(d[..8].try_into().expect("8 bytes"));
                (n % u64::from(total)) as u32 + 1
            }
        }
    }
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
        if let Some(out) = r.report.as_deref().and_then(hook_logs) {
            case.set_system_out(out);
        }
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

/// Every hook's captured log of a scenario's last operation, one block per hook.
fn hook_logs(report: &crate::engine::SyncReport) -> Option<String> {
    let mut out = String::new();
    for t in report.tasks.iter().filter(|t| t.task.hook) {
        if let Some(log) = crate::report::log_text(t) {
            out.push_str(&format!(
                "--- log of hook {}/{} ({}) ---\n{log}\n",
                t.task.kind(),
                t.task.name(),
                t.task.phase
            ));
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::expect::Unmet;

    fn files(n: usize) -> Vec<PathBuf> {
        (0..n)
            .map(|i| PathBuf::from(format!("scenarios/s{i:03}.yaml")))
            .collect()
    }

    #[test]
    fn every_partition_is_disjoint_and_complete() {
        let all = files(37);
        for total in 1..=7u32 {
            for kind in ["count", "hash"] {
                let mut union: Vec<PathBuf> = Vec::new();
                for shard in 1..=total {
                    let p: Partition = format!("{kind}:{shard}/{total}").parse().unwrap();
                    assert_eq!(p.select(&all), p.select(&all), "deterministic");
                    union.extend(p.select(&all));
                }
                union.sort();
                assert_eq!(union, all, "{kind} /{total}: every file exactly once");
            }
        }
    }

    #[test]
    fn count_shards_are_even_and_hash_shards_ignore_the_others() {
        let all = files(10);
        let sizes: Vec<usize> = (1..=3)
            .map(|k| Partition::Count { shard: k, total: 3 }.select(&all).len())
            .collect();
        assert_eq!(sizes, vec![4, 3, 3]);
        let h = Partition::Hash { shard: 2, total: 3 };
        let mine = h.select(&all);
        let fewer = h.select(&all[..5]);
        assert!(fewer.iter().all(|f| mine.contains(f)));
    }

    #[test]
    fn partitions_parse_like_nextest_and_refuse_the_rest() {
        assert_eq!("2/4".parse(), Ok(Partition::Count { shard: 2, total: 4 }));
        assert_eq!(
            "hash:1/2".parse(),
            Ok(Partition::Hash { shard: 1, total: 2 })
        );
        assert_eq!(
            Partition::Hash { shard: 1, total: 2 }.to_string(),
            "hash:1/2"
        );
        for bad in ["0/3", "4/3", "count:1/0", "slice:1/2", "1-2", "a/b", ""] {
            let e = bad.parse::<Partition>().unwrap_err();
            assert!(e.contains("count:K/N"), "{bad}: {e}");
        }
    }

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
            report: None,
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
