//! The YAML parser's errors as syncsim's public error types carry them: a message and a 1-based
//! position, no type of the YAML crate. This is the one module that converts `serde_yaml::Error`,
//! so a switch to another YAML crate changes the conversion here, not the error types.
use std::fmt;

/// A YAML syntax or schema error: what went wrong and where (1-based line and column, when the
/// parser knows them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// The parser's message, without the position when it ended with one.
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Whether the parser's text ended with ` at line L column C` (put back by `Display`).
    located: bool,
}

impl From<&serde_yaml::Error> for YamlError {
    fn from(e: &serde_yaml::Error) -> Self {
        let loc = e.location();
        let mut message = e.to_string();
        let mut located = false;
        if let Some(l) = &loc {
            let suffix = format!(" at line {} column {}", l.line(), l.column());
            if let Some(stripped) = message.strip_suffix(&suffix) {
                message = stripped.to_string();
                located = true;
            }
        }
        Self {
            message,
            located,
            line: loc.as_ref().map(serde_yaml::Location::line),
            column: loc.as_ref().map(serde_yaml::Location::column),
        }
    }
}

impl From<serde_yaml::Error> for YamlError {
    fn from(e: serde_yaml::Error) -> Self {
        Self::from(&e)
    }
}

/// The parser's own text (`message at line L column C`).
impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        match (self.located, self.line, self.column) {
            (true, Some(l), Some(c)) => write!(f, " at line {l} column {c}"),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for YamlError {}

impl YamlError {
    /// An error found before the YAML parser ran (see [`check_flow_depth`]).
    pub fn new(message: impl Into<String>, line: usize, column: usize) -> Self {
        Self {
            message: message.into(),
            line: Some(line),
            column: Some(column),
            located: true,
        }
    }
}

/// serde_yaml's recursion limit: a value nested deeper than this many collections is an error.
pub const MAX_DEPTH: usize = 128;

/// Rejects, before the YAML parser sees it, text whose flow collections (`[`, `{`) nest deeper
/// than [`MAX_DEPTH`], with the position of the first bracket past the limit.
///
/// Why: the parser checks its simple keys once per token across every open flow level, so 40 000
/// nested brackets (80 KB) take seconds before serde_yaml's own limit rejects the value. This scan
/// is one linear pass. It only counts brackets it is sure open a collection (any `[`/`{` inside
/// a flow collection, one at the start of a block node, quoted scalars, comments and block
/// scalars skipped), so its depth never exceeds the parser's: a text it rejects serde_yaml
/// rejects too (recursion limit exceeded).
///
/// Block nesting (indentation, `- - -`) needs no scan: the parser handles it in linear time.
pub fn check_flow_depth(text: &str) -> Result<(), YamlError> {
    let bytes = text.as_bytes();
    let is_space = |b: Option<&u8>| matches!(b, None | Some(b' ' | b'\t' | b'\r' | b'\n'));
    let mut depth = 0usize;
    let mut line = 1usize;
    let mut line_start = 0usize;
    // Whether the next character may start a node (where a bracket or a quote is an indicator).
    let mut node_start = true;
    // In block context: a plain scalar is open (its next lines may continue it).
    let mut plain = false;
    let mut i = 0usize;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\n' => {
                line += 1;
                line_start = i + 1;
                if depth == 0 {
                    node_start = !plain;
                }
            }
            b' ' | b'\t' | b'\r' => {}
            // A document marker: a new document starts at block level.
            b'-' | b'.'
                if i == line_start
                    && bytes[i..].starts_with(if b == b'-' { b"---" } else { b"..." })
                    && is_space(bytes.get(i + 3)) =>
            {
                depth = 0;
                node_start = true;
                plain = false;
                i += 3;
                continue;
            }
            b'#' if i == line_start || matches!(bytes[i - 1], b' ' | b'\t') => {
                while i + 1 < bytes.len() && bytes[i + 1] != b'\n' {
                    i += 1;
                }
            }
            b'[' | b'{' if depth > 0 || node_start => {
                depth += 1;
                if depth > MAX_DEPTH {
                    let column = text[line_start..i].chars().count() + 1;
                    return Err(YamlError::new(
                        format!(
                            "recursion limit exceeded: collections nested deeper than \
                             {MAX_DEPTH} levels"
                        ),
                        line,
                        column,
                    ));
                }
                node_start = true;
                plain = false;
            }
            b']' | b'}' if depth > 0 => {
                depth -= 1;
                node_start = false;
            }
            b',' | b'?' | b':' if depth > 0 => node_start = true,
            b'"' | b'\'' if node_start => {
                // A quoted scalar: to its closing quote (`\"` escapes in double quotes, `''`
                // in single quotes), across lines.
                i += 1;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' if b == b'"' => i += 1,
                        b'\'' if b == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 1,
                        c if c == b => break,
                        b'\n' => {
                            line += 1;
                            line_start = i + 1;
                        }
                        _ => {}
                    }
                    i += 1;
                }
                node_start = false;
                plain = false;
            }
            b'|' | b'>' if depth == 0 && node_start => {
                // A block scalar: every following line that is blank or indented more than
                // this one belongs to it.
                let indent = bytes[line_start..]
                    .iter()
                    .take_while(|c| **c == b' ')
                    .count();
                loop {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                    if i >= bytes.len() {
                        break;
                    }
                    let next = i + 1;
                    let spaces = bytes[next..].iter().take_while(|c| **c == b' ').count();
                    let blank =
                        matches!(bytes.get(next + spaces), None | Some(b'\n') | Some(b'\r'));
                    if !blank && spaces <= indent {
                        break;
                    }
                    i = next;
                    line += 1;
                    line_start = next;
                }
                plain = false;
                // `i` is at the newline that ends the scalar (or the end): the loop handles it.
                continue;
            }
            b'-' | b'?' if depth == 0 && node_start && is_space(bytes.get(i + 1)) => {}
            b':' if depth == 0 && is_space(bytes.get(i + 1)) => {
                node_start = true;
                plain = false;
            }
            // An anchor or a tag before a node: the node may still start after it.
            b'&' | b'!' if node_start => {
                let verbatim = b == b'!' && bytes.get(i + 1) == Some(&b'<');
                while i + 1 < bytes.len() {
                    let c = bytes[i + 1];
                    let end = if verbatim {
                        bytes[i] == b'>'
                    } else {
                        is_space(Some(&c))
                            || (depth > 0 && matches!(c, b',' | b'[' | b']' | b'{' | b'}'))
                    };
                    if end {
                        break;
                    }
                    i += 1;
                }
            }
            _ => {
                node_start = false;
                if depth == 0 {
                    plain = true;
                }
            }
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_message_and_position_and_displays_like_the_parser() {
        let err = serde_yaml::from_str::<serde_yaml::Value>("a: [1,\nb: 2\n").unwrap_err();
        let y = YamlError::from(&err);
        assert_eq!(y.to_string(), err.to_string());
        let loc = err.location().unwrap();
        assert_eq!((y.line, y.column), (Some(loc.line()), Some(loc.column())));

        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct S {
            x: u32,
        }
        let err = serde_yaml::from_str::<S>("x: nope\n").unwrap_err();
        let text = err.to_string();
        let y = YamlError::from(err);
        assert_eq!(y.to_string(), text);
        assert!(
            y.message.starts_with("x: invalid type") && !y.message.contains(" at line "),
            "{}",
            y.message
        );
        assert_eq!(y.line, Some(1));
    }

    fn nested(depth: usize) -> String {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    }

    fn serde_accepts(text: &str) -> bool {
        serde_yaml::Deserializer::from_str(text)
            .all(|de| <serde_yaml::Value as serde::Deserialize>::deserialize(de).is_ok())
    }

    #[test]
    fn flow_depth_limit_is_serde_yamls() {
        for text in [nested(MAX_DEPTH), format!("a: {}\n", nested(MAX_DEPTH - 1))] {
            assert!(check_flow_depth(&text).is_ok());
            assert!(serde_accepts(&text), "serde_yaml accepts depth {MAX_DEPTH}");
        }
        for text in [
            nested(MAX_DEPTH + 1),
            format!("a:\n  b: {}\n", nested(MAX_DEPTH + 1)),
            format!("---\n{}\n", nested(MAX_DEPTH + 1)),
            format!("- &x !!seq {}\n", nested(MAX_DEPTH + 1)),
            format!(
                "k: {{\"a\": {}}}\n",
                "{\"a\": ".repeat(MAX_DEPTH) + &"}".repeat(MAX_DEPTH)
            ),
        ] {
            let err = check_flow_depth(&text).unwrap_err();
            assert!(err.message.starts_with("recursion limit exceeded"), "{err}");
            assert!(
                !serde_accepts(&text),
                "serde_yaml rejects it too: {text:.40}"
            );
        }
        let err = check_flow_depth(&format!("a: 1\nb:\n  {}", nested(200))).unwrap_err();
        assert_eq!((err.line, err.column), (Some(3), Some(3 + MAX_DEPTH)));
    }

    #[test]
    fn brackets_that_open_nothing_are_not_counted() {
        let deep = "[".repeat(300);
        for text in [
            format!("a: x{deep}\n"),
            format!("a: '{deep}'\n"),
            format!("a: \"{deep}\\\"{deep}\"\n"),
            format!("a: 'it''s {deep}'\n"),
            format!("a: 1 # {deep}\n"),
            format!("a: |\n  {deep}\n\n  {deep}\nb: 2\n"),
            format!("- >-\n    {deep}\n"),
            format!("a: [\"{deep}\", '{deep}', x]\n"),
            format!("a: some text\n  {deep}\n"),
        ] {
            assert!(check_flow_depth(&text).is_ok(), "{text:.60}");
            assert!(serde_accepts(&text), "valid YAML: {text:.60}");
        }
    }

    #[test]
    fn forty_thousand_levels_are_rejected_at_once() {
        let text = nested(40_000);
        let start = std::time::Instant::now();
        assert!(check_flow_depth(&text).is_err());
        assert!(start.elapsed() < std::time::Duration::from_millis(100));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]
        /// Soundness: whatever the scan rejects, serde_yaml rejects too (it only ever counts
        /// brackets that really open a collection).
        #[test]
        fn a_rejected_text_is_one_serde_yaml_rejects(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "[", "]", "{", "}", ", ", ": ", "a", "'", "\"", "\\", "#", " ", "\n",
                    "\n  ", "- ", "|\n", ">-\n", "&x ", "!!str ", "? ", "---\n", "''",
                    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{",
                ]),
                0..400,
            )
        ) {
            let text: String = parts.concat();
            if check_flow_depth(&text).is_err() {
                proptest::prop_assert!(!serde_accepts(&text), "{:?}", text);
            }
        }
    }
}
