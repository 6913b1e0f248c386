//! Unit tests of the HTML timeline (the browser test is tests/html_report.rs).
use super::*;
use serde_json::json;

fn res(kind: &str, name: &str, phase: &str, wave: i64, applied: Option<&str>) -> Value {
    json!({"kind": kind, "name": name, "namespace": "ns", "syncPhase": phase, "wave": wave,
           "hook": kind == "Job", "status": applied.map(|_| "Synced"),
           "hookPhase": applied.map(|_| "Succeeded"), "message": "created",
           "appliedAt": applied, "finishedAt": applied, "logTail": []})
}

fn report(resources: Vec<Value>) -> Value {
    json!({
        "schemaVersion": 1, "app": "demo", "outcome": "Succeeded", "exitCode": 0,
        "operation": {"phase": "Succeeded", "message": "successfully synced (all tasks run)",
                      "startedAt": "2026-12-01T10:00:00.000Z", "finishedAt": "2026-12-01T10:00:10.000Z",
                      "durationSeconds": 10.0},
        "steps": [
            {"phase": "Sync", "wave": 0, "status": "Succeeded",
             "startedAt": "2026-12-01T10:00:00.000Z", "finishedAt": "2026-12-01T10:00:04.000Z"},
            {"phase": "PostSync", "wave": 0, "status": "Succeeded",
             "startedAt": "2026-12-01T10:00:05.000Z", "finishedAt": "2026-12-01T10:00:10.000Z"}],
        "resources": resources,
    })
}

#[test]
fn every_text_is_escaped() {
    let mut r = res(
        "Job",
        "<img src=x onerror=alert(1)>",
        "PostSync",
        0,
        Some("2026-12-01T10:00:05.000Z"),
    );
    r["hookPhase"] = json!("Failed");
    r["message"] = json!("\u{1b}[31m</pre><script>alert(2)</script>");
    r["logTail"] = json!(["\u{1b}[1mbold\u{1b}[0m <b>x</b> & \"q\""]);
    let mut rep = report(vec![r]);
    rep["app"] = json!("<app>");
    let html = render(&rep);
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(!html.contains("<app>"));
    assert!(!html.contains('\u{1b}'));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("bold &lt;b&gt;x&lt;/b&gt; &amp; &quot;q&quot;"));
    assert_eq!(
        html.matches("<script>").count(),
        1,
        "only the page's own script"
    );
}

#[test]
fn steps_rows_bars_and_failure() {
    let mut failed = res(
        "Job",
        "migrate",
        "PostSync",
        0,
        Some("2026-12-01T10:00:05.000Z"),
    );
    failed["hookPhase"] = json!("Failed");
    failed["finishedAt"] = json!("2026-12-01T10:00:10.000Z");
    failed["message"] = json!("Job has reached the specified backoff limit");
    failed["logTail"] = json!(["line 1", "ERROR: boom"]);
    let html = render(&report(vec![
        res(
            "Deployment",
            "web",
            "Sync",
            0,
            Some("2026-12-01T10:00:00.000Z"),
        ),
        failed,
        res("Job", "never", "SyncFail", 0, None),
    ]));
    assert_eq!(html.matches("<section class=\"step\"").count(), 2);
    assert_eq!(html.matches("class=\"step-band").count(), 2);
    assert_eq!(html.matches("class=\"row res").count(), 3);
    assert_eq!(
        html.matches("<div class=\"bar ").count(),
        2,
        "no bar for a task never applied"
    );
    assert!(html.contains("class=\"row res failed\" id=\"r1\""));
    assert!(html.contains("<section class=\"failure\""));
    assert!(html.contains("Job has reached the specified backoff limit"));
    assert!(html.contains("<details class=\"log\" open><summary>log (2 lines)"));
    assert!(
        html.contains("not in a recorded step"),
        "SyncFail/0 has no step"
    );
    // The 1 s between the two steps is drawn: from 40 % to 50 % of 10 s.
    assert!(html.contains("class=\"gap\" style=\"left:40.000%;width:10.000%\""));
    // The failed bar spans 5 s..10 s.
    assert!(html.contains("class=\"bar fail\" style=\"left:50.000%;width:50.000%\""));
}

#[test]
fn missing_fields_render() {
    let html = render(&json!({}));
    assert!(html.contains("no steps and no resources"));
    let html = render(&json!({"resources": [{"kind": 3}], "steps": [{}]}));
    assert!(html.contains("class=\"row res"));
}

#[test]
fn ticks_are_round() {
    assert_eq!(tick_interval(35.0), 5.0);
    assert_eq!(tick_interval(8.0), 1.0);
    assert_eq!(tick_interval(600.0), 60.0);
}

#[test]
fn a_step_that_did_not_finish_names_what_blocked_it() {
    let mut web = res(
        "Deployment",
        "web",
        "Sync",
        0,
        Some("2026-12-01T10:00:00.000Z"),
    );
    web["finishedAt"] = Value::Null;
    web["health"] = json!("Progressing");
    web["healthMessage"] =
        json!("Waiting for rollout to finish: 0 of 1 updated replicas are available...");
    let mut rep = report(vec![web]);
    rep["outcome"] = json!("TimedOut");
    rep["steps"][0]["status"] = json!("Running");
    rep["steps"][0]["finishedAt"] = Value::Null;
    let html = render(&rep);
    assert!(html.contains(
        "blocked on Deployment/web (Waiting for rollout to finish: 0 of 1 updated replicas are available...)"
    ));
    assert!(html.contains("data-problem=\"1\""));
    assert!(html.contains("class=\"bar run\""));
    assert!(!html.contains("id=\"failure\""), "nothing failed");
}

#[test]
fn a_succeeded_hooks_log_is_collapsed_and_a_truncated_one_is_marked() {
    let mut done = res(
        "Job",
        "seed",
        "PostSync",
        0,
        Some("2026-12-01T10:00:05.000Z"),
    );
    done["hookPhase"] = json!("Succeeded");
    done["finishedAt"] = json!("2026-12-01T10:00:06.000Z");
    done["logTail"] = json!(["…the end of a long log"]);
    done["logTruncated"] = json!(true);
    let html = render(&report(vec![done]));
    assert!(
        html.contains("<details class=\"log\"><summary>log (1 line)"),
        "collapsed"
    );
    assert!(html.contains(&format!(
        "<span class=\"trunc\">{}</span>",
        crate::report::LOG_TRUNCATED_MARK
    )));
}
