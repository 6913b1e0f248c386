//! Prune tasks and selective syncs (docs/argo-cd-semantics.md §2.1, §2.5, §6.1, §6.4), pure.
//!
//! A *prune task* is a live object the app manages that no longer has a target manifest. It is a
//! Sync-phase task whose wave is read from the live object's annotations, mirrored among the
//! prune waves (§2.5), and moved after every Sync wave when `PruneLast=true` (app option or the
//! live object's sync-options).
use super::{
    order::{prune_last_wave, reverse_prune_waves},
    parse::{sync_options, wave},
    Phase, Plan, Step, Task,
};
use crate::manifest::{Object, ObjectKey};
use std::collections::BTreeSet;

/// Prune tasks for `extras` (live objects without a target; the caller leaves out hooks, which
/// are never pruned, §2.1.1). `app_prune_last` is the app-level `PruneLast=true` option.
///
/// Waves: each extra's own wave (§2.2, from the live object), mirrored within the set of prune
/// waves; then PruneLast tasks get `max(0, highest Sync wave after the reversal) + 1`, where the
/// Sync waves are those of `plan`'s Sync-phase tasks and of the (mirrored) prune tasks.
pub fn prune_tasks(extras: &[Object], plan: &Plan, app_prune_last: bool) -> Vec<Task> {
    let waves: Vec<i64> = extras.iter().map(wave).collect();
    let mirrored = reverse_prune_waves(&waves);
    let mut tasks: Vec<Task> = extras
        .iter()
        .zip(mirrored)
        .map(|(obj, wave)| Task {
            phase: Phase::Sync,
            wave,
            hook: false,
            delete_policies: Vec::new(),
            sync_options: sync_options(obj),
            object: obj.clone(),
        })
        .collect();
    let sync_waves: Vec<i64> = plan
        .tasks()
        .filter(|t| t.phase == Phase::Sync)
        .map(|t| t.wave)
        .chain(tasks.iter().map(|t| t.wave))
        .collect();
    let last = prune_last_wave(sync_waves);
    for t in &mut tasks {
        if app_prune_last || t.sync_options.prune_last {
            t.wave = last;
        }
    }
    tasks
}

/// The live objects among `live` that are prune candidates against `plan`: not hooks (the
/// caller says which are, from what it recorded) and without a task of the same key.
pub fn prune_candidates<'a>(
    live: impl IntoIterator<Item = (&'a Object, bool)>,
    plan: &Plan,
) -> Vec<Object> {
    let targets: BTreeSet<ObjectKey> = plan.tasks().map(Task::key).collect();
    let ignored: BTreeSet<(String, String, String)> = plan
        .ignored
        .iter()
        .filter(|i| i.reason == "skipped")
        .map(|i| (i.kind.clone(), i.namespace.clone(), i.name.clone()))
        .collect();
    live.into_iter()
        .filter(|(o, hook)| !hook && !targets.contains(&o.key()))
        // A `hook: Skip` manifest still counts as managed: never pruned (§1.2).
        .filter(|(o, _)| {
            !ignored.contains(&(
                o.kind().to_string(),
                o.namespace().to_string(),
                o.name().to_string(),
            ))
        })
        .map(|(o, _)| o.clone())
        .collect()
}

/// A selective sync of `keys` (§6.4, self-heal): only the resource tasks of those objects, no
/// hook tasks at all (§2.1.2), steps regrouped.
pub fn selective(plan: &Plan, keys: &BTreeSet<ObjectKey>) -> Plan {
    let mut steps: Vec<Step> = Vec::new();
    for task in plan.tasks().filter(|t| !t.hook && keys.contains(&t.key())) {
        match steps.last_mut() {
            Some(s) if s.phase == task.phase && s.wave == task.wave => s.tasks.push(task.clone()),
            _ => steps.push(Step {
                phase: task.phase,
                wave: task.wave,
                tasks: vec![task.clone()],
            }),
        }
    }
    Plan {
        steps,
        ignored: plan.ignored.clone(),
        warnings: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{manifest::from_yaml_str, plan::PlanOptions};

    fn objs(yaml: &str) -> Vec<Object> {
        from_yaml_str(yaml, "t.yaml").unwrap()
    }

    fn cm(name: &str, wave: i64, opts: &str) -> String {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: d\n  annotations:\n    argocd.argoproj.io/sync-wave: \"{wave}\"\n    argocd.argoproj.io/sync-options: \"{opts}\"\n"
        )
    }

    #[test]
    fn prune_waves_mirror_and_prune_last_goes_after_the_last_sync_wave() {
        // §8.19: extras in waves 1, 3, 4 are pruned 4, 3, 1 (mirrored).
        let extras = objs(&[cm("a", 1, ""), cm("b", 3, ""), cm("c", 4, "")].join("---\n"));
        let target = objs(&cm("keep", 7, ""));
        let plan = crate::plan::build(&target, &PlanOptions::default()).unwrap();
        let t = prune_tasks(&extras, &plan, false);
        let waves: Vec<(&str, i64)> = t.iter().map(|t| (t.name(), t.wave)).collect();
        assert_eq!(waves, [("a", 4), ("b", 3), ("c", 1)]);
        assert!(t.iter().all(|t| t.phase == Phase::Sync && !t.hook));
        // With PruneLast (app option) every prune goes to wave 8.
        let t = prune_tasks(&extras, &plan, true);
        assert!(t.iter().all(|t| t.wave == 8), "{t:?}");
        // Or per live object.
        let extras = objs(&[cm("a", 1, "PruneLast=true"), cm("b", 3, "")].join("---\n"));
        let t = prune_tasks(&extras, &plan, false);
        assert_eq!(t[0].wave, 8);
        assert_eq!(t[1].wave, 1);
    }

    #[test]
    fn hooks_and_targets_are_not_prune_candidates() {
        let live = objs(&[cm("a", 0, ""), cm("b", 0, ""), cm("h", 0, "")].join("---\n"));
        let plan = crate::plan::build(&objs(&cm("a", 0, "")), &PlanOptions::default()).unwrap();
        let hooks = [false, false, true];
        let c = prune_candidates(live.iter().zip(hooks), &plan);
        let names: Vec<&str> = c.iter().map(|o| o.name()).collect();
        assert_eq!(names, ["b"]);
    }

    #[test]
    fn selective_sync_keeps_only_the_given_resources_and_no_hooks() {
        let yaml = format!(
            "{}---\n{}---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: h\n  namespace: d\n  annotations:\n    argocd.argoproj.io/hook: PostSync\n",
            cm("a", 0, ""),
            cm("b", 2, "")
        );
        let plan = crate::plan::build(&objs(&yaml), &PlanOptions::default()).unwrap();
        let keys: BTreeSet<ObjectKey> = plan
            .tasks()
            .filter(|t| t.name() != "a")
            .map(Task::key)
            .collect();
        let s = selective(&plan, &keys);
        let names: Vec<&str> = s.tasks().map(|t| t.name()).collect();
        assert_eq!(names, ["b"]);
        assert_eq!(s.steps.len(), 1);
    }
}
