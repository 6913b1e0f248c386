//! Prune tasks and selective syncs on the scripted fake cluster (docs/argo-cd-semantics.md §2.5, §6.1,
//! §6.4, §8.19–§8.20, §8.23), paused time.
use serde_json::json;
use std::{collections::BTreeSet, time::Duration};
use syncsim::{
    engine::{
        self,
        fake::{Call, FakeCluster, Script},
        EngineOptions, OperationPhase, Outcome, ResultCode, SyncReport,
    },
    manifest::{Object, Origin},
    plan::{self, DeletePolicy, Phase, Plan, PlanOptions, Task},
};
use tokio_util::sync::CancellationToken;

const NS: &str = "shortlink";

fn obj(kind: &str, name: &str, annotations: serde_json::Value) -> Object {
    let api_version = match kind {
        "Deployment" | "StatefulSet" => "apps/v1",
        "Job" => "batch/v1",
        _ => "v1",
    };
    Object::new(
        json!({"apiVersion": api_version, "kind": kind,
               "metadata": {"name": name, "namespace": NS, "annotations": annotations},
               "spec": {"replicas": 1}}),
        Origin {
            file: "test.yaml".into(),
            document: 0,
            line: Some(1),
        },
    )
}

fn wave(w: i64) -> serde_json::Value {
    json!({"argocd.argoproj.io/sync-wave": w.to_string()})
}

fn build(objects: &[Object]) -> Plan {
    plan::build(
        objects,
        &PlanOptions {
            dest_namespace: NS.into(),
            ..PlanOptions::default()
        },
    )
    .expect("plan")
}

/// A fake cluster where `live` objects already exist.
fn cluster_with(live: &[&Object]) -> FakeCluster {
    live.iter().fold(FakeCluster::new(), |c, o| {
        c.with_existing(o.kind(), NS, o.name(), o.group())
    })
}

async fn sync(plan: &Plan, prunes: &[Task], cluster: &FakeCluster, prune: bool) -> SyncReport {
    let opts = EngineOptions {
        timeout: Duration::from_secs(3600),
        prune,
        ..EngineOptions::default()
    };
    engine::run_with_prunes(
        plan,
        prunes,
        cluster,
        &opts,
        &CancellationToken::new(),
        &mut |_| {},
    )
    .await
}

fn run_of<'a>(r: &'a SyncReport, name: &str) -> &'a engine::TaskRun {
    r.tasks
        .iter()
        .find(|t| t.task.name() == name)
        .unwrap_or_else(|| panic!("no task {name}"))
}

/// Applies and deletes in call order, as `A:name` / `D:name`.
fn mutations(c: &FakeCluster) -> Vec<String> {
    c.calls()
        .into_iter()
        .filter_map(|c| match c {
            Call::Apply(n) => Some(format!("A:{n}")),
            Call::Delete(n) => Some(format!("D:{n}")),
            Call::DryRun(_) => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn prune_waves_are_mirrored_and_each_prune_runs_before_the_applies_of_its_wave() {
    // §8.19: extras in waves 1, 3, 4 are deleted wave-4 object, wave-3 object, wave-1 object;
    // mirrored waves 4→1, 3→3, 1→4, each before the applies of its mirrored wave.
    let targets = [
        obj("ConfigMap", "t1", wave(1)),
        obj("ConfigMap", "t3", wave(3)),
        obj("ConfigMap", "t4", wave(4)),
    ];
    let extras = [
        obj("ConfigMap", "x1", wave(1)),
        obj("ConfigMap", "x3", wave(3)),
        obj("ConfigMap", "x4", wave(4)),
    ];
    let p = build(&targets);
    let prunes = plan::prune_tasks(&extras, &p, false);
    let c = cluster_with(&extras.iter().collect::<Vec<_>>());
    let r = sync(&p, &prunes, &c, true).await;
    assert_eq!(r.outcome, Outcome::Succeeded, "{}", r.message);
    assert_eq!(
        mutations(&c),
        ["D:x4", "A:t1", "D:x3", "A:t3", "D:x1", "A:t4"]
    );
    for x in ["x1", "x3", "x4"] {
        let t = run_of(&r, x);
        assert_eq!(t.result, Some(ResultCode::Pruned));
        assert_eq!(t.message, "pruned");
        assert_eq!(t.hook_phase, Some(OperationPhase::Succeeded));
    }
    assert!(c.existing().iter().all(|n| n.starts_with('t')));
}

#[tokio::test(start_paused = true)]
async fn prune_last_deletes_after_every_sync_wave_but_before_postsync_hooks() {
    // §2.5 / §8.19: PruneLast prunes run in wave max+1 of Sync, before PostSync.
    let targets = [
        obj("ConfigMap", "t0", wave(0)),
        obj("ConfigMap", "t7", wave(7)),
        obj(
            "Job",
            "post",
            json!({"argocd.argoproj.io/hook": "PostSync"}),
        ),
    ];
    let extras = [
        obj(
            "ConfigMap",
            "late",
            json!({"argocd.argoproj.io/sync-options": "PruneLast=true"}),
        ),
        obj("ConfigMap", "early", wave(0)),
    ];
    let p = build(&targets);
    let prunes = plan::prune_tasks(&extras, &p, false);
    assert_eq!(prunes[0].wave, 8);
    let c = cluster_with(&extras.iter().collect::<Vec<_>>());
    let r = sync(&p, &prunes, &c, true).await;
    assert_eq!(r.outcome, Outcome::Succeeded, "{}", r.message);
    assert_eq!(
        mutations(&c),
        ["D:early", "A:t0", "A:t7", "D:late", "A:post"]
    );
}

#[tokio::test(start_paused = true)]
async fn without_prune_extras_are_skipped_and_the_operation_still_succeeds() {
    // §8.20.
    let targets = [obj("Deployment", "web", json!({}))];
    let extras = [
        obj("Deployment", "old", json!({})),
        obj(
            "ConfigMap",
            "precious",
            json!({"argocd.argoproj.io/sync-options": "Prune=false"}),
        ),
    ];
    let p = build(&targets);
    let prunes = plan::prune_tasks(&extras, &p, false);
    let c = cluster_with(&extras.iter().collect::<Vec<_>>());
    let r = sync(&p, &prunes, &c, false).await;
    assert_eq!(r.outcome, Outcome::Succeeded, "{}", r.message);
    let old = run_of(&r, "old");
    assert_eq!(old.result, Some(ResultCode::PruneSkipped));
    assert_eq!(old.message, "ignored (requires pruning)");
    let precious = run_of(&r, "precious");
    assert_eq!(precious.result, Some(ResultCode::PruneSkipped));
    assert_eq!(precious.message, "ignored (no prune)");
    assert!(c.deleted().is_empty());

    // With --prune, Prune=false still wins.
    let c = cluster_with(&extras.iter().collect::<Vec<_>>());
    let r = sync(&p, &prunes, &c, true).await;
    assert_eq!(run_of(&r, "old").result, Some(ResultCode::Pruned));
    assert_eq!(run_of(&r, "precious").message, "ignored (no prune)");
    assert_eq!(c.deleted(), ["old"]);
}

#[tokio::test(start_paused = true)]
async fn a_failed_prune_fails_its_wave_before_any_apply() {
    let targets = [
        obj("ConfigMap", "t0", wave(0)),
        obj("ConfigMap", "t1", wave(1)),
    ];
    let extras = [obj("ConfigMap", "stuck", wave(0))];
    let p = build(&targets);
    let prunes = plan::prune_tasks(&extras, &p, false);
    let c = cluster_with(&[&extras[0]]).script("stuck", Script::delete_error("forbidden"));
    let r = sync(&p, &prunes, &c, true).await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(
        r.message,
        "one or more objects failed to apply, reason: forbidden"
    );
    assert_eq!(run_of(&r, "stuck").result, Some(ResultCode::SyncFailed));
    assert!(c.applied().is_empty(), "nothing applied: {:?}", c.applied());
}

#[tokio::test(start_paused = true)]
async fn selective_sync_reapplies_only_the_drifted_resource_and_runs_no_hooks() {
    // §6.4 / §8.23: a self-heal sync is selective, so no hook runs.
    let targets = [
        obj("Job", "pre", json!({"argocd.argoproj.io/hook": "PreSync"})),
        obj("Deployment", "web", json!({})),
        obj("StatefulSet", "db", wave(-1)),
        obj(
            "Job",
            "post",
            json!({"argocd.argoproj.io/hook": "PostSync",
                   "argocd.argoproj.io/hook-delete-policy": "HookSucceeded"}),
        ),
    ];
    let full = build(&targets);
    let keys: BTreeSet<_> = full
        .tasks()
        .filter(|t| t.name() == "web")
        .map(Task::key)
        .collect();
    let p = plan::selective(&full, &keys);
    let c = FakeCluster::new().script("web", Script::ready_after(Duration::from_secs(2)));
    let r = sync(&p, &[], &c, true).await;
    assert_eq!(r.outcome, Outcome::Succeeded, "{}", r.message);
    assert_eq!(mutations(&c), ["A:web"]);
    assert_eq!(r.tasks.len(), 1);
    assert!(r.tasks.iter().all(|t| !t.task.hook));
    assert!(!full
        .tasks()
        .any(|t| t.hook && t.delete_policies.contains(&DeletePolicy::HookFailed)));
}

#[tokio::test(start_paused = true)]
async fn a_wave_holding_only_prunes_still_gates_the_next_wave() {
    // A prune alone in wave 2 (mirrored from 2) is its own step between waves 1 and 3.
    let targets = [
        obj("Deployment", "a", wave(1)),
        obj("ConfigMap", "b", wave(3)),
    ];
    let extras = [obj("ConfigMap", "x", wave(2))];
    let p = build(&targets);
    let prunes = plan::prune_tasks(&extras, &p, false);
    assert_eq!(prunes[0].wave, 2);
    let c = cluster_with(&[&extras[0]]).script("a", Script::ready_after(Duration::from_secs(5)));
    let start = tokio::time::Instant::now();
    let r = sync(&p, &prunes, &c, true).await;
    assert_eq!(r.outcome, Outcome::Succeeded, "{}", r.message);
    assert_eq!(mutations(&c), ["A:a", "D:x", "A:b"]);
    let pruned_at = run_of(&r, "x").applied_at.unwrap();
    assert!(pruned_at >= Duration::from_secs(5), "{pruned_at:?}");
    assert!(start.elapsed() >= Duration::from_secs(5));
    assert_eq!(
        r.steps
            .iter()
            .map(|s| (s.phase, s.wave))
            .collect::<Vec<_>>(),
        [(Phase::Sync, 1), (Phase::Sync, 2), (Phase::Sync, 3)]
    );
}

#[tokio::test(start_paused = true)]
async fn prune_confirm_waits_for_approval_even_without_prune() {
    // §2.6 step 2: the wave holding a `Prune=confirm` prune stays Running; syncsim has no
    // approval, so its own deadline ends the run with what Argo CD was waiting for.
    let targets = [obj("ConfigMap", "t0", wave(0))];
    let extras = [obj(
        "ConfigMap",
        "ask",
        json!({"argocd.argoproj.io/sync-options": "Prune=confirm"}),
    )];
    let p = build(&targets);
    let prunes = plan::prune_tasks(&extras, &p, false);
    let c = cluster_with(&[&extras[0]]);
    let opts = EngineOptions {
        timeout: Duration::from_secs(30),
        ..EngineOptions::default()
    };
    let r = engine::run_with_prunes(
        &p,
        &prunes,
        &c,
        &opts,
        &CancellationToken::new(),
        &mut |_| {},
    )
    .await;
    assert_eq!(
        r.outcome,
        Outcome::TimedOut {
            waiting: "waiting for pruning confirmation of /ConfigMap/ask".into()
        }
    );
    assert!(c.applied().is_empty() && c.deleted().is_empty());
}
