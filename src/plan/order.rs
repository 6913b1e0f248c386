//! Ordering (docs/argo-cd-semantics.md §2.3–§2.5): kind ranks, the sort key, the Namespace/CRD
//! dependency moves and the prune-wave reversal.
use super::{Phase, Task};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

/// Helm's install order, which Argo CD uses for kinds (§2.3). Rank = index − 35.
pub const KIND_ORDER: [&str; 35] = [
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
];

/// Kind rank by `kind` alone (API group ignored): −35 for `Namespace` … −1 for `APIService`,
/// 0 for every other kind.
pub fn kind_rank(kind: &str) -> i64 {
    KIND_ORDER
        .iter()
        .position(|k| *k == kind)
        .map(|i| i as i64 - KIND_ORDER.len() as i64)
        .unwrap_or(0)
}

/// Argo CD's sort (§2.3): phase, wave, kind rank, name. Ties on all four, which Argo CD leaves
/// undefined, are broken by namespace, group and kind; the sort is stable, so tasks that are
/// still equal keep their input order.
pub fn sort_tasks(tasks: &mut [Task]) {
    // The keys borrow the tasks, so the sort gives an order that is applied after: no string is
    // copied, which matters with thousands of tasks.
    let mut keys: Vec<_> = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let kind = t.kind();
            (
                (t.phase, t.wave, kind_rank(kind)),
                (t.name(), t.namespace(), t.group(), kind),
                i,
            )
        })
        .collect();
    // Stable: `i` is part of the key, so equal tasks keep their input order.
    keys.sort_unstable();
    let order: Vec<usize> = keys.into_iter().map(|(_, _, i)| i).collect();
    permute(tasks, &order);
}

/// The dependency key a task provides, if it is a dependency (Namespace or CRD).
type DepKey = fn(&Task) -> Option<String>;
/// The dependency key a (non-dependency) task needs.
type UserKey = fn(&Task) -> String;

fn namespace_provided(t: &Task) -> Option<String> {
    (t.group().is_empty() && t.kind() == "Namespace").then(|| t.name().to_string())
}

fn namespace_used(t: &Task) -> String {
    t.namespace().to_string()
}

fn crd_provided(t: &Task) -> Option<String> {
    if t.group() != "apiextensions.k8s.io" || t.kind() != "CustomResourceDefinition" {
        return None;
    }
    let spec = t.object.value.get("spec");
    let group = spec
        .and_then(|s| s.get("group"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = spec
        .and_then(|s| s.get("names"))
        .and_then(|n| n.get("kind"))
        .and_then(Value::as_str)
        .unwrap_or("");
    Some(format!("{group}/{kind}"))
}

fn crd_used(t: &Task) -> String {
    format!("{}/{}", t.group(), t.kind())
}

/// Moves every dependency that sorts after its first user to just before that user, with the
/// user's phase and wave (§2.4). One pass, as gitops-engine's `adjustDeps`.
///
/// gitops-engine moves each task in place (a rotation per move, quadratic when thousands of
/// Namespaces follow their objects). The result only depends on which user each dependency
/// lands before, so this computes that first and permutes once: linear.
///
/// Why it is the same order: users never move, so "the first user of key k" is a fixed task;
/// a dependency that finds one is placed right before it, after any dependency placed there
/// earlier (each move inserts at the user's current index, which is just after the previous
/// insert); a dependency that finds none stays where it is relative to every non-moved task.
fn adjust_deps(tasks: &mut [Task], provided: DepKey, used: UserKey) {
    let n = tasks.len();
    let deps: Vec<Option<String>> = tasks.iter().map(provided).collect();
    if deps.iter().all(Option::is_none) {
        return; // nothing to move (say, no CRD at all)
    }
    let mut first_user: HashMap<String, usize> = HashMap::new();
    // For each task: the index of the user it moves before, if it moves.
    let mut moves_before: Vec<Option<usize>> = vec![None; n];
    for (i, dep) in deps.iter().enumerate() {
        if let Some(dep) = dep {
            if let Some(&user) = first_user.get(dep) {
                moves_before[i] = Some(user);
                let (phase, wave) = (tasks[user].phase, tasks[user].wave);
                tasks[i].phase = phase;
                tasks[i].wave = wave;
            }
        } else {
            first_user.entry(used(&tasks[i])).or_insert(i);
        }
    }
    if moves_before.iter().all(Option::is_none) {
        return;
    }
    // Moved tasks grouped by the user they go before, in move order.
    let mut inserted: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, user) in moves_before.iter().enumerate() {
        if let Some(user) = user {
            inserted.entry(*user).or_default().push(i);
        }
    }
    // `order[k]` is the current index of the task that ends at index k.
    let mut order: Vec<usize> = Vec::with_capacity(n);
    for (i, moved) in moves_before.iter().enumerate() {
        if moved.is_some() {
            continue;
        }
        if let Some(deps) = inserted.get(&i) {
            order.extend_from_slice(deps);
        }
        order.push(i);
    }
    permute(tasks, &order);
}

/// Reorders `items` so that the item at index `order[k]` ends at index k, in place and in linear
/// time (one pass per cycle of the permutation).
fn permute<T>(items: &mut [T], order: &[usize]) {
    debug_assert_eq!(items.len(), order.len());
    let mut done = vec![false; items.len()];
    for start in 0..items.len() {
        if done[start] {
            continue;
        }
        let mut k = start;
        loop {
            done[k] = true;
            let src = order[k];
            if src == start {
                break;
            }
            items.swap(k, src);
            k = src;
        }
    }
}

/// The dependency moves of §2.4, in order: Namespaces before the first task in them, then CRDs
/// before the first custom resource of their group/kind. A moved task takes the phase and wave
/// of that first user. `tasks` must be sorted.
pub fn adjust_dependencies(tasks: &mut [Task]) {
    adjust_deps(tasks, namespace_provided, namespace_used);
    adjust_deps(tasks, crd_provided, crd_used);
}

/// Mirrors prune waves onto each other (§2.5): the distinct waves, sorted, swap the i-th
/// smallest with the i-th largest. `waves[i]` is the wave of the i-th prune task; the result
/// has the mirrored wave at the same index. Example: `[1, 3, 4]` → `[4, 3, 1]`.
pub fn reverse_prune_waves(waves: &[i64]) -> Vec<i64> {
    let distinct: Vec<i64> = waves
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let n = distinct.len();
    waves
        .iter()
        .map(|w| {
            let i = distinct.binary_search(w).expect("wave is in its own set");
            distinct[n - 1 - i]
        })
        .collect()
}

/// The wave of a PruneLast prune task (§2.5): `max(0, highest wave of any Sync-phase task after
/// the reversal) + 1`. `sync_waves` are the waves of all Sync-phase tasks (apply and prune).
pub fn prune_last_wave(sync_waves: impl IntoIterator<Item = i64>) -> i64 {
    sync_waves.into_iter().fold(0, i64::max) + 1
}

/// Whether a phase/wave sequence is in Argo CD's step order (strictly increasing pairs).
pub fn is_step_order(pairs: &[(Phase, i64)]) -> bool {
    pairs.windows(2).all(|w| w[0] < w[1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test]
    fn kind_ranks_match_the_table() {
        assert_eq!(kind_rank("Namespace"), -35);
        assert_eq!(kind_rank("ConfigMap"), -26);
        assert_eq!(kind_rank("CustomResourceDefinition"), -22);
        assert_eq!(kind_rank("Service"), -13);
        assert_eq!(kind_rank("Deployment"), -8);
        assert_eq!(kind_rank("StatefulSet"), -6);
        assert_eq!(kind_rank("Job"), -5);
        assert_eq!(kind_rank("APIService"), -1);
        assert_eq!(kind_rank("Endpoints"), 0);
        assert_eq!(kind_rank("namespace"), 0, "kinds match case-sensitively");
    }

    #[test_case(&[1, 3, 4], &[4, 3, 1] ; "three waves mirror")]
    #[test_case(&[2, 2, 5], &[5, 5, 2] ; "duplicates follow their wave")]
    #[test_case(&[-1, 0], &[0, -1] ; "negative waves")]
    #[test_case(&[7], &[7] ; "single wave stays")]
    #[test_case(&[], &[] ; "no prune tasks")]
    #[test_case(&[1, 2, 3, 4, 5], &[5, 4, 3, 2, 1] ; "odd count keeps the middle")]
    fn prune_waves_are_mirrored_within_their_own_set(waves: &[i64], expected: &[i64]) {
        assert_eq!(reverse_prune_waves(waves), expected);
    }

    #[test_case(&[0, 3, 7], 8 ; "after the highest sync wave")]
    #[test_case(&[-3, -1], 1 ; "never below wave 1")]
    #[test_case(&[], 1 ; "no sync tasks")]
    fn prune_last_goes_after_every_sync_wave(waves: &[i64], expected: i64) {
        assert_eq!(prune_last_wave(waves.iter().copied()), expected);
    }

    /// gitops-engine's `adjustDeps`, move by move (a rotation each): the reference for the
    /// linear version.
    fn adjust_deps_by_rotation(tasks: &mut [Task], provided: DepKey, used: UserKey) {
        let mut first_user: HashMap<String, usize> = HashMap::new();
        for i in 0..tasks.len() {
            if let Some(dep) = provided(&tasks[i]) {
                if let Some(&index) = first_user.get(&dep) {
                    let (phase, wave) = (tasks[index].phase, tasks[index].wave);
                    tasks[i].phase = phase;
                    tasks[i].wave = wave;
                    tasks[index..=i].rotate_right(1);
                    for v in first_user.values_mut() {
                        if *v >= index {
                            *v += 1;
                        }
                    }
                }
            } else {
                first_user.entry(used(&tasks[i])).or_insert(i);
            }
        }
    }

    fn task(i: usize, kind: &str, ns: &str, name: &str, phase: Phase, wave: i64) -> Task {
        use crate::manifest::{Object, Origin};
        let (api, spec) = match kind {
            "CustomResourceDefinition" => (
                "apiextensions.k8s.io/v1",
                serde_json::json!({"group": "ex.com", "names": {"kind": name}}),
            ),
            "Widget" | "Gadget" => ("ex.com/v1", serde_json::json!({})),
            _ => ("v1", serde_json::json!({})),
        };
        let object = Object::new(
            serde_json::json!({"apiVersion": api, "kind": kind,
                "metadata": {"name": format!("{name}"), "namespace": ns, "uid": i},
                "spec": spec}),
            Origin {
                file: "t".into(),
                document: i,
                line: None,
            },
        );
        Task {
            phase,
            wave,
            hook: false,
            delete_policies: Vec::new(),
            sync_options: Default::default(),
            object,
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3_000))]
        /// The linear dependency moves give exactly gitops-engine's order, phases and waves.
        #[test]
        fn linear_moves_match_the_rotations(
            specs in proptest::collection::vec(
                (0usize..5, 0usize..3, 0usize..4, 0usize..3),
                0..40,
            )
        ) {
            const KINDS: [&str; 5] = ["Namespace", "ConfigMap", "CustomResourceDefinition", "Widget", "Gadget"];
            const NAMES: [&str; 3] = ["a", "Widget", "Gadget"];
            const PHASES: [Phase; 4] = [Phase::PreSync, Phase::Sync, Phase::PostSync, Phase::SyncFail];
            let tasks: Vec<Task> = specs
                .iter()
                .enumerate()
                .map(|(i, &(k, n, p, w))| {
                    task(i, KINDS[k], ["a", "b", "Widget"][n % 3], NAMES[n], PHASES[p], w as i64)
                })
                .collect();
            let mut expected = tasks.clone();
            adjust_deps_by_rotation(&mut expected, namespace_provided, namespace_used);
            adjust_deps_by_rotation(&mut expected, crd_provided, crd_used);
            let mut actual = tasks;
            adjust_dependencies(&mut actual);
            proptest::prop_assert_eq!(actual, expected);
        }
    }

    #[test]
    fn twenty_thousand_namespaces_after_their_objects_move_in_linear_time() {
        let n = 20_000;
        let mut tasks: Vec<Task> = (0..n)
            .map(|i| task(i, "ConfigMap", &format!("ns{i}"), "a", Phase::Sync, 0))
            .chain((0..n).map(|i| task(n + i, "Namespace", "", &format!("ns{i}"), Phase::Sync, 1)))
            .collect();
        let start = std::time::Instant::now();
        adjust_dependencies(&mut tasks);
        let took = start.elapsed();
        // Each Namespace now sits right before its ConfigMap, in its wave.
        for pair in tasks.chunks(2) {
            assert_eq!(pair[0].kind(), "Namespace");
            assert_eq!(pair[0].name(), pair[1].namespace());
            assert_eq!(pair[0].wave, 0);
        }
        // The rotations took seconds here (20 000 moves of up to 40 000 tasks, and a scan of
        // every first-user index per move); the linear version takes milliseconds even in a
        // debug build.
        assert!(took < std::time::Duration::from_secs(2), "{took:?}");
    }
}
