//! Checking a scenario's `expect` block against what was observed. Pure: the runner gathers
//! [`Observed`] (report, live objects, logs, exec results) and [`evaluate`] lists every unmet
//! expectation with what was seen instead.
use super::{
    select,
    spec::{Expect, ExpectedPhase, HookPhase},
};
use crate::{
    engine::{OperationPhase, Outcome, StepStatus, SyncReport, TaskRun},
    manifest::ObjectKey,
    plan::Plan,
    runtime::ExecResult,
};
use std::{collections::BTreeMap, fmt};

/// Everything the expectations are checked against.
#[derive(Debug, Clone)]
pub struct Observed<'a> {
    pub plan: &'a Plan,
    /// The last sync operation's report; `None` for `planOnly` scenarios.
    pub report: Option<&'a SyncReport>,
    /// Objects that still existed after the sync, before teardown.
    pub existing: Vec<ObjectKey>,
    /// Hooks deleted by BeforeHookCreation before being created again, in the last operation.
    pub recreated: Vec<ObjectKey>,
    /// Logs per `expect.logs[].task` reference.
    pub logs: BTreeMap<String, Vec<String>>,
    /// One result per `expect.exec` check, in order.
    pub exec: Vec<Result<ExecResult, String>>,
}

/// An expectation that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmet {
    /// Where in the file: `expect.hookPhases.flyway-shortlink`.
    pub expectation: String,
    pub wanted: String,
    pub observed: String,
}

impl fmt::Display for Unmet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}, observed {}",
            self.expectation, self.wanted, self.observed
        )
    }
}

/// Tasks of the report that `reference` names (a two-phase hook has two).
pub fn tasks_named<'r>(report: &'r SyncReport, reference: &str) -> Vec<&'r TaskRun> {
    report
        .tasks
        .iter()
        .filter(|t| {
            select::matches(
                reference,
                t.task.kind(),
                t.task.name(),
                t.task.object.generate_name(),
            )
        })
        .collect()
}

fn hook_phase_of(t: &TaskRun) -> &'static str {
    match t.hook_phase {
        None => HookPhase::NotStarted.as_str(),
        Some(p) => p.as_str(),
    }
}

fn observed_phase(r: &SyncReport) -> String {
    match &r.outcome {
        Outcome::Succeeded | Outcome::Failed => r.phase.as_str().to_string(),
        Outcome::TimedOut { .. } => "Running (syncsim's timeout expired)".to_string(),
        Outcome::Interrupted => "Interrupted".to_string(),
    }
}

fn tail(lines: &[String], n: usize) -> String {
    if lines.is_empty() {
        return "no log lines".into();
    }
    let start = lines.len().saturating_sub(n);
    format!("last lines: {:?}", &lines[start..])
}

/// Lists every unmet expectation, in the order of the `expect` block.
pub fn evaluate(expect: &Expect, obs: &Observed) -> Vec<Unmet> {
    let mut out = Vec::new();
    let mut unmet = |expectation: String, wanted: String, observed: String| {
        out.push(Unmet {
            expectation,
            wanted,
            observed,
        })
    };

    for p in &expect.plan_warnings {
        if !obs.plan.warnings.iter().any(|w| p.is_match(&w.to_string())) {
            let seen: Vec<String> = obs.plan.warnings.iter().map(|w| w.to_string()).collect();
            unmet(
                "expect.planWarnings".into(),
                format!("a plan warning matching {p}"),
                if seen.is_empty() {
                    "no warnings".into()
                } else {
                    format!("warnings {seen:?}")
                },
            );
        }
    }

    let Some(r) = obs.report else {
        // planOnly: steps are the plan's steps.
        for s in &expect.steps_ran {
            if !obs
                .plan
                .steps
                .iter()
                .any(|p| (p.phase, p.wave) == (s.phase, s.wave))
            {
                unmet(
                    format!("expect.stepsRan {s}"),
                    "the step in the plan".into(),
                    "no such step".into(),
                );
            }
        }
        for s in &expect.steps_not_started {
            if obs
                .plan
                .steps
                .iter()
                .any(|p| (p.phase, p.wave) == (s.phase, s.wave))
            {
                unmet(
                    format!("expect.stepsNotStarted {s}"),
                    "no such step in the plan".into(),
                    "the step is planned".into(),
                );
            }
        }
        return out;
    };

    if let Some(want) = expect.phase {
        let ok = matches!(
            (want, &r.outcome),
            (ExpectedPhase::Succeeded, Outcome::Succeeded)
                | (ExpectedPhase::Failed, Outcome::Failed)
                | (ExpectedPhase::Running, Outcome::TimedOut { .. })
        );
        if !ok {
            unmet(
                "expect.phase".into(),
                want.as_str().into(),
                format!("{} ({})", observed_phase(r), r.message),
            );
        }
    }
    if let Some(p) = &expect.message {
        if !p.is_match(&r.message) {
            unmet(
                "expect.message".into(),
                format!("a message matching {p}"),
                format!("{:?}", r.message),
            );
        }
    }
    if let Some(name) = &expect.failed_task {
        let failed: Vec<&TaskRun> = r
            .tasks
            .iter()
            .filter(|t| t.completed_unsuccessfully())
            .collect();
        if !failed.iter().any(|t| {
            select::matches(
                name,
                t.task.kind(),
                t.task.name(),
                t.task.object.generate_name(),
            )
        }) {
            let names: Vec<String> = failed
                .iter()
                .map(|t| format!("{}/{} ({})", t.task.kind(), t.task.name(), hook_phase_of(t)))
                .collect();
            unmet(
                "expect.failedTask".into(),
                format!("`{name}` to have failed"),
                if names.is_empty() {
                    "no failed task".into()
                } else {
                    format!("failed tasks {}", names.join(", "))
                },
            );
        }
    }
    let step_status = |s: &super::spec::StepRef| {
        r.steps
            .iter()
            .find(|x| (x.phase, x.wave) == (s.phase, s.wave))
            .map(|x| x.status)
    };
    for s in &expect.steps_ran {
        match step_status(s) {
            Some(StepStatus::NotStarted) => unmet(
                format!("expect.stepsRan {s}"),
                "the step to have started".into(),
                "it never started".into(),
            ),
            None => unmet(
                format!("expect.stepsRan {s}"),
                "the step to have started".into(),
                "no such step in the plan".into(),
            ),
            Some(_) => {}
        }
    }
    for s in &expect.steps_not_started {
        if let Some(st) = step_status(s).filter(|st| *st != StepStatus::NotStarted) {
            unmet(
                format!("expect.stepsNotStarted {s}"),
                "the step never to start".into(),
                format!("it ran ({st:?})"),
            );
        }
    }
    for (name, want) in &expect.hook_phases {
        let ts = tasks_named(r, name);
        let key = format!("expect.hookPhases.{name}");
        match ts.last() {
            None => unmet(key, want.as_str().into(), "no such task".into()),
            Some(t) if hook_phase_of(t) != want.as_str() => unmet(
                key,
                want.as_str().into(),
                format!("{} ({})", hook_phase_of(t), t.message),
            ),
            Some(_) => {}
        }
    }
    let exists = |name: &str| {
        tasks_named(r, name)
            .iter()
            .any(|t| obs.existing.contains(&t.task.key()))
    };
    for name in &expect.remain {
        if !exists(name) {
            let why = tasks_named(r, name)
                .iter()
                .find_map(|t| t.deleted_by.map(|p| format!("deleted by {p}")))
                .unwrap_or_else(|| "it does not exist".into());
            unmet(
                format!("expect.remain {name}"),
                "the object to exist after the sync".into(),
                why,
            );
        }
    }
    for name in &expect.deleted {
        let by = tasks_named(r, name).iter().find_map(|t| t.deleted_by);
        match (by, exists(name)) {
            (Some(_), false) => {}
            (Some(p), true) => unmet(
                format!("expect.deleted {name}"),
                "the hook to be gone".into(),
                format!("deleted by {p}, but it exists again"),
            ),
            (None, true) => unmet(
                format!("expect.deleted {name}"),
                "the hook deleted by its delete policy".into(),
                "it still exists".into(),
            ),
            (None, false) => unmet(
                format!("expect.deleted {name}"),
                "the hook deleted by its delete policy".into(),
                "no policy deleted it (it was never created)".into(),
            ),
        }
    }
    for name in &expect.recreated {
        let keys: Vec<ObjectKey> = tasks_named(r, name).iter().map(|t| t.task.key()).collect();
        let deleted = keys.iter().any(|k| obs.recreated.contains(k));
        let now = exists(name);
        if !(deleted && now) {
            unmet(
                format!("expect.recreated {name}"),
                "the existing hook deleted (BeforeHookCreation) and created again".into(),
                match (deleted, now) {
                    (false, true) => "it was not deleted before creation".into(),
                    (true, false) => "it was deleted but does not exist at the end".into(),
                    _ => "it was neither replaced nor exists".into(),
                },
            );
        }
    }
    for (i, l) in expect.logs.iter().enumerate() {
        let lines = obs.logs.get(&l.task).map(Vec::as_slice).unwrap_or(&[]);
        if !l.matches.is_match(&lines.join("\n")) {
            unmet(
                format!("expect.logs[{i}] ({})", l.task),
                format!("a log line matching {}", l.matches),
                tail(lines, 5),
            );
        }
    }
    for (i, check) in expect.exec.iter().enumerate() {
        let key = format!(
            "expect.exec[{i}] (in {}: {})",
            check.in_,
            check.command.join(" ")
        );
        match obs.exec.get(i) {
            None => unmet(key, "the command to run".into(), "it was not run".into()),
            Some(Err(e)) => unmet(key, "the command to run".into(), e.clone()),
            Some(Ok(res)) => {
                let out = res.output.trim();
                if res.exit_code != check.exit_code {
                    unmet(
                        key.clone(),
                        format!("exit code {}", check.exit_code),
                        format!("exit code {} with output {:?}", res.exit_code, out),
                    );
                }
                if let Some(want) = &check.equals {
                    if out != want.trim() {
                        unmet(
                            key.clone(),
                            format!("output {:?}", want.trim()),
                            format!("{out:?}"),
                        );
                    }
                }
                if let Some(want) = &check.contains {
                    if !out.contains(want.as_str()) {
                        unmet(
                            key,
                            format!("output containing {want:?}"),
                            format!("{out:?}"),
                        );
                    }
                }
            }
        }
    }
    for (name, min) in &expect.applied_after {
        let key = format!("expect.appliedAfter.{name}");
        let want = format!(
            "applied at least {} after the start",
            humantime::format_duration(min.0)
        );
        match tasks_named(r, name).last().map(|t| t.applied_at) {
            None => unmet(key, want, "no such task".into()),
            Some(None) => unmet(key, want, "never applied".into()),
            Some(Some(at)) if at < min.0 => {
                unmet(key, want, format!("applied after {:.1}s", at.as_secs_f64()))
            }
            Some(Some(_)) => {}
        }
    }
    out
}

/// Whether the run stopped before its expectations could be observed (Ctrl-C).
pub fn interrupted(r: &SyncReport) -> bool {
    matches!(r.outcome, Outcome::Interrupted) || r.phase == OperationPhase::Terminating
}

#[cfg(test)]
mod tests {
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
        let e = expect("  phase: Running\n  exec: [{in: db, command: [x], contains: y}]\n  recreated: [migrate]\n");
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
}
