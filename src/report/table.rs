//! The final summary and resource table, as `argocd app sync` prints them.
use super::{health_of, message_of, status_of};
use crate::{
    engine::{OperationPhase, Outcome, Shortened, SyncReport},
    plan::Phase,
};
use comfy_table::{presets::NOTHING, Table};
use std::time::Duration;

/// One wait this run shortened, with what a cluster would have taken.
fn shortened_line(s: &Shortened) -> String {
    let times = |n: u32, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let d = fmt_duration;
    match s.what {
        "probe schedule" => format!(
            "probe schedule: {} seen Ready up to {} sooner than on a cluster; {}",
            times(s.count, "container", "containers"),
            d(s.cluster),
            s.default
        ),
        _ => format!(
            "{}: {} waited {}, a cluster {}; {}",
            s.what,
            times(s.count, "time", "times"),
            d(s.rehearsed),
            d(s.cluster),
            s.default
        ),
    }
}

/// Renders the summary, the resource table and the failed hooks' log tails.
pub fn render(r: &SyncReport) -> String {
    let mut out = String::new();
    let line = |out: &mut String, k: &str, v: &str| {
        out.push_str(&format!("{:<20}{}\n", format!("{k}:"), v))
    };
    line(&mut out, "Application", &r.app);
    line(&mut out, "Operation", "Sync");
    line(&mut out, "Phase", r.phase.as_str());
    line(
        &mut out,
        "Start",
        &humantime::format_rfc3339_seconds(r.started_at).to_string(),
    );
    line(
        &mut out,
        "Finished",
        &humantime::format_rfc3339_seconds(r.finished_at).to_string(),
    );
    line(&mut out, "Duration", &fmt_duration(r.duration));
    let message = match &r.outcome {
        Outcome::TimedOut { waiting } => {
            format!("Argo CD would still be Running: {waiting} (syncsim --timeout expired)")
        }
        Outcome::Interrupted => format!("interrupted (Argo CD was: {})", r.message),
        _ => r.message.replace('\n', "\n                    "),
    };
    line(&mut out, "Message", &message);
    line(
        &mut out,
        "Timing",
        &format!(
            "{} in steps (containers starting, probes, hooks), {} between steps (dry run, polling, wave delay, hook deletion)",
            fmt_duration(r.step_time()),
            fmt_duration(r.between_steps())
        ),
    );
    if let Some(p) = r.predicted_cluster_duration {
        line(
            &mut out,
            "On a cluster",
            &format!(
                "about {} predicted (kubelet probe schedule, Job backoff, Argo CD's wave delay)",
                fmt_duration(p)
            ),
        );
    }
    for (i, s) in r.shortened.iter().enumerate() {
        line(
            &mut out,
            if i == 0 { "Shortened" } else { "" },
            &shortened_line(s),
        );
    }
    out.push('\n');

    let mut table = Table::new();
    table.load_preset(NOTHING);
    table.set_header([
        "TIMESTAMP",
        "GROUP",
        "KIND",
        "NAMESPACE",
        "NAME",
        "STATUS",
        "HEALTH",
        "HOOK",
        "MESSAGE",
    ]);
    for t in r.tasks.iter().filter(|t| t.is_recorded()) {
        let ts = t
            .applied_at
            .map(|d| humantime::format_rfc3339_seconds(r.started_at + d).to_string())
            .unwrap_or_default();
        table.add_row([
            ts,
            t.task.group().to_string(),
            t.task.kind().to_string(),
            t.task.namespace().to_string(),
            t.task.name().to_string(),
            status_of(t).to_string(),
            health_of(t),
            if t.task.hook {
                t.task.phase.to_string()
            } else {
                String::new()
            },
            message_of(t),
        ]);
    }
    out.push_str(&table.to_string());
    out.push('\n');

    let never: Vec<String> = r
        .tasks
        .iter()
        // SyncFail hooks only run when the operation fails: not starting them is the normal case.
        .filter(|t| {
            t.is_pending()
                && (t.task.phase != Phase::SyncFail || r.phase != OperationPhase::Succeeded)
        })
        .map(|t| {
            format!(
                "{}/{} ({} wave {})",
                t.task.kind(),
                t.task.name(),
                t.task.phase,
                t.task.wave
            )
        })
        .collect();
    if !never.is_empty() {
        out.push_str(&format!(
            "\nNot started ({}): {}\n",
            never.len(),
            never.join(", ")
        ));
    }
    for t in r
        .tasks
        .iter()
        .filter(|t| t.task.hook && t.completed_unsuccessfully())
    {
        let shown = &t.log_tail[t.log_tail.len().saturating_sub(FAILED_HOOK_LOG_LINES)..];
        out.push_str(&format!(
            "\n--- logs of failed hook {}/{} ({}), last {} lines ---\n",
            t.task.kind(),
            t.task.name(),
            t.task.phase,
            shown.len()
        ));
        for l in shown {
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

/// Log lines of a failed hook the table shows (the reports keep the whole captured log).
pub const FAILED_HOOK_LOG_LINES: usize = 50;

/// `1.234s`, `2m3s`.
pub(crate) fn fmt_duration(d: Duration) -> String {
    if d < Duration::from_secs(60) {
        format!("{:.3}s", d.as_secs_f64())
    } else {
        humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
    }
}
