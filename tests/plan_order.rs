//! Sort order, dependency moves, step grouping and invariants (docs/argo-cd-semantics.md §2.3–§2.5, §8).
use serde_json::json;
use syncsim::{
    manifest::{from_yaml_str, Object, Origin},
    plan::{self, kind_rank, Phase, Plan, PlanOptions, KIND_ORDER},
};
use test_case::test_case;

fn opts() -> PlanOptions {
    PlanOptions {
        dest_namespace: "default".into(),
        revision: "FooBarBaz".into(),
        started_at_unix: 1_718_000_000,
    }
}

/// An object: `api` (apiVersion), kind, name, namespace ("" for none), annotations.
fn obj(api: &str, kind: &str, name: &str, ns: &str, ann: &[(&str, &str)]) -> Object {
    let mut meta = json!({"name": name});
    if !ns.is_empty() {
        meta["namespace"] = json!(ns);
    }
    if !ann.is_empty() {
        meta["annotations"] = ann.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    }
    Object::new(
        json!({"apiVersion": api, "kind": kind, "metadata": meta}),
        Origin {
            file: "t.yaml".into(),
            document: 0,
            line: Some(1),
        },
    )
}

fn wave(w: &str) -> (&'static str, &str) {
    ("argocd.argoproj.io/sync-wave", w)
}

fn build(objs: &[Object]) -> Plan {
    plan::build(objs, &opts()).unwrap()
}

/// `Kind/name` of every task in order.
fn order(plan: &Plan) -> Vec<String> {
    plan.tasks()
        .map(|t| format!("{}/{}", t.kind(), t.name()))
        .collect()
}

#[test]
fn one_wave_is_applied_in_kind_order_then_custom_resources() {
    // §8 item 4.
    let plan = build(&[
        obj("v1", "ConfigMap", "b", "", &[]),
        obj("apps/v1", "Deployment", "a", "", &[]),
        obj("v1", "Service", "c", "", &[]),
        obj("v1", "Namespace", "z", "", &[]),
        obj("example.com/v1", "Widget", "y", "", &[]),
    ]);
    assert_eq!(
        order(&plan),
        [
            "Namespace/z",
            "ConfigMap/b",
            "Service/c",
            "Deployment/a",
            "Widget/y"
        ]
    );
}

#[test]
fn all_35_listed_kinds_sort_in_helm_install_order() {
    let mut objs: Vec<Object> = KIND_ORDER
        .iter()
        .rev()
        .map(|k| obj("v1", k, "x", "", &[]))
        .collect();
    objs.push(obj("v1", "Endpoints", "a", "", &[]));
    let plan = build(&objs);
    let kinds: Vec<_> = plan.tasks().map(|t| t.kind().to_string()).collect();
    let mut expected: Vec<String> = KIND_ORDER.iter().map(|k| k.to_string()).collect();
    expected.push("Endpoints".into());
    // A Namespace named `x` is no dependency of anything here (everything is in `default`).
    assert_eq!(kinds, expected);
    assert_eq!(kind_rank("Namespace"), -35);
    assert_eq!(kind_rank("APIService"), -1);
}

#[test]
fn unlisted_kinds_tie_at_rank_zero_and_sort_by_name() {
    let plan = build(&[
        obj("example.com/v1", "Widget", "b", "", &[]),
        obj("v1", "Endpoints", "c", "", &[]),
        obj("example.com/v1", "Gadget", "a", "", &[]),
        obj("apiregistration.k8s.io/v1", "APIService", "z", "", &[]),
    ]);
    assert_eq!(
        order(&plan),
        ["APIService/z", "Gadget/a", "Widget/b", "Endpoints/c"]
    );
}

#[test]
fn kind_rank_ignores_the_api_group() {
    let plan = build(&[
        obj("apps/v1", "Deployment", "a", "", &[]),
        obj("example.com/v1", "Service", "z", "", &[]),
    ]);
    assert_eq!(order(&plan), ["Service/z", "Deployment/a"]);
}

#[test]
fn names_compare_byte_wise() {
    let plan = build(&[
        obj("v1", "ConfigMap", "a", "", &[]),
        obj("v1", "ConfigMap", "B", "", &[]),
        obj("v1", "ConfigMap", "a-1", "", &[]),
    ]);
    assert_eq!(
        order(&plan),
        ["ConfigMap/B", "ConfigMap/a", "ConfigMap/a-1"]
    );
}

#[test]
fn namespace_is_not_part_of_the_sort_key() {
    let plan = build(&[
        obj("v1", "ConfigMap", "b", "aaa", &[]),
        obj("v1", "ConfigMap", "a", "zzz", &[]),
    ]);
    assert_eq!(order(&plan), ["ConfigMap/a", "ConfigMap/b"]);
}

#[test]
fn ties_on_all_four_keys_break_by_namespace_then_group() {
    let plan = build(&[
        obj("b.example.com/v1", "Widget", "w", "ns2", &[]),
        obj("v1", "ConfigMap", "c", "ns2", &[]),
        obj("a.example.com/v1", "Widget", "w", "ns2", &[]),
        obj("v1", "ConfigMap", "c", "ns1", &[]),
    ]);
    let got: Vec<_> = plan
        .tasks()
        .map(|t| format!("{}/{}/{}", t.namespace(), t.group(), t.kind()))
        .collect();
    assert_eq!(
        got,
        [
            "ns1//ConfigMap",
            "ns2//ConfigMap",
            "ns2/a.example.com/Widget",
            "ns2/b.example.com/Widget"
        ]
    );
}

#[test]
fn hooks_are_not_ordered_before_resources_in_the_same_phase_and_wave() {
    let plan = build(&[
        obj(
            "v1",
            "ConfigMap",
            "b",
            "",
            &[("argocd.argoproj.io/hook", "Sync")],
        ),
        obj("v1", "ConfigMap", "a", "", &[]),
        obj(
            "batch/v1",
            "Job",
            "0",
            "",
            &[("argocd.argoproj.io/hook", "Sync")],
        ),
        obj("apps/v1", "Deployment", "d", "", &[]),
    ]);
    assert_eq!(
        order(&plan),
        ["ConfigMap/a", "ConfigMap/b", "Deployment/d", "Job/0"]
    );
}

#[test_case(&["PostSync", "Sync", "PreSync", "SyncFail"] ; "phases in any input order")]
#[test_case(&["SyncFail", "PreSync", "PostSync", "Sync"] ; "phases reversed")]
fn phases_come_before_waves(phases: &[&str]) {
    let objs: Vec<Object> = phases
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let w = (10 - i as i64 * 5).to_string();
            if *p == "Sync" {
                obj("v1", "ConfigMap", p, "", &[wave(&w)])
            } else {
                obj(
                    "batch/v1",
                    "Job",
                    p,
                    "",
                    &[("argocd.argoproj.io/hook", p), wave(&w)],
                )
            }
        })
        .collect();
    let plan = build(&objs);
    let got: Vec<_> = plan.steps.iter().map(|s| s.phase).collect();
    assert_eq!(
        got,
        [
            Phase::PreSync,
            Phase::Sync,
            Phase::PostSync,
            Phase::SyncFail
        ]
    );
}

#[test]
fn waves_ascend_within_a_phase_including_negative_ones() {
    let plan = build(&[
        obj("v1", "ConfigMap", "a", "", &[wave("10")]),
        obj("v1", "ConfigMap", "b", "", &[wave("-3")]),
        obj("v1", "ConfigMap", "c", "", &[]),
        obj("v1", "ConfigMap", "d", "", &[wave("2")]),
        obj("v1", "ConfigMap", "e", "", &[wave("2")]),
    ]);
    let steps: Vec<_> = plan.steps.iter().map(|s| (s.wave, s.tasks.len())).collect();
    assert_eq!(steps, [(-3, 1), (0, 1), (2, 2), (10, 1)]);
}

#[test]
fn namespace_in_a_later_wave_moves_before_its_first_user() {
    // §8 item 5.
    let plan = build(&[
        obj("v1", "Namespace", "shop", "", &[wave("5")]),
        obj("apps/v1", "Deployment", "web", "shop", &[]),
        obj("v1", "ConfigMap", "other", "", &[]),
    ]);
    let got: Vec<_> = plan
        .tasks()
        .map(|t| (t.wave, format!("{}/{}", t.kind(), t.name())))
        .collect();
    assert_eq!(
        got,
        [
            (0, "ConfigMap/other".into()),
            (0, "Namespace/shop".into()),
            (0, "Deployment/web".into())
        ]
    );
    assert_eq!(plan.steps.len(), 1);
}

#[test]
fn presync_hook_in_a_namespace_pulls_the_namespace_into_presync() {
    let plan = build(&[
        obj("v1", "Namespace", "shop", "", &[]),
        obj(
            "batch/v1",
            "Job",
            "migrate",
            "shop",
            &[("argocd.argoproj.io/hook", "PreSync"), wave("-2")],
        ),
    ]);
    let got: Vec<_> = plan
        .tasks()
        .map(|t| (t.phase, t.wave, t.kind().to_string()))
        .collect();
    assert_eq!(
        got,
        [
            (Phase::PreSync, -2, "Namespace".into()),
            (Phase::PreSync, -2, "Job".into())
        ]
    );
}

#[test]
fn namespace_that_already_sorts_first_is_left_alone() {
    let plan = build(&[
        obj("apps/v1", "Deployment", "web", "shop", &[wave("3")]),
        obj("v1", "Namespace", "shop", "", &[wave("-1")]),
    ]);
    let got: Vec<_> = plan
        .tasks()
        .map(|t| (t.wave, t.kind().to_string()))
        .collect();
    assert_eq!(got, [(-1, "Namespace".into()), (3, "Deployment".into())]);
}

#[test]
fn namespace_kind_outside_the_core_group_is_not_a_dependency() {
    let plan = build(&[
        obj("example.com/v1", "Namespace", "shop", "", &[wave("5")]),
        obj("apps/v1", "Deployment", "web", "shop", &[]),
    ]);
    let got: Vec<_> = plan
        .tasks()
        .map(|t| (t.wave, t.kind().to_string()))
        .collect();
    assert_eq!(got, [(0, "Deployment".into()), (5, "Namespace".into())]);
}

fn crd(group: &str, kind: &str, w: &str) -> Object {
    let mut o = obj(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        &format!("{kind}s.{group}"),
        "",
        &[wave(w)],
    );
    o.value["spec"] = json!({"group": group, "names": {"kind": kind}});
    o
}

#[test]
fn crd_in_a_later_wave_moves_before_its_first_custom_resource() {
    let plan = build(&[
        crd("example.com", "Widget", "3"),
        obj("example.com/v1", "Widget", "w", "", &[wave("1")]),
        obj("v1", "ConfigMap", "c", "", &[wave("1")]),
    ]);
    let got: Vec<_> = plan
        .tasks()
        .map(|t| (t.wave, t.kind().to_string()))
        .collect();
    assert_eq!(
        got,
        [
            (1, "ConfigMap".into()),
            (1, "CustomResourceDefinition".into()),
            (1, "Widget".into())
        ]
    );
}

#[test]
fn crd_of_another_group_does_not_move() {
    let plan = build(&[
        crd("other.com", "Widget", "3"),
        obj("example.com/v1", "Widget", "w", "", &[wave("1")]),
    ]);
    let got: Vec<_> = plan
        .tasks()
        .map(|t| (t.wave, t.kind().to_string()))
        .collect();
    assert_eq!(
        got,
        [(1, "Widget".into()), (3, "CustomResourceDefinition".into())]
    );
}

#[test]
fn prune_waves_mirror_and_prune_last_follows_the_highest_sync_wave() {
    // §8 item 19: extra objects in waves 1, 3, 4 are deleted as waves 4, 3, 1.
    assert_eq!(plan::reverse_prune_waves(&[1, 3, 4]), [4, 3, 1]);
    assert_eq!(plan::prune_last_wave([0, 7, 4, 3, 1]), 8);
}

// ---- Invariants over generated inputs (no proptest: a small LCG) ----

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.next() as usize % xs.len()]
    }
    fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.next() as usize % (i + 1);
            xs.swap(i, j);
        }
    }
}

const KINDS: [&str; 8] = [
    "ConfigMap",
    "Deployment",
    "Service",
    "Job",
    "StatefulSet",
    "Secret",
    "Widget",
    "Ingress",
];
const HOOKS: [&str; 10] = [
    "",
    "",
    "",
    "",
    "PreSync",
    "PostSync",
    "PreSync,PostSync",
    "SyncFail",
    "Skip",
    "presync",
];
const WAVES: [&str; 7] = ["", "-1", "0", "1", "2", "5", "x"];
const NAMESPACES: [&str; 3] = ["", "a", "b"];

/// `n` distinct objects (distinct names) with random kinds, hooks, waves and namespaces, plus
/// Namespaces `a`, `b` and `c` in random waves.
fn generate(seed: u64, n: usize) -> Vec<Object> {
    let mut rng = Lcg(seed);
    let mut objs: Vec<Object> = (0..n)
        .map(|i| {
            let kind = rng.pick(&KINDS);
            let name = format!("o{}-{i}", rng.next() % 1000);
            let ns = rng.pick(&NAMESPACES);
            let mut ann = vec![];
            let hook = rng.pick(&HOOKS);
            if !hook.is_empty() {
                ann.push(("argocd.argoproj.io/hook", hook));
            }
            let w = rng.pick(&WAVES);
            if !w.is_empty() {
                ann.push(wave(w));
            }
            obj(
                if kind == "Widget" {
                    "example.com/v1"
                } else {
                    "v1"
                },
                kind,
                &name,
                ns,
                &ann,
            )
        })
        .collect();
    for ns in ["a", "b", "c"] {
        let w = rng.pick(&WAVES);
        objs.push(obj("v1", "Namespace", ns, "", &[wave(w)]));
    }
    let mut shuffle = Lcg(seed ^ 0x5eed);
    shuffle.shuffle(&mut objs);
    objs
}

fn fingerprint(plan: &Plan) -> Vec<(Phase, i64, String)> {
    plan.tasks()
        .map(|t| {
            (
                t.phase,
                t.wave,
                format!("{}", t.key()) + "@" + t.namespace(),
            )
        })
        .collect()
}

#[test]
fn output_order_does_not_depend_on_input_order() {
    for seed in 1..40 {
        let objs = generate(seed, 60);
        let expected = fingerprint(&build(&objs));
        let mut shuffled = objs.clone();
        Lcg(seed * 7919).shuffle(&mut shuffled);
        assert_eq!(fingerprint(&build(&shuffled)), expected, "seed {seed}");
    }
}

#[test]
fn steps_strictly_increase_by_phase_then_wave() {
    for seed in 1..40 {
        let plan = build(&generate(seed, 80));
        let pairs: Vec<_> = plan.steps.iter().map(|s| (s.phase, s.wave)).collect();
        assert!(plan::is_step_order(&pairs), "seed {seed}: {pairs:?}");
        for s in &plan.steps {
            assert!(!s.tasks.is_empty());
            assert!(s
                .tasks
                .iter()
                .all(|t| (t.phase, t.wave) == (s.phase, s.wave)));
        }
    }
}

#[test]
fn each_applied_manifest_yields_one_task_per_phase() {
    for seed in 1..40 {
        let objs = generate(seed, 60);
        let plan = build(&objs);
        let expected: usize = objs
            .iter()
            .map(|o| match o.annotation("argocd.argoproj.io/hook") {
                None => 1,
                Some("PreSync,PostSync") => 2,
                Some("Skip" | "presync") => 0,
                Some(_) => 1,
            })
            .sum();
        assert_eq!(plan.tasks().count(), expected, "seed {seed}");
        let not_applied = objs
            .iter()
            .filter(|o| {
                matches!(
                    o.annotation("argocd.argoproj.io/hook"),
                    Some("Skip" | "presync")
                )
            })
            .count();
        assert_eq!(plan.ignored.len(), not_applied, "seed {seed}");
    }
}

#[test]
fn a_namespace_never_comes_after_its_first_user() {
    for seed in 1..60 {
        let plan = build(&generate(seed, 80));
        let tasks: Vec<_> = plan.tasks().collect();
        for (i, t) in tasks.iter().enumerate() {
            if t.kind() == "Namespace" {
                let first_user = tasks
                    .iter()
                    .position(|u| u.kind() != "Namespace" && u.namespace() == t.name());
                if let Some(u) = first_user {
                    assert!(
                        i < u,
                        "seed {seed}: Namespace/{} at {i}, first user at {u}",
                        t.name()
                    );
                }
            }
        }
    }
}

#[test]
fn loading_and_planning_agree_on_a_multi_document_file() {
    let yaml = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
    let plan = build(&from_yaml_str(yaml, "f.yaml").unwrap());
    assert_eq!(order(&plan), ["ConfigMap/c", "Service/s"]);
    assert_eq!(plan.steps[0].tasks[1].object.origin.to_string(), "f.yaml:1");
}
