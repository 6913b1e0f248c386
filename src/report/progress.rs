//! Live progress on stderr (indicatif): the current step, what it waits for and why.
use crate::engine::{RunEvent, TaskRun};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::Duration;

/// Consumes [`RunEvent`]s and shows them. Lines that matter (step starts, task results, hook
/// deletions) are printed above the spinner so they stay in the scrollback and in CI logs.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// `interactive`: draw a spinner (a terminal); otherwise only print lines.
    pub fn new(interactive: bool) -> Self {
        let bar = if interactive {
            let b = ProgressBar::new_spinner();
            b.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                    .expect("valid template"),
            );
            b.enable_steady_tick(Duration::from_millis(120));
            b
        } else {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
        };
        Self { bar }
    }

    fn println(&self, line: String) {
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    pub fn report(&mut self, ev: &RunEvent) {
        match ev {
            RunEvent::DryRun { tasks } => {
                self.println(format!("validating {tasks} tasks (dry run)"))
            }
            RunEvent::StepStarted { phase, wave, tasks } => {
                self.println(format!("▶ {phase} wave {wave}: applying {tasks} task(s)"))
            }
            RunEvent::TaskUpdated(t) => self.println(task_line(t)),
            RunEvent::HookDeleted { key, reason } => {
                self.println(format!("  deleted hook {key} ({reason})"))
            }
            RunEvent::Status { phase, message } => {
                self.bar.set_message(format!("{phase}: {message}"))
            }
            RunEvent::SyncFailStarted { hooks } => {
                self.println(format!("▶ SyncFail: starting {hooks} hook(s)"))
            }
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn task_line(t: &TaskRun) -> String {
    let health = t
        .health
        .as_ref()
        .map(|h| format!(" {:?}", h.status))
        .unwrap_or_default();
    let phase = t.hook_phase.map(|p| p.as_str()).unwrap_or("");
    format!(
        "  {}/{}{} {}{}: {}",
        t.task.kind(),
        t.task.name(),
        if t.task.hook {
            format!(" [{}]", t.task.phase)
        } else {
            String::new()
        },
        phase,
        health,
        t.message
    )
}
