//! A reader for the everyday subset of YAML that renderers print: block mappings and sequences
//! indented with spaces, plain and quoted scalars on one line, literal block scalars (`|`,
//! `|-`) and one-line flow collections (`{a: b}`, `[x, y]`). It gives exactly the JSON value
//! the exact path gives (serde_yaml's events, plain scalars resolved as a cluster resolves them:
//! [`super::scalar`]), or `None` for anything outside the subset, which the caller then hands
//! to serde_yaml. Out of the subset: comments, anchors, aliases, tags,
//! directives, escapes, multi-line plain or quoted scalars, folded scalars, explicit chomping
//! or indentation indicators other than `|-`, tabs, carriage returns and non-ASCII text.
//!
//! With it, `syncsim plan` of the 10 000-object render in `cargo bench --bench plan` went from
//! 272 ms to 206 ms; parsing through libyaml was most of that command's time.
use super::{parse::take_node, scalar};
use serde_json::{Map, Value};
use std::cell::Cell;

/// The documents of `text` cut at `---` lines (the line holds nothing else), each without its
/// marker line. The text before the first marker is a document unless it holds only blank lines
/// and comments (or the whole text does: serde_yaml reads one null document there). `None` when
/// the text has a line the subset does not cut at: a marker with content after it, a `...`
/// document end, a `%` directive, or a line that starts with `---` or `...` otherwise.
pub(super) fn segments(text: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut first = true;
    let mut at = 0;
    while at < text.len() {
        let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        let line = &text[at..end];
        if line.starts_with("---") || line.starts_with("...") || line.starts_with('%') {
            if line != "---" {
                return None;
            }
            let before = &text[start..at];
            if !first || has_content(before) {
                out.push(before);
            }
            first = false;
            start = (end + 1).min(text.len());
        }
        at = end + 1;
    }
    let last = &text[start.min(text.len())..];
    if !first || has_content(last) || out.is_empty() {
        // serde_yaml reads a stream without documents as one null document.
        out.push(last);
    }
    Some(out)
}

/// Whether `text` holds more than blank lines and comments: text before the first marker that
/// holds nothing more is no document.
fn has_content(text: &str) -> bool {
    text.lines().any(|line| {
        // Not a tab: YAML refuses one there, and the exact path must see it.
        let t = line.trim_start_matches([' ', '\r']);
        !t.is_empty() && !t.starts_with('#')
    })
}

/// One document (a segment from [`segments`]) as JSON, counting nodes against `left` as the
/// serde path does; `None` when it is outside the subset (or not valid YAML).
pub(super) fn document(text: &str, left: &Cell<usize>) -> Option<Value> {
    if text.bytes().any(|b| {
        b == b'#' || b == b'\t' || b == b'\r' || b == 0x7f || (b < 0x20 && b != b'\n') || b >= 0x80
    }) {
        return None;
    }
    let lines: Vec<Line> = text
        .split('\n')
        .map(|raw| {
            let text = raw.trim_start_matches(' ');
            Line {
                indent: raw.len() - text.len(),
                text,
                raw,
            }
        })
        .collect();
    let mut reader = Reader {
        lines,
        pos: 0,
        depth: 0,
        left,
    };
    reader.skip_blank();
    if reader.at_end() {
        take_node::<serde_json::Error>(left).ok()?;
        return Some(Value::Null);
    }
    let indent = reader.lines[reader.pos].indent;
    let value = reader.node(indent)?;
    reader.skip_blank();
    reader.at_end().then_some(value)
}

#[derive(Clone, Copy)]
struct Line<'a> {
    /// Spaces before `text`.
    indent: usize,
    /// The line after its indentation (for a sequence entry's mapping, after `- `).
    text: &'a str,
    /// The whole line, for block scalars.
    raw: &'a str,
}

impl Line<'_> {
    fn is_blank(&self) -> bool {
        self.text.trim_end_matches(' ').is_empty()
    }
    fn is_entry(&self) -> bool {
        self.text == "-" || self.text.starts_with("- ")
    }
}

struct Reader<'a, 'b> {
    lines: Vec<Line<'a>>,
    pos: usize,
    /// Collections open around the current line, at most [`MAX_DEPTH`].
    depth: usize,
    left: &'b Cell<usize>,
}

/// The deepest nesting the subset reads; deeper documents are left to serde_yaml, which has its
/// own limit and error (and this reader recurses, so a limit keeps its stack bounded).
const MAX_DEPTH: usize = 64;

impl<'a> Reader<'a, '_> {
    fn at_end(&self) -> bool {
        self.pos >= self.lines.len()
    }

    fn skip_blank(&mut self) {
        while self.pos < self.lines.len() && self.lines[self.pos].is_blank() {
            self.pos += 1;
        }
    }

    fn take(&self) -> Option<()> {
        take_node::<serde_json::Error>(self.left).ok()
    }

    /// The indentation of the next non-blank line, if any.
    fn next_indent(&mut self) -> Option<usize> {
        self.skip_blank();
        self.lines.get(self.pos).map(|l| l.indent)
    }

    /// A block mapping or sequence starting on the current line, at `indent`.
    fn node(&mut self, indent: usize) -> Option<Value> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let value = if self.lines[self.pos].is_entry() {
            self.sequence(indent)
        } else {
            self.mapping(indent)
        };
        self.depth -= 1;
        value
    }

    fn mapping(&mut self, indent: usize) -> Option<Value> {
        self.take()?;
        let mut map = Map::new();
        while let Some(at) = self.next_indent() {
            if at < indent {
                break;
            }
            let line = self.lines[self.pos];
            if at > indent || line.is_entry() {
                return None;
            }
            let (key, rest) = split_key(line.text)?;
            self.take()?;
            self.pos += 1;
            let value = if rest.is_empty() {
                match self.next_indent() {
                    Some(next) if next > indent => {
                        let next_line = self.lines[self.pos];
                        if !next_line.is_entry() && split_key(next_line.text).is_none() {
                            return None;
                        }
                        self.node(next)?
                    }
                    Some(next) if next == indent && self.lines[self.pos].is_entry() => {
                        self.node(indent)?
                    }
                    _ => {
                        self.take()?;
                        Value::Null
                    }
                }
            } else {
                self.inline(rest, indent)?
            };
            if map.insert(key, value).is_some() {
                return None;
            }
        }
        Some(Value::Object(map))
    }

    fn sequence(&mut self, indent: usize) -> Option<Value> {
        self.take()?;
        let mut items = Vec::new();
        while let Some(at) = self.next_indent() {
            let line = self.lines[self.pos];
            if at < indent || (at == indent && !line.is_entry()) {
                break;
            }
            if at > indent {
                return None;
            }
            let after = line.text[1..].trim_end_matches(' ');
            let rest = after.trim_start_matches(' ');
            if rest.is_empty() {
                self.pos += 1;
                items.push(match self.next_indent() {
                    Some(next) if next > indent => self.node(next)?,
                    _ => {
                        self.take()?;
                        Value::Null
                    }
                });
            } else if rest == "-" || rest.starts_with("- ") {
                return None;
            } else if split_key(rest).is_some() {
                let column = indent + 1 + (after.len() - rest.len());
                self.lines[self.pos] = Line {
                    indent: column,
                    text: rest,
                    raw: line.raw,
                };
                if self.depth >= MAX_DEPTH {
                    return None;
                }
                self.depth += 1;
                items.push(self.mapping(column)?);
                self.depth -= 1;
            } else {
                self.pos += 1;
                items.push(self.inline(rest, indent)?);
            }
        }
        Some(Value::Array(items))
    }

    /// A value written after `key: ` or `- ` on a line of a collection at `indent`; the current
    /// line is the next one.
    fn inline(&mut self, text: &'a str, indent: usize) -> Option<Value> {
        if let Some(header) = text.strip_prefix('|') {
            return self.literal(header, indent);
        }
        let value = scalar_or_flow(text, self.depth, self.left)?;
        // A more indented line continues the scalar (or is an error): outside the subset.
        match self.next_indent() {
            Some(next) if next > indent => None,
            _ => Some(value),
        }
    }

    /// A literal block scalar (`|` or `|-`) of a collection at `indent`, from the current line.
    fn literal(&mut self, header: &str, indent: usize) -> Option<Value> {
        let strip = match header {
            "" => false,
            "-" => true,
            _ => return None,
        };
        self.take()?;
        let mut content_indent = None;
        let mut end = self.pos;
        let mut last_content = None;
        while end < self.lines.len() {
            let line = self.lines[end];
            if line.raw.is_empty() {
                end += 1;
                continue;
            }
            if line.is_blank() {
                return None;
            }
            let m = *content_indent.get_or_insert(line.indent);
            if m <= indent || line.indent < m {
                break;
            }
            last_content = Some(end);
            end += 1;
        }
        let Some(last) = last_content else {
            return Some(Value::String(String::new()));
        };
        let m = content_indent.expect("content has an indentation");
        let mut s = String::new();
        for line in &self.lines[self.pos..=last] {
            if !line.raw.is_empty() {
                s.push_str(&line.raw[m..]);
            }
            s.push('\n');
        }
        // Clipping keeps the last line break, which the last line of a text may not have.
        if strip || last + 1 == self.lines.len() {
            s.pop();
        }
        self.pos = last + 1;
        Some(Value::String(s))
    }
}

/// `key: rest` or `key:` split at the key's colon, the key resolved (a string other than `<<`),
/// `rest` without surrounding spaces; `None` when the line is not a simple key.
fn split_key(text: &str) -> Option<(String, &str)> {
    let (key, after) = match text.as_bytes().first()? {
        b'"' | b'\'' => {
            let (key, used) = quoted(text)?;
            (key, &text[used..])
        }
        _ => {
            let colon = text.find(": ").or_else(|| {
                let t = text.trim_end_matches(' ');
                t.ends_with(':').then(|| t.len() - 1)
            })?;
            let key = &text[..colon];
            if key.is_empty() || key.ends_with(' ') || !plain_start(key) {
                return None;
            }
            if scalar::unless_string(key).is_some() {
                return None;
            }
            (key.to_string(), &text[colon..])
        }
    };
    let rest = after.strip_prefix(':')?;
    if !(rest.is_empty() || rest.starts_with(' ')) || key == "<<" {
        return None;
    }
    Some((key, rest.trim_matches(' ')))
}

/// A scalar or one-line flow collection making up all of `text`.
fn scalar_or_flow(text: &str, depth: usize, left: &Cell<usize>) -> Option<Value> {
    let (value, used) = flow_value(text, 0, depth, left, false)?;
    text[used..].trim_matches(' ').is_empty().then_some(value)
}

/// Whether a plain scalar may start with `s` (the subset is stricter than YAML: no indicator
/// at all, not even `:x` or `?x`, but `-x` as in `- -c`).
fn plain_start(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() > 1 && b[0] == b'-' && b[1] != b' ' {
        return true;
    }
    !s.starts_with([
        '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@',
        '`',
    ])
}

/// The value at byte `at` of `text`, and where it ends; in a flow collection when `in_flow`,
/// inside `depth` collections.
fn flow_value(
    text: &str,
    at: usize,
    depth: usize,
    left: &Cell<usize>,
    in_flow: bool,
) -> Option<(Value, usize)> {
    let rest = &text[at..];
    take_node::<serde_json::Error>(left).ok()?;
    if depth >= MAX_DEPTH {
        return None;
    }
    match rest.as_bytes().first()? {
        b'"' | b'\'' => {
            let (s, used) = quoted(rest)?;
            Some((Value::String(s), at + used))
        }
        b'[' => {
            let mut items = Vec::new();
            let mut i = skip_spaces(text, at + 1);
            if text[i..].starts_with(']') {
                return Some((Value::Array(items), i + 1));
            }
            loop {
                let (v, next) = flow_value(text, i, depth + 1, left, true)?;
                items.push(v);
                match after_entry(text, next, b']')? {
                    Ok(entry) => i = entry,
                    Err(end) => return Some((Value::Array(items), end)),
                }
            }
        }
        b'{' => {
            let mut map = Map::new();
            let mut i = skip_spaces(text, at + 1);
            if text[i..].starts_with('}') {
                return Some((Value::Object(map), i + 1));
            }
            loop {
                let (key, next) = flow_value(text, i, depth + 1, left, true)?;
                let Value::String(key) = key else { return None };
                if key == "<<" || !text[next..].starts_with(": ") {
                    return None;
                }
                let (v, next) =
                    flow_value(text, skip_spaces(text, next + 1), depth + 1, left, true)?;
                if map.insert(key, v).is_some() {
                    return None;
                }
                match after_entry(text, next, b'}')? {
                    Ok(entry) => i = entry,
                    Err(end) => return Some((Value::Object(map), end)),
                }
            }
        }
        _ => {
            if !plain_start(rest) {
                return None;
            }
            let len = if in_flow {
                rest.find([',', '[', ']', '{', '}', ':'])
                    .unwrap_or(rest.len())
            } else {
                if rest.contains(": ") || rest.trim_end_matches(' ').ends_with(':') {
                    return None;
                }
                rest.len()
            };
            if in_flow && rest[len..].starts_with(':') && !rest[len..].starts_with(": ") {
                return None;
            }
            let s = rest[..len].trim_end_matches(' ');
            if s.is_empty() {
                return None;
            }
            Some((scalar::resolve(s), at + s.len()))
        }
    }
}

/// After an entry of a flow collection closed by `close`, at byte `at`: `Ok` with the next
/// entry's start after a comma, `Err` with the collection's end after `close`; `None` for
/// anything else, a trailing comma included.
fn after_entry(text: &str, at: usize, close: u8) -> Option<Result<usize, usize>> {
    let i = skip_spaces(text, at);
    match *text.as_bytes().get(i)? {
        b',' => {
            let next = skip_spaces(text, i + 1);
            (text.as_bytes().get(next) != Some(&close)).then_some(Ok(next))
        }
        b if b == close => Some(Err(i + 1)),
        _ => None,
    }
}

fn skip_spaces(text: &str, mut at: usize) -> usize {
    while text.as_bytes().get(at) == Some(&b' ') {
        at += 1;
    }
    at
}

/// The single- or double-quoted scalar `text` starts with (on one line, without escapes), and
/// its length in bytes.
fn quoted(text: &str) -> Option<(String, usize)> {
    let quote = text.as_bytes()[0];
    if quote == b'"' {
        let close = text[1..].find(['"', '\\'])? + 1;
        (text.as_bytes()[close] == b'"').then(|| (text[1..close].to_string(), close + 1))
    } else {
        let mut s = String::new();
        let mut i = 1;
        loop {
            let close = text[i..].find('\'')? + i;
            s.push_str(&text[i..close]);
            if text[close + 1..].starts_with('\'') {
                s.push('\'');
                i = close + 2;
            } else {
                return Some((s, close + 1));
            }
        }
    }
}

#[cfg(test)]
mod tests;
