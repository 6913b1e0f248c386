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

/// Lists every unmet expectation, in the order of the `expect` block. Secret values of the
/// plan never appear in them (an `exec` output that prints one shows `<redacted Secret
/// value>` instead).
pub fn evaluate(expect: &Expect, obs: &Observed) -> Vec<Unmet> {
    let mut out = evaluate_plain(expect, obs);
    let secrets = secret_values(obs.plan);
    for u in &mut out {
        u.wanted = redact_values(&u.wanted, &secrets);
        u.observed = redact_values(&u.observed, &secrets);
    }
    out
}

/// What a redacted Secret value reads as.
pub const REDACTED_VALUE: &str = "<redacted Secret value>";

/// Every value of the plan's Secrets: `stringData` as written, `data` both base64 and decoded
/// (when it is text). Longest first, so that a value containing another is hidden whole.
pub fn secret_values(plan: &Plan) -> Vec<String> {
    use base64::Engine as _;
    let mut out = Vec::new();
    for t in plan.tasks().filter(|t| t.object.kind() == "Secret") {
        for field in ["data", "stringData"] {
            let Some(map) = t.object.value.get(field).and_then(|v| v.as_object()) else {
                continue;
            };
            for v in map.values().filter_map(|v| v.as_str()) {
                out.push(v.to_string());
                if field == "data" {
                    if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(v) {
                        if let Ok(text) = String::from_utf8(bytes) {
                            out.push(text);
                        }
                    }
                }
            }
        }
    }
    // Values this short would hide ordinary words and numbers; they are no secret either.
    out.retain(|v| v.trim().len() >= 3);
    out.sort_by_key(|v| std::cmp::Reverse(v.len()));
    out.dedup();
    out
}

/// `text` with every one of `values` replaced by [`REDACTED_VALUE`].
pub fn redact_values(text: &str, values: &[String]) -> String {
    let mut out = text.to_string();
    for v in values {
        for form in [
            v.clone(),
            v.trim().to_string(),
            format!("{v:?}").trim_matches('"').to_string(),
        ] {
            if form.len() >= 3 && out.contains(&form) {
                out = out.replace(&form, REDACTED_VALUE);
            }
        }
    }
    out
}

fn evaluate_plain(expect: &Expect, obs: &Observed) -> Vec<Unmet> {
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
#[path = "expect_tests.rs"]
mod tests;
