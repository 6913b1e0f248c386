//! Reports of a sync whose SOURCE is an Argo CD Application, and of an app of apps: the
//! Application's settings beside the operation (project, destination, policy, `info`), and one
//! report covering the parent and every child (text, JSON, JUnit).
use super::{json::to_json, junit, table::render};
use crate::{engine::SyncReport, manifest::source::Application};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde_json::{json, Value};

/// One child Application of an app of apps, as the report shows it.
#[derive(Debug, Clone, Copy)]
pub struct ChildReport<'a> {
    pub name: &'a str,
    pub application: Option<&'a Application>,
    /// The parent's sync wave it was applied in.
    pub wave: i64,
    /// Its operation, when it ran.
    pub report: Option<&'a SyncReport>,
    /// Why it did not run.
    pub error: Option<&'a str>,
    pub exit_code: i32,
}

fn line(out: &mut String, k: &str, v: &str) {
    out.push_str(&format!("{:<20}{}\n", format!("{k}:"), v));
}

/// The lines `argocd app get` shows of an Application besides its operation.
pub fn application_lines(app: &Application) -> String {
    let mut out = String::new();
    line(&mut out, "Project", &app.project);
    line(&mut out, "Source", &app.file);
    let d = &app.destination;
    let server = d.server.as_deref().or(d.name.as_deref()).unwrap_or("");
    line(
        &mut out,
        "Destination",
        &format!(
            "{server} (namespace {})",
            app.dest_namespace().unwrap_or("default")
        ),
    );
    line(&mut out, "Sync Revision", &app.revision);
    let policy = match &app.automated {
        None => "Manual".to_string(),
        Some(a) => {
            let flags: Vec<&str> = [(a.prune, "Prune"), (a.self_heal, "SelfHeal")]
                .into_iter()
                .filter_map(|(on, n)| on.then_some(n))
                .collect();
            if flags.is_empty() {
                "Automated".into()
            } else {
                format!("Automated ({})", flags.join(", "))
            }
        }
    };
    line(&mut out, "Sync Policy", &policy);
    if !app.sync_options.is_empty() {
        line(&mut out, "Sync Options", &app.sync_options.join(", "));
    }
    for i in &app.info {
        line(&mut out, &format!("Info {}", i.name), &i.value);
    }
    out
}

/// The summary and table of `r`, with the Application's lines after the first line.
pub fn render_application(r: &SyncReport, app: Option<&Application>) -> String {
    let base = render(r);
    let Some(app) = app else { return base };
    match base.split_once('\n') {
        Some((first, rest)) => format!("{first}\n{}{rest}", application_lines(app)),
        None => base,
    }
}

/// The Application as the JSON report shows it (`application`).
pub fn application_json(app: &Application) -> Value {
    json!({
        "name": app.name,
        "file": app.file,
        "project": app.project,
        "destination": {
            "server": app.destination.server,
            "name": app.destination.name,
            "namespace": app.destination.namespace,
        },
        "revision": app.revision,
        "revisions": app.revisions,
        "syncOptions": app.sync_options,
        "automated": app.automated.as_ref().map(|a| json!({
            "prune": a.prune, "selfHeal": a.self_heal, "allowEmpty": a.allow_empty,
        })),
        "info": app.info.iter().map(|i| json!({"name": i.name, "value": i.value})).collect::<Vec<_>>(),
    })
}

/// The whole rehearsal as text: the parent (with its Application) then each child.
pub fn render_all(
    r: &SyncReport,
    app: Option<&Application>,
    children: &[ChildReport<'_>],
) -> String {
    let mut out = render_application(r, app);
    for c in children {
        out.push_str(&format!(
            "\n--- child Application `{}` (parent's wave {})\n",
            c.name, c.wave
        ));
        match (c.report, c.error) {
            (Some(cr), _) => out.push_str(&render_application(cr, c.application)),
            (None, error) => {
                if let Some(a) = c.application {
                    out.push_str(&format!("{:<20}{}\n", "Application:", a.name));
                    out.push_str(&application_lines(a));
                }
                out.push_str(&format!(
                    "{:<20}{}\n",
                    "Message:",
                    error.unwrap_or("not synced")
                ));
            }
        }
    }
    out
}

/// The JSON report of the whole rehearsal: the parent's report with `application` and, for an
/// app of apps, `applications` (each child: `name`, `wave`, `exitCode`, `error`, `application`,
/// `report`) and `overallExitCode` (the worst of all).
pub fn to_json_all(
    r: &SyncReport,
    app: Option<&Application>,
    children: &[ChildReport<'_>],
    overall_exit_code: i32,
) -> Value {
    let mut v = to_json(r);
    if let Some(a) = app {
        v["application"] = application_json(a);
    }
    if !children.is_empty() {
        v["applications"] = children
            .iter()
            .map(|c| {
                json!({
                    "name": c.name,
                    "wave": c.wave,
                    "exitCode": c.exit_code,
                    "error": c.error,
                    "application": c.application.map(application_json),
                    "report": c.report.map(to_json),
                })
            })
            .collect::<Vec<_>>()
            .into();
        v["overallExitCode"] = overall_exit_code.into();
    }
    v
}

/// One JUnit file for the whole rehearsal: a test suite per Application (the parent first); a
/// child that could not run is one failed test case.
pub fn to_junit_all(r: &SyncReport, children: &[ChildReport<'_>]) -> String {
    let mut report = Report::new(format!("syncsim-{}", r.app));
    report.add_test_suite(junit::suite(r));
    for c in children {
        match (c.report, c.error) {
            (Some(cr), _) => {
                report.add_test_suite(junit::suite(cr));
            }
            (None, error) => {
                let mut suite = TestSuite::new(format!("sync {}", c.name));
                let status = if c.exit_code == crate::error::SUCCESS {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(error.unwrap_or("not synced"));
                    s
                } else {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                    s.set_message(error.unwrap_or("could not run"));
                    s
                };
                let mut case = TestCase::new(format!("sync Application {}", c.name), status);
                case.set_classname(c.name.to_string());
                suite.add_test_case(case);
                report.add_test_suite(suite);
            }
        }
    }
    junit::render(&report)
}
