//! Text helpers of the HTML renderers: escaping, terminal-escape cleanup, times and durations.
//! Shared by the timeline ([`super::html`]) and `syncsim diff -o html`.
use serde_json::Value;
use std::time::SystemTime;

/// Escapes text for HTML element content and double- or single-quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Makes captured output displayable: drops terminal escape sequences (CSI such as colours,
/// OSC such as window titles, and two-byte escapes), drops carriage returns, and shows every
/// other control character except newline and tab as its Unicode control picture (U+2400…).
pub fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\u{1b}' => match it.peek() {
                Some('[') => {
                    it.next();
                    // Parameters and intermediates, then one final byte in @..~.
                    for c in it.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    it.next();
                    // Until BEL or ST (ESC \).
                    while let Some(c) = it.next() {
                        if c == '\u{7}' {
                            break;
                        }
                        if c == '\u{1b}' && it.peek() == Some(&'\\') {
                            it.next();
                            break;
                        }
                    }
                }
                Some(_) => {
                    it.next();
                }
                None => out.push('\u{241b}'),
            },
            '\r' => {}
            '\n' | '\t' => out.push(c),
            c if (c as u32) < 0x20 => {
                out.push(char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'))
            }
            '\u{7f}' => out.push('\u{2421}'),
            c if ('\u{80}'..='\u{9f}').contains(&c) => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// `esc(clean(s))`: what every piece of report text goes through.
pub fn text(s: &str) -> String {
    esc(&clean(s))
}

/// A string field of a JSON object, "" when absent or not a string.
pub fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Parses an RFC 3339 time as the JSON report writes it.
pub fn parse_time(v: &Value) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(v.as_str()?).ok()
}

/// Seconds from `base` to the time in `v` (negative when earlier), `None` when `v` is no time.
pub fn offset(base: Option<SystemTime>, v: &Value) -> Option<f64> {
    let (base, t) = (base?, parse_time(v)?);
    Some(match t.duration_since(base) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    })
}

/// A duration for people: `850ms`, `3.2s`, `1m05s`, `1h02m`.
pub fn secs(s: f64) -> String {
    let s = s.max(0.0);
    if s < 1.0 {
        format!("{}ms", (s * 1000.0).round() as u64)
    } else if s < 60.0 {
        format!("{s:.1}s")
    } else if s < 3600.0 {
        let r = s.round() as u64;
        format!("{}m{:02}s", r / 60, r % 60)
    } else {
        let r = (s / 60.0).round() as u64;
        format!("{}h{:02}m", r / 60, r % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("<b>&\"'", "&lt;b&gt;&amp;&quot;&#39;"; "markup")]
    #[test_case("\u{1b}[31merror\u{1b}[0m: x", "error: x"; "colour codes")]
    #[test_case("\u{1b}]0;title\u{7}ok", "ok"; "osc title")]
    #[test_case("a\r\nb\tc", "a\nb\tc"; "crlf and tab")]
    #[test_case("bell\u{7}", "bell\u{2407}"; "bell shown as a control picture")]
    #[test_case("\u{1b}[1;32m<script>\u{1b}[0m", "&lt;script&gt;"; "escape then markup")]
    fn text_is_clean_and_escaped(input: &str, want: &str) {
        assert_eq!(text(input), want);
    }

    #[test_case(0.25, "250ms")]
    #[test_case(3.24, "3.2s")]
    #[test_case(65.0, "1m05s")]
    #[test_case(3720.0, "1h02m")]
    fn durations(s: f64, want: &str) {
        assert_eq!(secs(s), want);
    }

    #[test]
    fn offsets_from_rfc3339() {
        let base = parse_time(&Value::from("2026-12-01T10:00:00.000Z"));
        assert_eq!(
            offset(base, &Value::from("2026-12-01T10:00:01.500Z")),
            Some(1.5)
        );
        assert_eq!(
            offset(base, &Value::from("2026-12-01T09:59:59.000Z")),
            Some(-1.0)
        );
        assert_eq!(offset(base, &Value::Null), None);
    }
}
