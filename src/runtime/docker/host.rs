//! The engine's machine, where it is this one (a local socket): how busy its CPUs are, from
//! `/proc/stat` (Linux). On any other setup nothing is known.

use std::time::Duration;

/// How long [`spare_cpu`] watches the CPUs.
const CPU_SAMPLE: Duration = Duration::from_millis(200);

/// Busy share of the CPU time (steal included) above which there is no room to spare.
const BUSY: f64 = 0.7;

/// Whether this machine's CPUs were busy less than [`BUSY`] of the time over the next
/// [`CPU_SAMPLE`]; `true` where that cannot be read.
pub(super) async fn spare_cpu() -> bool {
    let Some(before) = cpu_times() else {
        return true;
    };
    tokio::time::sleep(CPU_SAMPLE).await;
    let Some(after) = cpu_times() else {
        return true;
    };
    busy_share(before, after).is_none_or(|b| b < BUSY)
}

/// `(busy, total)` jiffies of all CPUs: the first line of `/proc/stat`.
fn cpu_times() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    parse_cpu_line(stat.lines().next()?)
}

/// `cpu  user nice system idle iowait irq softirq steal …` (proc(5)) → `(busy, total)`; idle
/// and iowait are idle time.
fn parse_cpu_line(line: &str) -> Option<(u64, u64)> {
    let mut fields = line.split_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    let values: Vec<u64> = fields.map(|f| f.parse().ok()).collect::<Option<_>>()?;
    if values.len() < 5 {
        return None;
    }
    let total: u64 = values.iter().sum();
    Some((total - values[3] - values[4], total))
}

fn busy_share(before: (u64, u64), after: (u64, u64)) -> Option<f64> {
    let total = after.1.checked_sub(before.1)?;
    let busy = after.0.checked_sub(before.0)?;
    (total > 0).then(|| busy as f64 / total as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_line_of_proc_stat_counts_idle_and_iowait_as_idle() {
        // proc(5): user nice system idle iowait irq softirq steal guest guest_nice
        let line = "cpu  423249 0 84349 166862 3953 0 949 2568 0 0";
        assert_eq!(
            parse_cpu_line(line),
            Some((423249 + 84349 + 949 + 2568, 681930))
        );
        assert_eq!(parse_cpu_line("cpu0 1 2 3 4 5"), None);
        assert_eq!(parse_cpu_line("cpu  1 2 x 4 5"), None);
        assert_eq!(parse_cpu_line("cpu  1 2 3"), None);
    }

    #[test]
    fn the_busy_share_is_taken_between_two_readings() {
        assert_eq!(busy_share((10, 100), (85, 200)), Some(0.75));
        assert_eq!(busy_share((10, 100), (10, 100)), None);
        // A counter that went backwards (another boot, a container's view) tells nothing.
        assert_eq!(busy_share((10, 100), (5, 200)), None);
    }

    #[tokio::test]
    async fn this_machine_can_be_asked() {
        // Either answer is right; the call returns after one sample, not before.
        let began = std::time::Instant::now();
        let _ = spare_cpu().await;
        if std::path::Path::new("/proc/stat").exists() {
            assert!(began.elapsed() >= CPU_SAMPLE);
        }
    }
}
