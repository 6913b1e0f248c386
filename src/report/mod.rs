//! Consumers of the engine's results: the terminal (live progress and the final table like
//! `argocd app sync`), a stable JSON report, JUnit XML, and an HTML timeline rendered from the
//! JSON report ([`html`]).
mod apps;
pub mod html;
mod html_assets;
pub(crate) mod html_text;
mod json;
mod junit;
mod progress;
mod table;

pub use apps::{
    application_json, application_lines, render_all, render_application, to_json_all, to_junit_all,
    ChildReport,
};
pub use json::{to_json, JSON_SCHEMA_VERSION};
pub use junit::to_junit;
pub use progress::Progress;
pub use table::render;

use crate::engine::TaskRun;

/// The `STATUS` column: the result code, or empty when the task never ran.
pub(crate) fn status_of(t: &TaskRun) -> &'static str {
    t.result.map(|r| r.as_str()).unwrap_or("")
}

/// The `HEALTH` column.
pub(crate) fn health_of(t: &TaskRun) -> String {
    match &t.health {
        Some(h) => format!("{:?}", h.status),
        None => String::new(),
    }
}

/// Message shown for a task, with syncsim's annotations.
pub(crate) fn message_of(t: &TaskRun) -> String {
    let mut m = t.message.clone();
    if t.simulated {
        m.push_str(" (simulated)");
    }
    if let Some(p) = t.deleted_by {
        m.push_str(&format!(" (deleted: {p})"));
    }
    m
}

/// The line that marks a hook log whose head was dropped (`--hook-log-bytes`).
pub const LOG_TRUNCATED_MARK: &str =
    "[syncsim: earlier output truncated; only the end of the log is kept (--hook-log-bytes)]";

/// A hook's captured log as text, with the truncation mark first when its head was dropped;
/// `None` when nothing was captured.
pub(crate) fn log_text(t: &TaskRun) -> Option<String> {
    if t.log_tail.is_empty() {
        return None;
    }
    let mut s = String::new();
    if t.log_truncated {
        s.push_str(LOG_TRUNCATED_MARK);
        s.push('\n');
    }
    s.push_str(&t.log_tail.join("\n"));
    Some(s)
}
