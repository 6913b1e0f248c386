//! What a diff compares, read from either JSON document: the plan (`syncsim plan -o json`,
//! [`crate::plan::PlanJson`]) or a run's report (`syncsim sync -o json`, [`crate::report::to_json`]).
//! Both become steps of tasks; a report adds results, messages and times.
use regex::Regex;
use serde_json::Value;
use std::sync::LazyLock;

/// Which document a [`Doc`] was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum DocKind {
    Plan,
    Run,
}

/// A plan or a run, as steps of tasks in Argo CD's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    pub kind: DocKind,
    pub steps: Vec<StepM>,
    /// The operation's result (runs only).
    pub operation: Option<OperationM>,
}

/// A run's operation result.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationM {
    pub outcome: String,
    pub phase: String,
    pub message: String,
    pub duration: Option<f64>,
}

/// One (phase, wave) step.
#[derive(Debug, Clone, PartialEq)]
pub struct StepM {
    pub phase: String,
    pub wave: i64,
    /// `NotStarted`, `Succeeded`, … (runs only).
    pub status: Option<String>,
    /// Seconds from the step's start to its end (runs only, steps that finished).
    pub duration: Option<f64>,
    pub tasks: Vec<TaskM>,
}

/// One task of a step.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskM {
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// The name a task is matched by across the two sides: for a generateName hook the
    /// generateName followed by `*` (its full name changes with the revision and the time).
    pub match_name: String,
    pub hook: bool,
    /// `None` when the document does not record them (reports before the field existed).
    pub delete_policies: Option<Vec<String>>,
    /// Parsed sync options (plans only).
    pub sync_options: Option<Value>,
    /// Results (runs only): status, hookPhase, health, message.
    pub results: Vec<(&'static str, Option<String>)>,
}

/// Argo CD's phase order, for sorting steps; unknown phases last.
pub fn phase_rank(phase: &str) -> u8 {
    match phase {
        "PreSync" => 0,
        "Sync" => 1,
        "PostSync" => 2,
        "SyncFail" => 3,
        _ => 4,
    }
}

fn s(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

fn opt_s(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn strings(v: &Value, key: &str) -> Option<Vec<String>> {
    v.get(key).and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    })
}

/// A generated hook name is `generateName + lower("<rev>-<phase>-<unix>")` (§3.1), `<rev>` being
/// at most 7 characters; without the generateName at hand, that suffix is cut off by shape.
static GENERATED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(.+?)[a-z0-9]{1,7}-(presync|sync|postsync|syncfail)-[0-9]+$").expect("valid")
});

fn match_name(name: &str, phase: &str, hook: bool, generate_name: Option<&str>) -> String {
    if let Some(g) = generate_name.filter(|g| !g.is_empty()) {
        return format!("{g}*");
    }
    if hook {
        if let Some(c) = GENERATED.captures(name) {
            if c[2] == phase.to_lowercase() {
                return format!("{}*", &c[1]);
            }
        }
    }
    name.to_string()
}

impl Doc {
    /// Reads a plan (`steps[].tasks[]`) or a run report (`schemaVersion`, `resources[]`).
    pub fn from_json(v: &Value) -> Result<Doc, String> {
        if v.get("resources").is_some_and(Value::is_array) {
            Ok(Self::from_report(v))
        } else if v.get("steps").and_then(Value::as_array).is_some_and(|a| {
            a.iter()
                .all(|s| s.get("tasks").is_some_and(Value::is_array))
        }) {
            Ok(Self::from_plan(v))
        } else {
            Err(
                "neither a plan (`syncsim plan -o json`: steps[].tasks[]) nor a run report \
                 (`syncsim sync -o json`: resources[])"
                    .into(),
            )
        }
    }

    fn from_plan(v: &Value) -> Doc {
        let steps = v["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|st| {
                let phase = s(st, "phase");
                let tasks = st["tasks"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|t| {
                        let (name, hook) = (s(t, "name"), t["hook"] == Value::Bool(true));
                        TaskM {
                            group: s(t, "group"),
                            kind: s(t, "kind"),
                            namespace: s(t, "namespace"),
                            match_name: match_name(&name, &phase, hook, None),
                            name,
                            hook,
                            delete_policies: strings(t, "deletePolicies"),
                            sync_options: t.get("syncOptions").cloned(),
                            results: Vec::new(),
                        }
                    })
                    .collect();
                StepM {
                    wave: st.get("wave").and_then(Value::as_i64).unwrap_or(0),
                    phase,
                    status: None,
                    duration: None,
                    tasks,
                }
            })
            .collect();
        Doc {
            kind: DocKind::Plan,
            steps,
            operation: None,
        }
    }

    fn from_report(v: &Value) -> Doc {
        let mut steps: Vec<StepM> = v
            .get("steps")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|st| StepM {
                phase: s(st, "phase"),
                wave: st.get("wave").and_then(Value::as_i64).unwrap_or(0),
                status: opt_s(st, "status"),
                duration: st
                    .get("durationSeconds")
                    .and_then(Value::as_f64)
                    .or_else(|| {
                        let a = crate::report::html_text::parse_time(st.get("startedAt")?)?;
                        let b = crate::report::html_text::parse_time(st.get("finishedAt")?)?;
                        Some(b.duration_since(a).ok()?.as_secs_f64())
                    }),
                tasks: Vec::new(),
            })
            .collect();
        for t in v["resources"].as_array().into_iter().flatten() {
            let (phase, wave) = (
                s(t, "syncPhase"),
                t.get("wave").and_then(Value::as_i64).unwrap_or(0),
            );
            let (name, hook) = (s(t, "name"), t["hook"] == Value::Bool(true));
            let task = TaskM {
                group: s(t, "group"),
                kind: s(t, "kind"),
                namespace: s(t, "namespace"),
                match_name: match_name(
                    &name,
                    &phase,
                    hook,
                    t.get("generateName").and_then(Value::as_str),
                ),
                name,
                hook,
                delete_policies: strings(t, "deletePolicies"),
                sync_options: None,
                results: ["status", "hookPhase", "health", "message"]
                    .into_iter()
                    .map(|k| (k, opt_s(t, k)))
                    .collect(),
            };
            match steps
                .iter_mut()
                .find(|st| st.phase == phase && st.wave == wave)
            {
                Some(st) => st.tasks.push(task),
                None => steps.push(StepM {
                    phase,
                    wave,
                    status: None,
                    duration: None,
                    tasks: vec![task],
                }),
            }
        }
        let op = v.get("operation").unwrap_or(&Value::Null);
        Doc {
            kind: DocKind::Run,
            steps,
            operation: Some(OperationM {
                outcome: s(v, "outcome"),
                phase: s(op, "phase"),
                message: s(op, "message"),
                duration: op.get("durationSeconds").and_then(Value::as_f64),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use test_case::test_case;

    #[test_case("migrate-abc1234-presync-1700000000", "PreSync", "migrate-*"; "sha revision")]
    #[test_case("migrate-head-postsync-0", "PostSync", "migrate-*"; "HEAD")]
    #[test_case("migrate-head-postsync-0", "PreSync", "migrate-head-postsync-0"; "phase differs")]
    #[test_case("flyway-shortlink", "PostSync", "flyway-shortlink"; "plain name")]
    fn generated_names_match_by_prefix(name: &str, phase: &str, want: &str) {
        assert_eq!(match_name(name, phase, true, None), want);
    }

    #[test]
    fn generate_name_field_wins() {
        assert_eq!(match_name("x-abc-sync-1", "Sync", true, Some("x-")), "x-*");
        assert_eq!(match_name("a-b-sync-1", "Sync", false, None), "a-b-sync-1");
    }

    #[test]
    fn reads_a_plan_and_a_report() {
        let plan = json!({"steps": [{"phase": "Sync", "wave": 0, "tasks": [
            {"group": "", "kind": "Service", "namespace": "ns", "name": "web", "hook": false,
             "deletePolicies": [], "syncOptions": {}, "origin": "a.yaml:1"}]}],
            "ignored": [], "warnings": []});
        let d = Doc::from_json(&plan).unwrap();
        assert_eq!(d.kind, DocKind::Plan);
        assert_eq!(d.steps[0].tasks[0].name, "web");
        assert_eq!(d.steps[0].tasks[0].delete_policies, Some(vec![]));

        let run = json!({"schemaVersion": 1, "outcome": "Failed",
            "operation": {"phase": "Failed", "message": "m", "durationSeconds": 2.0},
            "steps": [{"phase": "Sync", "wave": 0, "status": "Succeeded",
                       "startedAt": "2026-12-01T10:00:00.000Z", "finishedAt": "2026-12-01T10:00:01.500Z"}],
            "resources": [
                {"kind": "Service", "name": "web", "syncPhase": "Sync", "wave": 0, "hook": false,
                 "status": "Synced", "message": "created"},
                {"kind": "Job", "name": "late", "syncPhase": "PostSync", "wave": 1, "hook": true}]});
        let d = Doc::from_json(&run).unwrap();
        assert_eq!(d.kind, DocKind::Run);
        assert_eq!(
            d.steps.len(),
            2,
            "a step for the task without a recorded step"
        );
        assert_eq!(d.steps[0].duration, Some(1.5));
        assert_eq!(
            d.steps[0].tasks[0].results[0],
            ("status", Some("Synced".into()))
        );
        assert_eq!(d.steps[1].tasks[0].delete_policies, None);
        assert_eq!(d.operation.unwrap().outcome, "Failed");

        assert!(Doc::from_json(&json!({"steps": [{"phase": "Sync"}]})).is_err());
        assert!(Doc::from_json(&json!([1])).is_err());
    }
}
