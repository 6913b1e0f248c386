//! Byte sizes on the command line (`--hook-log-bytes 64KiB`).

/// The largest `--hook-log-bytes`: 64 MiB per hook (a report holds every hook's log).
pub(super) const MAX_HOOK_LOG_BYTES: usize = 64 * 1024 * 1024;

/// A size: plain bytes (`65536`) or a number with `B`, `KiB`, `MiB` (also `K`, `KB`, `M`,
/// `MB`, meaning 1024-based units, as `docker logs` users expect), at most
/// [`MAX_HOOK_LOG_BYTES`].
pub(super) fn parse_hook_log_bytes(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: usize = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size (e.g. 65536, 64KiB, 1MiB)"))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1024,
        "m" | "mb" | "mib" => 1024 * 1024,
        other => {
            return Err(format!(
                "`{s}`: unknown unit `{other}` (use B, KiB or MiB, e.g. 64KiB)"
            ))
        }
    };
    let bytes = n
        .checked_mul(mult)
        .filter(|b| *b <= MAX_HOOK_LOG_BYTES)
        .ok_or_else(|| format!("`{s}` is more than syncsim keeps per hook (64MiB)"))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::parse_hook_log_bytes;

    #[test]
    fn sizes_in_bytes_kib_and_mib() {
        assert_eq!(parse_hook_log_bytes("65536"), Ok(65536));
        assert_eq!(parse_hook_log_bytes("64KiB"), Ok(65536));
        assert_eq!(parse_hook_log_bytes("1 MiB"), Ok(1 << 20));
        assert_eq!(parse_hook_log_bytes("0"), Ok(0));
        assert!(parse_hook_log_bytes("64GiB")
            .unwrap_err()
            .contains("unknown unit"));
        assert!(parse_hook_log_bytes("65MiB").unwrap_err().contains("64MiB"));
        assert!(parse_hook_log_bytes("lots").is_err());
    }
}
