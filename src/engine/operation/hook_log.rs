//! Every hook's log, captured the moment the hook completes: before a delete policy
//! (`HookSucceeded`, `HookFailed`, a later `BeforeHookCreation`) removes its pod. Argo CD keeps
//! no logs; syncsim keeps the tail of each hook's log, at most `hook_log_bytes` bytes.
use super::Operation;
use crate::engine::cluster::Cluster;

/// Default size cap of one hook's captured log (`--hook-log-bytes`): 64 KiB.
pub const DEFAULT_HOOK_LOG_BYTES: usize = 64 * 1024;

impl Operation {
    /// Sets the size cap of each hook's captured log; 0 captures nothing.
    pub fn set_hook_log_bytes(&mut self, bytes: usize) {
        self.hook_log_bytes = bytes;
    }

    /// Captures the log of task `i` (a hook that just completed, or one still running when the
    /// run ends), keeping its last `hook_log_bytes` bytes.
    pub(super) async fn capture_log<C: Cluster + ?Sized>(&mut self, i: usize, cluster: &C) {
        if self.hook_log_bytes == 0 || self.tasks[i].simulated {
            return;
        }
        // Every line takes at least one byte (its newline): this many lines always cover the cap.
        let lines = cluster
            .logs(
                &self.tasks[i].task.key(),
                self.hook_log_bytes.saturating_add(1),
            )
            .await;
        let (kept, truncated) = tail_bytes(lines, self.hook_log_bytes);
        let t = &mut self.tasks[i];
        t.log_tail = kept;
        t.log_truncated = truncated;
    }

    /// At the end of a run that did not finish (syncsim's timeout): the logs of hooks that are
    /// still running, which the teardown is about to remove.
    pub(crate) async fn capture_running_hook_logs<C: Cluster + ?Sized>(&mut self, cluster: &C) {
        for i in 0..self.tasks.len() {
            if self.tasks[i].task.hook && self.tasks[i].is_running() {
                self.capture_log(i, cluster).await;
            }
        }
    }
}

/// The last lines of `lines` that fit in `cap` bytes (each line counted with its newline), and
/// whether anything was dropped. A last line longer than the cap keeps its end.
pub fn tail_bytes(mut lines: Vec<String>, cap: usize) -> (Vec<String>, bool) {
    let mut used = 0usize;
    let mut start = lines.len();
    while start > 0 {
        let len = lines[start - 1].len() + 1;
        if used + len > cap {
            break;
        }
        used += len;
        start -= 1;
    }
    if start == 0 {
        return (lines, false);
    }
    if start == lines.len() {
        // Not even the last line fits: keep its end, on a character boundary.
        let last = lines.pop().unwrap_or_default();
        let room = cap.saturating_sub(1);
        let mut from = last.len().saturating_sub(room);
        while !last.is_char_boundary(from) {
            from += 1;
        }
        let kept = if room == 0 {
            Vec::new()
        } else {
            vec![last[from..].to_string()]
        };
        return (kept, true);
    }
    (lines.split_off(start), true)
}

#[cfg(test)]
mod tests {
    use super::tail_bytes;

    fn v(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn keeps_everything_that_fits() {
        assert_eq!(tail_bytes(v(&["ab", "cd"]), 6), (v(&["ab", "cd"]), false));
        assert_eq!(tail_bytes(Vec::new(), 0), (Vec::new(), false));
    }

    #[test]
    fn keeps_the_tail_and_says_it_dropped_the_head() {
        assert_eq!(
            tail_bytes(v(&["first", "ab", "cd"]), 6),
            (v(&["ab", "cd"]), true)
        );
        assert_eq!(tail_bytes(v(&["first", "ab", "cd"]), 5), (v(&["cd"]), true));
    }

    #[test]
    fn a_line_longer_than_the_cap_keeps_its_end_on_a_char_boundary() {
        assert_eq!(tail_bytes(v(&["abcdef"]), 4), (v(&["def"]), true));
        let (kept, cut) = tail_bytes(v(&["ééé"]), 4);
        assert!(cut);
        assert_eq!(kept, v(&["é"]), "never splits a character");
    }
}
