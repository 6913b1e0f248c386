//! Unit tests of scenario expectations (`expect.rs`).
use super::*;
use crate::{
    engine::{ResultCode, StepRecord},
    plan::{self, Phase, PlanOptions},
    scenario::spec,
};
use std::{
    path::Path,
    time::{Duration, SystemTime},
};

const APP: &str = "apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations: {argocd.argoproj.io/hook: PostSync, argocd.argoproj.io/sync-wave: '1'}
spec: {template: {spec: {restartPolicy: Never, containers: [{name: m, image: x}]}}}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: topic
  annotations: {argocd.argoproj.io/hook: PostSync, argocd.argoproj.io/sync-wave: '1', argocd.argoproj.io/hook-delete-policy: HookSucceeded}
spec: {template: {spec: {restartPolicy: Never, containers: [{name: m, image: x}]}}}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: ddl
  annotations: {argocd.argoproj.io/hook: PostSync, argocd.argoproj.io/sync-wave: '2'}
spec: {template: {spec: {restartPolicy: Never, containers: [{name: m, image: x}]}}}
";

/// A failed-migration run: wave 1 ran (migrate failed, topic succeeded and was kept),
/// wave 2 never started.
fn failed_run(plan: &Plan) -> SyncReport {
    let mut tasks: Vec<TaskRun> = plan.tasks().cloned().map(TaskRun::new).collect();
    for t in &mut tasks {
        match t.task.name() {
            "cfg" => {
                t.result = Some(ResultCode::Synced);
                t.hook_phase = Some(OperationPhase::Succeeded);
                t.applied_at = Some(Duration::from_millis(10));
            }
            "migrate" => {
                t.result = Some(ResultCode::Synced);
                t.hook_phase = Some(OperationPhase::Failed);
                t.message = "Job has reached the specified backoff limit".into();
                t.applied_at = Some(Duration::from_secs(3));
            }
            "topic" => {
                t.result = Some(ResultCode::Synced);
                t.hook_phase = Some(OperationPhase::Succeeded);
                t.applied_at = Some(Duration::from_secs(3));
            }
            _ => {}
        }
    }
    let steps = plan
        .steps
        .iter()
        .map(|s| StepRecord {
            phase: s.phase,
            wave: s.wave,
            started_at: None,
            finished_at: None,
            status: if s.phase == Phase::PostSync && s.wave == 2 {
                StepStatus::NotStarted
            } else {
                StepStatus::Failed
            },
        })
        .collect();
    SyncReport {
        app: "t".into(),
        outcome: Outcome::Failed,
        phase: OperationPhase::Failed,
        message: "one or more synchronization tasks completed unsuccessfully".into(),
        started_at: SystemTime::UNIX_EPOCH,
        finished_at: SystemTime::UNIX_EPOCH,
        duration: Duration::from_secs(5),
        tasks,
        steps,
        wave_delay_total: Duration::ZERO,
        argo_default_wave_delay_total: Duration::ZERO,
        predicted_cluster_duration: None,
        shortened: Vec::new(),
        readiness_lag: None,
    }
}

fn expect(yaml: &str) -> Expect {
    let text = format!(
        "apiVersion: syncsim.dev/v1alpha1\nkind: Scenario\nsource: app.yaml\nexpect:\n{yaml}"
    );
    spec::parse(&text, Path::new("s.yaml")).unwrap().spec.expect
}

fn plan() -> Plan {
    let objs = crate::manifest::from_yaml_str(APP, "app.yaml").unwrap();
    plan::build(&objs, &PlanOptions::default()).unwrap()
}

fn key(p: &Plan, name: &str) -> ObjectKey {
    p.tasks().find(|t| t.name() == name).unwrap().key()
}

#[test]
fn a_matching_run_meets_every_expectation() {
    let p = plan();
    let r = failed_run(&p);
    let obs = Observed {
        plan: &p,
        report: Some(&r),
        existing: vec![key(&p, "migrate"), key(&p, "topic"), key(&p, "cfg")],
        recreated: vec![],
        logs: [(
            "migrate".to_string(),
            vec!["V2 ok".into(), "V3__broken.sql failed: syntax error".into()],
        )]
        .into(),
        exec: vec![Ok(ExecResult {
            exit_code: 0,
            output: "2\n".into(),
        })],
    };
    let e = expect(
        "  phase: Failed
  message: completed unsuccessfully
  failedTask: Job/migrate
  stepsRan: [PostSync/1]
  stepsNotStarted: [PostSync/2]
  hookPhases: {migrate: Failed, topic: Succeeded, ddl: NotStarted}
  remain: [migrate, topic]
  logs: [{task: migrate, matches: 'V3__broken\\.sql failed'}]
  exec: [{in: db, command: [psql, -tAc, 'select max(version)'], equals: '2'}]
  appliedAfter: {migrate: 2s}
",
    );
    assert_eq!(evaluate(&e, &obs), vec![]);
}

#[test]
fn exec_output_that_prints_a_secret_value_is_redacted() {
    let objs = crate::manifest::from_yaml_str(
            &format!("{APP}\n---\napiVersion: v1\nkind: Secret\nmetadata: {{name: creds}}\nstringData: {{password: s3cr3t-pw}}\ndata: {{user: YWRtaW4tdXNlcg==}}\n"),
            "app.yaml",
        )
        .unwrap();
    let p = plan::build(&objs, &PlanOptions::default()).unwrap();
    let r = failed_run(&p);
    let obs = Observed {
        plan: &p,
        report: Some(&r),
        existing: vec![],
        recreated: vec![],
        logs: BTreeMap::new(),
        exec: vec![Ok(ExecResult {
            exit_code: 0,
            output: "PASSWORD=s3cr3t-pw USER=admin-user B64=YWRtaW4tdXNlcg==".into(),
        })],
    };
    let e = expect("  exec: [{in: db, command: [env], equals: 'PASSWORD=s3cr3t-pw'}]\n");
    let unmet = evaluate(&e, &obs);
    let text = format!("{unmet:?}");
    for v in ["s3cr3t-pw", "admin-user", "YWRtaW4tdXNlcg=="] {
        assert!(!text.contains(v), "{v} in {text}");
    }
    assert!(text.contains("PASSWORD=<redacted Secret value>"), "{text}");
}

#[test]
fn every_unmet_expectation_names_itself_and_what_was_observed() {
    let p = plan();
    let r = failed_run(&p);
    let obs = Observed {
        plan: &p,
        report: Some(&r),
        existing: vec![key(&p, "migrate")],
        recreated: vec![],
        logs: BTreeMap::new(),
        exec: vec![Ok(ExecResult {
            exit_code: 0,
            output: "3".into(),
        })],
    };
    let e = expect(
        "  phase: Succeeded
  message: '^successfully'
  failedTask: topic
  stepsRan: [PostSync/2]
  stepsNotStarted: [PostSync/1]
  hookPhases: {migrate: Succeeded, nope: Failed}
  remain: [topic]
  deleted: [migrate]
  recreated: [migrate]
  logs: [{task: migrate, matches: boom}]
  exec: [{in: db, command: [x], equals: '2'}]
  appliedAfter: {migrate: 10s, ddl: 1s}
  planWarnings: [misspelled]
",
    );
    let got: Vec<String> = evaluate(&e, &obs).iter().map(|u| u.to_string()).collect();
    let want = [
            "expect.planWarnings: expected a plan warning matching /misspelled/, observed no warnings",
            "expect.phase: expected Succeeded, observed Failed (one or more synchronization tasks completed unsuccessfully)",
            "expect.message: expected a message matching /^successfully/, observed \"one or more synchronization tasks completed unsuccessfully\"",
            "expect.failedTask: expected `topic` to have failed, observed failed tasks Job/migrate (Failed)",
            "expect.stepsRan PostSync/2: expected the step to have started, observed it never started",
            "expect.stepsNotStarted PostSync/1: expected the step never to start, observed it ran (Failed)",
            "expect.hookPhases.migrate: expected Succeeded, observed Failed (Job has reached the specified backoff limit)",
            "expect.hookPhases.nope: expected Failed, observed no such task",
            "expect.remain topic: expected the object to exist after the sync, observed it does not exist",
            "expect.deleted migrate: expected the hook deleted by its delete policy, observed it still exists",
            "expect.recreated migrate: expected the existing hook deleted (BeforeHookCreation) and created again, observed it was not deleted before creation",
            "expect.logs[0] (migrate): expected a log line matching /boom/, observed no log lines",
            "expect.exec[0] (in db: x): expected output \"2\", observed \"3\"",
            "expect.appliedAfter.ddl: expected applied at least 1s after the start, observed never applied",
            "expect.appliedAfter.migrate: expected applied at least 10s after the start, observed applied after 3.0s",
        ];
    assert_eq!(got, want);
}

#[test]
fn timed_out_runs_meet_phase_running_and_exec_errors_are_reported() {
    let p = plan();
    let mut r = failed_run(&p);
    r.outcome = Outcome::TimedOut {
        waiting: "waiting for healthy state of apps/StatefulSet/db".into(),
    };
    r.phase = OperationPhase::Running;
    let obs = Observed {
        plan: &p,
        report: Some(&r),
        existing: vec![],
        recreated: vec![key(&p, "migrate")],
        logs: BTreeMap::new(),
        exec: vec![Err("no running container of StatefulSet/db".into())],
    };
    let e = expect(
        "  phase: Running\n  exec: [{in: db, command: [x], contains: y}]\n  recreated: [migrate]\n",
    );
    let got: Vec<String> = evaluate(&e, &obs).iter().map(|u| u.to_string()).collect();
    assert_eq!(got, [
            "expect.recreated migrate: expected the existing hook deleted (BeforeHookCreation) and created again, observed it was deleted but does not exist at the end",
            "expect.exec[0] (in db: x): expected the command to run, observed no running container of StatefulSet/db",
        ]);
}

#[test]
fn plan_only_checks_warnings_and_planned_steps() {
    let objs = crate::manifest::from_yaml_str(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, annotations: {argocd.argoproj.io/hook: presync}}\nspec: {template: {spec: {containers: [{name: a, image: x}]}}}\n",
            "app.yaml",
        )
        .unwrap();
    let p = plan::build(&objs, &PlanOptions::default()).unwrap();
    let obs = Observed {
        plan: &p,
        report: None,
        existing: vec![],
        recreated: vec![],
        logs: BTreeMap::new(),
        exec: vec![],
    };
    let ok = expect("  planWarnings: ['hook']\n  stepsNotStarted: [PreSync/0]\n");
    assert_eq!(evaluate(&ok, &obs), vec![], "warnings: {:?}", p.warnings);
    let bad = expect("  planWarnings: ['^nothing like this$']\n  stepsRan: [PreSync/0]\n");
    assert_eq!(evaluate(&bad, &obs).len(), 2);
}
