//! Warnings where Argo CD silently drops or reinterprets a manifest. Each names file:line and
//! the object and suggests the fix; none changes the plan.
use serde_json::json;
use syncsim::{
    manifest::from_yaml_str,
    plan::{self, Plan, PlanOptions},
};
use test_case::test_case;

/// A Job `j` at `app.yaml:3` (after a ConfigMap) with the given annotations.
fn plan_with(annotations: &[(&str, &str)]) -> Plan {
    let mut yaml = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: first}\n---\n");
    yaml.push_str("apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\n");
    if !annotations.is_empty() {
        yaml.push_str("  annotations:\n");
        for (k, v) in annotations {
            yaml.push_str(&format!("    {k}: {}\n", json!(v)));
        }
    }
    plan::build(
        &from_yaml_str(&yaml, "app.yaml").unwrap(),
        &PlanOptions::default(),
    )
    .unwrap()
}

fn warnings(annotations: &[(&str, &str)]) -> Vec<String> {
    plan_with(annotations)
        .warnings
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn assert_one_warning(annotations: &[(&str, &str)], needles: &[&str]) {
    let ws = warnings(annotations);
    assert_eq!(ws.len(), 1, "{ws:#?}");
    assert!(ws[0].starts_with("app.yaml:5: Job/j: "), "{}", ws[0]);
    for n in needles {
        assert!(ws[0].contains(n), "missing {n:?} in {}", ws[0]);
    }
}

const HOOK: &str = "argocd.argoproj.io/hook";
const WAVE: &str = "argocd.argoproj.io/sync-wave";

#[test_case("presync", &["hook type `presync` is not valid", "drops this manifest", "case-sensitive", "did you mean `PreSync`?"] ; "hook type in the wrong case")]
#[test_case("PostSyc", &["did you mean `PostSync`?", "drops this manifest"] ; "misspelled hook type")]
#[test_case("Foo", &["hook type `Foo` is not valid", "valid values: PreSync"] ; "unknown hook type")]
#[test_case("PreSync,postsync", &["Argo CD ignores this item", "did you mean `PostSync`?"] ; "one bad item next to a valid one")]
fn invalid_hook_types_are_reported(value: &str, needles: &[&str]) {
    assert_one_warning(&[(HOOK, value)], needles);
}

#[test]
fn empty_hook_annotation_is_reported() {
    assert_one_warning(&[(HOOK, "")], &["is empty", "drops this manifest"]);
}

#[test_case(&[(HOOK, "PostDelete")] ; "argo post delete")]
#[test_case(&[(HOOK, "PreDelete")] ; "argo pre delete")]
#[test_case(&[("helm.sh/hook", "post-delete")] ; "helm post delete")]
fn deletion_only_hooks_are_reported(annotations: &[(&str, &str)]) {
    assert_one_warning(annotations, &["only when the Application is deleted"]);
}

#[test_case("test", &["Helm hook `test` is not supported", "drops this manifest"] ; "helm test hook")]
#[test_case("pre-rollback", &["Helm hook `pre-rollback` is not supported"] ; "helm rollback hook")]
#[test_case("pre-instal", &["did you mean `pre-install`?"] ; "misspelled helm hook")]
#[test_case("post-install,test-success", &["Argo CD ignores this item"] ; "unsupported item next to a supported one")]
fn unsupported_helm_hooks_are_reported(value: &str, needles: &[&str]) {
    assert_one_warning(&[("helm.sh/hook", value)], needles);
}

#[test]
fn helm_hook_overridden_by_argo_hook_is_reported() {
    assert_one_warning(
        &[(HOOK, "PreSync"), ("helm.sh/hook", "post-install")],
        &["is ignored because", "PreSync only"],
    );
}

#[test]
fn helm_hook_that_agrees_with_argo_hook_is_quiet() {
    assert!(warnings(&[
        (HOOK, "PostSync"),
        ("helm.sh/hook", "post-install,post-upgrade")
    ])
    .is_empty());
}

#[test_case("1.5", &["sync-wave `1.5` is not an integer", "uses wave 0", "such as `1` or `2`"] ; "decimal wave")]
#[test_case("abc", &["sync-wave `abc` is not an integer", "use an integer"] ; "word wave")]
#[test_case(" 2", &["sync-wave ` 2` is not an integer", "did you mean `2`?"] ; "wave with a space")]
#[test_case("", &["sync-wave `` is not an integer"] ; "empty wave")]
fn non_integer_waves_are_reported(value: &str, needles: &[&str]) {
    assert_one_warning(&[(WAVE, value)], needles);
}

#[test]
fn non_integer_wave_names_the_helm_weight_it_falls_back_to() {
    assert_one_warning(
        &[(WAVE, "1.5"), ("helm.sh/hook-weight", "3")],
        &["uses wave 3 (from `helm.sh/hook-weight`)"],
    );
}

#[test]
fn non_integer_helm_weight_is_reported() {
    assert_one_warning(
        &[("helm.sh/hook-weight", "high")],
        &["`helm.sh/hook-weight` `high` is not an integer"],
    );
}

#[test_case("argocd.argoproj.io/hooks", "argocd.argoproj.io/hook" ; "extra letter")]
#[test_case("argocd.argopro.io/hook", "argocd.argoproj.io/hook" ; "missing letter in the domain")]
#[test_case("argocd.argoproj.io/syncwave", "argocd.argoproj.io/sync-wave" ; "missing dash")]
#[test_case("argocd.argoproj.io/hook-delete-polcy", "argocd.argoproj.io/hook-delete-policy" ; "misspelled delete policy key")]
#[test_case("argocd.argoproj.io/sync-option", "argocd.argoproj.io/sync-options" ; "singular sync option key")]
#[test_case("helm.sh/hook-wieght", "helm.sh/hook-weight" ; "transposed letters")]
fn misspelled_annotation_keys_are_reported(key: &str, suggestion: &str) {
    assert_one_warning(
        &[(key, "PreSync")],
        &[&format!(
            "annotation `{key}` is not read by Argo CD; did you mean `{suggestion}`?"
        )],
    );
}

#[test]
fn plan_annotation_used_as_label_is_reported() {
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n    argocd.argoproj.io/sync-wave: \"2\"\n";
    let plan = plan::build(
        &from_yaml_str(yaml, "l.yaml").unwrap(),
        &PlanOptions::default(),
    )
    .unwrap();
    assert_eq!(plan.warnings.len(), 1);
    assert!(plan.warnings[0]
        .to_string()
        .starts_with("l.yaml:1: ConfigMap/c: `argocd.argoproj.io/sync-wave` is a label"));
}

#[test_case("argocd.argoproj.io/hook-delete-policy", "HookSucceded", &["delete policy `HookSucceded` is not valid", "default BeforeHookCreation", "did you mean `HookSucceeded`?"] ; "misspelled argo policy")]
#[test_case("argocd.argoproj.io/hook-delete-policy", "hooksucceeded", &["case-sensitive", "did you mean `HookSucceeded`?"] ; "argo policy in the wrong case")]
#[test_case("helm.sh/hook-delete-policy", "hook-succeded", &["Helm delete policy `hook-succeded` is not valid", "did you mean `hook-succeeded`?"] ; "misspelled helm policy")]
fn invalid_delete_policies_are_reported(key: &str, value: &str, needles: &[&str]) {
    assert_one_warning(&[(HOOK, "PostSync"), (key, value)], needles);
}

#[test]
fn invalid_policy_next_to_a_valid_one_does_not_mention_the_default() {
    let ws = warnings(&[
        (HOOK, "PostSync"),
        ("argocd.argoproj.io/hook-delete-policy", "HookFailed,Bogus"),
    ]);
    assert_eq!(ws.len(), 1);
    assert!(!ws[0].contains("default"), "{}", ws[0]);
}

#[test]
fn delete_policy_on_a_resource_is_reported() {
    assert_one_warning(
        &[("argocd.argoproj.io/hook-delete-policy", "HookSucceeded")],
        &["no effect on a resource that is not a hook"],
    );
}

#[test_case("Prune=flase", &["invalid value", "did you mean `Prune=false`?"] ; "misspelled value")]
#[test_case("Prun=false", &["not known to Argo CD", "did you mean `Prune=false`?"] ; "misspelled key")]
#[test_case("CreateNamespace=true", &["only works on the Application"] ; "application only option")]
fn invalid_sync_options_are_reported(value: &str, needles: &[&str]) {
    assert_one_warning(&[("argocd.argoproj.io/sync-options", value)], needles);
}

#[test]
fn generate_name_on_a_resource_is_reported() {
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: c-\n";
    let plan = plan::build(
        &from_yaml_str(yaml, "g.yaml").unwrap(),
        &PlanOptions::default(),
    )
    .unwrap();
    assert_eq!(plan.warnings.len(), 1);
    assert!(plan.warnings[0]
        .message
        .contains("generates names only for hooks"));
}

#[test]
fn non_string_annotation_value_is_reported() {
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    argocd.argoproj.io/sync-wave: 1\n";
    let plan = plan::build(
        &from_yaml_str(yaml, "n.yaml").unwrap(),
        &PlanOptions::default(),
    )
    .unwrap();
    assert_eq!(plan.warnings.len(), 1);
    assert!(plan.warnings[0]
        .message
        .contains("`argocd.argoproj.io/sync-wave` is not a string"));
}

#[test]
fn correct_manifests_produce_no_warnings() {
    let ws = warnings(&[
        (HOOK, "PreSync,PostSync"),
        (WAVE, "-1"),
        (
            "argocd.argoproj.io/hook-delete-policy",
            "BeforeHookCreation,HookSucceeded",
        ),
        (
            "argocd.argoproj.io/sync-options",
            "Prune=false,ServerSideApply=true,Delete=false",
        ),
        ("argocd.argoproj.io/compare-options", "IgnoreExtraneous"),
        ("argocd.argoproj.io/tracking-id", "app:batch/Job:ns/j"),
        ("helm.sh/resource-policy", "keep"),
        ("helm.sh/hook-weight", "5"),
        ("kubectl.kubernetes.io/last-applied-configuration", "{}"),
        ("example.com/hook", "x"),
    ]);
    assert!(ws.is_empty(), "{ws:#?}");
}

#[test]
fn warnings_do_not_change_the_plan() {
    let with = plan_with(&[(HOOK, "PostSync"), ("argocd.argoproj.io/hooks", "PreSync")]);
    let without = plan_with(&[(HOOK, "PostSync")]);
    assert_eq!(with.steps.len(), without.steps.len());
    assert_eq!(with.steps[1].phase, without.steps[1].phase);
    assert_eq!(with.warnings.len(), 1);
}
