//! What a running operation waits for: its message (§2.7 D) and the resources behind it.
use super::Operation;
use crate::manifest::ObjectKey;

impl Operation {
    /// `waiting for completion of hook …` / `waiting for healthy state of …` (§2.7 D).
    pub(super) fn waiting_message(&self, set: &[usize]) -> String {
        let hooks: Vec<usize> = set
            .iter()
            .copied()
            .filter(|&i| self.tasks[i].task.hook)
            .collect();
        if let Some(&first) = hooks.first() {
            let mut m = format!(
                "waiting for completion of hook {}",
                self.tasks[first].task.key()
            );
            if hooks.len() > 1 {
                m.push_str(&format!(" and {} more hooks", hooks.len() - 1));
            }
            m
        } else {
            let mut m = format!(
                "waiting for healthy state of {}",
                self.tasks[set[0]].task.key()
            );
            if set.len() > 1 {
                m.push_str(&format!(" and {} more resources", set.len() - 1));
            }
            m
        }
    }

    /// The resources (not hooks) whose health the operation is waiting for.
    pub(crate) fn waited_resources(&self) -> Vec<ObjectKey> {
        self.tasks
            .iter()
            .filter(|t| t.is_running() && !t.task.hook)
            .map(|t| t.task.key())
            .collect()
    }
}
