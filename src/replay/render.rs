//! The comparison as text (step by step, every disagreement marked `!`) and as JSON.
use super::{
    compare::{Comparison, Row},
    Loaded,
};
use crate::{engine::SyncReport, text::display_safe};
use serde_json::{json, Value};

fn argo_text(r: &Row) -> String {
    match &r.argo {
        None => "Argo CD: not run".into(),
        Some(e) => {
            let mut s = format!(
                "Argo CD: {}",
                if e.status.is_empty() { "-" } else { &e.status }
            );
            if !e.hook_phase.is_empty() {
                s.push_str(&format!(", {}", e.hook_phase));
            }
            if e.failed() && !e.message.is_empty() {
                s.push_str(&format!(": {}", e.message));
            }
            s
        }
    }
}

fn syncsim_text(r: &Row, rehearsal: bool) -> String {
    match (&r.syncsim_result, r.syncsim_ran, rehearsal) {
        (Some((phase, msg)), _, _) if phase == "Failed" || phase == "Error" => {
            format!("syncsim: {phase}: {msg}")
        }
        (Some((phase, _)), _, _) => {
            format!("syncsim: {}", if phase.is_empty() { "ran" } else { phase })
        }
        (None, true, _) => "syncsim: runs".into(),
        (None, false, true) => "syncsim: not run".into(),
        (None, false, false) => "syncsim: would not run".into(),
    }
}

fn row_line(r: &Row, rehearsal: bool) -> String {
    let mark = if r.disagreement.is_some() { '!' } else { '=' };
    let mut s = format!("  {mark} {}/{}", r.kind, r.name);
    if !r.namespace.is_empty() {
        s.push_str(&format!("  ns={}", r.namespace));
    }
    if r.hook == Some(true) {
        s.push_str("  [hook]");
    }
    s.push_str(&format!(
        "  {}  |  {}",
        argo_text(r),
        syncsim_text(r, rehearsal)
    ));
    if let Some(d) = &r.disagreement {
        s.push_str(&format!("\n      ! {d}"));
    } else if let Some(n) = &r.note {
        s.push_str(&format!("  ({n})"));
    }
    display_safe(&s).to_string()
}

/// The text report: header, one block per step of syncsim's plan, recorded tasks syncsim does
/// not plan, then the verdict.
pub fn text(loaded: &Loaded, c: &Comparison, rehearsal: Option<&SyncReport>) -> String {
    let rec = &loaded.record;
    let op = &rec.operation;
    let mut s = format!(
        "Application:  {} ({})\nRevision:     {} (from {})\nRendered:     {}\n",
        rec.app,
        rec.file.display(),
        loaded.revision,
        loaded.revision_from,
        loaded.renderers.join("; ")
    );
    s.push_str(&format!(
        "Argo CD:      {} — {} (started {}, finished {})\n",
        op.phase,
        op.message,
        op.started_at.as_deref().unwrap_or("?"),
        op.finished_at.as_deref().unwrap_or("-")
    ));
    match rehearsal {
        Some(r) => s.push_str(&format!(
            "syncsim:      rehearsal {} — {}\n",
            r.phase, r.message
        )),
        None => s.push_str(
            "syncsim:      plan (what runs is predicted from Argo CD's recorded failure)\n",
        ),
    }
    for (i, step) in c.steps.iter().enumerate() {
        s.push_str(&format!(
            "\nstep {}: {} wave {}\n",
            i + 1,
            step.phase,
            step.wave
        ));
        for r in &step.rows {
            s.push_str(&row_line(r, rehearsal.is_some()));
            s.push('\n');
        }
    }
    if !c.unplanned.is_empty() {
        s.push_str("\nrecorded by Argo CD, not in syncsim's plan:\n");
        for r in &c.unplanned {
            s.push_str(&row_line(r, rehearsal.is_some()));
            s.push('\n');
        }
    }
    for o in &c.operation {
        s.push_str(&format!("\n! {}", display_safe(o)));
    }
    let d = c.disagreements();
    let tasks: usize = c.steps.iter().map(|s| s.rows.len()).sum::<usize>() + c.unplanned.len();
    if d.is_empty() {
        s.push_str(&format!(
            "\nagree: Argo CD's recorded operation matches syncsim's {} ({tasks} tasks compared)\n",
            if rehearsal.is_some() {
                "rehearsal"
            } else {
                "plan"
            }
        ));
    } else {
        s.push_str(&format!(
            "\n{} disagreement{}:\n",
            d.len(),
            if d.len() == 1 { "" } else { "s" }
        ));
        for x in &d {
            s.push_str(&format!("  - {}\n", display_safe(x)));
        }
    }
    s
}

fn row_json(r: &Row) -> Value {
    json!({
        "group": r.group, "kind": r.kind, "namespace": r.namespace, "name": r.name,
        "hook": r.hook,
        "argo": r.argo,
        "syncsim": {
            "runs": r.syncsim_ran,
            "hookPhase": r.syncsim_result.as_ref().map(|x| &x.0),
            "message": r.syncsim_result.as_ref().map(|x| &x.1),
        },
        "agree": r.disagreement.is_none(),
        "disagreement": r.disagreement,
        "note": r.note,
    })
}

/// The JSON report:
///
/// ```json
/// {"application": "…", "file": "…", "revision": "…", "revisionFrom": "…",
///  "recorded": {"phase": "Failed", "message": "…", "startedAt": "…", "finishedAt": "…"},
///  "syncsim": {"mode": "plan"|"rehearsal", "phase": "Failed"|null, "message": "…"|null},
///  "agree": false,
///  "steps": [{"phase": "PostSync", "wave": 1, "tasks": [{"group": "batch", "kind": "Job",
///     "namespace": "…", "name": "…", "hook": true,
///     "argo": {ResourceResult as recorded}|null,
///     "syncsim": {"runs": true, "hookPhase": "Failed"|null, "message": "…"|null},
///     "agree": true, "disagreement": null, "note": null}]}],
///  "unplanned": [task as above],
///  "disagreements": ["Kind/name: why"]}
/// ```
pub fn json(loaded: &Loaded, c: &Comparison, rehearsal: Option<&SyncReport>) -> Value {
    let op = &loaded.record.operation;
    json!({
        "application": loaded.record.app,
        "file": loaded.record.file.display().to_string(),
        "revision": loaded.revision,
        "revisionFrom": loaded.revision_from,
        "recorded": {"phase": op.phase, "message": op.message,
                     "startedAt": op.started_at, "finishedAt": op.finished_at},
        "syncsim": {"mode": if rehearsal.is_some() { "rehearsal" } else { "plan" },
                    "phase": rehearsal.map(|r| r.phase.as_str()),
                    "message": rehearsal.map(|r| r.message.as_str())},
        "agree": c.agree(),
        "steps": c.steps.iter().map(|s| json!({
            "phase": s.phase, "wave": s.wave,
            "tasks": s.rows.iter().map(row_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "unplanned": c.unplanned.iter().map(row_json).collect::<Vec<_>>(),
        "disagreements": c.disagreements(),
    })
}
