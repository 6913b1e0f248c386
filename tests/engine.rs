//! Argo CD's step semantics (docs/argo-cd-semantics.md §2.6–§4, §8) on the scripted fake cluster,
//! with paused time: no Docker, no real sleeping.
use serde_json::json;
use std::time::Duration;
use syncsim::{
    engine::{
        self,
        fake::{Call, FakeCluster, Script},
        EngineOptions, OperationPhase, Outcome, ResultCode, RunEvent, SyncReport,
    },
    manifest::{Object, Origin},
    plan::{DeletePolicy, Phase, Plan, Step, SyncOptions, Task},
};
use tokio_util::sync::CancellationToken;

const NS: &str = "shortlink";

/// A task of `kind`/`name`; hooks get `policies` (default BeforeHookCreation).
fn task(
    phase: Phase,
    wave: i64,
    kind: &str,
    name: &str,
    hook: bool,
    policies: &[DeletePolicy],
) -> Task {
    let api_version = match kind {
        "Deployment" | "StatefulSet" => "apps/v1",
        "Job" => "batch/v1",
        "Workflow" => "argoproj.io/v1alpha1",
        _ => "v1",
    };
    let value = json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": NS}, "spec": {"replicas": 1}});
    Task {
        phase,
        wave,
        hook,
        delete_policies: if policies.is_empty() && hook {
            vec![DeletePolicy::BeforeHookCreation]
        } else {
            policies.to_vec()
        },
        sync_options: SyncOptions::default(),
        object: Object::new(
            value,
            Origin {
                file: "test.yaml".into(),
                document: 0,
                line: Some(1),
            },
        ),
    }
}

fn res(wave: i64, kind: &str, name: &str) -> Task {
    task(Phase::Sync, wave, kind, name, false, &[])
}

fn hook(phase: Phase, wave: i64, name: &str, policies: &[DeletePolicy]) -> Task {
    task(phase, wave, "Job", name, true, policies)
}

/// Groups tasks (already in Argo order) into steps.
fn plan(tasks: Vec<Task>) -> Plan {
    let mut steps: Vec<Step> = Vec::new();
    for t in tasks {
        match steps.last_mut() {
            Some(s) if s.phase == t.phase && s.wave == t.wave => s.tasks.push(t),
            _ => steps.push(Step {
                phase: t.phase,
                wave: t.wave,
                tasks: vec![t],
            }),
        }
    }
    Plan {
        steps,
        ..Plan::default()
    }
}

async fn sync(
    plan: &Plan,
    cluster: &FakeCluster,
    timeout: Duration,
) -> (SyncReport, Vec<RunEvent>) {
    let opts = EngineOptions {
        timeout,
        ..EngineOptions::default()
    };
    let mut events = Vec::new();
    let report = engine::run(plan, cluster, &opts, &CancellationToken::new(), &mut |e| {
        events.push(e)
    })
    .await;
    (report, events)
}

fn task_run<'a>(r: &'a SyncReport, name: &str, phase: Phase) -> &'a engine::TaskRun {
    r.tasks
        .iter()
        .find(|t| t.task.name() == name && t.task.phase == phase)
        .unwrap_or_else(|| panic!("no task {name}"))
}

const LONG: Duration = Duration::from_secs(3600);
const SEC: Duration = Duration::from_secs(1);

#[tokio::test(start_paused = true)]
async fn single_wave_succeeds_right_after_apply_even_if_never_ready() {
    // §8.6 (#1715): the last wave is never health-checked.
    let p = plan(vec![res(0, "Deployment", "web")]);
    let c = FakeCluster::new().script("web", Script::never_ready());
    let (r, _) = sync(&p, &c, LONG).await;
    assert_eq!(r.outcome, Outcome::Succeeded);
    assert_eq!(r.message, "successfully synced (all tasks run)");
    assert_eq!(
        task_run(&r, "web", Phase::Sync).hook_phase,
        Some(OperationPhase::Running)
    );
}

#[tokio::test(start_paused = true)]
async fn progressing_wave_blocks_next_wave_until_timeout() {
    // §8.7: Argo would stay Running forever; syncsim reports what it waits for.
    let p = plan(vec![
        res(0, "StatefulSet", "postgres"),
        res(1, "Deployment", "shortlink"),
    ]);
    let c = FakeCluster::new().script("postgres", Script::never_ready());
    let (r, _) = sync(&p, &c, Duration::from_secs(30)).await;
    assert_eq!(
        r.outcome,
        Outcome::TimedOut {
            waiting: "waiting for healthy state of apps/StatefulSet/postgres".into()
        }
    );
    assert_eq!(r.outcome.exit_code(), 4);
    assert_eq!(c.applied(), vec!["postgres"]);
}

#[tokio::test(start_paused = true)]
async fn next_wave_starts_only_after_previous_is_healthy() {
    let p = plan(vec![
        res(0, "StatefulSet", "postgres"),
        res(1, "Deployment", "shortlink"),
    ]);
    let c = FakeCluster::new().script("postgres", Script::ready_after(Duration::from_secs(5)));
    let (r, _) = sync(&p, &c, LONG).await;
    assert_eq!(r.outcome, Outcome::Succeeded);
    let pg = task_run(&r, "postgres", Phase::Sync);
    let app = task_run(&r, "shortlink", Phase::Sync);
    let gap = app
        .applied_at
        .unwrap()
        .saturating_sub(pg.applied_at.unwrap());
    assert!(
        gap >= Duration::from_secs(5),
        "shortlink applied {gap:?} after postgres"
    );
    assert!(
        gap < Duration::from_secs(6),
        "engine added latency: {gap:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn degraded_resource_fails_sync_and_runs_syncfail_hooks_before_failed() {
    // §8.8
    let p = plan(vec![
        res(0, "Deployment", "web"),
        res(1, "Deployment", "later"),
        hook(Phase::PostSync, 0, "migrate", &[]),
        hook(Phase::SyncFail, 0, "notify", &[]),
    ]);
    let c = FakeCluster::new()
        .script("web", Script::fails_after(SEC))
        .script("notify", Script::ready_after(Duration::from_secs(2)));
    let (r, _) = sync(&p, &c, LONG).await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(
        r.message,
        "one or more synchronization tasks completed unsuccessfully"
    );
    assert_eq!(c.applied(), vec!["web", "notify"]);
    assert_eq!(
        task_run(&r, "notify", Phase::SyncFail).hook_phase,
        Some(OperationPhase::Succeeded)
    );
    assert_eq!(task_run(&r, "later", Phase::Sync).result, None);
}

#[tokio::test(start_paused = true)]
async fn postsync_hook_created_only_after_every_sync_resource_is_healthy() {
    // §8.9: the highest Sync wave is health-gated when PostSync hooks exist.
    let p = plan(vec![
        res(0, "StatefulSet", "postgres"),
        res(2, "Deployment", "shortlink"),
        hook(
            Phase::PostSync,
            0,
            "flyway-admin",
            &[DeletePolicy::HookSucceeded],
        ),
    ]);
    let c = FakeCluster::new()
        .script("postgres", Script::ready_after(Duration::from_secs(2)))
        .script("shortlink", Script::ready_after(Duration::from_secs(3)));
    let (r, _) = sync(&p, &c, LONG).await;
    assert_eq!(r.outcome, Outcome::Succeeded);
    assert_eq!(r.message, "successfully synced (no more tasks)");
    let app = task_run(&r, "shortlink", Phase::Sync);
    let job = task_run(&r, "flyway-admin", Phase::PostSync);
    assert!(
        job.applied_at
            .unwrap()
            .saturating_sub(app.applied_at.unwrap())
            >= Duration::from_secs(3)
    );
}

#[tokio::test(start_paused = true)]
async fn failed_postsync_wave_stops_later_waves_and_keeps_succeeded_hooks() {
    // §8.10 + §3.4: HookSucceeded hooks are not deleted when the operation fails.
    let p = plan(vec![
        res(0, "StatefulSet", "postgres"),
        hook(
            Phase::PostSync,
            0,
            "flyway-admin",
            &[DeletePolicy::HookSucceeded],
        ),
        hook(
            Phase::PostSync,
            1,
            "flyway-shortlink",
            &[DeletePolicy::HookSucceeded],
        ),
        hook(
            Phase::PostSync,
            1,
            "kafka-create-stats-topic",
            &[DeletePolicy::HookSucceeded],
        ),
        hook(
            Phase::PostSync,
            2,
            "clickhouse-init",
            &[DeletePolicy::HookSucceeded],
        ),
    ]);
    let c = FakeCluster::new()
        .script(
            "flyway-shortlink",
            Script::fails_after(SEC).with_logs(&["ERROR: syntax error at or near \"TABLEE\""]),
        )
        .script(
            "kafka-create-stats-topic",
            Script::ready_after(Duration::from_secs(2)),
        );
    let (r, _) = sync(&p, &c, LONG).await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(
        r.message,
        "one or more synchronization tasks completed unsuccessfully"
    );
    assert_eq!(
        c.applied(),
        vec![
            "postgres",
            "flyway-admin",
            "flyway-shortlink",
            "kafka-create-stats-topic"
        ]
    );
    let failed = task_run(&r, "flyway-shortlink", Phase::PostSync);
    assert_eq!(failed.hook_phase, Some(OperationPhase::Failed));
    assert_eq!(
        failed.log_tail,
        vec!["ERROR: syntax error at or near \"TABLEE\""]
    );
    assert!(
        c.deleted().is_empty(),
        "nothing deleted on failure: {:?}",
        c.deleted()
    );
    assert_eq!(
        task_run(&r, "kafka-create-stats-topic", Phase::PostSync).hook_phase,
        Some(OperationPhase::Succeeded)
    );
}

#[tokio::test(start_paused = true)]
async fn hooks_of_a_wave_are_all_waited_for_before_failing() {
    // §4.2: the failing wave's other running hooks settle before the failure is declared.
    let p = plan(vec![
        hook(Phase::PostSync, 1, "a-fails", &[]),
        hook(Phase::PostSync, 1, "b-slow", &[]),
    ]);
    let c = FakeCluster::new()
        .script("a-fails", Script::fails_after(SEC))
        .script("b-slow", Script::ready_after(Duration::from_secs(10)));
    let (r, _) = sync(&p, &c, LONG).await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(r.duration >= Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn presync_failure_applies_nothing_in_sync_and_deletes_hookfailed_hooks() {
    // §8.11
    let p = plan(vec![
        hook(Phase::PreSync, 0, "check", &[DeletePolicy::HookFailed]),
        res(0, "StatefulSet", "postgres"),
        hook(Phase::SyncFail, 0, "notify", &[]),
    ]);
    let c = FakeCluster::new().script("check", Script::fails_after(SEC));
    let (r, _) = sync(&p, &c, LONG).await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(c.applied(), vec!["check", "notify"]);
    assert_eq!(c.deleted(), vec!["check"]);
    assert_eq!(
        task_run(&r, "check", Phase::PreSync).deleted_by,
        Some(DeletePolicy::HookFailed)
    );
}

#[tokio::test(start_paused = true)]
async fn syncfail_hook_never_runs_on_success() {
    let p = plan(vec![
        res(0, "StatefulSet", "postgres"),
        hook(Phase::SyncFail, 0, "notify", &[]),
    ]);
    let c = FakeCluster::new();
    let (r, _) = sync(&p, &c, LONG).await;
    assert_eq!(r.outcome, Outcome::Succeeded);
    assert_eq!(c.applied(), vec!["postgres"]);
    assert_eq!(task_run(&r, "notify", Phase::SyncFail).result, None);
}

#[tokio::test(start_paused = true)]
async fn dry_run_failure_changes_nothing_and_runs_no_syncfail_hook() {
    // §8.12
    let p = plan(vec![
        res(0, "StatefulSet", "postgres"),
        hook(Phase::PostSync, 0, "migrate", &[]),
        hook(Phase::SyncFail, 0, "notify", &[]),
    ]);
    let c = FakeCluster::new().script(
        "migrate",
        Script::dry_run_error("image `flyway/flyway:10` is not available"),
    );
    let (r, _) = sync(&p, &c, LONG).await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(
        r.message,
        "one or more objects failed to apply (dry run), reason: image `flyway/flyway:10` is not available"
    );
    assert!(c.applied().is_empty());
    assert_eq!(
        task_run(&r, "migrate", Phase::PostSync).result,
        Some(ResultCode::SyncFailed)
    );
}

#[tokio::test(start_paused = true)]
async fn apply_error_still_applies_the_rest_of_the_wave_and_nothing_after() {
    // §8.13: the other task was applied and is running, so the message is the H one.
    let p = plan(vec![
        res(0, "Deployment", "a"),
        res(0, "Deployment", "b"),
        res(1, "Deployment", "c"),
    ]);
    let c = FakeCluster::new().script(
        "a",
        Script::apply_error("spec.template: field is immutable"),
    );
    let (r, _) = sync(&p, &c, LONG).await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(c.applied(), vec!["a", "b"]);
    assert_eq!(
        r.message,
        "one or more synchronization tasks completed unsuccessfully, reason: spec.template: field is immutable"
    );
}

#[tokio::test(start_paused = true)]
async fn apply_error_alone_in_its_wave_fails_with_failed_to_apply() {
    let p = plan(vec![res(0, "Deployment", "a"), res(1, "Deployment", "c")]);
    let c = FakeCluster::new().script("a", Script::apply_error("boom"));
    let (r, _) = sync(&p, &c, LONG).await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(
        r.message,
        "one or more objects failed to apply, reason: boom"
    );
    assert_eq!(c.applied(), vec!["a"]);
}

#[tokio::test(start_paused = true)]
async fn existing_named_hook_with_default_policy_is_deleted_then_recreated() {
    // §8.14
    let p = plan(vec![
        res(0, "StatefulSet", "postgres"),
        hook(Phase::PostSync, 0, "flyway-admin", &[]),
    ]);
    let c = FakeCluster::new().with_existing("Job", NS, "flyway-admin", "batch");
    let (r, events) = sync(&p, &c, LONG).await;
    assert_eq!(r.outcome, Outcome::Succeeded);
    let calls: Vec<Call> = c
        .calls()
        .into_iter()
        .filter(|c| !matches!(c, Call::DryRun(_)))
        .collect();
    assert_eq!(
        calls,
        vec![
            Call::Apply("postgres".into()),
            Call::Delete("flyway-admin".into()),
            Call::Apply("flyway-admin".into())
        ]
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, RunEvent::Status { message, .. }
        if message == "waiting for deletion of hook batch/Job/flyway-admin")));
}

#[tokio::test(start_paused = true)]
async fn hook_succeeded_hooks_are_deleted_at_the_end_of_a_successful_operation() {
    let p = plan(vec![
        hook(Phase::PreSync, 0, "check", &[DeletePolicy::HookSucceeded]),
        res(0, "StatefulSet", "postgres"),
        hook(
            Phase::PostSync,
            0,
            "migrate",
            &[DeletePolicy::HookSucceeded],
        ),
        hook(Phase::PostSync, 0, "keep-me", &[DeletePolicy::HookFailed]),
    ]);
    let c = FakeCluster::new();
    let (r, _) = sync(&p, &c, LONG).await;
    assert_eq!(r.outcome, Outcome::Succeeded);
    assert_eq!(c.deleted(), vec!["check", "migrate"]);
    assert_eq!(c.existing(), vec!["postgres", "keep-me"]);
}

#[tokio::test(start_paused = true)]
async fn hook_failed_policy_deletes_succeeded_hooks_when_a_later_phase_fails() {
    // §8.15 (#27506)
    let p = plan(vec![
        hook(
            Phase::PreSync,
            0,
            "pre-ok-hs",
            &[DeletePolicy::HookSucceeded],
        ),
        hook(Phase::PreSync, 0, "pre-ok-hf", &[DeletePolicy::HookFailed]),
        res(0, "StatefulSet", "postgres"),
        hook(
            Phase::PostSync,
            0,
            "migrate",
            &[DeletePolicy::HookSucceeded],
        ),
    ]);
    let c = FakeCluster::new().script("migrate", Script::fails_after(SEC));
    let (r, _) = sync(&p, &c, LONG).await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(c.deleted(), vec!["pre-ok-hf"]);
    assert!(c.existing().contains(&"pre-ok-hs".to_string()));
}

#[tokio::test(start_paused = true)]
async fn configmap_hook_completes_at_once() {
    // §8.16: no health check ⇒ Succeeded at the next step.
    let p = plan(vec![
        task(Phase::PreSync, 0, "ConfigMap", "settings", true, &[]),
        res(0, "StatefulSet", "postgres"),
    ]);
    let c = FakeCluster::new();
    let (r, _) = sync(&p, &c, LONG).await;
    assert_eq!(r.outcome, Outcome::Succeeded);
    assert_eq!(
        task_run(&r, "settings", Phase::PreSync).hook_phase,
        Some(OperationPhase::Succeeded)
    );
    assert!(r.duration < SEC);
}

#[tokio::test(start_paused = true)]
async fn hook_with_unknown_health_fails() {
    let p = plan(vec![
        task(Phase::PreSync, 0, "Workflow", "odd", true, &[]),
        res(0, "StatefulSet", "postgres"),
    ]);
    let c = FakeCluster::new().script("odd", Script::unknown_health());
    let (r, _) = sync(&p, &c, LONG).await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(
        task_run(&r, "odd", Phase::PreSync).hook_phase,
        Some(OperationPhase::Failed)
    );
    assert_eq!(c.applied(), vec!["odd"]);
}

#[tokio::test(start_paused = true)]
async fn waited_for_object_that_vanishes_fails_as_missing() {
    let p = plan(vec![
        res(0, "StatefulSet", "postgres"),
        res(1, "Deployment", "app"),
    ]);
    let c = FakeCluster::new().script("postgres", Script::vanishes_after(SEC));
    let (r, _) = sync(&p, &c, LONG).await;
    assert_eq!(r.outcome, Outcome::Failed);
    let pg = task_run(&r, "postgres", Phase::Sync);
    assert_eq!(pg.hook_phase, Some(OperationPhase::Error));
    assert_eq!(
        pg.message,
        "Resource apps/StatefulSet/postgres is missing, it might have been deleted"
    );
    assert!(r.message.ends_with(
        "reason: Resource apps/StatefulSet/postgres is missing, it might have been deleted"
    ));
}

#[tokio::test(start_paused = true)]
async fn final_wave_with_a_hook_also_waits_for_its_resources() {
    // §8.24 (gitops-engine #715)
    let p = plan(vec![
        hook(Phase::PreSync, 0, "check", &[]),
        res(1, "Deployment", "web"),
        task(Phase::Sync, 1, "Job", "sync-hook", true, &[]),
    ]);
    let c = FakeCluster::new().script("web", Script::ready_after(Duration::from_secs(7)));
    let (r, _) = sync(&p, &c, LONG).await;
    assert_eq!(r.outcome, Outcome::Succeeded);
    assert!(r.duration >= Duration::from_secs(7));
    assert_eq!(
        task_run(&r, "web", Phase::Sync).hook_phase,
        Some(OperationPhase::Succeeded)
    );
}

#[tokio::test(start_paused = true)]
async fn wave_delay_is_slept_after_non_final_waves_and_argo_default_is_reported() {
    let p = plan(vec![
        res(0, "StatefulSet", "a"),
        res(1, "StatefulSet", "b"),
        res(2, "StatefulSet", "c"),
    ]);
    let c = FakeCluster::new();
    let opts = EngineOptions {
        wave_delay: Duration::from_secs(1),
        ..EngineOptions::default()
    };
    let r = engine::run(&p, &c, &opts, &CancellationToken::new(), &mut |_| {}).await;
    assert_eq!(r.outcome, Outcome::Succeeded);
    assert_eq!(r.wave_delay_total, Duration::from_secs(2));
    assert_eq!(r.argo_default_wave_delay_total, Duration::from_secs(4));
    assert!(r.duration >= Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn cancellation_mid_wave_interrupts_the_run() {
    let p = plan(vec![
        res(0, "StatefulSet", "postgres"),
        res(1, "Deployment", "app"),
    ]);
    let c = FakeCluster::new().script("postgres", Script::never_ready());
    let token = CancellationToken::new();
    let t2 = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(3)).await;
        t2.cancel();
    });
    let r = engine::run(&p, &c, &EngineOptions::default(), &token, &mut |_| {}).await;
    assert_eq!(r.outcome, Outcome::Interrupted);
    assert_eq!(r.outcome.exit_code(), 130);
    assert_eq!(r.phase, OperationPhase::Running);
}

#[tokio::test(start_paused = true)]
async fn syncfail_hook_apply_failure_adds_a_second_line() {
    let p = plan(vec![
        res(0, "Deployment", "web"),
        res(1, "Deployment", "x"),
        hook(Phase::SyncFail, 0, "notify", &[]),
    ]);
    let c = FakeCluster::new()
        .script("web", Script::fails_after(SEC))
        .script("notify", Script::apply_error("fake hook failure"));
    let (r, _) = sync(&p, &c, LONG).await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(
        r.message,
        "one or more synchronization tasks completed unsuccessfully\none or more SyncFail hooks failed, reason: fake hook failure"
    );
}

#[tokio::test(start_paused = true)]
async fn hook_whose_health_cannot_be_evaluated_errors_and_fails_the_sync() {
    let p = plan(vec![
        task(Phase::PreSync, 0, "Deployment", "old-api", true, &[]),
        res(0, "StatefulSet", "postgres"),
    ]);
    let c = FakeCluster::new().script("old-api", Script::health_error());
    let (r, _) = sync(&p, &c, LONG).await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(
        task_run(&r, "old-api", Phase::PreSync).hook_phase,
        Some(OperationPhase::Error)
    );
    assert_eq!(c.applied(), vec!["old-api"]);
}

#[tokio::test(start_paused = true)]
async fn cancellation_interrupts_a_step_that_is_still_applying() {
    // A long wave delay keeps the step itself busy; shutdown must not wait for it.
    let p = plan(vec![res(0, "StatefulSet", "a"), res(1, "StatefulSet", "b")]);
    let c = FakeCluster::new();
    let token = CancellationToken::new();
    let t2 = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        t2.cancel();
    });
    let opts = EngineOptions {
        wave_delay: Duration::from_secs(600),
        ..EngineOptions::default()
    };
    let r = engine::run(&p, &c, &opts, &token, &mut |_| {}).await;
    assert_eq!(r.outcome, Outcome::Interrupted);
    assert!(r.duration < Duration::from_secs(2), "took {:?}", r.duration);
    assert_eq!(c.applied(), vec!["a"]);
}

#[tokio::test(start_paused = true)]
async fn a_failed_before_hook_creation_delete_fails_the_wave_with_argo_cds_message() {
    // §2.6 step 3, §3.5. gitops-engine `pkg/sync/sync_context.go` (`runTasks`): every delete of
    // the wave is attempted; one that fails (other than NotFound) records the hook with no result
    // code, hook phase Error and "failed to delete resource: " + the error of `deleteResource`,
    // which itself wraps the API error in "failed to delete resource: ". The wave fails, nothing
    // in it is applied, and the operation fails with "one or more objects failed to apply" (no
    // reason: no task is SyncFailed).
    let p = plan(vec![
        res(0, "StatefulSet", "postgres"),
        hook(Phase::PostSync, 0, "flyway-admin", &[]),
        hook(Phase::PostSync, 0, "seed", &[]),
    ]);
    let c = FakeCluster::new()
        .with_existing("Job", NS, "flyway-admin", "batch")
        .with_existing("Job", NS, "seed", "batch")
        .script(
            "flyway-admin",
            Script::delete_error("jobs.batch \"flyway-admin\" is forbidden"),
        );
    let (r, events) = sync(&p, &c, LONG).await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(r.message, "one or more objects failed to apply");
    let hook = task_run(&r, "flyway-admin", Phase::PostSync);
    assert_eq!(hook.result, None);
    assert_eq!(hook.hook_phase, Some(OperationPhase::Error));
    assert_eq!(
        hook.message,
        "failed to delete resource: failed to delete resource: jobs.batch \"flyway-admin\" is forbidden"
    );
    let calls: Vec<Call> = c
        .calls()
        .into_iter()
        .filter(|c| !matches!(c, Call::DryRun(_)))
        .collect();
    assert_eq!(
        calls,
        vec![
            Call::Apply("postgres".into()),
            Call::Delete("flyway-admin".into()),
            Call::Delete("seed".into()),
        ],
        "every delete is attempted and nothing of the wave is applied"
    );
    let deleted: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            RunEvent::HookDeleted { key, .. } => Some(key.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        deleted,
        vec!["batch/Job/seed"],
        "only real deletions are reported"
    );
    assert_eq!(task_run(&r, "seed", Phase::PostSync).result, None);
}

#[tokio::test(start_paused = true)]
async fn a_failed_before_hook_creation_delete_runs_the_syncfail_hooks() {
    // gitops-engine `pkg/sync/sync_context.go`: the failed wave starts the SyncFail hooks
    // (`executeSyncFailPhase`); once they complete, the hook left in Error fails the operation as
    // a task that completed unsuccessfully.
    let p = plan(vec![
        hook(Phase::PreSync, 0, "migrate", &[]),
        res(0, "StatefulSet", "postgres"),
        hook(Phase::SyncFail, 0, "notify", &[]),
    ]);
    let c = FakeCluster::new()
        .with_existing("Job", NS, "migrate", "batch")
        .script(
            "migrate",
            Script::delete_error("etcdserver: request timed out"),
        );
    let (r, _) = sync(&p, &c, LONG).await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(
        r.message,
        "one or more synchronization tasks completed unsuccessfully"
    );
    assert_eq!(c.applied(), vec!["notify"]);
    assert_eq!(
        task_run(&r, "migrate", Phase::PreSync).hook_phase,
        Some(OperationPhase::Error)
    );
    assert_eq!(
        task_run(&r, "notify", Phase::SyncFail).result,
        Some(ResultCode::Synced)
    );
}

#[tokio::test(start_paused = true)]
async fn every_hook_keeps_its_log_captured_before_its_delete_policy_removes_it() {
    // The fake's logs vanish with the object, as a pod's do: a log in the report was taken
    // before HookSucceeded deleted the hook.
    let p = plan(vec![
        res(0, "StatefulSet", "postgres"),
        hook(
            Phase::PostSync,
            0,
            "migrate",
            &[DeletePolicy::HookSucceeded],
        ),
    ]);
    let c = FakeCluster::new().script(
        "migrate",
        Script::ready_after(SEC).with_logs(&["applying V1", "schema now at version 1"]),
    );
    let (r, _) = sync(&p, &c, LONG).await;
    assert_eq!(r.outcome, Outcome::Succeeded);
    let t = task_run(&r, "migrate", Phase::PostSync);
    assert_eq!(t.deleted_by, Some(DeletePolicy::HookSucceeded));
    assert_eq!(t.log_tail, vec!["applying V1", "schema now at version 1"]);
    assert!(!t.log_truncated);
    assert!(
        task_run(&r, "postgres", Phase::Sync).log_tail.is_empty(),
        "resources have no hook log"
    );
}

#[tokio::test(start_paused = true)]
async fn a_hook_log_over_the_cap_keeps_its_tail_and_is_marked_truncated() {
    let p = plan(vec![hook(
        Phase::PostSync,
        0,
        "migrate",
        &[DeletePolicy::HookFailed],
    )]);
    let c = FakeCluster::new().script(
        "migrate",
        Script::fails_after(SEC).with_logs(&["0123456789", "abcdefghij", "last line"]),
    );
    let opts = EngineOptions {
        timeout: LONG,
        hook_log_bytes: 21,
        ..EngineOptions::default()
    };
    let r = engine::run(&p, &c, &opts, &CancellationToken::new(), &mut |_| {}).await;
    let t = task_run(&r, "migrate", Phase::PostSync);
    assert_eq!(t.deleted_by, Some(DeletePolicy::HookFailed));
    assert_eq!(t.log_tail, vec!["abcdefghij", "last line"]);
    assert!(t.log_truncated);
}
