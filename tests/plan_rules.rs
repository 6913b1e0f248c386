//! Classification, waves, names, delete policies, sync options and namespaces
//! (docs/argo-cd-semantics.md §1, §2.1–§2.2, §3.1, §3.4, §6.2, §8).
use serde_json::json;
use syncsim::{
    manifest::{from_yaml_str, Object, Origin},
    plan::{self, DeletePolicy, Phase, Plan, PlanOptions, PruneOption},
};
use test_case::test_case;

fn opts() -> PlanOptions {
    PlanOptions {
        dest_namespace: "default".into(),
        revision: "FooBarBaz".into(),
        started_at_unix: 1_718_000_000,
    }
}

fn plan_of(yaml: &str) -> Plan {
    plan::build(&from_yaml_str(yaml, "test.yaml").unwrap(), &opts()).unwrap()
}

/// A manifest with the given annotations (`key=value` pairs).
fn manifest(kind: &str, name: &str, annotations: &[(&str, &str)]) -> String {
    let api = match kind {
        "Job" => "batch/v1",
        "Deployment" | "StatefulSet" => "apps/v1",
        _ => "v1",
    };
    let mut s = format!("apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}\n");
    if !annotations.is_empty() {
        s.push_str("  annotations:\n");
        for (k, v) in annotations {
            s.push_str(&format!("    {k}: {}\n", json!(v)));
        }
    }
    s
}

/// `Phase:hook|resource` per task, then `reason` per ignored manifest.
fn outcome(plan: &Plan) -> Vec<String> {
    let mut out: Vec<String> = plan
        .tasks()
        .map(|t| format!("{}:{}", t.phase, if t.hook { "hook" } else { "resource" }))
        .collect();
    out.extend(plan.ignored.iter().map(|i| i.reason.clone()));
    out
}

const HOOK: &str = "argocd.argoproj.io/hook";
const HELM: &str = "helm.sh/hook";

#[test_case(&[], &["Sync:resource"] ; "no annotation is a sync resource")]
#[test_case(&[(HOOK, "PreSync")], &["PreSync:hook"] ; "presync hook")]
#[test_case(&[(HOOK, "Sync")], &["Sync:hook"] ; "a hook annotated sync is still a hook")]
#[test_case(&[(HOOK, "SyncFail")], &["SyncFail:hook"] ; "syncfail hook")]
#[test_case(&[(HOOK, "PreSync,PostSync")], &["PreSync:hook", "PostSync:hook"] ; "two phases give two tasks")]
#[test_case(&[(HOOK, "PostSync, PreSync ,PostSync")], &["PreSync:hook", "PostSync:hook"] ; "hook list is trimmed and deduplicated")]
#[test_case(&[(HOOK, "Skip")], &["skipped"] ; "skip alone skips")]
#[test_case(&[(HOOK, "Skip,Skip")], &["skipped"] ; "skip twice is skip alone")]
#[test_case(&[(HOOK, "Skip,PostSync")], &["PostSync:hook"] ; "skip with a phase is a plain hook")]
#[test_case(&[(HOOK, "presync")], &["ignored"] ; "wrong case is dropped")]
#[test_case(&[(HOOK, "Foo")], &["ignored"] ; "unknown hook type is dropped")]
#[test_case(&[(HOOK, "")], &["ignored"] ; "empty hook annotation is dropped")]
#[test_case(&[(HOOK, "PreSync,presync")], &["PreSync:hook"] ; "invalid items are ignored when a valid one exists")]
#[test_case(&[(HOOK, "PostDelete")], &["ignored"] ; "postdelete only is dropped")]
#[test_case(&[(HOOK, "PreDelete")], &["ignored"] ; "predelete only is dropped")]
#[test_case(&[(HOOK, "PreSync,PostDelete")], &["PreSync:hook"] ; "deletion hook with a sync phase runs in that phase")]
#[test_case(&[(HOOK, "Skip,PostDelete")], &["ignored"] ; "skip with a deletion hook is left out")]
#[test_case(&[(HELM, "post-install")], &["PostSync:hook"] ; "helm post install is postsync")]
#[test_case(&[(HELM, "post-upgrade")], &["PostSync:hook"] ; "helm post upgrade is postsync")]
#[test_case(&[(HELM, "pre-install,pre-upgrade")], &["PreSync:hook"] ; "helm pre install and pre upgrade give one presync task")]
#[test_case(&[(HELM, "crd-install")], &["Sync:resource"] ; "helm crd install is a normal resource")]
#[test_case(&[(HELM, "crd-install,pre-install")], &["PreSync:hook"] ; "helm crd install with another hook is a hook")]
#[test_case(&[(HELM, "test")], &["ignored"] ; "unsupported helm hook is dropped")]
#[test_case(&[(HELM, "pre-rollback")], &["ignored"] ; "helm pre rollback is dropped")]
#[test_case(&[(HELM, "")], &["ignored"] ; "empty helm hook is dropped")]
#[test_case(&[(HELM, "pre-delete")], &["ignored"] ; "helm pre delete is dropped")]
#[test_case(&[(HELM, "post-delete,post-install")], &["PostSync:hook"] ; "helm post delete with post install runs in postsync")]
#[test_case(&[(HOOK, "PreSync"), (HELM, "post-install")], &["PreSync:hook"] ; "helm is ignored when argo has a valid type")]
#[test_case(&[(HOOK, "Foo"), (HELM, "pre-upgrade")], &["PreSync:hook"] ; "helm is used when argo has no valid type")]
#[test_case(&[(HOOK, "Skip"), (HELM, "post-install")], &["skipped"] ; "argo skip wins over helm")]
fn classification_follows_argo(annotations: &[(&str, &str)], expected: &[&str]) {
    let plan = plan_of(&manifest("Job", "j", annotations));
    assert_eq!(outcome(&plan), expected);
}

#[test]
fn ignored_and_skipped_manifests_are_listed_with_reason_and_origin() {
    let yaml = [
        manifest("ConfigMap", "keep", &[]),
        manifest("ConfigMap", "skip", &[(HOOK, "Skip")]),
        manifest("Job", "drop", &[(HOOK, "presync")]),
    ]
    .join("---\n");
    let plan = plan_of(&yaml);
    let ignored: Vec<_> = plan
        .ignored
        .iter()
        .map(|i| (i.name.as_str(), i.reason.as_str(), i.origin.as_str()))
        .collect();
    assert_eq!(
        ignored,
        [
            ("skip", "skipped", "test.yaml:6"),
            ("drop", "ignored", "test.yaml:13")
        ]
    );
    assert_eq!(plan.tasks().count(), 1);
}

#[test_case(&[("argocd.argoproj.io/sync-wave", "5")], 5 ; "integer sync wave")]
#[test_case(&[("argocd.argoproj.io/sync-wave", "-2")], -2 ; "negative sync wave")]
#[test_case(&[("argocd.argoproj.io/sync-wave", "+4")], 4 ; "plus sign is accepted")]
#[test_case(&[("argocd.argoproj.io/sync-wave", "1.5")], 0 ; "decimal sync wave is wave zero")]
#[test_case(&[("argocd.argoproj.io/sync-wave", "abc")], 0 ; "word sync wave is wave zero")]
#[test_case(&[("argocd.argoproj.io/sync-wave", " 2")], 0 ; "sync wave with a space is wave zero")]
#[test_case(&[("argocd.argoproj.io/sync-wave", "99999999999999999999")], 0 ; "sync wave beyond 64 bits is wave zero")]
#[test_case(&[("argocd.argoproj.io/sync-wave", "1.5"), ("helm.sh/hook-weight", "3")], 3 ; "helm hook weight is wave when sync wave is not an integer")]
#[test_case(&[("helm.sh/hook-weight", "-7")], -7 ; "helm hook weight is wave when sync wave is absent")]
#[test_case(&[("argocd.argoproj.io/sync-wave", "2"), ("helm.sh/hook-weight", "3")], 2 ; "sync wave wins over helm hook weight")]
#[test_case(&[("helm.sh/hook-weight", "x")], 0 ; "invalid helm hook weight is wave zero")]
fn wave_of_a_resource(annotations: &[(&str, &str)], expected: i64) {
    let plan = plan_of(&manifest("ConfigMap", "c", annotations));
    assert_eq!(plan.steps[0].wave, expected);
    assert!(
        !plan.steps[0].tasks[0].hook,
        "hook-weight fallback applies to non-hooks too"
    );
}

fn generate_name_job(hook: &str) -> String {
    format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: Migrate-\n  annotations:\n    {HOOK}: {hook}\n"
    )
}

#[test]
fn generate_name_hook_in_two_phases_gets_two_names() {
    let plan = plan_of(&generate_name_job("PreSync,PostSync"));
    let names: Vec<_> = plan
        .tasks()
        .map(|t| (t.phase, t.name().to_string()))
        .collect();
    assert_eq!(
        names,
        [
            (
                Phase::PreSync,
                "Migrate-foobarb-presync-1718000000".to_string()
            ),
            (
                Phase::PostSync,
                "Migrate-foobarb-postsync-1718000000".to_string()
            ),
        ]
    );
}

#[test_case("FooBarBaz", "m-foobarb-postsync-7" ; "revision of eight or more keeps seven characters")]
#[test_case("abcdefgh", "m-abcdefg-postsync-7" ; "revision of exactly eight keeps seven")]
#[test_case("abcdefg", "m-abcdefg-postsync-7" ; "revision of seven is kept whole")]
#[test_case("HEAD", "m-head-postsync-7" ; "short revision is kept whole and lowercased")]
fn hook_name_follows_argo(revision: &str, expected: &str) {
    let opts = PlanOptions {
        revision: revision.into(),
        started_at_unix: 7,
        ..opts()
    };
    assert_eq!(plan::hook_name("m-", Phase::PostSync, &opts), expected);
}

#[test]
fn named_hook_keeps_its_name_and_gets_the_hook_finalizer() {
    let plan = plan_of(&manifest("Job", "fixed", &[(HOOK, "PostSync")]));
    let task = &plan.steps[0].tasks[0];
    assert_eq!(task.name(), "fixed");
    assert_eq!(
        task.object.value["metadata"]["finalizers"],
        json!(["argocd.argoproj.io/hook-finalizer"])
    );
}

#[test]
fn resources_get_no_hook_finalizer() {
    let plan = plan_of(&manifest("ConfigMap", "c", &[]));
    assert!(plan.steps[0].tasks[0].object.value["metadata"]
        .get("finalizers")
        .is_none());
}

#[test]
fn hook_without_name_or_generate_name_is_named_by_the_suffix_alone() {
    let obj = Object::new(
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"annotations": {HOOK: "PreSync"}}}),
        Origin {
            file: "x".into(),
            document: 0,
            line: Some(1),
        },
    );
    let plan = plan::build(&[obj], &opts()).unwrap();
    assert_eq!(plan.steps[0].tasks[0].name(), "foobarb-presync-1718000000");
}

#[test]
fn resource_without_name_is_a_plan_error() {
    let obj = Object::new(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}),
        Origin {
            file: "x.yaml".into(),
            document: 0,
            line: Some(3),
        },
    );
    let err = plan::build(&[obj], &opts()).unwrap_err();
    assert!(err.to_string().contains("x.yaml:3"), "{err}");
    assert_eq!(err.exit_code(), 2);
}

#[test_case(&[], &[DeletePolicy::BeforeHookCreation] ; "default is before hook creation")]
#[test_case(&[("argocd.argoproj.io/hook-delete-policy", "HookSucceeded")], &[DeletePolicy::HookSucceeded] ; "argo policy")]
#[test_case(&[("argocd.argoproj.io/hook-delete-policy", "HookSucceeded, HookFailed")], &[DeletePolicy::HookSucceeded, DeletePolicy::HookFailed] ; "argo policy list")]
#[test_case(&[("helm.sh/hook-delete-policy", "hook-succeeded")], &[DeletePolicy::HookSucceeded] ; "helm policy is mapped")]
#[test_case(&[("helm.sh/hook-delete-policy", "before-hook-creation,hook-failed")], &[DeletePolicy::BeforeHookCreation, DeletePolicy::HookFailed] ; "helm policy list is mapped")]
#[test_case(&[("argocd.argoproj.io/hook-delete-policy", "HookFailed"), ("helm.sh/hook-delete-policy", "hook-succeeded")], &[DeletePolicy::HookFailed, DeletePolicy::HookSucceeded] ; "argo and helm policies are unioned")]
#[test_case(&[("argocd.argoproj.io/hook-delete-policy", "HookSucceeded"), ("helm.sh/hook-delete-policy", "hook-succeeded")], &[DeletePolicy::HookSucceeded] ; "union is deduplicated")]
#[test_case(&[("argocd.argoproj.io/hook-delete-policy", "hooksucceeded")], &[DeletePolicy::BeforeHookCreation] ; "invalid policy falls back to the default")]
fn delete_policies_of_a_hook(annotations: &[(&str, &str)], expected: &[DeletePolicy]) {
    let mut ann = vec![(HOOK, "PostSync")];
    ann.extend_from_slice(annotations);
    let plan = plan_of(&manifest("Job", "j", &ann));
    assert_eq!(plan.steps[0].tasks[0].delete_policies, expected);
}

#[test]
fn resources_have_no_delete_policies() {
    let plan = plan_of(&manifest(
        "ConfigMap",
        "c",
        &[("argocd.argoproj.io/hook-delete-policy", "HookSucceeded")],
    ));
    assert!(plan.steps[0].tasks[0].delete_policies.is_empty());
}

#[test]
fn sync_options_are_parsed() {
    let opts_of = |v: &str| {
        let plan = plan_of(&manifest(
            "ConfigMap",
            "c",
            &[("argocd.argoproj.io/sync-options", v)],
        ));
        plan.steps[0].tasks[0].sync_options.clone()
    };
    assert_eq!(opts_of("Prune=false").prune, Some(PruneOption::Disabled));
    assert_eq!(opts_of("Prune=confirm").prune, Some(PruneOption::Confirm));
    assert_eq!(
        opts_of("Prune=false,Prune=confirm").prune,
        Some(PruneOption::Disabled),
        "first Prune= wins"
    );
    assert_eq!(opts_of("Prune=true").prune, None);
    assert!(opts_of("PruneLast=true").prune_last);
    let o = opts_of("Replace=true, Force=true");
    assert!(o.replace && o.force);
    assert_eq!(
        opts_of("ServerSideApply=false").server_side_apply,
        Some(false)
    );
    assert_eq!(
        opts_of("ServerSideApply=true").server_side_apply,
        Some(true)
    );
    assert!(opts_of("Validate=false").validate_false);
    assert!(opts_of("SkipDryRunOnMissingResource=true").skip_dry_run_on_missing_resource);
    assert_eq!(
        opts_of("Delete=false,Foo=bar").other,
        ["Delete=false", "Foo=bar"]
    );
    assert_eq!(
        opts_of("Replace=false"),
        Default::default(),
        "Replace=false has no effect"
    );
}

#[test_case("", "default", "default" ; "object without namespace gets the destination")]
#[test_case("  namespace: mine\n", "default", "mine" ; "object namespace is kept")]
#[test_case("", "shop", "shop" ; "custom destination namespace")]
#[test_case("", "", "" ; "empty destination sets nothing")]
fn destination_namespace_is_applied(ns_line: &str, dest: &str, expected: &str) {
    let yaml = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n{ns_line}");
    let objs = from_yaml_str(&yaml, "t").unwrap();
    let opts = PlanOptions {
        dest_namespace: dest.into(),
        ..opts()
    };
    let plan = plan::build(&objs, &opts).unwrap();
    assert_eq!(plan.steps[0].tasks[0].namespace(), expected);
}

#[test]
fn cluster_scoped_objects_get_the_destination_namespace_too() {
    let plan = plan_of(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: r\n",
    );
    assert_eq!(plan.steps[0].tasks[0].namespace(), "default");
}

#[test]
fn duplicate_manifests_keep_the_last_one() {
    let yaml = [
        manifest("ConfigMap", "c", &[("argocd.argoproj.io/sync-wave", "1")]),
        manifest("ConfigMap", "c", &[("argocd.argoproj.io/sync-wave", "2")]),
    ]
    .join("---\n");
    let plan = plan_of(&yaml);
    assert_eq!(plan.tasks().count(), 1);
    assert_eq!(plan.steps[0].wave, 2);
    assert_eq!(plan.ignored[0].reason, "duplicate");
    assert!(
        plan.warnings[0].message.contains("appears 2 times"),
        "{:?}",
        plan.warnings
    );
}

#[test]
fn generate_name_hooks_are_not_duplicates_of_each_other() {
    let yaml = [generate_name_job("PreSync"), generate_name_job("PostSync")].join("---\n");
    assert_eq!(plan_of(&yaml).tasks().count(), 2);
}

#[test]
fn sync_fail_hooks_are_their_own_final_steps() {
    let yaml = [
        manifest(
            "Job",
            "on-fail",
            &[(HOOK, "SyncFail"), ("argocd.argoproj.io/sync-wave", "-5")],
        ),
        manifest(
            "Job",
            "after",
            &[(HOOK, "PostSync"), ("argocd.argoproj.io/sync-wave", "3")],
        ),
        manifest("ConfigMap", "c", &[("argocd.argoproj.io/sync-wave", "9")]),
        manifest(
            "Job",
            "before",
            &[(HOOK, "PreSync"), ("argocd.argoproj.io/sync-wave", "10")],
        ),
    ]
    .join("---\n");
    let plan = plan_of(&yaml);
    let steps: Vec<_> = plan.steps.iter().map(|s| (s.phase, s.wave)).collect();
    assert_eq!(
        steps,
        [
            (Phase::PreSync, 10),
            (Phase::Sync, 9),
            (Phase::PostSync, 3),
            (Phase::SyncFail, -5)
        ]
    );
}

#[test]
fn non_string_annotation_hides_every_annotation_as_in_argo() {
    // `sync-wave: 1` (unquoted) makes Kubernetes' GetAnnotations() fail: Argo CD sees none,
    // so the hook annotation is not seen either.
    let yaml = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\n  annotations:\n    argocd.argoproj.io/hook: PreSync\n    argocd.argoproj.io/sync-wave: 1\n";
    let plan = plan_of(yaml);
    assert_eq!(outcome(&plan), ["Sync:resource"]);
    assert!(plan
        .warnings
        .iter()
        .any(|w| w.message.contains("is not a string")));
}
