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
