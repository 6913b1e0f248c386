//! Text from manifests shown on a terminal. Names, keys and file names come from files anyone may
//! have written; printed raw, an escape sequence in a name could move the cursor, recolour or
//! hide the rest of the output. This module has no dependencies, so every printing site can use it.
use std::borrow::Cow;

/// `s` with every control character escaped (`\n`, `\t`, `\r`, else `\u{..}`): C0 controls,
/// DEL, C1 controls and the Unicode bidirectional overrides and isolates (which reorder what a
/// terminal shows). Everything else, including other non-ASCII text, is kept. Borrowed when there
/// is nothing to escape.
pub fn display_safe(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() // C0, DEL and C1
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

/// Go's `%q` of a string: double quotes, `\"` and `\\`, the C escapes, `\x..`/`\u....` for
/// other control characters; printable text kept.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x80 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_rest_is_kept() {
        assert!(matches!(display_safe("web-1"), Cow::Borrowed("web-1")));
        assert_eq!(display_safe("naïve/日本"), "naïve/日本");
        assert_eq!(
            display_safe("a\u{1b}[2J\u{1b}]0;pwned\u{7}b"),
            "a\\u{1b}[2J\\u{1b}]0;pwned\\u{7}b"
        );
        assert_eq!(display_safe("x\ny\tz\r"), "x\\ny\\tz\\r");
        assert_eq!(display_safe("\u{7f}\u{9b}"), "\\u{7f}\\u{9b}");
        assert_eq!(
            display_safe("evil\u{202e}txt.yaml"),
            "evil\\u{202e}txt.yaml"
        );
    }

    #[test]
    fn escaping_is_idempotent() {
        let once = display_safe("a\u{1b}b").into_owned();
        assert_eq!(display_safe(&once), once);
    }
}
