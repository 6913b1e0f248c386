//! Value parsers shared by several subcommands' flags.
use std::time::Duration;

pub(super) fn parse_image_map(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((from, to)) if !from.is_empty() && !to.is_empty() => {
            Ok((from.to_string(), to.to_string()))
        }
        _ => Err(format!(
            "`{s}` is not FROM=TO (e.g. --image postgres:16=syncsim-kit/postgres:15)"
        )),
    }
}

/// Argo CD reads `ARGOCD_SYNC_WAVE_DELAY` as integer seconds; we also accept `500ms`, `2s`.
pub(super) fn parse_wave_delay(s: &str) -> Result<Duration, String> {
    if let Ok(secs) = s.trim().parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    humantime::parse_duration(s).map_err(|e| format!("`{s}`: {e} (use seconds, e.g. 2, or 500ms)"))
}

/// The longest `--timeout` (and `watch` wait): 30 days. Anything longer is a typo, and a
/// deadline past what the clock can represent used to panic.
pub(super) const MAX_TIMEOUT: Duration = Duration::from_secs(30 * 24 * 3600);
/// The largest `--job-backoff` base: 1 hour (Kubernetes uses 10s and caps the delay at 6m).
pub(super) const MAX_JOB_BACKOFF: Duration = Duration::from_secs(3600);

fn bounded(s: &str, max: Duration, what: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("`{s}`: {e} (e.g. 90s, 10m, 1h30m)"))?;
    if d > max {
        return Err(format!(
            "`{s}` is longer than the {what} syncsim accepts ({}); give a shorter one",
            humantime::format_duration(max)
        ));
    }
    Ok(d)
}

/// `--timeout`: a duration of at most [`MAX_TIMEOUT`].
pub(super) fn parse_timeout(s: &str) -> Result<Duration, String> {
    bounded(s, MAX_TIMEOUT, "longest timeout")
}

/// `--job-backoff`: a duration of at most [`MAX_JOB_BACKOFF`].
pub(super) fn parse_job_backoff(s: &str) -> Result<Duration, String> {
    bounded(s, MAX_JOB_BACKOFF, "largest Job backoff base")
}

/// One `--sync-option NAME=true|false`: an application sync option syncsim rehearses
/// ([`crate::rehearsal::application::REHEARSED_SYNC_OPTIONS`]).
pub(super) fn parse_sync_option(s: &str) -> Result<(String, bool), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not NAME=true|false (e.g. CreateNamespace=true)"))?;
    let value = match value {
        "true" => true,
        "false" => false,
        _ => return Err(format!("`{s}`: the value must be true or false")),
    };
    let supported = crate::rehearsal::application::REHEARSED_SYNC_OPTIONS;
    if supported.contains(&name) {
        Ok((name.to_string(), value))
    } else {
        Err(format!(
            "`{name}` is not an application sync option syncsim rehearses (supported: {}; \
             per-object options go in the argocd.argoproj.io/sync-options annotation)",
            supported.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_options_are_argo_names_with_a_boolean() {
        assert_eq!(
            parse_sync_option("Replace=false").unwrap(),
            ("Replace".to_string(), false)
        );
        assert!(parse_sync_option("PruneLast=true").is_ok());
        assert!(parse_sync_option("CreateNamespace").is_err());
        assert!(parse_sync_option("CreateNamespace=yes").is_err());
        assert!(parse_sync_option("ServerSideApply=true")
            .unwrap_err()
            .contains("supported: CreateNamespace, Replace, PruneLast"));
    }
    use test_case::test_case;

    #[test_case("1000000000y")]
    #[test_case("300000000000y")]
    #[test_case("31d")]
    fn absurd_timeouts_are_refused(s: &str) {
        let e = parse_timeout(s).unwrap_err();
        assert!(e.contains(s) && !e.is_empty(), "{e}");
    }

    #[test]
    fn sane_durations_pass_and_absurd_backoffs_do_not() {
        assert_eq!(parse_timeout("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_timeout("30d").unwrap(), MAX_TIMEOUT);
        assert_eq!(parse_timeout("1ms").unwrap(), Duration::from_millis(1));
        assert!(parse_job_backoff("10000000h").unwrap_err().contains("1h"));
        assert!(parse_job_backoff("nonsense").is_err());
        assert_eq!(
            parse_job_backoff("200ms").unwrap(),
            Duration::from_millis(200)
        );
    }

    #[test_case("2", Duration::from_secs(2))]
    #[test_case("0", Duration::ZERO)]
    #[test_case("500ms", Duration::from_millis(500))]
    fn wave_delay_accepts_argo_seconds_and_durations(s: &str, d: Duration) {
        assert_eq!(parse_wave_delay(s).unwrap(), d);
    }

    #[test]
    fn image_map_needs_both_sides() {
        assert!(parse_image_map("a=b").is_ok());
        assert!(parse_image_map("a=").is_err());
        assert!(parse_image_map("ab").is_err());
    }
}
