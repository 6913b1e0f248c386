//! Table tests of `compare` and the renderers: two small documents each, the expected lines.
use super::{compare, render, Doc, Options};
use serde_json::{json, Value};
use test_case::test_case;

/// A task: (kind, name, hook, delete policies).
type T<'a> = (&'a str, &'a str, bool, &'a [&'a str]);

/// A plan JSON from `(phase, wave, tasks)`.
fn plan(steps: &[(&str, i64, &[T])]) -> Value {
    json!({"steps": steps.iter().map(|(phase, wave, tasks)| json!({
        "phase": phase, "wave": wave,
        "tasks": tasks.iter().map(|(kind, name, hook, pol)| json!({
            "group": "", "kind": kind, "namespace": "ns", "name": name, "hook": hook,
            "deletePolicies": pol, "syncOptions": {}, "origin": "x.yaml:1"})).collect::<Vec<_>>()
    })).collect::<Vec<_>>(), "ignored": [], "warnings": []})
}

fn lines(a: &Value, b: &Value) -> Vec<String> {
    let d = compare(
        &Doc::from_json(a).unwrap(),
        &Doc::from_json(b).unwrap(),
        &Options::default(),
    );
    let mut out = Vec::new();
    for c in &d.operation {
        let (m, l) = render::line(c);
        out.push(format!("operation: {m} {l}"));
    }
    for s in &d.steps {
        for c in &s.changes {
            let (m, l) = render::line(c);
            out.push(format!("{}: {m} {l}", s.step));
        }
    }
    assert_eq!(out.len(), d.count());
    out
}

const NONE: &[&str] = &[];
const HS: &[&str] = &["HookSucceeded"];

#[test_case(
    plan(&[("Sync", 0, &[("Service", "web", false, NONE)])]),
    plan(&[("Sync", 0, &[("Service", "web", false, NONE)])]),
    &[];
    "identical")]
#[test_case(
    plan(&[("Sync", 0, &[("Service", "web", false, NONE)])]),
    plan(&[("Sync", 0, &[("Service", "web", false, NONE), ("Deployment", "web", false, NONE)])]),
    &["Sync wave 0: + Deployment/web (ns ns) added"];
    "added")]
#[test_case(
    plan(&[("Sync", 0, &[("Service", "web", false, NONE)]), ("PostSync", 0, &[("Job", "m", true, HS)])]),
    plan(&[("Sync", 0, &[("Service", "web", false, NONE)])]),
    &["PostSync wave 0: - Job/m (ns ns) removed"];
    "removed, under its old step")]
#[test_case(
    plan(&[("Sync", 0, &[("Service", "a", false, NONE), ("Service", "b", false, NONE)])]),
    plan(&[("Sync", 0, &[("Service", "a", false, NONE)]), ("Sync", 2, &[("Service", "b", false, NONE)])]),
    &["Sync wave 2: ~ Service/b (ns ns) moved from Sync wave 0 to Sync wave 2"];
    "moved to another wave")]
#[test_case(
    plan(&[("PreSync", 0, &[("Job", "m", true, HS)])]),
    plan(&[("PostSync", 0, &[("Job", "m", true, HS)])]),
    &["PostSync wave 0: ~ Job/m (ns ns) moved from PreSync wave 0 to PostSync wave 0"];
    "moved to another phase")]
#[test_case(
    plan(&[("Sync", 0, &[("ConfigMap", "c", false, NONE), ("Service", "s", false, NONE), ("Deployment", "d", false, NONE)])]),
    plan(&[("Sync", 0, &[("ConfigMap", "c", false, NONE), ("Deployment", "d", false, NONE), ("Service", "s", false, NONE)])]),
    &["Sync wave 0: ~ Deployment/d (ns ns) reordered in the step: position 3 -> 2"];
    "reordered inside the step: only the task that changed place")]
#[test_case(
    plan(&[("Sync", 0, &[("Service", "x", false, NONE), ("Service", "y", false, NONE)])]),
    plan(&[("Sync", 0, &[("Service", "new", false, NONE), ("Service", "x", false, NONE), ("Service", "y", false, NONE)])]),
    &["Sync wave 0: + Service/new (ns ns) added"];
    "an insertion shifts positions without reordering")]
#[test_case(
    plan(&[("PostSync", 0, &[("Job", "m", true, HS)])]),
    plan(&[("PostSync", 0, &[("Job", "m", true, &["HookFailed", "HookSucceeded"])])]),
    &["PostSync wave 0: ~ Job/m (ns ns) delete policies HookSucceeded -> HookFailed,HookSucceeded"];
    "delete policies")]
#[test_case(
    plan(&[("Sync", 0, &[("Job", "m", false, NONE)])]),
    plan(&[("Sync", 0, &[("Job", "m", true, &["BeforeHookCreation"])])]),
    &["Sync wave 0: ~ Job/m (ns ns) became a hook",
      "Sync wave 0: ~ Job/m (ns ns) delete policies (none) -> BeforeHookCreation"];
    "became a hook")]
#[test_case(
    plan(&[("PreSync", 0, &[("Job", "m-abc1234-presync-1700000000", true, HS)])]),
    plan(&[("PreSync", 0, &[("Job", "m-def5678-presync-1700000999", true, HS)])]),
    &[];
    "generateName hooks match across revisions")]
fn plans(a: Value, b: Value, want: &[&str]) {
    assert_eq!(lines(&a, &b), want);
}

/// A run report from `(phase, wave, status, seconds)` steps and `(phase, wave, kind, name,
/// hookPhase, message)` resources.
fn run(
    outcome: &str,
    steps: &[(&str, i64, &str, Option<f64>)],
    res: &[(&str, i64, &str, &str, &str, &str)],
) -> Value {
    json!({"schemaVersion": 1, "app": "a", "outcome": outcome,
        "operation": {"phase": outcome, "message": format!("sync {outcome}"), "durationSeconds": 10.0},
        "steps": steps.iter().map(|(p, w, s, d)| json!({"phase": p, "wave": w, "status": s,
            "durationSeconds": d})).collect::<Vec<_>>(),
        "resources": res.iter().map(|(p, w, k, n, hp, m)| json!({"group": "", "kind": k,
            "namespace": "ns", "name": n, "syncPhase": p, "wave": w, "hook": *k == "Job",
            "status": "Synced", "hookPhase": hp, "health": null, "message": m,
            "deletePolicies": if *k == "Job" { json!(["HookSucceeded"]) } else { json!([]) }}))
            .collect::<Vec<_>>()})
}

#[test_case(
    run("Succeeded", &[("PostSync", 0, "Succeeded", Some(3.0))], &[("PostSync", 0, "Job", "m", "Succeeded", "done")]),
    run("Failed", &[("PostSync", 0, "Failed", Some(3.1))], &[("PostSync", 0, "Job", "m", "Failed", "backoff limit")]),
    &["operation: ~ outcome \"Succeeded\" -> \"Failed\"",
      "operation: ~ phase \"Succeeded\" -> \"Failed\"",
      "operation: ~ message \"sync Succeeded\" -> \"sync Failed\"",
      "PostSync wave 0: ~ Job/m (ns ns) hookPhase Succeeded -> Failed",
      "PostSync wave 0: ~ Job/m (ns ns) message done -> backoff limit",
      "PostSync wave 0: ~ step status Succeeded -> Failed"];
    "outcome and messages")]
#[test_case(
    run("Succeeded", &[("Sync", 0, "Succeeded", Some(2.0)), ("Sync", 1, "Succeeded", Some(10.0))], &[]),
    run("Succeeded", &[("Sync", 0, "Succeeded", Some(2.6)), ("Sync", 1, "Succeeded", Some(10.4))], &[]),
    &["Sync wave 0: ~ duration 2.0s -> 2.6s (+30%)"];
    "durations: 30% and 0.6s counts; 4% does not")]
#[test_case(
    run("Succeeded", &[("Sync", 0, "Succeeded", Some(1.0))], &[]),
    run("Succeeded", &[("Sync", 0, "Succeeded", Some(1.4))], &[]),
    &[];
    "durations: 40% but only 0.4s does not count")]
#[test_case(
    run("Succeeded", &[("Sync", 0, "Succeeded", Some(1.0))], &[]),
    run("Succeeded", &[("Sync", 0, "NotStarted", None)], &[]),
    &["Sync wave 0: ~ step status Succeeded -> NotStarted"];
    "a step that did not run has no duration to compare")]
fn runs(a: Value, b: Value, want: &[&str]) {
    assert_eq!(lines(&a, &b), want);
}

#[test]
fn a_plan_against_a_run_compares_the_tasks_only() {
    let p = plan(&[("PostSync", 0, &[("Job", "m", true, HS)])]);
    let r = run(
        "Failed",
        &[("PostSync", 0, "Failed", Some(1.0))],
        &[("PostSync", 1, "Job", "m", "Failed", "x")],
    );
    assert_eq!(
        lines(&p, &r),
        ["PostSync wave 1: ~ Job/m (ns ns) moved from PostSync wave 0 to PostSync wave 1"]
    );
}

#[test]
fn thresholds_are_options() {
    let a = run("Succeeded", &[("Sync", 0, "Succeeded", Some(1.0))], &[]);
    let b = run("Succeeded", &[("Sync", 0, "Succeeded", Some(1.1))], &[]);
    let (a, b) = (Doc::from_json(&a).unwrap(), Doc::from_json(&b).unwrap());
    assert!(compare(&a, &b, &Options::default()).is_empty());
    let loose = Options {
        percent: 5.0,
        min_seconds: 0.05,
    };
    assert_eq!(compare(&a, &b, &loose).count(), 1);
}

#[test]
fn renderings() {
    let a = plan(&[("Sync", 0, &[("Service", "<x>", false, NONE)])]);
    let b = plan(&[("Sync", 1, &[("Service", "<x>", false, NONE)])]);
    let d = compare(
        &Doc::from_json(&a).unwrap(),
        &Doc::from_json(&b).unwrap(),
        &Options::default(),
    );
    assert_eq!(
        render::text(&d, "A", "B"),
        "--- A (plan)\n+++ B (plan)\nSync wave 1:\n  ~ Service/<x> (ns ns) moved from Sync wave 0 to Sync wave 1\n1 difference\n"
    );
    let j = render::json(&d, "A", "B");
    assert_eq!(j["differences"], 1);
    assert_eq!(
        j["steps"][0],
        json!({"phase": "Sync", "wave": 1, "changes": [{"change": "moved",
            "task": {"group": "", "kind": "Service", "namespace": "ns", "name": "<x>"},
            "from": {"phase": "Sync", "wave": 0}, "to": {"phase": "Sync", "wave": 1}}]})
    );
    let h = render::html(&d, "A<", "B");
    assert!(h.contains("Service/&lt;x&gt;"));
    assert!(h.contains("--- A&lt;"));
    assert!(!h.contains("<x>"));
    assert!(render::text(
        &compare(
            &Doc::from_json(&a).unwrap(),
            &Doc::from_json(&a).unwrap(),
            &Options::default()
        ),
        "A",
        "A"
    )
    .ends_with("no differences\n"));
}
