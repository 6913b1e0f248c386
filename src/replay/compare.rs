//! What Argo CD recorded against what syncsim plans (or rehearsed), task by task (pure).
//!
//! `syncResult.resources` has no wave: the *order* in which Argo CD first recorded the tasks is
//! what shows its waves. A task recorded after a task that syncsim plans in a later step ran in
//! another wave than syncsim plans. With the plan alone, syncsim predicts what runs from the
//! recorded failure: every step up to the step of the first failed task (all of them after a
//! success), SyncFail hooks after a failure past the dry run, nothing after a failed dry run.
use super::record::{Record, ResourceResult};
use crate::{
    engine::{SyncReport, TaskRun},
    plan::{Phase, Plan, Task},
};

/// What syncsim's side of the comparison is.
#[derive(Debug, Clone, Copy)]
pub enum Syncsim<'a> {
    /// The plan, with what would run predicted from the recorded failure.
    Plan,
    /// A rehearsal's report (`replay --rehearse`).
    Rehearsal(&'a SyncReport),
}

/// One task: Argo CD's record of it (if any) beside syncsim's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// syncsim plans it as a hook (`None`: not in syncsim's plan).
    pub hook: Option<bool>,
    pub argo: Option<ResourceResult>,
    /// syncsim runs it (predicted from the plan, or seen in the rehearsal).
    pub syncsim_ran: bool,
    /// The rehearsal's hook phase and message.
    pub syncsim_result: Option<(String, String)>,
    /// Why the two sides disagree on this task; `None`: they agree.
    pub disagreement: Option<String>,
    /// A remark that is no disagreement (not run after the failure, a prune…).
    pub note: Option<String>,
}

/// One (phase, wave) step of syncsim's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRows {
    pub phase: Phase,
    pub wave: i64,
    pub rows: Vec<Row>,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    pub steps: Vec<StepRows>,
    /// Recorded tasks syncsim's plan does not have.
    pub unplanned: Vec<Row>,
    /// Disagreements about the operation itself (rehearsal: phase, message).
    pub operation: Vec<String>,
}

impl Comparison {
    /// Every disagreement, task ones first, as `Kind/name: why` lines.
    pub fn disagreements(&self) -> Vec<String> {
        let rows = self
            .steps
            .iter()
            .flat_map(|s| s.rows.iter())
            .chain(&self.unplanned);
        rows.filter_map(|r| {
            r.disagreement
                .as_ref()
                .map(|d| format!("{}/{}: {d}", r.kind, r.name))
        })
        .chain(self.operation.iter().cloned())
        .collect()
    }
    pub fn agree(&self) -> bool {
        self.disagreements().is_empty()
    }
}

fn same_object(e: &ResourceResult, t: &Task) -> bool {
    e.group == t.group()
        && e.kind == t.kind()
        && e.namespace == t.namespace()
        && (e.name == t.name()
            || t.object
                .generate_name()
                .is_some_and(|g| e.name.starts_with(g)))
}

fn recorded_phase(e: &ResourceResult) -> &str {
    match (e.sync_phase.as_str(), e.hook_type.as_str()) {
        ("", "") => "Sync",
        ("", h) => h,
        (p, _) => p,
    }
}

/// Argo CD stopped before anything ran: invalid tasks or a failed dry run (§2.7 B).
fn failed_before_running(record: &Record) -> bool {
    let m = &record.operation.message;
    m.starts_with("one or more synchronization tasks are not valid")
        || m.starts_with("one or more objects failed to apply (dry run)")
}

/// Compares `record` with `plan` (and the rehearsal's report, if any). `dest_namespace` and
/// `create_namespace` explain a recorded `Namespace` task that CreateNamespace=true added.
pub fn compare(
    record: &Record,
    plan: &Plan,
    syncsim: Syncsim<'_>,
    dest_namespace: &str,
    create_namespace: bool,
) -> Comparison {
    let recorded = record.resources();
    let tasks: Vec<(usize, &Task)> = plan
        .steps
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.tasks.iter().map(move |t| (i, t)))
        .collect();
    // Match each recorded entry to a task: same object and phase, else same object.
    let mut matched: Vec<Option<usize>> = vec![None; tasks.len()];
    let mut unmatched: Vec<usize> = Vec::new();
    for (j, e) in recorded.iter().enumerate() {
        let free = |i: &usize| matched[*i].is_none() && same_object(e, tasks[*i].1);
        let by_phase = (0..tasks.len())
            .filter(free)
            .find(|&i| tasks[i].1.phase.as_str() == recorded_phase(e));
        match by_phase.or_else(|| (0..tasks.len()).find(free)) {
            Some(i) => matched[i] = Some(j),
            None => unmatched.push(j),
        }
    }
    let step_of_entry = |j: usize| {
        matched
            .iter()
            .position(|m| *m == Some(j))
            .map(|i| tasks[i].0)
    };
    let failing_step = (0..recorded.len())
        .filter(|&j| recorded[j].failed() && recorded_phase(&recorded[j]) != "SyncFail")
        .filter_map(step_of_entry)
        .min();
    let last_recorded_step = (0..recorded.len()).filter_map(step_of_entry).max();
    let early = failed_before_running(record);
    let failed = matches!(record.operation.phase.as_str(), "Failed" | "Error");
    let predicted = |step: usize, phase: Phase| -> bool {
        if phase == Phase::SyncFail {
            return failed && !early && record.operation.phase == "Failed";
        }
        if early {
            return false;
        }
        match (failing_step, record.operation.phase.as_str()) {
            (Some(f), _) => step <= f,
            (None, "Succeeded") => true,
            (None, _) => last_recorded_step.is_some_and(|l| step <= l),
        }
    };
    let rehearsed = |t: &Task| -> Option<&TaskRun> {
        match syncsim {
            Syncsim::Plan => None,
            Syncsim::Rehearsal(r) => r
                .tasks
                .iter()
                .find(|tr| !tr.prune && tr.task.phase == t.phase && tr.task.key() == t.key()),
        }
    };
    // Order: a task recorded after one that syncsim plans later ran in another wave.
    let mut order_issue: Vec<Option<String>> = vec![None; recorded.len()];
    let mut latest: Option<(usize, usize)> = None; // (step, entry)
    for j in 0..recorded.len() {
        if recorded_phase(&recorded[j]) == "SyncFail" || recorded[j].is_prune() {
            continue;
        }
        let Some(step) = step_of_entry(j) else {
            continue;
        };
        match latest {
            Some((ls, lj)) if step < ls => {
                let s = &plan.steps[step];
                let l = &plan.steps[ls];
                order_issue[j] = Some(format!(
                    "Argo CD ran it after {} ({} wave {} in syncsim's plan), but syncsim plans it \
                     earlier, in {} wave {}: it is in another wave than Argo CD's",
                    recorded[lj].display(),
                    l.phase,
                    l.wave,
                    s.phase,
                    s.wave
                ));
            }
            Some((ls, _)) if step == ls => {}
            _ => latest = Some((step, j)),
        }
    }
    let fail_at =
        failing_step.map(|f| format!("{} wave {}", plan.steps[f].phase, plan.steps[f].wave));
    let mut steps: Vec<StepRows> = plan
        .steps
        .iter()
        .map(|s| StepRows {
            phase: s.phase,
            wave: s.wave,
            rows: Vec::new(),
        })
        .collect();
    for (i, (step, t)) in tasks.iter().enumerate() {
        let argo = matched[i].map(|j| recorded[j].clone());
        let run = rehearsed(t);
        let ran = match syncsim {
            Syncsim::Plan => predicted(*step, t.phase),
            Syncsim::Rehearsal(_) => run.is_some_and(TaskRun::is_recorded),
        };
        let mut row = Row {
            group: t.group().to_string(),
            kind: t.kind().to_string(),
            namespace: t.namespace().to_string(),
            name: t.name().to_string(),
            hook: Some(t.hook),
            argo: argo.clone(),
            syncsim_ran: ran,
            syncsim_result: run.filter(|r| r.is_recorded()).map(|r| {
                (
                    r.hook_phase.map(|p| p.as_str()).unwrap_or("").to_string(),
                    r.message.clone(),
                )
            }),
            disagreement: None,
            note: None,
        };
        let who = match syncsim {
            Syncsim::Plan => "syncsim would",
            Syncsim::Rehearsal(_) => "the rehearsal did",
        };
        row.disagreement = match (&argo, ran) {
            (Some(e), true) => {
                let j = matched[i].unwrap_or_default();
                if recorded_phase(e) != t.phase.as_str() {
                    Some(format!(
                        "Argo CD ran it in phase {}, syncsim plans it in {} wave {}",
                        recorded_phase(e),
                        t.phase,
                        t.wave
                    ))
                } else if e.is_hook() != t.hook {
                    Some(if e.is_hook() {
                        format!(
                            "Argo CD ran it as a {} hook; syncsim plans it as a resource",
                            e.hook_type
                        )
                    } else {
                        "Argo CD applied it as a resource; syncsim plans it as a hook".to_string()
                    })
                } else if let Some(o) = &order_issue[j] {
                    Some(o.clone())
                } else {
                    run.and_then(|r| outcome_difference(e, r))
                }
            }
            (Some(_), false) => Some(match &fail_at {
                Some(f) if matches!(syncsim, Syncsim::Plan) => format!(
                    "Argo CD ran it; syncsim would not, having stopped after the failure in {f}"
                ),
                _ => match syncsim {
                    Syncsim::Plan => "Argo CD ran it; syncsim would not run it".to_string(),
                    Syncsim::Rehearsal(_) => {
                        "Argo CD ran it; the rehearsal never started it".to_string()
                    }
                },
            }),
            (None, true) => Some(format!(
                "{} run it ({} wave {}); Argo CD never did",
                who, t.phase, t.wave
            )),
            (None, false) => None,
        };
        if argo.is_none() && !ran {
            row.note = Some(match &fail_at {
                Some(f) => format!("not run by either: after the failure in {f}"),
                None if t.phase == Phase::SyncFail => "not run by either: no failure".into(),
                None => "not run by either".into(),
            });
        }
        steps[*step].rows.push(row);
    }
    let unplanned = unmatched
        .into_iter()
        .map(|j| {
            let e = &recorded[j];
            let created_ns = create_namespace
                && e.group.is_empty()
                && e.kind == "Namespace"
                && e.name == dest_namespace;
            let (disagreement, note) = if e.is_prune() {
                (None, Some("a prune of a live object without a manifest (syncsim's plan has no live state)".to_string()))
            } else if created_ns {
                (None, Some("the destination namespace CreateNamespace=true created".to_string()))
            } else {
                (
                    Some(format!(
                        "Argo CD ran it ({}{}); syncsim's plan has no such task",
                        recorded_phase(e),
                        if e.is_hook() { " hook" } else { "" }
                    )),
                    None,
                )
            };
            Row {
                group: e.group.clone(),
                kind: e.kind.clone(),
                namespace: e.namespace.clone(),
                name: e.name.clone(),
                hook: None,
                argo: Some(e.clone()),
                syncsim_ran: false,
                syncsim_result: None,
                disagreement,
                note,
            }
        })
        .collect();
    let mut operation = Vec::new();
    if let (Syncsim::Plan, "Succeeded") = (syncsim, record.operation.phase.as_str()) {
        if let Some(expected) = success_message(plan) {
            if record.operation.message != expected {
                operation.push(format!(
                    "operation: Argo CD ended `{}`; syncsim's plan ends `{expected}` (its final \
                     step holds {}a hook): the final wave differs",
                    record.operation.message,
                    if expected == SUCCESS_NO_MORE_TASKS {
                        ""
                    } else {
                        "no "
                    }
                ));
            }
        }
    }
    if let Syncsim::Rehearsal(r) = syncsim {
        if r.phase.as_str() != record.operation.phase {
            operation.push(format!(
                "operation: Argo CD ended {}, the rehearsal {}",
                record.operation.phase, r.phase
            ));
        }
        if r.message != record.operation.message {
            operation.push(format!(
                "operation: Argo CD's message is `{}`, the rehearsal's `{}`",
                record.operation.message, r.message
            ));
        }
    }
    Comparison {
        steps,
        unplanned,
        operation,
    }
}

const SUCCESS_NO_MORE_TASKS: &str = "successfully synced (no more tasks)";

/// The message of a successful sync of `plan` (§2.7 I, L): a final step holding a hook is
/// waited for, and the next step finds nothing pending (`no more tasks`); otherwise the final
/// step's apply ends the operation (`all tasks run`). `None` for an empty plan.
fn success_message(plan: &Plan) -> Option<&'static str> {
    let last = plan
        .steps
        .iter()
        .rev()
        .find(|s| s.phase != Phase::SyncFail)?;
    Some(if last.tasks.iter().any(|t| t.hook) {
        SUCCESS_NO_MORE_TASKS
    } else {
        "successfully synced (all tasks run)"
    })
}

/// A rehearsed task that ended otherwise than Argo CD recorded: failed on one side only, or
/// failed with another message.
fn outcome_difference(e: &ResourceResult, r: &TaskRun) -> Option<String> {
    let ours = r.hook_phase.map(|p| p.as_str()).unwrap_or("");
    match (e.failed(), r.completed_unsuccessfully()) {
        (true, false) => Some(format!(
            "Argo CD recorded it {} (`{}`); in the rehearsal it is {ours}",
            e.hook_phase, e.message
        )),
        (false, true) => Some(format!(
            "the rehearsal recorded it {ours} (`{}`); Argo CD {}",
            r.message,
            if e.hook_phase.is_empty() {
                "did not"
            } else {
                &e.hook_phase
            }
        )),
        (true, true) if e.message != r.message => Some(format!(
            "it failed with another message: Argo CD `{}`, the rehearsal `{}`",
            e.message, r.message
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        engine::{OperationPhase, Outcome, ResultCode},
        plan::PlanOptions,
    };
    use std::time::{Duration, SystemTime};

    const APP: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {}\n---\n\
        apiVersion: batch/v1\nkind: Job\nmetadata: {name: a, annotations: {argocd.argoproj.io/hook: PostSync}}\nspec: {}\n---\n\
        apiVersion: batch/v1\nkind: Job\nmetadata: {name: b, annotations: {argocd.argoproj.io/hook: PostSync}}\nspec: {}\n";

    fn plan() -> Plan {
        let objects = crate::manifest::from_yaml_str(APP, "app.yaml").unwrap();
        let opts = PlanOptions {
            dest_namespace: "ns".into(),
            revision: "HEAD".into(),
            started_at_unix: 0,
        };
        crate::plan::build(&objects, &opts).unwrap()
    }

    fn entry(kind: &str, name: &str, hook: bool, phase: &str, msg: &str) -> String {
        let group = if kind == "Job" { "batch" } else { "apps" };
        let sync_phase = if hook { "PostSync" } else { "Sync" };
        let hook_type = if hook { "PostSync" } else { "" };
        format!(
            "      - {{group: {group}, kind: {kind}, namespace: ns, name: {name}, status: Synced, \
             hookPhase: {phase}, hookType: \"{hook_type}\", syncPhase: {sync_phase}, message: \"{msg}\"}}\n"
        )
    }

    fn record(phase: &str, message: &str, entries: &[String]) -> Record {
        let text = format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: app}}\nspec: {{}}\n\
             status:\n  operationState:\n    phase: {phase}\n    message: {message}\n    syncResult:\n      \
             revision: abc\n      resources:\n{}",
            entries.concat()
        );
        super::super::record::parse(&text, std::path::Path::new("rec.yaml")).unwrap()
    }

    /// A rehearsal in which `failed` fails with `msg` and the other hook succeeds.
    fn rehearsal(plan: &Plan, failed: &str, msg: &str) -> SyncReport {
        let tasks = plan
            .tasks()
            .cloned()
            .map(|t| {
                let mut r = TaskRun::new(t);
                r.result = Some(ResultCode::Synced);
                r.hook_phase = Some(if r.task.name() == failed {
                    r.message = msg.into();
                    OperationPhase::Failed
                } else {
                    OperationPhase::Succeeded
                });
                r
            })
            .collect();
        SyncReport {
            app: "app".into(),
            outcome: Outcome::Failed,
            phase: OperationPhase::Failed,
            message: "one or more synchronization tasks completed unsuccessfully".into(),
            started_at: SystemTime::UNIX_EPOCH,
            finished_at: SystemTime::UNIX_EPOCH,
            duration: Duration::ZERO,
            tasks,
            steps: Vec::new(),
            wave_delay_total: Duration::ZERO,
            argo_default_wave_delay_total: Duration::ZERO,
            predicted_cluster_duration: None,
            shortened: Vec::new(),
            readiness_lag: None,
        }
    }

    const BACKOFF: &str = "Job has reached the specified backoff limit";

    fn failed_a() -> Record {
        record(
            "Failed",
            "one or more synchronization tasks completed unsuccessfully",
            &[
                entry(
                    "Deployment",
                    "web",
                    false,
                    "Succeeded",
                    "deployment.apps/web created",
                ),
                entry("Job", "a", true, "Failed", BACKOFF),
                entry("Job", "b", true, "Succeeded", "done"),
            ],
        )
    }

    #[test]
    fn a_rehearsal_failing_the_same_hook_with_the_same_message_agrees() {
        let p = plan();
        let c = compare(
            &failed_a(),
            &p,
            Syncsim::Rehearsal(&rehearsal(&p, "a", BACKOFF)),
            "ns",
            false,
        );
        assert!(c.agree(), "{:?}", c.disagreements());
    }

    #[test]
    fn a_different_failing_task_or_message_disagrees() {
        let p = plan();
        let other = rehearsal(&p, "b", BACKOFF);
        let d = compare(&failed_a(), &p, Syncsim::Rehearsal(&other), "ns", false).disagreements();
        assert_eq!(
            d,
            [
                format!("Job/a: Argo CD recorded it Failed (`{BACKOFF}`); in the rehearsal it is Succeeded"),
                format!("Job/b: the rehearsal recorded it Failed (`{BACKOFF}`); Argo CD Succeeded"),
            ]
        );
        let msg = rehearsal(&p, "a", "Job was active longer than specified deadline");
        let d = compare(&failed_a(), &p, Syncsim::Rehearsal(&msg), "ns", false).disagreements();
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].starts_with("Job/a: it failed with another message"),
            "{d:?}"
        );
    }

    #[test]
    fn a_rehearsal_ending_otherwise_disagrees_on_the_operation() {
        let p = plan();
        let mut r = rehearsal(&p, "a", BACKOFF);
        r.phase = OperationPhase::Succeeded;
        r.message = "successfully synced (all tasks run)".into();
        let d = compare(&failed_a(), &p, Syncsim::Rehearsal(&r), "ns", false).disagreements();
        assert!(
            d.contains(&"operation: Argo CD ended Failed, the rehearsal Succeeded".to_string()),
            "{d:?}"
        );
    }

    #[test]
    fn a_recorded_namespace_of_create_namespace_and_prunes_are_no_disagreement() {
        let p = plan();
        let mut entries = vec![
            "      - {kind: Namespace, name: ns, status: Synced, hookPhase: Succeeded, syncPhase: PreSync}\n".to_string(),
            "      - {kind: ConfigMap, namespace: ns, name: old, status: PruneSkipped, hookPhase: Succeeded, syncPhase: Sync}\n".to_string(),
        ];
        entries.push(entry("Deployment", "web", false, "Succeeded", "x"));
        entries.push(entry("Job", "a", true, "Succeeded", "x"));
        entries.push(entry("Job", "b", true, "Succeeded", "x"));
        let rec = record("Succeeded", "successfully synced (all tasks run)", &entries);
        let c = compare(&rec, &p, Syncsim::Plan, "ns", true);
        assert_eq!(
            c.disagreements(),
            [
                "operation: Argo CD ended `successfully synced (all tasks run)`; syncsim's plan \
              ends `successfully synced (no more tasks)` (its final step holds a hook): the \
              final wave differs"
            ]
        );
        let rec = record("Succeeded", "successfully synced (no more tasks)", &entries);
        let c = compare(&rec, &p, Syncsim::Plan, "ns", true);
        assert!(c.agree(), "{:?}", c.disagreements());
        assert_eq!(c.unplanned.len(), 2);
        let c = compare(&rec, &p, Syncsim::Plan, "ns", false);
        assert_eq!(
            c.disagreements(),
            ["Namespace/ns: Argo CD ran it (PreSync); syncsim's plan has no such task"]
        );
    }
}
