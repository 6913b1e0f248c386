//! JUnit XML: one test suite per sync, one test case per task.
use super::{log_text, message_of};
use crate::engine::SyncReport;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

/// Renders the report as JUnit XML. A task that failed is a failure (with its log tail), a task
/// that never started is skipped, everything else passed. Every hook's captured log is its
/// test case's `system-out`.
pub fn to_junit(r: &SyncReport) -> String {
    let mut report = Report::new(format!("syncsim-{}", r.app));
    report.add_test_suite(suite(r));
    render(&report)
}

pub(super) fn render(report: &Report) -> String {
    report
        .to_string()
        .unwrap_or_else(|e| format!("<!-- failed to render JUnit: {e} -->"))
}

/// The test suite of one sync.
pub(super) fn suite(r: &SyncReport) -> TestSuite {
    let mut suite = TestSuite::new(format!("sync {}", r.app));
    for t in &r.tasks {
        let name = format!(
            "{} wave {} {}/{}{}",
            t.task.phase,
            t.task.wave,
            t.task.kind(),
            t.task.name(),
            if t.task.namespace().is_empty() {
                String::new()
            } else {
                format!(" ({})", t.task.namespace())
            }
        );
        let status = if t.completed_unsuccessfully() {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(message_of(t));
            s.set_type(t.result.map(|r| r.as_str()).unwrap_or("Failed"));
            if let Some(log) = log_text(t) {
                s.set_description(log);
            }
            s
        } else if t.result.is_none() {
            let mut s = TestCaseStatus::skipped();
            s.set_message("never started");
            s
        } else {
            TestCaseStatus::success()
        };
        let mut case = TestCase::new(name, status);
        if let Some(log) = log_text(t) {
            case.set_system_out(log);
        }
        case.set_classname(format!("{}.{}", r.app, t.task.phase));
        if let (Some(a), Some(f)) = (t.applied_at, t.finished_at) {
            case.set_time(f.saturating_sub(a));
        }
        suite.add_test_case(case);
    }
    suite.set_time(r.duration);
    suite
}
