//! Live progress on stderr (indicatif): the current step, each resource it waits for and why.
use crate::engine::{RunEvent, TaskRun};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::{collections::BTreeMap, time::Duration};

/// At most this many waited-for resources are listed under the spinner.
const MAX_WAITING_SHOWN: usize = 8;

/// Consumes [`RunEvent`]s and shows them. Lines that matter (step starts, task results, hook
/// deletions) are printed above the spinner so they stay in the scrollback and in CI logs; the
/// spinner shows the operation's status and every task still running with its health message.
pub struct Progress {
    bar: ProgressBar,
    status: String,
    /// `Kind/name` → why it is not done yet, for tasks whose hook phase is Running.
    waiting: BTreeMap<String, String>,
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
        Self {
            bar,
            status: String::new(),
            waiting: BTreeMap::new(),
        }
    }

    /// Prints a line above the progress bar (or plainly when it is hidden).
    pub fn println(&self, line: String) {
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    fn redraw(&self) {
        let mut msg = self.status.clone();
        for (name, why) in self.waiting.iter().take(MAX_WAITING_SHOWN) {
            msg.push_str(&format!("\n    {name}: {why}"));
        }
        if self.waiting.len() > MAX_WAITING_SHOWN {
            msg.push_str(&format!(
                "\n    … and {} more",
                self.waiting.len() - MAX_WAITING_SHOWN
            ));
        }
        self.bar.set_message(msg);
    }

    pub fn report(&mut self, ev: &RunEvent) {
        match ev {
            RunEvent::DryRun { tasks } => {
                self.println(format!("validating {tasks} tasks (dry run)"))
            }
            RunEvent::StepStarted { phase, wave, tasks } => {
                self.println(format!("▶ {phase} wave {wave}: applying {tasks} task(s)"))
            }
            RunEvent::TaskUpdated(t) => {
                let name = format!("{}/{}", t.task.kind(), t.task.name());
                if t.is_running() {
                    let why = t
                        .health
                        .as_ref()
                        .map(|h| {
                            if h.message.is_empty() {
                                format!("{:?}", h.status)
                            } else {
                                format!("{:?}: {}", h.status, h.message)
                            }
                        })
                        .unwrap_or_else(|| "applied, waiting for its first status".into());
                    self.waiting.insert(name, why);
                } else {
                    self.waiting.remove(&name);
                }
                self.println(task_line(t));
                self.redraw();
            }
            RunEvent::HookDeleted { key, reason } => {
                self.println(format!("  deleted hook {key} ({reason})"))
            }
            RunEvent::Status { phase, message } => {
                self.status = format!("{phase}: {message}");
                self.redraw();
            }
            RunEvent::Hint { task, hint } => self.println(format!("  hint: {task}: {hint}")),
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
