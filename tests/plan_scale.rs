//! The pathological inputs of issue #14 that were quadratic, through `manifest::from_yaml_str`
//! and `plan::build` (the library, debug build). Each bound is far below what the quadratic code
//! took (19 s, 5.6 s and 6.3 s in a release build) and far above what the linear code takes, so
//! the tests fail on a regression without timing noise making them flaky. The release figures
//! for a 1 MB input are in the commit that added this file.
use std::time::{Duration, Instant};
use syncsim::{
    manifest,
    plan::{self, PlanOptions},
};

fn plan_text(text: &str) -> Result<(plan::Plan, Duration), String> {
    let start = Instant::now();
    let objects = manifest::from_yaml_str(text, "big.yaml").map_err(|e| e.to_string())?;
    let plan = plan::build(&objects, &PlanOptions::default()).map_err(|e| e.to_string())?;
    Ok((plan, start.elapsed()))
}

#[test]
fn eighty_thousand_delete_policy_items_plan_in_linear_time() {
    let mut items: Vec<String> = Vec::new();
    for i in 0..40_000 {
        items.push("HookSucceeded".into());
        items.push(format!("p{i}"));
    }
    let text = format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\n  annotations:\n    argocd.argoproj.io/hook: PostSync\n    argocd.argoproj.io/hook-delete-policy: \"{}\"\n",
        items.join(",")
    );
    assert!(text.len() > 500_000);
    let (plan, took) = plan_text(&text).unwrap();
    let task = plan.tasks().next().unwrap();
    assert_eq!(task.delete_policies, [plan::DeletePolicy::HookSucceeded]);
    // One warning per distinct invalid item, duplicates removed.
    assert_eq!(plan.warnings.len(), 40_000);
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn forty_thousand_nesting_levels_are_rejected_at_once() {
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata: {}{}\n",
        "[".repeat(40_000),
        "]".repeat(40_000)
    );
    let start = Instant::now();
    let err = plan_text(&text).unwrap_err();
    assert!(err.starts_with("invalid YAML at big.yaml:4:"), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn twenty_thousand_namespaces_after_their_objects_plan_in_linear_time() {
    let n = 20_000;
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c, namespace: ns{i}}}\n"
        ));
    }
    for i in 0..n {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: ns{i}, annotations: {{argocd.argoproj.io/sync-wave: \"5\"}}}}\n"
        ));
    }
    let (plan, took) = plan_text(&text).unwrap();
    // Every Namespace moved before its ConfigMap, into its wave (§2.4): one step.
    assert_eq!(plan.steps.len(), 1);
    let tasks: Vec<_> = plan.tasks().collect();
    for pair in tasks.chunks(2) {
        assert_eq!(pair[0].kind(), "Namespace");
        assert_eq!(pair[0].name(), pair[1].namespace());
    }
    assert!(took < Duration::from_secs(20), "{took:?}");
}
